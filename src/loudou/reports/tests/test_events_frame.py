"""The events frame as loaded from the database: the flags reports read per event."""

from django.test import TransactionTestCase
from django.utils import timezone

from loudou.deals import services
from loudou.deals.models import StageEvent
from loudou.people.models import User
from loudou.pipelines.models import Stage
from loudou.reports import loader


class EventsFrameTests(TransactionTestCase):
    # Restore the migrations' data (default pipeline, lost reasons) after each flush.
    serialized_rollback = True

    def setUp(self) -> None:
        loader.clear_cache()

    def tearDown(self) -> None:
        loader.clear_cache()

    def test_events_carry_imported_and_forced(self) -> None:
        """The events frame says which events an import wrote (history from another
        system) on both databases; services' own moves are not imported."""
        rep = User.objects.create_user(username="rep", password="x")
        stage = {s.key: s for s in Stage.objects.filter(pipeline__is_default=True)}
        deal = services.create_deal(actor=rep, name="d", at=timezone.now())
        # Written as an import writes history (the ORM allows appending events).
        StageEvent.objects.create(
            deal=deal,
            from_stage=stage["contact"],
            to_stage=stage["needs"],
            at=timezone.now(),
            imported=True,
        )
        frames = loader.load_frames()
        data = frames.pipeline(frames.pipeline_id(None))
        events = data.events.filter(data.events["deal_id"] == deal.pk)
        assert events["imported"].to_list() == [False, True]
        assert events["forced"].to_list() == [False, False]
