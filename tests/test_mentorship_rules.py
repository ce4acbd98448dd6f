"""The rules of a mentorship, called directly (no Telegram, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain import contract as rules
from bot.domain import invites
from bot.domain.mentorship import (
    ALLOWED,
    IllegalTransition,
    check_transition,
    intro_outcome,
    other_role,
)
from storage.models import Contract, Invite, Membership, MentorshipState

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("invited", "intro"),
        ("invited", "declined"),
        ("intro", "active"),
        ("intro", "ended_early"),
        ("active", "closing"),
        ("active", "ended_early"),
        ("closing", "closed"),
        ("closing", "ended_early"),
    ],
)
def test_the_journey_moves_forward(current: str, target: str) -> None:
    assert check_transition(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("invited", "active"),
        ("intro", "closed"),
        ("active", "intro"),
        ("closed", "active"),
        ("declined", "intro"),
        ("ended_early", "active"),
        ("active", "active"),
        ("active", "bogus"),
    ],
)
def test_illegal_moves_are_refused(current: str, target: str) -> None:
    with pytest.raises(IllegalTransition, match="cannot go"):
        check_transition(current, target)


def test_finished_mentorships_go_nowhere() -> None:
    for state in ("closed", "declined", "ended_early"):
        assert not ALLOWED[MentorshipState(state)]


def test_roles_mirror() -> None:
    assert other_role("mentor") == "adept" and other_role("adept") == "mentor"


def test_intro_outcomes() -> None:
    assert intro_outcome("continue", None).waiting_for_partner
    assert intro_outcome("continue", "continue").both_continue
    assert intro_outcome("continue", "stop").someone_stopped
    assert intro_outcome(None, "stop").someone_stopped


def test_invite_codes_are_long_random_and_fit_a_deep_link() -> None:
    codes = {invites.new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert invites.looks_like_code(code) and len(code) <= 64
    assert invites.CODE_BYTES * 8 >= 128
    assert not invites.looks_like_code("short")
    assert not invites.looks_like_code("x" * 31 + "!")


def _invite(**changes: object) -> Invite:
    base = Invite(
        code=invites.new_code(),
        mentorship_id=1,
        created_by_id=1,
        inviter_role="adept",
        expires_at=NOW + timedelta(days=14),
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_invite_problems() -> None:
    problem = invites.problem_with
    assert problem(None, user_id=2, now=NOW) == "unknown"
    assert problem(_invite(), user_id=2, now=NOW) is None
    assert problem(_invite(), user_id=1, now=NOW) == "own"
    assert problem(_invite(used_at=NOW), user_id=2, now=NOW) == "used"
    assert problem(_invite(declined_at=NOW), user_id=2, now=NOW) == "declined"
    assert problem(_invite(revoked_at=NOW), user_id=2, now=NOW) == "revoked"
    assert problem(_invite(), user_id=2, now=NOW + timedelta(days=14)) == "expired"


def test_contract_duration_rules() -> None:
    assert rules.parse_duration("9") == 9
    assert rules.parse_duration(" 12 månader ") == 12
    assert rules.parse_duration("24 months") == 24
    for text, reason in (
        ("0", "duration_too_short"),
        ("25", "duration_too_long"),
        ("ett år", "duration_not_a_number"),
        ("", "duration_not_a_number"),
    ):
        with pytest.raises(rules.TermRefused) as refused:
            rules.parse_duration(text)
        assert refused.value.reason == reason


def test_aims_must_say_something() -> None:
    with pytest.raises(rules.TermRefused):
        rules.clean_aims("   ")
    with pytest.raises(rules.TermRefused):
        rules.clean_aims("Ledarskap")
    with pytest.raises(rules.TermRefused):
        rules.clean_aims("ord " * 1000)
    assert rules.clean_aims("  Bli en trygg ledare  ") == "Bli en trygg ledare"


def test_planned_end_adds_calendar_months() -> None:
    assert rules.add_months(date(2026, 12, 1), 6) == date(2027, 6, 1)
    assert rules.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert rules.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)


def test_activation_needs_both_confidentiality_promises_and_acceptances() -> None:
    contract = Contract(mentorship_id=1, drafted_by_id=1)
    for term, value in zip(
        rules.STEPS, ["Bli trygg ledare", "goal", 6, "3w", 60, 3, "24h", "1m"], strict=True
    ):
        setattr(contract, term, value)
    both = [
        Membership(mentorship_id=1, user_id=1, role="adept", confidentiality_agreed_at=NOW),
        Membership(mentorship_id=1, user_id=2, role="mentor", confidentiality_agreed_at=NOW),
    ]
    contract.adept_accepted_at = NOW
    assert not rules.may_activate(contract, both)
    contract.mentor_accepted_at = NOW
    assert rules.may_activate(contract, both)
    both[1].confidentiality_agreed_at = None
    assert not rules.may_activate(contract, both)
    assert not rules.may_activate(contract, both[:1])
