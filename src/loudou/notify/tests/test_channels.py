"""Chat notifications reach local receivers on 127.0.0.1 in each platform's shape, with
each platform's signature checked the way the platform checks it; quiet hours wait,
failures are retried and reported, and a preview prints exactly what is sent."""

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from loudou.core.errors import NotAllowed
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.jobs.testing import queued, run_tasks
from loudou.notify.models import ChatMessage, SendStatus
from loudou.notify.platforms import Message, request, truncate
from loudou.notify.sending import quiet_until
from loudou.notify.services import save_channel, send_now
from loudou.people.models import Quota
from loudou.webhooks.signing import verify

SECRET = "SEC0123456789abcdef"


class Platform:
    """A local stand-in for a platform: checks the signature as the platform does and
    answers as it does (``{"errcode": 0}`` or an error code)."""

    def __init__(self, answer: dict | None = None) -> None:
        self.answer = answer or {"errcode": 0, "errmsg": "ok"}
        self.received: list[tuple[str, dict, dict]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                platform.received.append((self.path, dict(self.headers), json.loads(body), body))
                data = json.dumps(platform.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def dingtalk_valid(path: str, secret: str) -> bool:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    fresh = abs(int(stamp) / 1000 - time.time()) < 3600
    return fresh and hmac.compare_digest(query["sign"][0], expected)


def feishu_valid(body: dict, secret: str) -> bool:
    key = f"{body['timestamp']}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return abs(int(body["timestamp"]) - time.time()) < 3600 and body["sign"] == expected


@override_settings(LOUDOU_WEBHOOK_RETRY_SECONDS=0, LOUDOU_WEBHOOK_TIMEOUT_SECONDS=2)
class ChannelTests(LoudouTestCase):
    def setUp(self):
        self.platform = Platform()
        self.addCleanup(self.platform.close)

    def channel(self, platform: str, path: str, **kwargs):
        kwargs.setdefault("kinds", ["digest", "won", "weekly", "approvals"])
        return save_channel(
            actor=self.manager,
            team=self.north,
            name=platform,
            platform=platform,
            url=self.platform.base + path,
            **kwargs,
        )

    def test_digest_to_each_platform_with_its_signature(self):
        self.make_deal(name="老客户续约", at=ago(60))  # stale
        Quota.objects.create(
            team=self.north,
            period_start=timezone.localdate().replace(day=1),
            period_end=timezone.localdate().replace(day=1) + dt.timedelta(days=40),
            amount=100000,
        )
        self.channel("wecom", "/cgi-bin/webhook/send?key=abc")
        self.channel("dingtalk", "/robot/send?access_token=tok", secret=SECRET)
        self.channel("feishu", "/open-apis/bot/v2/hook/xyz", secret=SECRET, lang="en")
        self.channel("webhook", "/generic", secret=SECRET)
        send_now(self.north, "digest")
        run_tasks()
        self.assertEqual(ChatMessage.objects.filter(status=SendStatus.SENT).count(), 4)
        by_path = {
            urllib.parse.urlsplit(p).path: (p, h, b, raw) for p, h, b, raw in self.platform.received
        }

        _p, _h, wecom, _raw = by_path["/cgi-bin/webhook/send"]
        self.assertEqual(wecom["msgtype"], "markdown")
        self.assertIn("老客户续约", wecom["markdown"]["content"])
        self.assertIn("每日简报", wecom["markdown"]["content"])
        self.assertLessEqual(len(wecom["markdown"]["content"].encode()), 4096)

        path, _h, ding, _raw = by_path["/robot/send"]
        self.assertIn("access_token=tok", path)
        self.assertTrue(dingtalk_valid(path, SECRET))
        self.assertFalse(dingtalk_valid(path, "SECwrong"))
        self.assertEqual(ding["msgtype"], "markdown")
        self.assertTrue(ding["markdown"]["title"])

        _p, _h, feishu, _raw = by_path["/open-apis/bot/v2/hook/xyz"]
        self.assertTrue(feishu_valid(feishu, SECRET))
        self.assertFalse(feishu_valid(feishu, "SECwrong"))
        self.assertEqual(feishu["msg_type"], "interactive")
        self.assertIn("daily digest", feishu["card"]["header"]["title"]["content"])
        self.assertEqual(feishu["card"]["elements"][0]["tag"], "markdown")
        self.assertIn("Stale deals", feishu["card"]["elements"][0]["content"])

        _p, headers, generic, raw = by_path["/generic"]
        self.assertTrue(verify(SECRET, raw, headers["X-Loudou-Signature"]))
        self.assertEqual((generic["kind"], generic["team"]), ("digest", "North"))

    def test_won_deal_goes_to_the_team_channel(self):
        self.channel("wecom", "/w?key=1", kinds=["won"])
        deal = self.make_deal(name="大单", stage=self.stages["negotiation"], account=self.account)
        from loudou.core.testing import ready_to_leave

        deal = ready_to_leave(deal, self.rep, approver=self.manager)
        with self.captureOnCommitCallbacks(execute=True):
            services.win_deal(actor=self.rep, deal=deal)
        run_tasks()
        [(_path, _h, body, _raw)] = self.platform.received
        self.assertIn("大单", body["markdown"]["content"])
        self.assertIn("华为技术", body["markdown"]["content"])

    def test_platform_error_codes_are_retried_and_reported(self):
        self.platform.answer = {"errcode": 310000, "errmsg": "sign not match"}
        self.channel("dingtalk", "/robot/send?access_token=t", secret=SECRET)
        [message] = send_now(self.north, "digest")
        run_tasks()
        message.refresh_from_db()
        self.assertEqual((message.status, message.attempts), (SendStatus.FAILED, 5))
        self.assertIn("310000", message.last_error)

    def test_quiet_hours_hold_messages_until_they_end(self):
        channel = self.channel("wecom", "/w?key=1", quiet_start=dt.time(22), quiet_end=dt.time(8))
        tz = timezone.get_current_timezone()
        night = dt.datetime(2026, 3, 2, 23, 30, tzinfo=tz)
        self.assertEqual(quiet_until(channel, night), dt.datetime(2026, 3, 3, 8, tzinfo=tz))
        self.assertEqual(
            quiet_until(channel, dt.datetime(2026, 3, 3, 7, tzinfo=tz)),
            dt.datetime(2026, 3, 3, 8, tzinfo=tz),
        )
        self.assertIsNone(quiet_until(channel, dt.datetime(2026, 3, 3, 12, tzinfo=tz)))
        # Quiet now: the message is recorded and waits, nothing is sent.
        local = timezone.localtime()
        channel.quiet_start = (local - dt.timedelta(hours=1)).time()
        channel.quiet_end = (local + dt.timedelta(hours=1)).time()
        channel.save()
        send_now(self.north, "digest")
        self.assertEqual(run_tasks(), 0)
        self.assertEqual(len(queued("send")), 1)
        self.assertEqual(self.platform.received, [])

    def test_only_admins_and_the_teams_manager_set_channels(self):
        with self.assertRaises(NotAllowed):
            save_channel(
                actor=self.other_manager,
                team=self.north,
                name="x",
                platform="wecom",
                url="https://example.com/x",
                kinds=["digest"],
            )
        with self.assertRaises(NotAllowed):
            save_channel(
                actor=self.rep,
                team=self.north,
                name="x",
                platform="wecom",
                url="https://example.com/x",
                kinds=["digest"],
            )
        save_channel(
            actor=self.admin,
            team=self.north,
            name="x",
            platform="wecom",
            url="https://example.com/x",
            kinds=["digest"],
        )

    def test_preview_prints_exactly_the_message_sent(self):
        self.make_deal(name="预览商机", at=ago(60))
        out = io.StringIO()
        call_command(
            "notify", "preview", "--team", "North", "--kind", "digest", "--lang", "en", stdout=out
        )
        text = out.getvalue()
        self.assertIn("## North daily digest", text)
        self.assertIn("预览商机", text)
        self.channel("wecom", "/w?key=1", lang="en")
        call_command("notify", "send", "--team", "North", "--kind", "digest", stdout=io.StringIO())
        run_tasks()
        [(_p, _h, body, _raw)] = self.platform.received
        self.assertEqual(body["markdown"]["content"].strip(), text.strip())

    def test_weekly_diagnosis_in_words(self):
        out = io.StringIO()
        call_command(
            "notify",
            "preview",
            "--team",
            "North",
            "--kind",
            "weekly",
            "--lang",
            "zh-hans",
            stdout=out,
        )
        self.assertIn("每周诊断", out.getvalue())

    def test_long_messages_are_cut_within_the_limit(self):
        text = "\n".join(f"- 第{i}行 " + "长" * 50 for i in range(500))
        cut = truncate(text, 4096)
        self.assertLessEqual(len(cut.encode()), 4096)
        self.assertTrue(cut.endswith("…"))
        _url, body, _h = request(
            "wecom", "https://x/y", "", Message("digest", "T", "zh-hans", "T", text)
        )
        self.assertLessEqual(len(json.loads(body)["markdown"]["content"].encode()), 4096)


@override_settings(LOUDOU_WEBHOOK_RETRY_SECONDS=0, LOUDOU_WEBHOOK_TIMEOUT_SECONDS=2)
class ApprovalRequestTests(LoudouTestCase):
    def test_an_approval_request_reaches_the_managers_channel(self):
        from loudou.core import events

        platform = Platform({"code": 0, "msg": "success"})
        self.addCleanup(platform.close)
        save_channel(
            actor=self.manager,
            team=self.north,
            name="飞书",
            platform="feishu",
            url=platform.base + "/open-apis/bot/v2/hook/x",
            secret=SECRET,
            kinds=["approvals"],
        )
        deal = self.make_deal(name="需审批")
        with self.captureOnCommitCallbacks(execute=True):
            events.emit("approval.requested", deal_id=deal.pk, actor_id=self.rep.pk, note="请尽快")
        run_tasks()
        [(_p, _h, body, _raw)] = platform.received
        self.assertTrue(feishu_valid(body, SECRET))
        content = body["card"]["elements"][0]["content"]
        self.assertIn("需审批", content)
        self.assertIn("请尽快", content)
        self.assertIn("请求审批", body["card"]["header"]["title"]["content"])
