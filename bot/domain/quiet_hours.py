"""Quiet hours: the part of a person's day when the bot sends nothing on its own initiative.

A window is given as wall-clock times in the person's zone. `start` later than
`end` means it runs over midnight (21:00–08:00); `start` equal to `end` means
there is no quiet window at all. Wall-clock times are what people mean, so on
DST change days the window is an hour shorter or longer in real time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _in_window(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def in_quiet_hours(moment_utc: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    """Whether `moment_utc` falls inside the daily quiet window [start, end) in `zone`."""
    local = moment_utc.astimezone(zone)
    return _in_window(local.time().replace(tzinfo=None), start, end)


def _instants_showing(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the wall clock in `zone` reaches `wall` on `day`, earliest first.

    Two when the wall time happens twice (autumn), one when it happens once, and
    the moment the clock jumps past it when it never happens (02:30 on the last
    Sunday of March in Stockholm: the window then ends at 03:00 CEST, the first
    instant whose wall time is later).
    """
    naive = datetime.combine(day, wall)
    instants = {
        candidate
        for fold in (0, 1)
        if (candidate := naive.replace(tzinfo=zone, fold=fold).astimezone(UTC))
        .astimezone(zone)
        .replace(tzinfo=None)
        == naive
    }
    if instants:
        return sorted(instants)
    # In a gap fold=1 maps to just before the jump and fold=0 to just after it (PEP 495).
    ends = [int(naive.replace(tzinfo=zone, fold=f).timestamp()) for f in (0, 1)]
    before, after = min(ends), max(ends)
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            after = middle
        else:
            before = middle
    return [datetime.fromtimestamp(after, UTC)]


def next_allowed(moment_utc: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The first moment at or after `moment_utc` outside the quiet window, in UTC.

    Outside the window that is `moment_utc` itself; inside it, the end of the
    window as it falls in `zone` (which is what DST changes move).
    """
    moment = moment_utc.astimezone(UTC)
    if not in_quiet_hours(moment, zone, start, end):
        return moment
    local_day = moment.astimezone(zone).date()
    # The end lies today or tomorrow (local); checking yesterday too covers the
    # repeated hour in autumn, where "today" is ambiguous around 02:00–03:00.
    for offset in (-1, 0, 1, 2):
        for instant in _instants_showing(local_day + timedelta(days=offset), end, zone):
            if instant > moment:
                return instant
    raise ValueError("no end of the quiet window found")  # pragma: no cover - zones end daily
