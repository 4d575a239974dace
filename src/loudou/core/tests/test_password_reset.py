"""Forgotten passwords: the reset flow in the app's layout and both languages, e-mail from
the background worker, the same answer for every address, request limits, unlocking."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from loudou.core import passwords
from loudou.core.models import PasswordResetRequest
from loudou.core.testing import LoudouTestCase
from loudou.core.tests.test_csp import PolicyChecks
from loudou.jobs.testing import queued, run_tasks
from loudou.people.models import User

LINK = re.compile(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)")
ELSEWHERE = "203.0.113.9"


# A fast hasher: the flow sets and checks passwords several times per test.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ResetFlowTests(PolicyChecks, LoudouTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        User.objects.filter(pk=cls.rep.pk).update(email="rep@example.com")
        User.objects.filter(pk=cls.teammate.pk).update(email="mate@example.com")
        cls.rep.refresh_from_db()

    def ask(self, email, lang="en", address="127.0.0.1"):
        """Ask for a link as a visitor would; the queued mail is sent at once."""
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/password-reset/",
                {"email": email},
                headers={"accept-language": lang},
                REMOTE_ADDR=address,
            )
        run_tasks()
        return response

    def link_in(self, message) -> str:
        return LINK.search(message.body).group(1)

    def test_request_mail_link_new_password_login(self):
        page = self.client.get("/login/", headers={"accept-language": "en"})
        self.assertContains(page, 'href="/password-reset/"')
        self.assertContains(page, "Forgot your password?")
        form = self.client.get("/password-reset/", headers={"accept-language": "en"})
        self.assertContains(form, "Enter the e-mail address of your account")
        self.assertTemplateUsed(form, "base.html")
        response = self.ask("REP@Example.com")  # letter case aside
        self.assertRedirects(response, "/password-reset/sent/", fetch_redirect_response=False)
        sent = self.client.get("/password-reset/sent/", headers={"accept-language": "en"})
        self.assertContains(sent, "If an active account has this e-mail address")
        self.assertContains(sent, "within 24 hours")
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["rep@example.com"])
        self.assertEqual(message.subject, "Loudou: choose a new password")
        self.assertIn("Hello Rep,", message.body)  # the display name
        self.assertIn("Your username is rep.", message.body)
        self.assertIn("within 24 hours", message.body)
        self.assertIn("http://testserver/password-reset/", message.body)
        link = self.link_in(message)
        # Django moves the token out of the address into the session first.
        opened = self.client.get(link, headers={"accept-language": "en"}, follow=True)
        self.assertContains(opened, "Choose a new password")
        set_password = opened.redirect_chain[-1][0]
        weak = self.client.post(set_password, {"new_password1": "123", "new_password2": "123"})
        self.assertEqual(weak.status_code, 200)
        self.assertTrue(User.objects.get(pk=self.rep.pk).check_password("pw-rep"))
        done = self.client.post(
            set_password,
            {"new_password1": "a-new-passphrase-7", "new_password2": "a-new-passphrase-7"},
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertRedirects(done, "/password-reset/done/")
        self.assertContains(done, "Your new password is set")
        self.assertTrue(self.client.login(username="rep", password="a-new-passphrase-7"))
        self.client.logout()
        self.assertFalse(self.client.login(username="rep", password="pw-rep"))
        # The link worked once.
        again = self.client.get(link, headers={"accept-language": "en"}, follow=True)
        self.assertContains(again, "This link does not work")
        self.assertContains(again, 'href="/password-reset/"')

    def test_the_pages_and_the_mail_speak_chinese(self):
        form = self.client.get("/password-reset/", headers={"accept-language": "zh-CN"})
        self.assertContains(form, "忘记密码")
        self.ask("rep@example.com", lang="zh-CN")
        sent = self.client.get("/password-reset/sent/", headers={"accept-language": "zh-CN"})
        self.assertContains(sent, "24 小时内")
        message = mail.outbox[0]
        self.assertEqual(message.subject, "Loudou：设置新密码")
        self.assertIn("Rep，您好：", message.body)
        self.assertIn("24 小时内", message.body)
        self.assertNotIn("。 ", message.body)  # no space after a Chinese full stop
        opened = self.client.get(
            self.link_in(message), headers={"accept-language": "zh-CN"}, follow=True
        )
        weak = self.client.post(
            opened.redirect_chain[-1][0],
            {"new_password1": "abc", "new_password2": "abc"},
            headers={"accept-language": "zh-CN"},
        )
        self.assertContains(weak, "密码长度太短。密码必须包含至少 8 个字符。")
        self.assertNotContains(weak, "too short")
        bad = self.client.get(
            "/password-reset/MQ/not-a-token/", headers={"accept-language": "zh-CN"}
        )
        self.assertContains(bad, "此链接无效")

    def test_the_same_answer_for_every_address(self):
        User.objects.filter(pk=self.outsider.pk).update(email="gone@example.com", is_active=False)
        answers = {}
        for email in (
            "rep@example.com",
            "nobody@example.com",  # nobody has it
            "gone@example.com",  # a deactivated user's
        ):
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post("/password-reset/", {"email": email})
            answers[email] = (response.status_code, response["Location"])
            self.assertEqual(len(queued("send_password_reset")), 1, email)  # the same work
            run_tasks()
        self.assertEqual(len(set(answers.values())), 1, answers)
        self.assertEqual([m.to for m in mail.outbox], [["rep@example.com"]])
        # A user without an address gets nothing from an empty one: the form wants one.
        response = self.client.post("/password-reset/", {"email": ""})
        self.assertEqual(response.status_code, 200)
        self.assertFalse(queued("send_password_reset"))

    def test_an_address_two_users_share_gives_each_their_own_link(self):
        User.objects.filter(pk=self.teammate.pk).update(email="rep@example.com")
        self.ask("rep@example.com")
        self.assertEqual(len(mail.outbox), 2)
        links = {self.link_in(m) for m in mail.outbox}
        self.assertEqual(len(links), 2)

    def test_a_wrong_or_outdated_link_is_a_page_that_says_so(self):
        for path in (
            "/password-reset/MQ/not-a-token/",
            "/password-reset/not-base64/1-2/",
            "/password-reset/OTk5OTk/abc-123/",  # no such user
        ):
            with self.subTest(path=path):
                page = self.client.get(path, headers={"accept-language": "en"}, follow=True)
                self.assertEqual(page.status_code, 200)
                self.assertContains(page, "This link does not work")
                self.assertTemplateUsed(page, "base.html")
        self.ask("rep@example.com")
        link = self.link_in(mail.outbox[0])
        # The password changed since (an admin set one): the link no longer works.
        passwords.admin_set_password(actor=self.admin, user=self.rep, password="another-pass-99")
        page = self.client.get(link, headers={"accept-language": "en"}, follow=True)
        self.assertContains(page, "This link does not work")
        # Too old: the link works for PASSWORD_RESET_TIMEOUT (24 hours) only.
        self.ask("rep@example.com")
        link = self.link_in(mail.outbox[1])
        later = dt.datetime.now() + dt.timedelta(hours=25)
        with mock.patch(
            "django.contrib.auth.tokens.PasswordResetTokenGenerator._now", return_value=later
        ):
            page = self.client.get(link, headers={"accept-language": "en"}, follow=True)
        self.assertContains(page, "This link does not work")

    def test_a_reset_unlocks_the_account_at_the_login_throttle(self):
        with self.settings(AXES_FAILURE_LIMIT=2):
            for _ in range(2):
                self.client.post("/login/", {"username": "rep", "password": "wrong"})
            self.assertFalse(self.client.login(username="rep", password="pw-rep"))
            self.ask("rep@example.com")
            opened = self.client.get(self.link_in(mail.outbox[0]), follow=True)
            self.client.post(
                opened.redirect_chain[-1][0],
                {"new_password1": "a-new-passphrase-7", "new_password2": "a-new-passphrase-7"},
            )
            self.assertTrue(self.client.login(username="rep", password="a-new-passphrase-7"))

    def test_the_lockout_page_offers_a_reset(self):
        with self.settings(AXES_FAILURE_LIMIT=1):
            page = self.client.post(
                "/login/", {"username": "rep", "password": "x"}, headers={"accept-language": "en"}
            )
        self.assertContains(page, 'href="/password-reset/"', status_code=429)

    def test_links_point_at_the_site_address_when_it_is_set(self):
        with self.settings(LOUDOU_SITE_URL="https://crm.example.com"):
            self.ask("rep@example.com")
        self.assertIn("https://crm.example.com/password-reset/", mail.outbox[0].body)

    def test_every_page_keeps_the_content_security_policy(self):
        self.assertPagesHold(["/password-reset/", "/password-reset/sent/", "/password-reset/done/"])
        self.assertPagesHold(["/password-reset/MQ/set-password/"])  # no token in the session
        with self.settings(LOUDOU_PASSWORD_RESET_LIMIT=1):
            self.ask("x@example.com")
            self.assertPolicyHolds(self.ask("x@example.com"), "throttled")


@override_settings(LOUDOU_PASSWORD_RESET_LIMIT=2, LOUDOU_PASSWORD_RESET_ADDRESS_LIMIT=3)
class ResetLimitTests(LoudouTestCase):
    def ask(self, email, address="127.0.0.1", lang="en"):
        return self.client.post(
            "/password-reset/",
            {"email": email},
            REMOTE_ADDR=address,
            headers={"accept-language": lang},
        )

    def test_per_e_mail_address_alike_for_known_and_unknown_ones(self):
        User.objects.filter(pk=self.rep.pk).update(email="rep@example.com")
        for email in ("rep@example.com", "nobody@example.com"):
            with self.subTest(email=email):
                codes = [self.ask(email, address=f"198.51.100.{i}").status_code for i in range(3)]
                self.assertEqual(codes, [302, 302, 429])
        refused = self.ask("REP@example.com", address=ELSEWHERE)
        self.assertContains(refused, "Too many requests", status_code=429)
        self.assertContains(refused, "You can ask again after", status_code=429)
        wait = int(refused["Retry-After"])
        self.assertTrue(55 * 60 < wait <= 60 * 60, wait)
        self.assertContains(
            self.ask("rep@example.com", lang="zh-CN"), "请求过于频繁", status_code=429
        )
        # Refused requests are not counted: the promised time holds.
        self.assertEqual(PasswordResetRequest.objects.count(), 4)

    def test_per_client_address(self):
        codes = [self.ask(f"user{i}@example.com").status_code for i in range(4)]
        self.assertEqual(codes, [302, 302, 302, 429])
        self.assertEqual(self.ask("user9@example.com", address=ELSEWHERE).status_code, 302)

    def test_an_ipv6_client_is_counted_by_its_64_network(self):
        # One host gets a whole /64: rotating addresses inside it must not reset the count.
        codes = [
            self.ask(f"user{i}@example.com", address=f"2001:db8:1:2::{i:x}").status_code
            for i in range(4)
        ]
        self.assertEqual(codes, [302, 302, 302, 429])
        self.assertEqual(self.ask("user9@example.com", address="2001:db8:1:3::1").status_code, 302)
        self.assertEqual(
            set(PasswordResetRequest.objects.values_list("address", flat=True)),
            {"2001:db8:1:2::/64", "2001:db8:1:3::/64"},
        )

    def test_requests_age_out_of_the_window(self):
        site = passwords.LinkSite(domain="testserver", use_https=False)
        start = timezone.now() - dt.timedelta(minutes=90)
        for minutes in (0, 10):
            passwords.request_reset(
                email="a@example.com",
                address="127.0.0.1",
                site=site,
                language="en",
                now=start + dt.timedelta(minutes=minutes),
            )
        with self.assertRaises(passwords.ResetThrottled) as refused:
            passwords.request_reset(
                email="a@example.com",
                address="127.0.0.1",
                site=site,
                language="en",
                now=start + dt.timedelta(minutes=30),
            )
        # One more fits when the oldest leaves the window (60 minutes after it).
        self.assertEqual(refused.exception.until, start + dt.timedelta(minutes=60))
        self.assertEqual(self.ask("a@example.com").status_code, 302)  # now: both aged out
        self.assertEqual(PasswordResetRequest.objects.count(), 1)  # and were deleted
        # The typed address is not kept, only a keyed digest of it.
        kept = PasswordResetRequest.objects.get()
        self.assertNotIn("example", kept.email_digest)
        self.assertEqual(len(kept.email_digest), 64)


PROBE = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
    "s.DEFAULT_FROM_EMAIL, s.PASSWORD_RESET_TIMEOUT]))"
)


def email_settings(tmp: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.update(DJANGO_SETTINGS_MODULE="loudou.settings", LOUDOU_HOME=str(tmp), **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, cwd=tmp
    )


def test_mail_goes_to_the_console_unless_a_server_is_set(tmp_path):
    backend, host, _port, _tls, sender, timeout = json.loads(email_settings(tmp_path).stdout)
    assert (backend, host, sender) == (
        "django.core.mail.backends.console.EmailBackend",
        "",
        "loudou@localhost",
    )
    assert timeout == 24 * 60 * 60
    values = json.loads(
        email_settings(
            tmp_path,
            LOUDOU_EMAIL_HOST="smtp.example.com",
            LOUDOU_EMAIL_USE_TLS="1",
            LOUDOU_EMAIL_FROM="crm@example.com",
            LOUDOU_PASSWORD_RESET_HOURS="2",
        ).stdout
    )
    assert values == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
        True,
        "crm@example.com",
        2 * 60 * 60,
    ]
    both = email_settings(tmp_path, LOUDOU_EMAIL_USE_TLS="1", LOUDOU_EMAIL_USE_SSL="1")
    assert both.returncode != 0
    assert "not both" in both.stderr
