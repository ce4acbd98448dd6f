"""Rules for the end of a mentorship: closing on time, ending early, extending."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from storage.models import ClosingFeedback, Meeting, MentorshipState

END_REASONS = ("chemistry", "conditions", "confidentiality", "other")
GOAL_OUTCOMES = ("reached", "partly", "not")
CLOSING_PROMPT_BEFORE = timedelta(weeks=4)
CLOSE_AFTER = timedelta(days=14)
EXTEND_MONTHS = (1, 2, 3)
# The handbook's order, whatever the reason for the end: a closing meeting, written
# feedback after it, then the look-back. It can be booked from the four weeks' prompt
# on, and after an early end the pair may still book that one meeting.
CLOSING_MEETING = "closing"
CLOSING_MEETING_STATES = frozenset(
    {MentorshipState.ACTIVE, MentorshipState.CLOSING, MentorshipState.ENDED_EARLY}
)
FEEDBACK_MAX_CHARS = 4000
# Both answers are kept for the look-back, and the collaboration can run on
# informally after closing: the bot asks, it never decides for people.
FEEDBACK_STEPS = ("goals", "most_valuable", "could_be_better", "rating", "stay_in_touch", "share")


def coordinator_at_once(reason: str) -> bool:
    """A breach of confidentiality breaks the programme's first rule: the person who
    ends for that reason is shown where to report it straight away."""
    return reason == "confidentiality"


def closing_prompt_due(*, planned_end: date | None, today: date) -> bool:
    """Four weeks before the planned end, the adept is asked to book the closing meeting."""
    return planned_end is not None and today >= planned_end - CLOSING_PROMPT_BEFORE


def meeting_end(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)


def may_book(state: str, kind: str) -> bool:
    """A closing meeting can be booked while closing and after an early end."""
    return kind == CLOSING_MEETING and state in CLOSING_MEETING_STATES


def should_close(
    *,
    closing_since: datetime | None,
    feedback: list[ClosingFeedback],
    now: datetime,
    closing_meetings: Sequence[Meeting] = (),
) -> bool:
    """Wrapped up (closed, or the look-back after an early end) once both have given
    their feedback, or two weeks after closing began or the last closing meeting ended;
    never while a booked closing meeting is still ahead, so its reminders stay."""
    if closing_since is None:
        return False
    ends = [meeting_end(m) for m in closing_meetings]
    if any(end > now for end in ends):
        return False
    submitted = [f for f in feedback if f.submitted_at is not None]
    return len(submitted) >= 2 or now - max([closing_since, *ends]) >= CLOSE_AFTER


def feedback_due(closing_meetings: Sequence[Meeting], *, now: datetime) -> list[Meeting]:
    """The closing meetings that are over: written feedback is asked after them."""
    return [m for m in closing_meetings if meeting_end(m) <= now]


def next_step(feedback: ClosingFeedback, goal_ids: list[int]) -> tuple[str, int | None]:
    """The next unanswered part of a closing feedback, and the goal it is about."""
    for goal_id in goal_ids:
        if str(goal_id) not in feedback.goal_outcomes:
            return "goals", goal_id
    if feedback.most_valuable is None:
        return "most_valuable", None
    if feedback.could_be_better is None:
        return "could_be_better", None
    if feedback.rating is None:
        return "rating", None
    if feedback.stay_in_touch is None:
        return "stay_in_touch", None
    if feedback.submitted_at is None:
        return "share", None
    return "done", None
