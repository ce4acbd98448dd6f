"""Understanding the date a person types, in Swedish or English.

Full dates and relative phrases ("15 mars", "2027-03-15", "15/3", "om två
veckor", "next month") go to `dateparser`, with day-before-month order and a
preference for the future. A month or a year on its own ("i juni", "end of
June", "slutet av 2027") is read here first, because as a deadline it means a
day within that period (its last, unless "beginning" or "middle" is said),
which dateparser cannot tell from "in three months".

Relative phrases are computed against the `today` the caller passes (the
bot's clock in the person's time zone), never against the machine's clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time

_MONTH_NAMES = (
    ("januari", "january", "jan"),
    ("februari", "february", "feb"),
    ("mars", "march", "mar"),
    ("april", "apr"),
    ("maj", "may"),
    ("juni", "june", "jun"),
    ("juli", "july", "jul"),
    ("augusti", "august", "aug"),
    ("september", "sept", "sep"),
    ("oktober", "october", "okt", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}

# Words around a date that do not change it ("senast 15 mars", "by 15 March").
_FILLER = re.compile(r"^(?:senast|by|until|till|no later than|on|den|the)\s+")
_PART = re.compile(
    r"^(?:i |in |at |by |vid |på )?(?:the )?"
    r"(?P<part>slutet av|slutet på|end of|början av|början på|beginning of|start of|"
    r"mitten av|mitten på|middle of|mid)[\s-]+(?P<rest>.+)$"
)
_PARTS = {
    "slutet av": "end",
    "slutet på": "end",
    "end of": "end",
    "början av": "start",
    "början på": "start",
    "beginning of": "start",
    "start of": "start",
    "mitten av": "middle",
    "mitten på": "middle",
    "middle of": "middle",
    "mid": "middle",
}
_MONTH = re.compile(r"^(?:i |in |during |under )?(?P<month>[a-zåäö]+)\.?(?:,?\s+(?P<year>\d{4}))?$")
_YEAR = re.compile(r"^(?:i |in |during |under )?(?P<year>\d{4})$")
_THIS_YEAR = frozenset({"året", "i år", "år", "the year", "this year", "this year's"})
# Farther than this from today is a misreading ("3/15" taken as the year 2115), not a plan.
_PLAUSIBLE_YEARS = 20


def _normalise(text: str) -> str:
    cleaned = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".!?, ")
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _FILLER.sub("", cleaned)
    return cleaned


def _day_in_month(year: int, month: int, part: str) -> date:
    if part == "start":
        return date(year, month, 1)
    if part == "middle":
        return date(year, month, 15)
    return date(year, month, calendar.monthrange(year, month)[1])


def _day_in_year(year: int, part: str) -> date:
    if part == "start":
        return date(year, 1, 1)
    if part == "middle":
        return date(year, 6, 30)
    return date(year, 12, 31)


def _period(text: str, part: str, today: date) -> date | None:
    """A month or a year named on its own, as the day `part` picks within it."""
    month = _MONTH.match(text)
    if month and month["month"] in MONTHS:
        number = MONTHS[month["month"]]
        if month["year"]:
            return _day_in_month(int(month["year"]), number, part)
        # The next such month that still has the day ahead of us.
        found = _day_in_month(today.year, number, part)
        return found if found > today else _day_in_month(today.year + 1, number, part)
    year = _YEAR.match(text)
    if year:
        return _day_in_year(int(year["year"]), part)
    if text in _THIS_YEAR:
        return _day_in_year(today.year, part)
    return None


def _dateparser(text: str, today: date, timezone: str, language: str) -> tuple[date, str] | None:
    # Imported here: dateparser takes a noticeable part of a second to import, and most
    # answers are understood by the table-driven rules above without it.
    from dateparser.date import DateDataParser

    languages = ["sv", "en"] if language == "sv" else ["en", "sv"]
    parser = DateDataParser(
        languages=languages,
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "TIMEZONE": timezone,
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    found = parser.get_date_data(text)
    if found.date_obj is None:
        return None
    return found.date_obj.date(), str(found.period or "day")


def parse_date(text: str, *, today: date, timezone: str, language: str) -> date | None:
    """The day meant by `text`, or None when it cannot be read as a date."""
    cleaned = _normalise(text)
    if not cleaned or len(cleaned) > 60:
        return None
    part = "end"
    qualified = _PART.match(cleaned)
    if qualified:
        part, cleaned = _PARTS[qualified["part"]], qualified["rest"].strip()
    found = _period(cleaned, part, today)
    if found is None:
        parsed = _dateparser(cleaned, today, timezone, language)
        if parsed is None:
            return None
        found, period = parsed
        if qualified and period == "month":
            found = _day_in_month(found.year, found.month, part)
        elif qualified and period == "year":
            found = _day_in_year(found.year, part)
    if abs(found.year - today.year) > _PLAUSIBLE_YEARS:
        return None
    return found
