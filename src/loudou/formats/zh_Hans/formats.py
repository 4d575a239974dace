"""zh-Hans dates as the deal pages write them: "2026年11月30日" and "2026年11月30日 14:05"
(Django's own, stated here so that both languages' choices are in one place)."""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
