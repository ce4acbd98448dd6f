"""The answers every flow gives for a typed day that cannot be used, so a meeting
time and a goal deadline refuse the same mistake in the same words."""

from __future__ import annotations

from bot.domain.dates import Unreadable
from bot.i18n import format_date
from bot.usecases import Refused


def weekday_mismatch(problem: Unreadable, *, language: str) -> Refused:
    """ "tisdag 9 december" when the 9th is a Wednesday: the date and its real weekday."""
    assert problem.day is not None
    weekday = format_date(problem.day, "EEEE", locale="sv" if language == "sv" else "en")
    return Refused("dates.weekday_mismatch", stay=True, date=problem.day, weekday=weekday)
