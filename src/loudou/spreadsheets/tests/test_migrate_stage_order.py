"""The source's stage order and probabilities, from everything the export tells
(vendors/order.py): Salesforce's StageSortOrder, the stages each deal passed through in
OpportunityHistory, the probabilities of both files; estimates only where the export
tells none, and said so. Found on the web import: stages seen only in the history were
put after the current ones, with invented probabilities."""

import csv
import random
from pathlib import Path

from loudou.deals.models import Deal, StageEvent
from loudou.pipelines.models import Pipeline
from loudou.spreadsheets.results import ImportFailed
from loudou.spreadsheets.vendors import order
from loudou.spreadsheets.vendors.migrate import migrate

from . import other_exports as ox
from . import vendor_exports as vx
from .base import SheetTestCase

# Opportunity.csv: three deals, their current stages numbered 2, 4 and 6 by Salesforce;
# OpportunityHistory.csv: the stages they passed through, three of them held by no deal
# now (Prospecting, Needs Analysis, Negotiation/Review).
OPPORTUNITIES = [
    ["Id", "Name", "AccountId", "OwnerId", "Amount", "StageName", "StageSortOrder",
     "Probability", "IsClosed", "IsWon", "CreatedDate", "CloseDate", "IsDeleted"],
    ["006A1", "Acme CRM rollout", "001A1", "005A1", "250000", "Proposal/Price Quote", "4",
     "75", "false", "false", "2026-08-01T02:00:00.000Z", "2027-01-31", "false"],
    ["006A2", "Globex analytics", "001A2", "005A1", "120000", "Closed Won", "6", "100",
     "true", "true", "2026-06-01T02:00:00.000Z", "2026-09-15", "false"],
    ["006A3", "Acme training", "001A1", "005A1", "", "Qualification", "2", "10", "false",
     "false", "2026-10-10T02:00:00.000Z", "2027-02-28", "false"],
]  # fmt: skip
HISTORY = [
    ["Id", "OpportunityId", "StageName", "CreatedDate", "CreatedById", "Amount", "IsDeleted"],
    ["008A1", "006A1", "Prospecting", "2026-08-01T02:00:00.000Z", "005A1", "250000", "false"],
    ["008A2", "006A1", "Needs Analysis", "2026-08-20T02:00:00.000Z", "005A1", "250000", "false"],
    ["008A3", "006A1", "Proposal/Price Quote", "2026-10-01T03:00:00.000Z", "005A1", "", "false"],
    ["008A4", "006A2", "Prospecting", "2026-06-01T02:00:00.000Z", "005A1", "120000", "false"],
    ["008A5", "006A2", "Negotiation/Review", "2026-08-01T02:00:00.000Z", "005A1", "", "false"],
    ["008A6", "006A2", "Closed Won", "2026-09-15T05:00:00.000Z", "005A1", "120000", "false"],
    ["008A7", "006A3", "Qualification", "2026-10-10T02:00:00.000Z", "005A1", "", "false"],
]
ORDER = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
]


def write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


class HistoryOnlyStagesTest(SheetTestCase):
    def setUp(self):
        super().setUp()
        self.export = self.dir / "export"
        self.export.mkdir()
        self.history = [list(r) for r in HISTORY]
        self.write()

    def write(self) -> None:
        write(self.export / "Opportunity.csv", OPPORTUNITIES)
        write(self.export / "OpportunityHistory.csv", self.history)
        write(self.export / "User.csv", [["Id", "Name", "Email"], ["005A1", "Li Wei", "l@x.cn"]])

    def run_migration(self, **options):
        options.setdefault("create_owners", True)
        return migrate(vendor="salesforce", path=self.export, **options)

    def test_history_only_stages_take_their_place_in_the_order(self):
        summary = self.run_migration(dry_run=True, mirror_pipeline="SF")
        self.assertEqual([s.label for s in summary.stages], [*ORDER, "Closed Won"])
        how = {s.label: s.order_how for s in summary.stages}
        self.assertEqual(how["Qualification"], "stated")
        self.assertEqual(how["Needs Analysis"], "history")
        self.assertEqual([s.place for s in summary.stages], [1, 2, 3, 4, 5, 6])

    def test_the_mirror_keeps_the_order_and_estimates_only_what_is_unknown(self):
        summary = self.run_migration(mirror_pipeline="SF")
        pipeline = Pipeline.objects.get(key="sf")
        opens = [(s.name_en, float(s.probability)) for s in pipeline.open_stages()]
        # Known: Qualification 10 %, Proposal 75 %; the rest linear between neighbours
        # (0 % before the first stage, 100 % after the last).
        self.assertEqual(
            opens,
            [
                ("Prospecting", 0.05),
                ("Qualification", 0.1),
                ("Needs Analysis", 0.425),
                ("Proposal/Price Quote", 0.75),
                ("Negotiation/Review", 0.875),
            ],
        )
        estimated = {s.label for s in summary.stages if s.as_dict()["estimated"]}
        self.assertEqual(estimated, {"Prospecting", "Needs Analysis", "Negotiation/Review"})
        # The deal in Proposal moves forward to Negotiation/Review; its history runs forward.
        deal = Deal.objects.get(external_id="006A1")
        later = [s.name_en for s in pipeline.open_stages() if s.position > deal.stage.position]
        self.assertEqual(later, ["Negotiation/Review"])
        events = StageEvent.objects.filter(deal=deal).order_by("at", "id")
        positions = [e.to_stage.position for e in events]
        self.assertEqual(positions, sorted(positions))
        self.assertEqual(len(positions), 3)

    def test_times_written_in_other_shapes_are_read_as_times(self):
        # As text, "2026/6/1 …" sorts after "2026-09-15…": the order needs the times.
        self.history[4][3] = "2026/6/1 02:00"
        self.write()
        summary = self.run_migration(dry_run=True, mirror_pipeline="SF")
        self.assertEqual([s.label for s in summary.stages], [*ORDER, "Closed Won"])

    def test_probabilities_come_from_the_history_when_it_has_them(self):
        self.history[0].append("Probability")
        values = {"Prospecting": "5", "Needs Analysis": "20", "Negotiation/Review": "90"}
        for row in self.history[1:]:
            row.append(values.get(row[2], ""))
        self.history[4][-1] = "15"  # the other deal's Prospecting: the lower of two wins
        self.write()
        summary = self.run_migration(dry_run=True, mirror_pipeline="SF")
        chances = {s.label: (s.probability, s.estimate) for s in summary.stages}
        self.assertEqual(chances["Prospecting"], (5.0, None))
        self.assertEqual(chances["Needs Analysis"], (20.0, None))
        self.assertEqual(chances["Negotiation/Review"], (90.0, None))
        self.assertEqual(chances["Proposal/Price Quote"], (75.0, None))

    def test_the_mapping_proposal_keeps_the_source_order(self):
        with self.assertRaises(ImportFailed) as ctx:
            self.run_migration()
        stages = ctx.exception.summary.stages
        targets = [s.target.position for s in stages if s.kind == "open"]
        self.assertEqual(targets, sorted(targets))  # never back to an earlier stage
        proposed = {s.label: (s.target.key, s.how) for s in stages}
        self.assertEqual(proposed["Prospecting"], ("contact", "order"))  # estimated: by order
        self.assertEqual(proposed["Qualification"], ("contact", "probability"))
        self.assertEqual(proposed["Negotiation/Review"], ("negotiation", "order"))
        self.assertEqual(proposed["Closed Won"], ("won", "outcome"))


class OrderRulesTest(SheetTestCase):
    """order.order_open on plain data."""

    def order(self, opens, transitions, stated=None, outcomes=None, **kwargs):
        return order.order_open(
            opens,
            stated=stated or {},
            transitions=transitions,
            outcomes=outcomes or {},
            probabilities=kwargs.get("probabilities", {}),
            listed=kwargs.get("listed", {}),
        )

    def test_moves_back_are_outvoted(self):
        transitions = {(None, "A"): 5, ("A", "B"): 4, ("B", "C"): 3, ("C", "B"): 1, ("B", "A"): 1}
        result = self.order(["C", "B", "A"], transitions)
        self.assertEqual(result.labels, ["A", "B", "C"])
        self.assertEqual(set(result.how.values()), {"history"})

    def test_the_history_never_overrides_a_stated_order(self):
        transitions = {(None, "B"): 3, ("B", "A"): 3}
        result = self.order(["A", "B"], transitions, stated={"A": 1, "B": 2})
        self.assertEqual(result.labels, ["A", "B"])

    def test_a_gap_in_the_numbers_is_filled_only_when_the_history_agrees(self):
        # X is seen after C (numbered 3): the free number 2 would put it before C.
        transitions = {(None, "A"): 1, ("A", "C"): 1, ("C", "X"): 1}
        result = self.order(["A", "C", "X"], transitions, stated={"A": 1, "C": 3})
        self.assertEqual(result.labels, ["A", "C", "X"])
        # Y is seen between A and C: it takes number 2.
        transitions = {(None, "A"): 1, ("A", "Y"): 1, ("Y", "C"): 1}
        result = self.order(["C", "A", "Y"], transitions, stated={"A": 1, "C": 3})
        self.assertEqual(result.labels, ["A", "Y", "C"])

    def test_without_history_the_probability_then_the_listing_then_first_seen(self):
        result = self.order(
            ["C", "B", "A", "D"],
            {},
            probabilities={"A": 10, "B": 20},
            listed={"D": 1, "C": 2},
        )
        self.assertEqual(result.labels, ["A", "B", "D", "C"])
        self.assertEqual(result.how["D"], "listed")

    def test_estimates_are_linear_between_known_neighbours(self):
        estimates = order.estimated_probabilities(["A", "B", "C", "D"], {"B": 20, "C": 80})
        self.assertEqual(estimates, {"A": 10.0, "D": 90.0})
        self.assertEqual(
            order.estimated_probabilities(["A", "B", "C"], {}), {"A": 25.0, "B": 50.0, "C": 75.0}
        )


class HubSpotOrderTest(SheetTestCase):
    def test_the_history_orders_stages_whatever_the_columns_order(self):
        folder = ox.write_hubspot(vx.generate(40, seed=1, backward=False), self.dir / "hs")
        [path] = folder.glob("*-deals-*.csv")
        rows = list(csv.reader(path.open(encoding="utf-8")))
        entered = [i for i, h in enumerate(rows[0]) if h.startswith("Date entered")]
        shuffled = entered[:]
        random.Random(2).shuffle(shuffled)
        for row in rows:
            cells = [row[i] for i in shuffled]
            for i, cell in zip(entered, cells, strict=True):
                row[i] = cell
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        summary = migrate(
            vendor="hubspot", path=folder, mirror_pipeline="HS", create_owners=True, dry_run=True
        )
        opens = [s.label for s in summary.stages if s.kind == "open"]
        self.assertEqual(opens, [label for label, _p in ox.HS_OPEN])
