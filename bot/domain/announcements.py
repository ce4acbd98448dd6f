"""Announcements as plain rules: who an audience is, how long the text may be, and how
the outcome of a fan-out is counted.

An announcement is one Telegram message: the programme's name as a heading, then
the coordinator's text. Telegram counts a message's length in UTF-16 units of the
text after HTML parsing, at most 4,096, so the room left for the text is that
limit less the longest heading any recipient sees (the default programme's name
differs per language).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.textsplit import utf16_len

TELEGRAM_LIMIT = 4096

# Who hears it: "everyone" is the programme's participants, mentors and mentees, not
# its coordinators (they are the ones speaking).
AUDIENCES: dict[str, frozenset[str]] = {
    "mentor": frozenset({"mentor"}),
    "adept": frozenset({"adept"}),
    "all": frozenset({"mentor", "adept"}),
}

# Outbox states after which a row changes no more; only "sent" reached the person.
FINAL_STATES = frozenset({"sent", "failed", "expired", "cancelled"})

# The rows fall due this long after the confirmation: the coordinator's own replies to
# it (the buttons taken off, "on its way") leave first, so they and the fan-out's first
# second do not add up past Telegram's 30 messages a second.
START_AFTER = timedelta(seconds=1)
# An announcement row that has not gone out within this long is given up (a
# recipient's quiet hours last a night, a backed-off retry minutes): its count
# then arrives, with that person among the unreachable.
DELIVERY_WINDOW = timedelta(days=2)
# The count is looked at again this long after the last row should have gone out.
RECHECK_MARGIN = timedelta(seconds=3)
LONGEST_RECHECK = timedelta(hours=1)

_TAG = re.compile(r"<[^>]*>")


def plain_length(telegram_html: str) -> int:
    """The length Telegram counts for an HTML text: tags out, entities read, UTF-16 units."""
    return utf16_len(html.unescape(_TAG.sub("", telegram_html)))


def room_for_text(empty_messages: Iterable[str]) -> int:
    """How long the typed text may be, given the message rendered with an empty text in
    each language a recipient may read it in (HTML)."""
    return TELEGRAM_LIMIT - max((plain_length(m) for m in empty_messages), default=0)


@dataclass(frozen=True, slots=True)
class TextCheck:
    """A typed announcement text, cleaned, and what is wrong with it (None: nothing)."""

    text: str
    problem: str | None  # "empty" | "too_long"
    length: int
    room: int


def check_text(typed: str, room: int) -> TextCheck:
    cleaned = typed.strip()
    length = utf16_len(cleaned)
    if not cleaned:
        return TextCheck(cleaned, "empty", length, room)
    if length > room:
        return TextCheck(cleaned, "too_long", length, room)
    return TextCheck(cleaned, None, length, room)


@dataclass(frozen=True, slots=True)
class Tally:
    """What became of an announcement's rows: reached, not reached, still on the way, and
    (when its author stopped it) kept back by the stop."""

    delivered: int
    unreachable: int
    waiting: int
    stopped: int = 0

    @property
    def done(self) -> bool:
        return self.waiting == 0


def tally(by_state: Mapping[str, int], *, stopped: bool = False) -> Tally:
    """Counts per outbox state, read as delivered / unreachable / waiting.

    Unreachable is every final state but "sent": blocked or failed sends, rows that
    expired, and rows cancelled because the person erased their data meanwhile. Once
    the author stopped the announcement, its cancelled rows are the ones the stop kept
    back (an erasure at that very moment would be counted with them).
    """
    delivered = by_state.get("sent", 0)
    kept_back = by_state.get("cancelled", 0) if stopped else 0
    unreachable = (
        sum(n for state, n in by_state.items() if state in FINAL_STATES) - delivered - kept_back
    )
    waiting = sum(n for state, n in by_state.items() if state not in FINAL_STATES)
    return Tally(delivered, unreachable, waiting, kept_back)


def first_look(now: datetime, recipients: int, rate: float) -> datetime:
    """When the count is first worth looking at: after every row could have gone out."""
    return now + START_AFTER + timedelta(seconds=math.ceil(recipients / rate)) + RECHECK_MARGIN


def next_look(now: datetime, waiting: int, latest_due: datetime | None, rate: float) -> datetime:
    """When to look again while `waiting` rows are on the way, the latest due at `latest_due`
    (a row held by quiet hours waits for the morning; so does the count)."""
    start = max(now, latest_due) if latest_due is not None else now
    later = start + timedelta(seconds=math.ceil(waiting / rate)) + RECHECK_MARGIN
    return min(later, now + LONGEST_RECHECK)
