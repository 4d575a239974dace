"""The notifications page: admins set every team's channels, a manager their own team's;
nobody else sees it. Stored keys and secrets are never shown back in full."""

from loudou.notifications.models import Channel

from .helpers import NotifyTestCase

FORM = {
    "name": "销售群",
    "kind": "dingtalk",
    "address": "dingtalk-token-0123456789",
    "secret": "SECverysecretvalue123",
    "language": "zh-hans",
    "quiet_start": "22:00",
    "quiet_end": "08:00",
    "send_digest": "on",
    "send_won": "on",
    "active": "on",
}


class SettingsPageTests(NotifyTestCase):
    def as_(self, user):
        self.client.force_login(user)
        return self.client

    def test_who_may_open_the_page(self):
        for user, status in [
            (self.rep, 403),
            (self.teammate, 403),
            (self.outsider, 403),
            (self.manager, 200),
            (self.other_manager, 200),
            (self.admin, 200),
        ]:
            with self.subTest(user=user.username):
                self.assertEqual(self.as_(user).get("/notifications/").status_code, status)

    def test_each_manager_sees_only_their_team(self):
        self.channel("wecom", "north-key-123456", name="北区群")
        self.channel("wecom", "south-key-123456", name="南区群", team=self.south)
        page = self.as_(self.manager).get("/notifications/").content.decode()
        self.assertIn("北区群", page)
        self.assertNotIn("南区群", page)
        page = self.as_(self.admin).get("/notifications/").content.decode()
        self.assertIn("北区群", page)
        self.assertIn("南区群", page)

    def test_who_may_add_a_channel_to_north(self):
        url = f"/notifications/teams/{self.north.pk}/channels/new/"
        for user, status in [
            (self.rep, 403),
            (self.teammate, 403),
            (self.outsider, 403),
            (self.other_manager, 404),
        ]:
            with self.subTest(user=user.username):
                self.assertEqual(self.as_(user).post(url, FORM).status_code, status)
        self.assertFalse(Channel.objects.exists())
        for user in (self.manager, self.admin):
            with self.subTest(user=user.username):
                answer = self.as_(user).post(url, FORM | {"name": user.username})
                self.assertRedirects(answer, "/notifications/")
        self.assertEqual(Channel.objects.filter(team=self.north).count(), 2)

    def test_who_may_edit_delete_or_test_a_channel(self):
        channel = self.channel("wecom", "north-key-123456")
        edit = f"/notifications/channels/{channel.pk}/"
        for user, status in [(self.rep, 403), (self.outsider, 403), (self.other_manager, 404)]:
            with self.subTest(user=user.username):
                client = self.as_(user)
                self.assertEqual(client.get(edit).status_code, status)
                self.assertEqual(client.post(edit + "delete/").status_code, status)
                self.assertEqual(client.post(edit + "test/").status_code, status)
        self.assertTrue(Channel.objects.filter(pk=channel.pk).exists())
        self.assertRedirects(self.as_(self.manager).post(edit + "test/"), "/notifications/")
        self.assertEqual(channel.deliveries.count(), 1)
        self.assertRedirects(self.as_(self.admin).post(edit + "delete/"), "/notifications/")
        self.assertFalse(Channel.objects.filter(pk=channel.pk).exists())

    def test_secrets_are_never_shown_and_blank_keeps_them(self):
        client = self.as_(self.manager)
        client.post(f"/notifications/teams/{self.north.pk}/channels/new/", FORM)
        channel = Channel.objects.get()
        for url in ("/notifications/", f"/notifications/channels/{channel.pk}/"):
            page = client.get(url).content.decode()
            self.assertNotIn(FORM["secret"], page)
            self.assertNotIn(FORM["address"], page)
            self.assertIn("••••", page)
        answer = client.post(
            f"/notifications/channels/{channel.pk}/",
            FORM | {"address": "", "secret": "", "name": "改名"},
        )
        self.assertRedirects(answer, "/notifications/")
        channel.refresh_from_db()
        self.assertEqual(
            (channel.name, channel.address, channel.secret),
            ("改名", FORM["address"], FORM["secret"]),
        )

    def test_bad_input_is_explained_and_changes_nothing(self):
        client = self.as_(self.manager)
        url = f"/notifications/teams/{self.north.pk}/channels/new/"
        for change, field in [
            ({"address": "not a token!"}, "address"),
            ({"kind": "webhook", "address": "ftp://x", "secret": ""}, "address"),
            ({"kind": "webhook", "address": "https://example.com/h", "secret": ""}, "secret"),
            ({"quiet_end": ""}, "quiet_end"),
            ({"quiet_start": "25:00"}, "quiet_start"),
        ]:
            with self.subTest(change=change):
                answer = client.post(url, FORM | change)
                self.assertEqual(answer.status_code, 200)
                self.assertIn(field, answer.context["form"].errors)
        self.assertFalse(Channel.objects.exists())

    def test_the_nav_link_is_for_managers_and_admins(self):
        self.assertContains(self.as_(self.manager).get("/"), 'href="/notifications/"')
        self.assertNotContains(self.as_(self.rep).get("/"), 'href="/notifications/"')


class SettingsPageQueryTests(NotifyTestCase):
    def fill(self, n: int, start: int = 0) -> None:
        from loudou.notifications.models import Attempt, Delivery

        for i in range(start, start + n):
            channel = self.channel("wecom", f"north-key-{i:08d}", name=f"群{i}")
            delivery = Delivery.objects.create(channel=channel, kind="test", payload={})
            Attempt.objects.create(
                delivery=delivery, number=1, at=delivery.created_at, ok=True, duration_ms=1
            )

    def test_queries_do_not_grow_with_channels_and_deliveries(self):
        self.client.force_login(self.admin)
        self.fill(1)
        self.client.get("/notifications/")  # warm caches (session, content types)
        with self.assertNumQueries(7) as few:
            self.client.get("/notifications/")
        self.fill(6, start=1)
        with self.assertNumQueries(len(few)):
            self.assertContains(self.client.get("/notifications/"), "群6")
