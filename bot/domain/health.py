"""Programme health as plain rules: which counts a coordinator sees, and how small ones hide.

A coordinator sees counts about a programme, never names or texts. Even a count can
point at a person ("1 pair ended early because confidentiality was broken"), so every
count from 1 to 4 is shown as "<5" (`mask`, the one function that decides, used by the
text, the chart and the CSV alike), and an average over fewer than 5 ratings is not
shown at all. 0 is shown as 0: "nobody" says nothing about anyone.

No total of masked figures is shown (a total minus the exact parts would give the small
one away): check-ins are shown as answered and unanswered, each masked, rather than as
answered out of due. Where parts of a shown count are listed (early endings by reason
beside the pairs ended early), a zero beside a hidden part is hidden too (`_parts`).
Month-to-month changes of the counts over time are not masked: a coordinator learns
that pairs moved, never which.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.closing import END_REASONS
from bot.i18n import N_, t
from storage.models import MentorshipState

MASK_BELOW = 5
SMALL = "<5"
# A count as it may be shown: the number, or None for 1–4 ("<5").
Masked = int | None

STATES = tuple(state.value for state in MentorshipState)
STATE_NAMES = {state: f"stats.state.{state}" for state in STATES}
REASON_NAMES = {reason: f"closing.reason.{reason}" for reason in END_REASONS}
# The thresholds the issue names: an intro decision is overdue after three weeks, an
# active pair without a meeting for six weeks may need a word from the coordinator.
INTRO_OVERDUE = timedelta(days=21)
NO_MEETING_FOR = timedelta(weeks=6)
MEETINGS_RECENTLY = timedelta(days=30)
RATING_MONTHS = 6
CHART_MONTHS = 12

N_("stats.state.invited")
N_("stats.state.intro")
N_("stats.state.active")
N_("stats.state.closing")
N_("stats.state.closed")
N_("stats.state.declined")
N_("stats.state.ended_early")
N_("closing.reason.chemistry")
N_("closing.reason.conditions")
N_("closing.reason.confidentiality")
N_("closing.reason.other")


def mask(n: int) -> Masked:
    """The count if it may be shown (0, or 5 and more), else None (shown as "<5")."""
    return n if n == 0 or n >= MASK_BELOW else None


def masked_average(count: int, average: float | None) -> float | None:
    """An average rating, rounded to one decimal, only over 5 ratings or more."""
    if average is None or mask(count) in (None, 0):
        return None
    return round(average, 1)


def shown(value: Masked) -> str:
    return SMALL if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Raw:
    """Exact counts as storage found them; never shown: `figures` masks them first."""

    by_state: Mapping[str, int]
    intro_overdue: int
    active_idle: int
    checkins_answered: int
    checkins_unanswered: int
    rated: int
    average_rating: float | None
    # (when answered, rating) since the first of the rating months.
    ratings: Sequence[tuple[datetime, int]]
    ended_early: Mapping[str | None, int]
    sent: Mapping[str, int]
    # When each meeting held since the first chart month took place.
    meetings: Sequence[datetime]
    # (pair number, current state, created) and (pair number, moved to, when).
    pairs: Sequence[tuple[int, str, datetime]]
    moves: Sequence[tuple[int, str, datetime]]


@dataclass(frozen=True, slots=True)
class MonthRating:
    month: date
    answers: Masked
    average: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What a coordinator may see of a programme: masked counts only."""

    by_state: tuple[tuple[str, Masked], ...]
    intro_overdue: Masked
    active_idle: Masked
    meetings_last_30_days: Masked
    checkins_answered: Masked
    checkins_unanswered: Masked
    average_rating: float | None
    ratings: tuple[MonthRating, ...]
    ended_early: tuple[tuple[str, Masked], ...]
    reports_sent: Masked
    contacts_sent: Masked
    # The first day of each chart month, oldest first, and per state its count at the
    # end of each (the current month: now).
    months: tuple[date, ...]
    pairs_over_time: tuple[tuple[str, tuple[Masked, ...]], ...]
    meetings_by_month: tuple[Masked, ...]


def months_back(now: datetime, zone: ZoneInfo, count: int) -> list[date]:
    """The first days of the last `count` months in `zone`, the current one last."""
    today = now.astimezone(zone).date()
    year, month = today.year, today.month
    found: list[date] = []
    for _ in range(count):
        found.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def month_start(month: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(month, time(0), tzinfo=zone)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _month_of(moment: datetime, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone).date()
    return date(local.year, local.month, 1)


def states_at(
    pairs: Sequence[tuple[int, str, datetime]],
    moves: Sequence[tuple[int, str, datetime]],
    moment: datetime,
) -> dict[str, int]:
    """How many pairs were in each state at `moment`: the last recorded move before it;
    a pair without any recorded move counts in its current state from its creation."""
    latest: dict[int, str] = {}
    moved: set[int] = set()
    for number, to_state, at in sorted(moves, key=lambda move: move[2]):
        moved.add(number)
        if at < moment:
            latest[number] = to_state
    for number, state, created in pairs:
        if number not in moved and created < moment:
            latest[number] = state
    counts: dict[str, int] = defaultdict(int)
    for state in latest.values():
        counts[state] += 1
    return dict(counts)


def _parts(counts: Mapping[str, int], keys: Sequence[str]) -> tuple[tuple[str, Masked], ...]:
    """The parts of a count shown elsewhere (the early endings by reason add up to the
    pairs ended early): with a part hidden, exact zeros beside it would let the total
    give it away, so the zeros hide too."""
    parts = [(key, mask(counts.get(key, 0))) for key in keys]
    if any(n is None for _, n in parts):
        parts = [(key, None if n == 0 else n) for key, n in parts]
    return tuple(parts)


def figures(raw: Raw, *, now: datetime, zone: ZoneInfo) -> Figures:
    """Every count masked, every average over too few ratings hidden."""
    months = months_back(now, zone, CHART_MONTHS)
    ends = [month_start(_next_month(m), zone) for m in months[:-1]] + [now]
    at_ends = [states_at(raw.pairs, raw.moves, end) for end in ends]
    meetings_per_month: dict[date, int] = defaultdict(int)
    for moment in raw.meetings:
        meetings_per_month[_month_of(moment, zone)] += 1
    ratings_per_month: dict[date, list[int]] = defaultdict(list)
    for moment, rating in raw.ratings:
        ratings_per_month[_month_of(moment, zone)].append(rating)
    rating_months = months[-RATING_MONTHS:]
    ended: dict[str, int] = defaultdict(int)
    for reason, n in raw.ended_early.items():
        ended[reason if reason in REASON_NAMES else "other"] += n
    recently = now - MEETINGS_RECENTLY
    return Figures(
        by_state=tuple((state, mask(raw.by_state.get(state, 0))) for state in STATES),
        intro_overdue=mask(raw.intro_overdue),
        active_idle=mask(raw.active_idle),
        meetings_last_30_days=mask(sum(1 for m in raw.meetings if m > recently)),
        checkins_answered=mask(raw.checkins_answered),
        checkins_unanswered=mask(raw.checkins_unanswered),
        average_rating=masked_average(raw.rated, raw.average_rating),
        ratings=tuple(
            MonthRating(
                month,
                mask(len(given := ratings_per_month.get(month, []))),
                masked_average(len(given), sum(given) / len(given) if given else None),
            )
            for month in rating_months
        ),
        ended_early=_parts(ended, END_REASONS),
        reports_sent=mask(raw.sent.get("report", 0)),
        contacts_sent=mask(raw.sent.get("contact", 0)),
        months=tuple(months),
        pairs_over_time=tuple(
            (state, tuple(mask(counts.get(state, 0)) for counts in at_ends)) for state in STATES
        ),
        meetings_by_month=tuple(mask(meetings_per_month.get(m, 0)) for m in months),
    )


# -- the chart's data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """Exactly what the chart draws (see `bot.domain.charts.health_chart`).

    A masked count is never drawn as a value: a line has a gap there (None), and a
    month's meetings bar is drawn at 0 with the label "<5".
    """

    months: tuple[date, ...]
    # Per state that had any pairs in the period: its value at each month end.
    pairs: tuple[tuple[str, tuple[int | None, ...]], ...]
    meetings: tuple[int, ...]
    meetings_small: tuple[bool, ...]


def chart_series(found: Figures) -> ChartSeries:
    return ChartSeries(
        months=found.months,
        pairs=tuple(
            (state, values)
            for state, values in found.pairs_over_time
            if any(v != 0 for v in values)
        ),
        meetings=tuple(0 if n is None else n for n in found.meetings_by_month),
        meetings_small=tuple(n is None for n in found.meetings_by_month),
    )


# -- the CSV -----------------------------------------------------------------------------------

CSV_HEADER = ("metric", "label", "month", "value")


def csv_rows(found: Figures, language: str) -> list[tuple[str, str, str, str]]:
    """One metric per row: (code, label in `language`, month or "", value as shown)."""
    rows: list[tuple[str, str, str, str]] = []

    def add(code: str, label: str, value: str, month: date | None = None) -> None:
        rows.append((code, label, f"{month:%Y-%m}" if month else "", value))

    def average(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    def name(key: str) -> str:
        return t(language, key)

    for state, n in found.by_state:
        add(f"pairs.{state}", name(STATE_NAMES[state]), shown(n))
    add("intro_pending_over_21_days", name(N_("health.intro_overdue")), shown(found.intro_overdue))
    add("active_without_meeting_6_weeks", name(N_("health.active_idle")), shown(found.active_idle))
    recently = shown(found.meetings_last_30_days)
    add("meetings_last_30_days", name(N_("health.meetings_recently")), recently)
    answered, unanswered = shown(found.checkins_answered), shown(found.checkins_unanswered)
    add("checkins_answered", name(N_("health.checkins_answered")), answered)
    add("checkins_unanswered", name(N_("health.checkins_unanswered")), unanswered)
    add("rating_average", name(N_("health.rating_average")), average(found.average_rating))
    for each in found.ratings:
        add("ratings", name(N_("health.ratings_given")), shown(each.answers), each.month)
        add("rating_average", name(N_("health.rating_average")), average(each.average), each.month)
    ended = name(STATE_NAMES["ended_early"])
    for reason, n in found.ended_early:
        add(f"ended_early.{reason}", f"{ended} – {name(REASON_NAMES[reason])}", shown(n))
    add("problem_reports_sent", name(N_("health.reports")), shown(found.reports_sent))
    add("contact_requests_sent", name(N_("health.contacts")), shown(found.contacts_sent))
    for state, values in found.pairs_over_time:
        for month, n in zip(found.months, values, strict=True):
            add(f"pairs_at_month_end.{state}", name(STATE_NAMES[state]), shown(n), month)
    for month, n in zip(found.months, found.meetings_by_month, strict=True):
        add("meetings_held", name(N_("health.meetings_held")), shown(n), month)
    return rows


def to_csv(found: Figures, language: str) -> bytes:
    """UTF-8 with a byte-order mark, so a spreadsheet opened by double-click reads å, ä
    and ö right; a header row, then `csv_rows`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(found, language))
    return buffer.getvalue().encode("utf-8-sig")
