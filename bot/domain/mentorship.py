"""The life of a mentorship as plain rules: states, transitions, who may do what.

invited -> intro -> active -> closing -> closed, with declined (the invitation
was turned down or withdrawn) and ended_early (either party stopped, at the
intro meeting or later).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import MentorshipState as S
from storage.models import Role

ALLOWED: dict[S, frozenset[S]] = {
    S.INVITED: frozenset({S.INTRO, S.DECLINED}),
    S.INTRO: frozenset({S.ACTIVE, S.ENDED_EARLY}),
    S.ACTIVE: frozenset({S.CLOSING, S.ENDED_EARLY}),
    S.CLOSING: frozenset({S.CLOSED, S.ENDED_EARLY}),
    S.CLOSED: frozenset(),
    S.DECLINED: frozenset(),
    S.ENDED_EARLY: frozenset(),
}

OPEN_STATES = frozenset({S.INVITED, S.INTRO, S.ACTIVE, S.CLOSING})
FINISHED_STATES = frozenset({S.CLOSED, S.DECLINED, S.ENDED_EARLY})


class IllegalTransition(ValueError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a mentorship cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> S:
    """Return `target` as a state if the move is allowed, else raise IllegalTransition."""
    try:
        here, there = S(current), S(target)
    except ValueError as exc:
        raise IllegalTransition(current, target) from exc
    if there not in ALLOWED[here]:
        raise IllegalTransition(current, target)
    return there


def other_role(role: str) -> Role:
    return Role.ADEPT if Role(role) is Role.MENTOR else Role.MENTOR


class IntroDecision:
    CONTINUE = "continue"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class IntroOutcome:
    """What the two intro decisions mean together."""

    waiting_for_partner: bool
    both_continue: bool
    someone_stopped: bool


def intro_outcome(mine: str | None, theirs: str | None) -> IntroOutcome:
    stopped = IntroDecision.STOP in (mine, theirs)
    both = mine == theirs == IntroDecision.CONTINUE
    return IntroOutcome(
        waiting_for_partner=not stopped and not both,
        both_continue=both,
        someone_stopped=stopped,
    )


# Booking opens as soon as the pair exists: the intro meeting is a meeting too.
BOOKABLE_STATES = frozenset({S.INTRO, S.ACTIVE, S.CLOSING})


def booking_kind(state: str, *, intro_booked: bool) -> str:
    """The kind of meeting booked in a mentorship in `state`: in the intro phase the intro
    meeting, unless one is already booked or held; later, regular meetings."""
    return "intro" if state == S.INTRO and not intro_booked else "regular"
