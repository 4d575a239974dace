"""A team's chat channels over the API: its manager sets them (never shown their URL or
secret again), other managers cannot, and the message log is listed."""

from .base import ApiTestCase

BODY = {
    "name": "销售群",
    "platform": "wecom",
    "url": "https://example.com/cgi-bin/webhook/send?key=k",
    "kinds": ["digest", "won"],
    "quiet_start": "22:00:00",
    "quiet_end": "08:00:00",
}


class ChannelApiTests(ApiTestCase):
    def test_manager_sets_channels_of_their_team(self):
        path = f"/teams/{self.north.pk}/channels"
        created = self.call("POST", path, self.manager, BODY)
        self.assertEqual(created.status_code, 201, created.content)
        channel = created.json()
        self.assertEqual(channel["kinds"], ["digest", "won"])
        self.assertNotIn("url", channel)
        self.assertNotIn("secret", channel)
        self.assertEqual(self.call("GET", path, self.manager).json()[0]["name"], "销售群")
        self.assertError(self.call("GET", path, self.other_manager), 403, "not_allowed")
        self.assertError(self.call("POST", path, self.rep, BODY), 403, "not_allowed")
        bad = self.call("POST", path, self.manager, {**BODY, "quiet_end": None})
        self.assertError(bad, 400, "invalid")
        messages = self.call("GET", f"/channels/{channel['id']}/messages", self.manager)
        self.assertEqual(messages.json(), [])
