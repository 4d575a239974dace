"""zh-Hans and English are both first-class: complete catalogue, pages in either language."""

import gettext
import re
from pathlib import Path

import django
from django.test import TestCase, override_settings
from django.utils import translation

from loudou.core.testing import LoudouTestCase

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr (first plural form for plurals) of a .po file; a message with a
    context is keyed as gettext keeps it, ``context\x04msgid``."""
    entries: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not msgid:
            continue
        key = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        context = re.search(r'^msgctxt "(.*)"', block, re.M)
        if context:
            key = context.group(1) + "\x04" + key
        strs = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        entries[key] = "".join(re.findall(r'"(.*)"', strs.group(1))) if strs else ""
    entries.pop("", None)
    return entries


class CatalogueTests(TestCase):
    def test_every_message_has_a_chinese_translation(self):
        po = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
        entries = parse_po(po)
        self.assertGreater(len(entries), 200)
        missing = [k for k, v in entries.items() if not v]
        self.assertEqual(missing, [])
        self.assertNotIn("#, fuzzy", po.read_text(encoding="utf-8"))

    def test_compiled_catalogue_matches_the_source(self):
        entries = parse_po(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
        with open(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo", "rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        stale = []
        for msgid, msgstr in entries.items():
            key = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            want = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if "%(days)s day in stage" in key:
                continue  # plural entry, checked through ngettext below
            if compiled.gettext(key) != want:
                stale.append(key)
        self.assertEqual(stale, [], "run `loudou compilemessages` (see CONTRIBUTING in README)")
        self.assertEqual(
            compiled.ngettext("%(days)s day in stage", "%(days)s days in stage", 3),
            "在此阶段 %(days)s 天",
        )


class GlossaryTests(TestCase):
    """One thing, one word in zh-Hans: exit criteria are 升迁标志 (阶段升迁标志), pipelines
    销售流程 (管道 is only the forecast category "pipeline"), win rates and stage
    probabilities 赢单率 (a chance that is no win rate stays 概率)."""

    def test_the_catalogue_keeps_to_the_glossary(self):
        entries = parse_po(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
        astray = []
        for key, zh in entries.items():
            context, _sep, msgid = key.rpartition("\x04")
            if re.search(r"exit criteri", msgid, re.I) and "升迁标志" not in zh:
                astray.append((msgid, zh))
            if re.search("退出条件|赢率|赢单概率", zh):
                astray.append((msgid, zh))
            if re.search(r"probabilit", msgid, re.I) and "概率" in zh:
                astray.append((msgid, zh))
            if "管道" in zh and context != "forecast category":
                astray.append((msgid, zh))
        self.assertEqual(astray, [])


def po_messages(path: Path) -> list[tuple[str, str | None]]:
    """(msgid, msgid_plural) of every message without a context in a .po file."""
    found = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not msgid or re.search(r"^msgctxt", block, re.M):
            continue
        plural = re.search(r'^msgid_plural ((?:".*"\n?)+)', block, re.M)
        texts = [
            "".join(re.findall(r'"(.*)"', m.group(1))).encode().decode("unicode_escape")
            if m
            else None
            for m in (msgid, plural)
        ]
        if texts[0]:
            found.append((texts[0].encode("latin-1").decode("utf-8"), texts[1]))
    return found


class DjangosOwnMessagesTests(TestCase):
    """Django's messages reach our pages (password rules, model validation): Chinese on a
    Chinese page, from Django's catalogue or, where it lags Django's code, ours."""

    def test_every_auth_message_is_chinese_on_a_chinese_page(self):
        auth = Path(django.__file__).parent / "contrib/auth/locale/en/LC_MESSAGES/django.po"
        english = []
        with translation.override("zh-hans"):
            for msgid, plural in po_messages(auth):
                if plural is None:
                    said = translation.gettext(msgid)
                else:
                    said = translation.ngettext(msgid, plural, 8)
                if said in (msgid, plural):
                    english.append(msgid)
        self.assertEqual(english, [])

    def test_a_reference_to_a_removed_row_is_chinese(self):
        message = "%(model)s instance with %(field)s %(value)r is not a valid choice."
        with translation.override("zh-hans"):
            self.assertNotEqual(translation.gettext(message), message)


class LanguageTests(LoudouTestCase):
    def test_browser_language_decides(self):
        self.client.force_login(self.rep)
        zh = self.client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"})
        self.assertContains(zh, "新建商机")
        self.assertContains(zh, "初步接洽")
        en = self.client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
        self.assertContains(en, "New deal")
        self.assertContains(en, "Initial contact")

    def test_default_language_when_browser_asks_for_neither(self):
        response = self.client.get("/login/", headers={"accept-language": "fr-FR"})
        self.assertContains(response, "登录漏斗")
        with override_settings(LANGUAGE_CODE="en"):
            response = self.client.get("/login/", headers={"accept-language": "fr-FR"})
            self.assertContains(response, "Log in to Loudou")

    def test_pages_name_the_pipeline_and_its_forecast_category_apart(self):
        self.client.force_login(self.admin)
        for url in ("/import/", "/"):
            with self.subTest(url=url):
                page = self.client.get(url, headers={"accept-language": "zh-hans"})
                self.assertContains(page, "销售流程")
                self.assertNotContains(page, "管道")
        settings_page = self.client.get(
            f"/settings/pipelines/{self.stages['contact'].pipeline_id}/",
            headers={"accept-language": "zh-hans"},
        )
        self.assertContains(settings_page, '<option value="pipeline" selected>管道</option>')
        self.assertContains(settings_page, "赢单率")

    def test_language_switch(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
        self.assertRedirects(response, "/login/")
        self.assertContains(self.client.get("/login/"), "Log in to Loudou")
