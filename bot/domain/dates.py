"""Understanding the day a person types, in Swedish or English.

Both flows that ask for a day read it here: the goal deadline (`parse_date`)
and the day part of a meeting time (`bot.domain.when`). Text becomes tokens
through word tables (`WORDS`, `PHRASES`), and a table of token patterns
(`_DAYS`, `_PERIODS`) says what each sequence means. Whatever our tables do
not know falls through to `dateparser` for deadlines only, because a meeting
must be read exactly.

The rules, the same in both languages and both flows:
- A weekday alone ("fredag", "on Friday") is the next such day after today,
  one to seven days ahead: the weekday that names today means a week ahead.
  Today is "idag" / "today".
- "nästa fredag", "fredag nästa vecka", "next Friday", "Friday next week" are
  all the Friday of next calendar week (weeks run Monday to Sunday), so on a
  Tuesday "nästa torsdag" is nine days ahead, never the day after tomorrow.
  "fredag denna vecka" / "Friday this week" is this calendar week's Friday.
- A weekday given with a date must be that date's weekday, or nothing is
  guessed (`Unreadable("weekday_mismatch")`).
- A date without a year is the next such date from today (today included).
- A period named alone (a month, a year, a week, "nästa månad") stands for its
  last day as a deadline, unless "början" / "mitten" (beginning, middle) is
  said; a month without a year is the next one whose chosen day lies ahead.
  A period is not a day for a meeting.
- Offsets count from today: "om tre dagar", "in two weeks", "om en månad"
  (same day of the month, or its last day when shorter).
- A day in the past is read as written ("igår", "15/3/2025"); the flows then
  say that it has passed, with the day they read.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

# -- words ----------------------------------------------------------------------------------

_WEEKDAY_WORDS = (
    ("mån", "måndag", "måndagen", "man", "mon", "monday"),
    ("tis", "tisdag", "tisdagen", "tue", "tues", "tuesday"),
    ("ons", "onsdag", "onsdagen", "wed", "wednesday"),
    ("tor", "tors", "torsdag", "torsdagen", "thu", "thur", "thurs", "thursday"),
    ("fre", "fredag", "fredagen", "fri", "friday"),
    ("lör", "lördag", "lördagen", "lor", "sat", "saturday"),
    ("sön", "söndag", "söndagen", "son", "sun", "sunday"),
)
_MONTH_WORDS = (
    ("jan", "januari", "january"),
    ("feb", "februari", "february"),
    ("mar", "mars", "march"),
    ("apr", "april"),
    ("maj", "may"),
    ("jun", "juni", "june"),
    ("jul", "juli", "july"),
    ("aug", "augusti", "august"),
    ("sep", "sept", "september"),
    ("okt", "oct", "oktober", "october"),
    ("nov", "november"),
    ("dec", "december"),
)
_COUNT_WORDS = (
    ("en", "ett", "a", "an", "one"),
    ("två", "two"),
    ("tre", "three"),
    ("fyra", "four"),
    ("fem", "five"),
    ("sex", "six"),
    ("sju", "seven"),
    ("åtta", "eight"),
    ("nio", "nine"),
    ("tio", "ten"),
    ("elva", "eleven"),
    ("tolv", "twelve"),
)

WEEKDAYS = {word: n for n, words in enumerate(_WEEKDAY_WORDS) for word in words}
MONTHS = {word: n for n, words in enumerate(_MONTH_WORDS, start=1) for word in words}

# A word or phrase -> (kind, value). Phrases of several words win over their parts.
WORDS: dict[str, tuple[str, Any]] = {
    **{w: ("weekday", n) for w, n in WEEKDAYS.items()},
    **{w: ("month", n) for w, n in MONTHS.items()},
    **{w: ("count", n) for n, ws in enumerate(_COUNT_WORDS, start=1) for w in ws},
    # Days counted from today.
    **dict.fromkeys(("idag", "i dag", "today"), ("rel", 0)),
    **dict.fromkeys(("imorgon", "i morgon", "tomorrow"), ("rel", 1)),
    **dict.fromkeys(
        ("övermorgon", "iövermorgon", "i övermorgon", "day after tomorrow"), ("rel", 2)
    ),
    **dict.fromkeys(("igår", "i går", "yesterday"), ("rel", -1)),
    **dict.fromkeys(("förrgår", "iförrgår", "i förrgår", "day before yesterday"), ("rel", -2)),
    # A day and a part of it: the part tells "7" from "19".
    **dict.fromkeys(("ikväll", "i kväll", "tonight", "this evening"), ("relpart", (0, "pm"))),
    **dict.fromkeys(("ieftermiddag", "i eftermiddag", "this afternoon"), ("relpart", (0, "pm"))),
    **dict.fromkeys(("iförmiddag", "i förmiddag", "this morning"), ("relpart", (0, "am"))),
    **dict.fromkeys(("imorgon bitti", "i morgon bitti"), ("relpart", (1, "am"))),
    **dict.fromkeys(
        ("kväll", "kvällen", "på kvällen", "evening", "in the evening", "night", "at night"),
        ("part", "pm"),
    ),
    **dict.fromkeys(
        ("eftermiddag", "eftermiddagen", "på eftermiddagen", "afternoon", "in the afternoon"),
        ("part", "pm"),
    ),
    **dict.fromkeys(
        ("förmiddag", "förmiddagen", "på förmiddagen", "morgonen", "på morgonen", "bitti"),
        ("part", "am"),
    ),
    **dict.fromkeys(("morning", "in the morning"), ("part", "am")),
    # Weeks, months and years counted from this one.
    **dict.fromkeys(("nästa", "next"), ("next", 1)),
    **dict.fromkeys(("förra", "last"), ("next", -1)),
    **dict.fromkeys(
        ("nästa vecka", "i nästa vecka", "nästkommande vecka", "next week"), ("week", 1)
    ),
    **dict.fromkeys(
        ("denna vecka", "den här veckan", "i veckan", "veckan", "this week", "the week"),
        ("week", 0),
    ),
    **dict.fromkeys(("förra veckan", "last week"), ("week", -1)),
    **dict.fromkeys(("nästa månad", "next month"), ("monthrel", 1)),
    **dict.fromkeys(
        ("denna månad", "den här månaden", "månaden", "this month", "the month"),
        ("monthrel", 0),
    ),
    **dict.fromkeys(("nästa år", "next year"), ("yearrel", 1)),
    **dict.fromkeys(("i år", "året", "detta år", "this year", "the year"), ("yearrel", 0)),
    **dict.fromkeys(("dag", "dagar", "dygn", "day", "days"), ("unit", "day")),
    **dict.fromkeys(("vecka", "veckor", "week", "weeks"), ("unit", "week")),
    **dict.fromkeys(("månad", "månader", "month", "months"), ("unit", "month")),
    **dict.fromkeys(("år", "year", "years"), ("unit", "year")),
    **dict.fromkeys(("halvår", "half year"), ("unit", "halfyear")),
    **dict.fromkeys(("om", "in", "inom", "within"), ("in", None)),
    **dict.fromkeys(("sedan", "ago"), ("ago", None)),
    # Where in a period: a deadline "i slutet av juni" is its last day.
    **dict.fromkeys(
        (
            "slutet av",
            "slutet på",
            "i slutet av",
            "i slutet på",
            "end of",
            "the end of",
            "at the end of",
            "by the end of",
        ),
        ("edge", "end"),
    ),
    **dict.fromkeys(
        (
            "början av",
            "början på",
            "i början av",
            "i början på",
            "beginning of",
            "the beginning of",
            "start of",
            "the start of",
            "early",
        ),
        ("edge", "start"),
    ),
    **dict.fromkeys(
        (
            "mitten av",
            "mitten på",
            "i mitten av",
            "i mitten på",
            "middle of",
            "the middle of",
            "mid",
        ),
        ("edge", "middle"),
    ),
    # Clock words, read by `bot.domain.when`.
    **dict.fromkeys(("kl", "klockan", "at", "@", "vid"), ("at", None)),
    "am": ("ampm", "am"),
    "pm": ("ampm", "pm"),
    **dict.fromkeys(("noon", "midday", "mitt på dagen", "tolv på dagen"), ("clockword", 12 * 60)),
    **dict.fromkeys(("midnight", "midnatt"), ("clockword", 24 * 60)),
    # Words around a day that do not change it.
    **dict.fromkeys(
        (
            "den",
            "the",
            "this",
            "denna",
            "den här",
            "kommande",
            "coming",
            "på",
            "on",
            "i",
            "during",
            "under",
            "of",
            "för",
            "senast",
            "by",
            "until",
            "till",
            "no later than",
            "from now",
            "från nu",
            "från idag",
            "from today",
            "framåt",
        ),
        ("filler", None),
    ),
}
_LONGEST_PHRASE = max(len(phrase.split(" ")) for phrase in WORDS)

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
# "15.3", "15.3.", "15.3.2027"; "9.15" (two digits after the dot) is a time instead.
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?|(\d{1,2})\.(\d)")
_CLOCK = re.compile(r"(\d{1,2})([:.])(\d{2})")
_ORDINAL = re.compile(r"(\d{1,2})(?::e|:a|e|st|nd|rd|th)")
_NUMBER = re.compile(r"\d{1,4}")
_YEARS = range(1900, 2101)
# Farther than this from today is a misreading ("3/15" taken as the year 2115), not a plan.
_PLAUSIBLE_YEARS = 20


class Unreadable(ValueError):
    """Why a typed day or time cannot be used; `reason` names what went wrong.

    Reasons: "empty", "unclear" (no day we know), "no_date", "no_time",
    "bad_date" (31/2), "bad_time" (25:00), "weekday_mismatch" (`day` is the
    date written, whose weekday is another), "in_past" (`moment` is what was read).
    """

    def __init__(
        self,
        reason: str,
        *,
        day: date | None = None,
        moment: datetime | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.day = day
        self.moment = moment


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Reading:
    """The day read, and the part of the day said with it ("ikväll": "pm")."""

    day: date
    part: str | None = None


def normalise(text: str) -> str:
    cleaned = text.strip().lower()
    cleaned = re.sub(r"\b([ap])\.?m\.?(?=\s|$)", r"\1m", cleaned)  # "p.m." -> "pm"
    cleaned = re.sub(r"(\d)(am|pm)\b", r"\1 \2", cleaned)  # "2pm" -> "2 pm"
    cleaned = re.sub(r"\bv\.?\s?(\d{1,2})\b", r"vecka \1", cleaned)  # "v. 12", "v12"
    cleaned = re.sub(r"(?<=[a-zåäö])-(?=[a-zåäö])", " ", cleaned)  # "mid-March"
    cleaned = re.sub(r"(?<=[a-zåäö])\.(?=\s|$)", "", cleaned)  # "dec.", "kl."
    cleaned = re.sub(r"[,;!?]", " ", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip(" .")


def _number_token(word: str) -> Token | None:
    if found := _ISO.fullmatch(word):
        return Token("iso", (int(found[1]), int(found[2]), int(found[3])))
    if found := _SLASHED.fullmatch(word):
        return Token("dm", (int(found[1]), int(found[2]), _full_year(found[3])))
    if found := _CLOCK.fullmatch(word):
        return Token("hm", (int(found[1]), int(found[3]), found[2]))
    if found := _DOTTED_DATE.fullmatch(word):
        if found[4]:
            return Token("dm", (int(found[4]), int(found[5]), None))
        return Token("dm", (int(found[1]), int(found[2]), _full_year(found[3])))
    if found := _ORDINAL.fullmatch(word):
        return Token("ord", int(found[1]))
    if _NUMBER.fullmatch(word):
        number = int(word)
        return Token("year" if len(word) == 4 and number in _YEARS else "num", number)
    return None


def _full_year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def tokens(text: str) -> list[Token]:
    """The words of `text` as tokens, fillers dropped; unknown words stay as "word"."""
    cleaned = normalise(text)
    words = cleaned.split(" ") if cleaned else []
    found: list[Token] = []
    at = 0
    while at < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - at), 0, -1):
            phrase = " ".join(words[at : at + size])
            if phrase in WORDS:
                kind, value = WORDS[phrase]
                at += size
                if kind == "relpart":
                    found += [Token("rel", value[0]), Token("part", value[1])]
                elif kind != "filler":
                    found.append(Token(kind, value))
                break
        else:
            found.append(_number_token(words[at]) or Token("word", words[at]))
            at += 1
    return found


# -- days -----------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_ahead(today: date, weekday: int) -> date:
    """The next such weekday after today: the one that names today is a week ahead."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _in_week(today: date, weeks: int, weekday: int) -> date:
    return _monday(today) + timedelta(weeks=weeks, days=weekday)


def _iso_week(today: date, week: int, year: int | None, weekday: int) -> date:
    try:
        if year is not None:
            return date.fromisocalendar(year, week, weekday + 1)
        found = date.fromisocalendar(today.year, week, weekday + 1)
        if found < _monday(today):
            found = date.fromisocalendar(today.year + 1, week, weekday + 1)
        return found
    except ValueError as exc:
        raise Unreadable("bad_date") from exc


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _offset(today: date, count: int, unit: str) -> date:
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(weeks=count)
    return _add_months(today, count * {"year": 12, "halfyear": 6}.get(unit, 1))


def _dated(today: date, day: int, month: int, year: int | None) -> date:
    """A day of a month; without a year the next such date from today."""
    try:
        if year is not None:
            return date(year, month, day)
        found = date(today.year, month, day) if _exists(today.year, month, day) else None
        if found is None or found < today:
            found = date(today.year + 1, month, day)
        return found
    except ValueError as exc:  # 31/2, 3/15 and the like
        raise Unreadable("bad_date") from exc


def _exists(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _next_day_of_month(today: date, day: int) -> date:
    """ "den 15:e": the next 15th from today."""
    if not 1 <= day <= 31:
        raise Unreadable("bad_date")
    month_start = today.replace(day=1)
    for months in range(0, 3):
        candidate = _add_months(month_start, months)
        if _exists(candidate.year, candidate.month, day):
            found = candidate.replace(day=day)
            if found >= today:
                return found
    raise Unreadable("bad_date")


Value = Any
Builder = Callable[[date, Sequence[Value]], date]

# Token kinds -> the day they name, given today and the tokens' values.
_DAYS: tuple[tuple[tuple[str, ...], Builder], ...] = (
    (("rel",), lambda today, v: today + timedelta(days=v[0])),
    (("weekday",), lambda today, v: _weekday_ahead(today, v[0])),
    (("next", "weekday"), lambda today, v: _in_week(today, v[0], v[1])),
    (("weekday", "week"), lambda today, v: _in_week(today, v[1], v[0])),
    (("week", "weekday"), lambda today, v: _in_week(today, v[0], v[1])),
    (("weekday", "in", "num", "unit:week"), lambda today, v: _in_week(today, v[2], v[0])),
    (("weekday", "in", "count", "unit:week"), lambda today, v: _in_week(today, v[2], v[0])),
    (("weekday", "unit:week", "num"), lambda today, v: _iso_week(today, v[2], None, v[0])),
    (("weekday", "unit:week", "num", "year"), lambda today, v: _iso_week(today, v[2], v[3], v[0])),
    (("unit:week", "num", "weekday"), lambda today, v: _iso_week(today, v[1], None, v[2])),
    (("iso",), lambda today, v: _dated(today, v[0][2], v[0][1], v[0][0])),
    (("dm",), lambda today, v: _dated(today, v[0][0], v[0][1], v[0][2])),
    (("num", "month"), lambda today, v: _dated(today, v[0], v[1], None)),
    (("ord", "month"), lambda today, v: _dated(today, v[0], v[1], None)),
    (("num", "month", "year"), lambda today, v: _dated(today, v[0], v[1], v[2])),
    (("ord", "month", "year"), lambda today, v: _dated(today, v[0], v[1], v[2])),
    (("month", "num"), lambda today, v: _dated(today, v[1], v[0], None)),
    (("month", "ord"), lambda today, v: _dated(today, v[1], v[0], None)),
    (("month", "num", "year"), lambda today, v: _dated(today, v[1], v[0], v[2])),
    (("month", "ord", "year"), lambda today, v: _dated(today, v[1], v[0], v[2])),
    (("ord",), lambda today, v: _next_day_of_month(today, v[0])),
    (("in", "num", "unit"), lambda today, v: _offset(today, v[1], v[2])),
    (("in", "count", "unit"), lambda today, v: _offset(today, v[1], v[2])),
    (("count", "unit"), lambda today, v: _offset(today, v[0], v[1])),  # "a week from now"
    (("num", "unit", "ago"), lambda today, v: _offset(today, -v[0], v[1])),
    (("count", "unit", "ago"), lambda today, v: _offset(today, -v[0], v[1])),
)
# The dates that a weekday may accompany ("onsdag 9 december"): they must agree.
_DATES = frozenset(
    pattern for pattern, _ in _DAYS if pattern[0] in ("iso", "dm", "num", "ord", "month")
)

# A period: token kinds -> (first day, last day). As a deadline it is its last day,
# unless an "edge" before it says the beginning or the middle.
Span = tuple[date, date]
_PERIODS: tuple[tuple[tuple[str, ...], Callable[[date, Sequence[Value]], Span]], ...] = (
    (("month",), lambda today, v: _month(today.year, v[0])),
    (("month", "year"), lambda today, v: _month(v[1], v[0])),
    (("year",), lambda today, v: (date(v[0], 1, 1), date(v[0], 12, 31))),
    (("yearrel",), lambda today, v: _year(today.year + v[0])),
    (("next", "unit:year"), lambda today, v: _year(today.year + v[0])),
    (("monthrel",), lambda today, v: _month_of(_add_months(today.replace(day=1), v[0]))),
    (("next", "unit:month"), lambda today, v: _month_of(_add_months(today.replace(day=1), v[0]))),
    (("week",), lambda today, v: _week(_in_week(today, v[0], 0))),
    (("next", "unit:week"), lambda today, v: _week(_in_week(today, v[0], 0))),
    (("unit:week", "num"), lambda today, v: _week(_iso_week(today, v[1], None, 0))),
    (("unit:week", "num", "year"), lambda today, v: _week(_iso_week(today, v[1], v[2], 0))),
)
# Months named without a year move to next year when the day they stand for has passed.
_YEARLESS_MONTH = ("month",)


def _month(year: int, month: int) -> Span:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _month_of(day: date) -> Span:
    return _month(day.year, day.month)


def _year(year: int) -> Span:
    return date(year, 1, 1), date(year, 12, 31)


def _week(monday: date) -> Span:
    return monday, monday + timedelta(days=6)


def _pick(span: Span, edge: str) -> date:
    first, last = span
    if edge == "start":
        return first
    if edge == "end":
        return last
    if (last - first).days > 40:  # a year's middle is the end of June
        return date(first.year, 6, 30)
    if (last - first).days > 7:  # a month's middle is the 15th
        return first.replace(day=15)
    return first + timedelta(days=2)  # a week's middle is its Wednesday


def _matches(pattern: tuple[str, ...], found: Sequence[Token]) -> bool:
    if len(pattern) != len(found):
        return False
    for want, token in zip(pattern, found, strict=True):
        kind, _, value = want.partition(":")
        if token.kind != kind or (value and token.value != value):
            return False
    return True


def _one_day(found: Sequence[Token], today: date) -> date | None:
    for pattern, build in _DAYS:
        if _matches(pattern, found):
            return build(today, [token.value for token in found])
    return None


def read_day(found: Sequence[Token], today: date, *, periods: bool) -> Reading:
    """The day `found` names (or, with `periods`, the day a named period stands for).

    Raises Unreadable: "unclear", "bad_date" or "weekday_mismatch".
    """
    parts = [token.value for token in found if token.kind == "part"]
    rest = [token for token in found if token.kind != "part"]
    if len(parts) > 1:
        raise Unreadable("unclear")
    part = parts[0] if parts else None
    # "om" / "in" means an offset only before a count ("in June" is June).
    rest = [
        token
        for at, token in enumerate(rest)
        if token.kind != "in" or (at + 1 < len(rest) and rest[at + 1].kind in ("num", "count"))
    ]
    if not rest:
        raise Unreadable("unclear")
    day = _one_day(rest, today)
    if day is not None:
        return Reading(day, part=part)
    if rest[0].kind == "weekday" and len(rest) > 1:
        named = _one_day(rest[1:], today)
        if named is not None and any(_matches(p, rest[1:]) for p in _DATES):
            if named.weekday() != rest[0].value:
                raise Unreadable("weekday_mismatch", day=named)
            return Reading(named, part=part)
    if periods:
        edge = "end"
        if rest[0].kind == "edge":
            edge, rest = rest[0].value, rest[1:]
        for pattern, span in _PERIODS:
            if _matches(pattern, rest):
                values = [token.value for token in rest]
                picked = _pick(span(today, values), edge)
                if pattern == _YEARLESS_MONTH and picked <= today:
                    picked = _pick(_month(today.year + 1, values[0]), edge)
                return Reading(picked, part=part)
    raise Unreadable("unclear")


# -- deadlines ------------------------------------------------------------------------------


def _dateparser(text: str, today: date, timezone: str, language: str) -> date | None:
    # Imported here: dateparser takes a noticeable part of a second to import, and most
    # answers are understood by the tables above without it.
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
    return None if found.date_obj is None else found.date_obj.date()


def parse_date(text: str, *, today: date, timezone: str, language: str) -> date:
    """The day meant by `text`, as a deadline; raises Unreadable ("unclear", "bad_date",
    "weekday_mismatch"). A day in the past is returned as read: the goal rules refuse it."""
    cleaned = normalise(text)
    if not cleaned or len(cleaned) > 60:
        raise Unreadable("unclear")
    # "15.12" is a date when a day is asked for, not a time; "vid" / "at" say nothing here.
    found = [
        Token("dm", (t.value[0], t.value[1], None)) if t.kind == "hm" and t.value[2] == "." else t
        for t in tokens(cleaned)
        if t.kind != "at"
    ]
    try:
        day = read_day(found, today, periods=True).day
    except Unreadable as problem:
        if problem.reason != "unclear":
            raise
        guessed = _dateparser(cleaned, today, timezone, language)
        if guessed is None:
            raise
        day = guessed
    if abs(day.year - today.year) > _PLAUSIBLE_YEARS:
        raise Unreadable("unclear")
    return day
