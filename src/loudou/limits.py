"""Bounds on what users may enter, in one place (no imports: every layer may read it).

Amounts: money columns are DECIMAL(16, 2), but SQLite keeps a decimal it cannot hold as an
integer as a double, which carries 15 significant digits: a larger amount would be stored
rounded and could not be read back as a decimal (every page showing it failed). So amounts
have at most 13 digits before the point: up to 9,999,999,999,999.99 (almost ten trillion),
everywhere one can be entered (forms, import, API, admin) and in a database CHECK.

Dates typed or imported lie between 1900 and 2199: a time zone shift of year 1 or 9999
overflows, and no sale happens outside those years.
"""

import datetime as dt
from decimal import Decimal

MAX_AMOUNT = Decimal("9999999999999.99")
MAX_AMOUNT_TEXT = "9,999,999,999,999.99"
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)

# The deals one "Today" page considers (a manager's own and their teams' open deals).
TODAY_MAX_DEALS = 3000
