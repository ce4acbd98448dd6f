"""The collaboration contract's terms and the rules for agreeing on them."""

from __future__ import annotations

import calendar
import re
from datetime import date

from storage.models import Contract, Membership

MODES = ("goal", "situation")
DURATION_DEFAULT = 6
DURATION_MIN, DURATION_MAX = 1, 24
DURATION_CHOICES = (6, 9, 12)
CADENCES = ("2w", "3w", "4w", "1m")
MEETING_MINUTES = (45, 60, 90)
TIME_BUDGETS = (2, 3, 4)
CANCEL_NOTICES = ("24h", "48h", "1w")
FEEDBACK_CADENCES = ("meeting", "1m", "2m")
AIMS_MIN_CHARS = 10
AIMS_MAX_CHARS = 3000

# The order the wizard asks in; also the order a contract is shown in.
STEPS = (
    "aims",
    "mode",
    "duration_months",
    "cadence",
    "meeting_minutes",
    "time_budget_hours",
    "cancel_notice",
    "feedback_cadence",
)

CHOICES: dict[str, tuple[object, ...]] = {
    "mode": MODES,
    "duration_months": DURATION_CHOICES,
    "cadence": CADENCES,
    "meeting_minutes": MEETING_MINUTES,
    "time_budget_hours": TIME_BUDGETS,
    "cancel_notice": CANCEL_NOTICES,
    "feedback_cadence": FEEDBACK_CADENCES,
}


class TermRefused(ValueError):
    """A proposed term breaks a rule; `reason` is a translation key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def first_missing(contract: Contract) -> str | None:
    for step in STEPS:
        if getattr(contract, step) in (None, ""):
            return step
    return None


def clean_aims(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) < AIMS_MIN_CHARS or len(cleaned.split()) < 2:
        raise TermRefused("aims_too_short")
    if len(cleaned) > AIMS_MAX_CHARS:
        raise TermRefused("aims_too_long")
    return cleaned


def parse_duration(text: str) -> int:
    """Months from what was typed ("9", "9 månader", "12 months")."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*(m|mån|månad|månader|months?|mo)?\.?\s*", text.lower())
    if not match:
        raise TermRefused("duration_not_a_number")
    return check_duration(int(match.group(1)))


def check_duration(months: int) -> int:
    if months < DURATION_MIN:
        raise TermRefused("duration_too_short")
    if months > DURATION_MAX:
        raise TermRefused("duration_too_long")
    return months


def check_choice(term: str, value: str) -> object:
    """A button's value converted to the term's type, if it is one of the offered choices."""
    for choice in CHOICES[term]:
        if str(choice) == value:
            return choice
    raise TermRefused("not_a_choice")


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def accepted_by_both(contract: Contract) -> bool:
    return contract.adept_accepted_at is not None and contract.mentor_accepted_at is not None


def may_activate(contract: Contract, members: list[Membership]) -> bool:
    """Active only with two members who both agreed to confidentiality and to the contract."""
    return (
        len(members) == 2
        and all(m.confidentiality_agreed_at is not None for m in members)
        and accepted_by_both(contract)
        and first_missing(contract) is None
    )
