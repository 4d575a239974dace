"""Each platform gets its own payload shape and signature, checked by a local receiver
the way the platform checks it (recomputed here from its documentation, not by calling
the code under test)."""

import base64
import hashlib
import hmac
import time

from loudou.notifications import services
from loudou.notifications.models import DeliveryStatus

from .helpers import NotifyTestCase
from .receiver import Receiver


class PlatformSignatureTests(NotifyTestCase):
    def send(self, channel):
        delivery = self.committed(lambda: services.send_test(actor=self.manager, channel=channel))
        delivery.refresh_from_db()
        return delivery

    def test_wecom_markdown_to_the_key(self):
        with Receiver() as r:
            channel = self.channel("wecom", r.url + "/cgi-bin/webhook/send?key=abc-123")
            delivery = self.send(channel)
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        (got,) = r.requests
        self.assertEqual(got.query, {"key": "abc-123"})
        body = got.json()
        self.assertEqual(body["msgtype"], "markdown")
        self.assertIn("North", body["markdown"]["content"])
        self.assertLessEqual(len(body["markdown"]["content"].encode()), 4096)

    def test_dingtalk_signs_in_the_url(self):
        secret = "SECabcdef0123456789"
        with Receiver() as r:
            channel = self.channel("dingtalk", r.url + "/robot/send?access_token=tok", secret)
            delivery = self.send(channel)
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        (got,) = r.requests
        self.assertEqual(got.query["access_token"], "tok")
        timestamp = got.query["timestamp"]
        self.assertLess(abs(int(timestamp) - time.time() * 1000), 3600 * 1000)
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        # parse_qsl undid the URL-encoding: a '+' of Base64 must have been sent as %2B.
        self.assertEqual(got.query["sign"], expected)
        body = got.json()
        self.assertEqual(body["msgtype"], "markdown")
        self.assertEqual(set(body["markdown"]), {"title", "text"})

    def test_dingtalk_without_a_secret_sends_no_signature(self):
        with Receiver() as r:
            self.send(self.channel("dingtalk", r.url + "/robot/send?access_token=tok"))
        self.assertNotIn("sign", r.requests[0].query)

    def test_feishu_card_signed_in_the_body(self):
        secret = "feishu-secret"
        with Receiver(answers=[(200, {"code": 0, "msg": "success"})]) as r:
            channel = self.channel("feishu", r.url + "/open-apis/bot/v2/hook/x", secret)
            delivery = self.send(channel)
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        body = r.requests[0].json()
        timestamp = body["timestamp"]
        self.assertLess(abs(int(timestamp) - time.time()), 3600)
        expected = base64.b64encode(
            hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
        ).decode()
        self.assertEqual(body["sign"], expected)
        self.assertEqual(body["msg_type"], "interactive")
        card = body["card"]
        self.assertEqual(card["header"]["title"]["tag"], "plain_text")
        self.assertTrue(all(e["tag"] in ("markdown", "hr", "action") for e in card["elements"]))

    def test_generic_webhook_hmac_header_over_timestamp_and_body(self):
        secret = "hook-secret"
        with Receiver(answers=[(204, b"")]) as r:
            delivery = self.send(self.channel("webhook", r.url + "/in", secret))
        self.assertEqual(delivery.status, DeliveryStatus.SENT)
        got = r.requests[0]
        timestamp = got.headers["x-loudou-timestamp"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256
        ).hexdigest()
        self.assertEqual(got.headers["x-loudou-signature"], "sha256=" + expected)
        self.assertEqual(got.json()["kind"], "test")

    def test_a_platform_refusal_in_a_200_answer_is_a_failure(self):
        with Receiver(answers=[(200, {"errcode": 310000, "errmsg": "sign not match"})]) as r:
            delivery = self.send(self.channel("dingtalk", r.url + "/robot/send?access_token=t"))
        self.assertEqual(delivery.status, DeliveryStatus.RETRYING)
        self.assertIn("sign not match", delivery.last_error)
        self.assertEqual(delivery.log.get().ok, False)
