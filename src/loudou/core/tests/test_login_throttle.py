"""Login throttling: per account, per client address, unlock commands, our own page."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory, SimpleTestCase, override_settings

from loudou.core import throttle
from loudou.core.testing import LoudouTestCase

HERE = "127.0.0.1"  # the test client's address
ELSEWHERE = "203.0.113.9"


# Small limits and a fast hasher keep the tests short (each try checks a password); the
# defaults are checked in test_default_limits.
@override_settings(
    AXES_FAILURE_LIMIT=3,
    LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT=5,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
)
class LoginThrottleTests(LoudouTestCase):
    def attempt(self, username: str, password: str, address: str = HERE, lang: str = "en"):
        return self.client.post(
            "/login/",
            {"username": username, "password": password},
            REMOTE_ADDR=address,
            headers={"accept-language": lang},
        )

    def fail(self, username: str, times: int, address: str = HERE) -> list[int]:
        return [self.attempt(username, "wrong", address).status_code for _ in range(times)]

    def spray(self, times: int, address: str = HERE) -> list[int]:
        """One wrong password each for ``times`` accounts: only the address adds up."""
        return [self.attempt(f"guess{i}", "wrong", address).status_code for i in range(times)]

    def assertLoggedIn(self, response) -> None:
        self.assertRedirects(response, "/today/", fetch_redirect_response=False)
        self.client.post("/logout/")

    def assertRefused(self, response) -> None:
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many failed logins", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_account_is_locked_after_the_limit_even_with_the_right_password(self):
        # The third failure reaches the limit: that answer is already the lockout page.
        self.assertEqual(self.fail("rep", 3), [200, 200, 429])
        response = self.attempt("rep", "pw-rep")
        self.assertRefused(response)
        self.assertContains(response, "ask an administrator", status_code=429)
        self.assertContains(response, "try again after", status_code=429)
        wait = int(response["Retry-After"])
        self.assertTrue(55 * 60 < wait <= 60 * 60, wait)  # the default cool-off, one hour
        # Per account: another address does not help.
        self.assertRefused(self.attempt("rep", "pw-rep", ELSEWHERE))

    def test_the_page_speaks_chinese_too(self):
        self.fail("rep", 3)
        response = self.attempt("rep", "pw-rep", lang="zh-CN")
        self.assertContains(response, "登录失败次数过多", status_code=429)
        self.assertContains(response, "管理员", status_code=429)
        self.assertTemplateUsed(response, "base.html")  # the site's own page, not bare text

    def test_other_accounts_from_the_address_until_its_own_limit(self):
        self.fail("rep", 3)
        self.assertLoggedIn(self.attempt("teammate", "pw-teammate"))  # 3 of 5 from here
        self.assertEqual(self.spray(2), [200, 429])  # the fifth locks the address
        self.assertRefused(self.attempt("admin", "pw-admin"))
        # The address is locked, not the admin: from elsewhere the admin gets in.
        self.assertLoggedIn(self.attempt("admin", "pw-admin", ELSEWHERE))

    def test_a_good_login_resets_the_account_count(self):
        self.assertEqual(self.fail("rep", 2), [200, 200])
        self.assertLoggedIn(self.attempt("rep", "pw-rep"))
        self.assertEqual(self.fail("rep", 2), [200, 200])  # counting starts again
        self.assertLoggedIn(self.attempt("rep", "pw-rep"))

    def test_a_good_login_does_not_forget_guesses_at_other_accounts(self):
        self.fail("rep", 2)
        self.assertLoggedIn(self.attempt("teammate", "pw-teammate"))
        self.assertEqual(self.fail("rep", 1), [429])  # rep's two failures still count

    def test_reset_username_command_unlocks_the_account(self):
        self.fail("rep", 3)
        out = StringIO()
        call_command("axes_reset_username", "rep", stdout=out)
        self.assertIn("removed", out.getvalue())
        self.assertLoggedIn(self.attempt("rep", "pw-rep"))

    def test_reset_ip_and_reset_commands_unlock_the_address(self):
        self.assertEqual(self.spray(5), [200, 200, 200, 200, 429])
        self.assertRefused(self.attempt("rep", "pw-rep"))
        call_command("axes_reset_username", "rep", stdout=StringIO())
        self.assertRefused(self.attempt("rep", "pw-rep"))  # the address, not rep, is locked
        call_command("axes_reset_ip", HERE, stdout=StringIO())
        self.assertLoggedIn(self.attempt("rep", "pw-rep"))
        self.spray(5)
        call_command("axes_reset", stdout=StringIO())
        self.assertLoggedIn(self.attempt("rep", "pw-rep"))

    def test_admin_site_login_is_throttled_too(self):
        self.fail("admin", 3)
        response = self.client.post(
            "/admin/login/", {"username": "admin", "password": "pw-admin"}, REMOTE_ADDR=HERE
        )
        self.assertEqual(response.status_code, 429)

    def test_test_client_login_goes_through_the_throttle(self):
        self.assertTrue(self.client.login(username="rep", password="pw-rep"))
        self.client.logout()
        self.assertFalse(self.client.login(username="rep", password="wrong"))
        self.fail("rep", 2)
        self.assertFalse(self.client.login(username="rep", password="pw-rep"))
        self.client.force_login(self.rep)  # set-up logins skip authentication
        self.assertEqual(self.client.get("/").status_code, 200)


class ClientAddressTests(SimpleTestCase):
    def address(self, remote: str, forwarded: str | None = None) -> str | None:
        headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
        request = RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)
        return throttle.client_address(request)

    @override_settings(LOUDOU_PROXY_COUNT=0)
    def test_without_proxies_the_peer_counts_and_the_header_is_ignored(self):
        self.assertEqual(self.address("198.51.100.7", "1.2.3.4"), "198.51.100.7")

    @override_settings(LOUDOU_PROXY_COUNT=1)
    def test_behind_one_proxy_its_entry_counts_not_what_the_client_wrote(self):
        self.assertEqual(self.address("10.0.0.2", "1.2.3.4, 198.51.100.7"), "198.51.100.7")
        self.assertEqual(self.address("10.0.0.2", "2001:db8::1"), "2001:db8::1")
        self.assertEqual(self.address("10.0.0.2"), "10.0.0.2")  # not through the proxy
        self.assertEqual(self.address("10.0.0.2", "garbage"), "10.0.0.2")

    @override_settings(LOUDOU_PROXY_COUNT=2)
    def test_behind_two_proxies(self):
        self.assertEqual(
            self.address("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1"), "198.51.100.7"
        )


def run_loudou(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The `loudou` console script in a fresh folder, with only the given LOUDOU_* variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.update(LOUDOU_HOME=str(tmp), **env)
    script = Path(sys.executable).with_name("loudou")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "loudou"]
    return subprocess.run(
        [*command, *args], env=base, capture_output=True, text=True, cwd=tmp, timeout=120
    )


def test_unlock_commands_are_loudou_commands(tmp_path):
    result = run_loudou(tmp_path, "help", "--commands")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split()
    for name in ("axes_reset", "axes_reset_username", "axes_reset_ip"):
        assert name in commands


def test_default_limits():
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.LOUDOU_LOGIN_ADDRESS_FAILURE_LIMIT == 50
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 3600
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
