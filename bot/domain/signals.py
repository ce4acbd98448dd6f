"""Signals worth a gentle word, as plain rules: a low check-in rating, the chemistry
check after the first meetings, and a cancellation inside the agreed notice.

Everything here is said privately to one person; nothing of it reaches the partner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# A check-in rated this low or lower offers the person a word of support.
LOW_RATING = 2
# The chemistry check comes after this many held meetings (the intro meeting counts):
# early enough to change course, late enough to have something to go on.
CHEMISTRY_AFTER_MEETINGS = 2
# ...and a day after that meeting ended, so it does not crowd the meeting's own evaluation.
CHEMISTRY_DELAY = timedelta(days=1)
CHEMISTRY_ANSWERS = ("good", "unsure", "end")

# The contract's cancellation notice ("cancel_notice") as a length of time.
NOTICES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "48h": timedelta(hours=48),
    "1w": timedelta(weeks=1),
}


def is_low(rating: int | None) -> bool:
    return rating is not None and rating <= LOW_RATING


def chemistry_due(second_meeting_end: datetime) -> datetime:
    return second_meeting_end + CHEMISTRY_DELAY


def notice_of(cancel_notice: str | None) -> timedelta | None:
    """The agreed notice, or None when the contract names none the bot knows."""
    return NOTICES.get(cancel_notice or "")


def inside_notice(*, cancel_notice: str | None, starts_at: datetime, now: datetime) -> bool:
    """Whether calling off (or moving) a meeting starting at `starts_at` comes later than
    the pair agreed. A meeting already begun is not "short notice": it is over or on."""
    notice = notice_of(cancel_notice)
    if notice is None or starts_at <= now:
        return False
    return starts_at - now < notice
