"""What a coordinator may type when setting up a programme, and join links told apart
from invitations."""

from __future__ import annotations

import pytest

from bot.domain import invites
from bot.domain import programmes as rules
from storage.programmes import new_code


def test_a_join_link_is_j_and_a_programme_code_and_an_invitation_is_not_one() -> None:
    code = new_code()
    assert len(code) == rules.CODE_CHARS
    assert rules.join_code(rules.join_payload(code)) == code
    invitation = "j" + invites.new_code()[1:]  # an invitation code that happens to start with j
    assert invites.looks_like_code(invitation)
    assert rules.join_code(invitation) is None
    assert rules.join_code("j" + "A" * 31 + "<") is None


@pytest.mark.parametrize(
    ("typed", "months"), [("9", 9), ("18 månader", 18), ("3 months", 3), (" 24 ", 24)]
)
def test_a_planned_length_is_read_from_what_was_typed(typed: str, months: int) -> None:
    assert rules.parse_length(typed) == months


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("2", "length_out_of_range"), ("30", "length_out_of_range"), ("nio", "length_not_a_number")],
)
def test_a_length_outside_3_to_24_months_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(rules.ProgrammeRefused) as refused:
        rules.parse_length(typed)
    assert refused.value.reason == reason


def test_areas_are_one_per_line_without_blanks_or_repeats_and_within_limits() -> None:
    assert (
        rules.parse_areas("Ledarskap\n\n  Karriär  byte \n- ledarskap\n")
        == "Ledarskap\nKarriär byte"
    )
    with pytest.raises(rules.ProgrammeRefused, match="too_many_areas"):
        rules.parse_areas("\n".join(f"Område {n}" for n in range(21)))
    with pytest.raises(rules.ProgrammeRefused, match="area_too_long"):
        rules.parse_areas("x" * 41)


def test_names_are_trimmed_and_bounded() -> None:
    assert rules.clean_name("  Väst   2027 ") == "Väst 2027"
    with pytest.raises(rules.ProgrammeRefused, match="name_too_long"):
        rules.clean_name("x" * 81)
    with pytest.raises(rules.ProgrammeRefused, match="name_too_short"):
        rules.clean_name("ab")


def test_a_code_of_conduct_is_a_link_only_when_it_is_one_address() -> None:
    assert rules.is_link("https://example.org/kod")
    assert not rules.is_link("Läs https://example.org/kod först")
    assert rules.check_timezone("oslo") == "Europe/Oslo"
    with pytest.raises(rules.ProgrammeRefused, match="timezone_unknown"):
        rules.check_timezone("Mars/Olympus")
