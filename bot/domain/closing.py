"""Rules for the end of a mentorship: closing on time, ending early, extending."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from storage.models import ClosingFeedback

END_REASONS = ("chemistry", "conditions", "confidentiality", "other")
GOAL_OUTCOMES = ("reached", "partly", "not")
CLOSING_PROMPT_BEFORE = timedelta(weeks=4)
CLOSE_AFTER = timedelta(days=14)
EXTEND_MONTHS = (1, 2, 3)
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


def should_close(
    *, closing_since: datetime | None, feedback: list[ClosingFeedback], now: datetime
) -> bool:
    """Closed once both have given their feedback, or two weeks after closing began."""
    if closing_since is None:
        return False
    submitted = [f for f in feedback if f.submitted_at is not None]
    return len(submitted) >= 2 or now - closing_since >= CLOSE_AFTER


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
