"""Goals as plain rules: the SMART steps, what each answer needs, states and progress.

The adept owns their goals: they write them, and the mentor accepts a version
or challenges it with a question, never sets it. Every version is kept. A
mentor may keep goals for their own role, private unless they share them.
In a situation-driven mentorship the adept's goal is one problem, the outcome
they want and a deadline, stored in the same columns.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.models import Goal, GoalRevision, MentorshipState, Role, Visibility


class GoalKind(StrEnum):
    ADEPT = "adept"
    MENTOR = "mentor"
    SITUATION = "situation"


class GoalState(StrEnum):
    DRAFT = "draft"  # never sent: only its owner sees it
    AWAITING = "awaiting"  # sent to the mentor, who has not answered this version
    CHALLENGED = "challenged"  # the mentor asked a question about this version
    ACCEPTED = "accepted"  # the mentor accepted this version
    ACTIVE = "active"  # a mentor's own goal: nobody else accepts it
    # Written by the adept in the intro phase: sent for acceptance once the mentorship is active.
    READY = "ready"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class Response(StrEnum):
    ACCEPTED = "accepted"
    CHALLENGED = "challenged"


# Goals belong to a mentorship under way, including its last weeks.
MENTORSHIP_STATES = frozenset({MentorshipState.ACTIVE, MentorshipState.CLOSING})
# From day one the adept may jot goals down: during the intro phase they are kept
# (READY) and go to the mentor once the contract makes the mentorship active.
DRAFTING_STATES = MENTORSHIP_STATES | {MentorshipState.INTRO}
CLOSED = frozenset({GoalState.ACHIEVED, GoalState.DROPPED})
IN_PROGRESS = frozenset({GoalState.ACCEPTED, GoalState.ACTIVE})
# A version with the mentor stays as it is until they answer.
REVISABLE = frozenset({GoalState.CHALLENGED, GoalState.ACCEPTED, GoalState.ACTIVE})

SMART_STEPS = ("specific", "measurable", "realistic", "target_date")
SITUATION_STEPS = ("specific", "measurable", "target_date")
TEXT_FIELDS = frozenset({"specific", "measurable", "realistic"})
# Short codes for callback data (`g:edit:<revision>:s`).
LETTERS = {"s": "specific", "m": "measurable", "r": "realistic", "t": "target_date"}

MIN_WORDS = 2
# Far above what Telegram lets a person type in one message; everything is kept.
MAX_CHARS = 10_000
MIN_COMMENT_CHARS = 2
PERCENT_STEP = 10
BAR_WIDTH = 10
DEADLINE_LEAD = timedelta(days=7)
NUDGE_TIME = time(9, 0)

# "Hard to measure" on its own says nothing yet about how progress will show.
_HARD_TO_MEASURE = re.compile(
    r"\b(svår[ta]? att mäta|inte mätbar[ta]?|går inte att mäta|kan inte mätas|omätbar[ta]?|"
    r"hard to measure|difficult to measure|not measurable|can'?t be measured|"
    r"cannot be measured|unmeasurable)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_PERCENT = re.compile(r"^\s*(\d{1,3})(?:[.,]0+)?\s*(?:%|procent|percent)?\s*$", re.IGNORECASE)


class GoalRefused(ValueError):
    """An answer breaks a rule; `reason` is a translation key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_for(role: str, mode: str | None) -> GoalKind:
    if role == Role.MENTOR:
        return GoalKind.MENTOR
    return GoalKind.SITUATION if mode == "situation" else GoalKind.ADEPT


def steps(kind: str) -> tuple[str, ...]:
    return SITUATION_STEPS if kind == GoalKind.SITUATION else SMART_STEPS


def needs_acceptance(kind: str) -> bool:
    return kind != GoalKind.MENTOR


def first_missing(revision: GoalRevision, kind: str) -> str | None:
    for step in steps(kind):
        if getattr(revision, step) in (None, ""):
            return step
    return None


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def clean_answer(field: str, text: str) -> str:
    """A typed answer for a text step, checked; raises GoalRefused."""
    cleaned = text.strip()
    if len(cleaned) > MAX_CHARS:
        raise GoalRefused("too_long")
    if _words(cleaned) < MIN_WORDS:
        raise GoalRefused(f"{field}_too_short")
    if field == "measurable":
        rest = _HARD_TO_MEASURE.sub(" ", cleaned)
        if rest != cleaned and _words(rest) < 4:
            raise GoalRefused("hard_to_measure")
    return cleaned


def clean_comment(text: str) -> str:
    """The mentor's question or a closing reason: anything said, within the limit."""
    cleaned = text.strip()
    if len(cleaned) < MIN_COMMENT_CHARS or _words(cleaned) == 0:
        raise GoalRefused("comment_empty")
    if len(cleaned) > MAX_CHARS:
        raise GoalRefused("too_long")
    return cleaned


def clean_note(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise GoalRefused("note_empty")
    if len(cleaned) > MAX_CHARS:
        raise GoalRefused("too_long")
    return cleaned


def check_target(target: date, *, today: date, planned_end: date | None) -> date:
    """A deadline must lie ahead and within the mentorship; raises GoalRefused."""
    if target <= today:
        raise GoalRefused("date_past")
    if planned_end is not None and target > planned_end:
        raise GoalRefused("date_after_end")
    return target


def parse_percent(text: str) -> int:
    """0–100 from what was typed ("40", "40 %", "40 procent")."""
    match = _PERCENT.match(text)
    if not match:
        raise GoalRefused("percent_invalid")
    return check_percent(int(match.group(1)))


def check_percent(percent: int) -> int:
    if not 0 <= percent <= 100:
        raise GoalRefused("percent_invalid")
    return percent


def progress_bar(percent: int, width: int = BAR_WIDTH) -> str:
    """A text bar such as "▓▓▓░░░░░░░ 30 %" (the number clamped to 0–100)."""
    shown = max(0, min(100, percent))
    filled = round(shown * width / 100)
    return "▓" * filled + "░" * (width - filled) + f" {shown} %"


def excerpt(text: str, limit: int, *, one_line: bool = False) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with "…".

    `one_line` folds line breaks, for a goal named inside a sentence or a button.
    """
    cleaned = " ".join(text.split()) if one_line else text.strip()
    if len(cleaned) <= limit:
        return cleaned
    cut = max(cleaned.rfind(" ", 0, limit), cleaned.rfind("\n", 0, limit))
    return cleaned[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def visible_to(goal: Goal, user_id: int | None) -> bool:
    """Owners see everything of theirs; the partner sees a shared goal once it is sent."""
    if goal.owner_id == user_id:
        return True
    return (
        goal.visibility == Visibility.SHARED
        and goal.current_version >= 1
        and goal.state != GoalState.READY
    )


def drafting_only(state: str) -> bool:
    """In the intro phase goals are written and kept, not yet sent to the mentor."""
    return state == MentorshipState.INTRO


def is_open_draft(current_version: int, revision: GoalRevision) -> bool:
    """A version is being written while it is newer than the last one sent."""
    return revision.version > current_version


def deadline_nudge_at(target: date, *, today: date, zone: str) -> datetime | None:
    """When to remind the owner before `target`: a week ahead, or tomorrow if sooner.

    None when no day before the deadline is left.
    """
    day = target - DEADLINE_LEAD
    if day <= today:
        day = today + timedelta(days=1)
    if day >= target:
        return None
    return datetime.combine(day, NUDGE_TIME, tzinfo=ZoneInfo(zone))


def deadline_passed_at(target: date, *, zone: str) -> datetime:
    """The moment the deadline day is over, in the owner's zone."""
    return datetime.combine(target + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
