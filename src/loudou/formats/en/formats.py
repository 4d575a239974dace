"""English dates as the deal pages write them: "Nov. 30, 2026" and "Nov. 30, 2026, 14:05".

Django's own English short formats are month-first numbers (11/30/2026 2:05 p.m.), a
second style beside DATE_FORMAT; Loudou writes every date one way, times on 24 hours as
in zh-Hans. Input formats stay Django's (forms read ISO dates)."""

DATE_FORMAT = "N j, Y"
SHORT_DATE_FORMAT = "N j, Y"
DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "N j, Y, H:i"
