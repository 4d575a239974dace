"""zh-Hans and English are both first-class: complete catalogue, pages in either language."""

import gettext
import re
from pathlib import Path

from django.test import TestCase, override_settings

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

    def test_language_switch(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
        self.assertRedirects(response, "/login/")
        self.assertContains(self.client.get("/login/"), "Log in to Loudou")
