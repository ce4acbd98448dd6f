"""The rules for goals and for reading dates, called directly (no Telegram, no database)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain import goals as rules
from bot.domain.dates import Unreadable, parse_date
from bot.domain.goals import GoalKind, GoalRefused
from storage.models import Goal, GoalRevision

# A Thursday in December: "15 mars" lies ahead in the next year, "december" in this one.
TODAY = date(2026, 12, 10)


def _read(text: str, today: date, language: str) -> date | None:
    try:
        return parse_date(text, today=today, timezone="Europe/Stockholm", language=language)
    except Unreadable:
        return None


def sv(text: str, today: date = TODAY) -> date | None:
    return _read(text, today, "sv")


def en(text: str, today: date = TODAY) -> date | None:
    return _read(text, today, "en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 mars", date(2027, 3, 15)),
        ("den 15 mars", date(2027, 3, 15)),
        ("15 mars 2027", date(2027, 3, 15)),
        ("2027-03-15", date(2027, 3, 15)),
        ("15/3", date(2027, 3, 15)),
        ("15.3.2027", date(2027, 3, 15)),
        ("senast 15 mars", date(2027, 3, 15)),
        ("i juni", date(2027, 6, 30)),
        ("juni", date(2027, 6, 30)),
        ("slutet av juni", date(2027, 6, 30)),
        ("I slutet av juni 2027.", date(2027, 6, 30)),
        ("början av april", date(2027, 4, 1)),
        ("mitten av mars", date(2027, 3, 15)),
        ("december", date(2026, 12, 31)),
        ("slutet av året", date(2026, 12, 31)),
        ("slutet av nästa månad", date(2027, 1, 31)),
        ("maj 2027", date(2027, 5, 31)),
        ("imorgon", date(2026, 12, 11)),
        ("om två veckor", date(2026, 12, 24)),
        ("om två månader", date(2027, 2, 10)),
    ],
)
def test_swedish_dates_are_read_day_first_and_in_the_future(text: str, expected: date) -> None:
    assert sv(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 March", date(2027, 3, 15)),
        ("March 15th, 2027", date(2027, 3, 15)),
        ("2027-03-15", date(2027, 3, 15)),
        ("15/3", date(2027, 3, 15)),
        ("by 15 March", date(2027, 3, 15)),
        ("end of June", date(2027, 6, 30)),
        ("the end of June", date(2027, 6, 30)),
        ("in June", date(2027, 6, 30)),
        ("mid-March", date(2027, 3, 15)),
        ("beginning of May", date(2027, 5, 1)),
        ("end of 2027", date(2027, 12, 31)),
        ("end of next month", date(2027, 1, 31)),
        ("tomorrow", date(2026, 12, 11)),
        ("in 3 months", date(2027, 3, 10)),
    ],
)
def test_english_dates_are_read_day_first_and_in_the_future(text: str, expected: date) -> None:
    assert en(text) == expected


def test_either_language_understands_the_other() -> None:
    assert en("15 mars") == date(2027, 3, 15)
    assert sv("end of June") == date(2027, 6, 30)


def test_relative_dates_follow_the_given_today_not_the_machine_clock() -> None:
    assert sv("imorgon", today=date(2030, 2, 28)) == date(2030, 3, 1)
    assert en("in a month", today=date(2030, 2, 28)) == date(2030, 3, 28)
    # A month already passed this year means next year's.
    assert sv("i mars", today=date(2030, 5, 2)) == date(2031, 3, 31)


@pytest.mark.parametrize(
    "text", ["", "   ", "vet inte", "när jag är klar", "blabla", "31/2", "3/15", "x" * 200]
)
def test_what_is_not_a_date_is_not_guessed(text: str) -> None:
    assert sv(text) is None
    assert en(text) is None


def test_an_explicit_past_date_is_read_as_written() -> None:
    # Refusing it is the goal rule's job, so the person hears why.
    assert sv("15/3/2025") == date(2025, 3, 15)
    with pytest.raises(GoalRefused) as refused:
        rules.check_target(date(2025, 3, 15), today=TODAY, planned_end=None)
    assert refused.value.reason == "date_past"


def test_a_deadline_must_lie_ahead_and_within_the_mentorship() -> None:
    end = date(2027, 6, 10)
    assert rules.check_target(date(2027, 3, 15), today=TODAY, planned_end=end) == date(2027, 3, 15)
    assert rules.check_target(end, today=TODAY, planned_end=end) == end
    for target, reason in (
        (TODAY, "date_past"),
        (date(2026, 1, 1), "date_past"),
        (date(2027, 6, 11), "date_after_end"),
    ):
        with pytest.raises(GoalRefused) as refused:
            rules.check_target(target, today=TODAY, planned_end=end)
        assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("specific", "", "specific_too_short"),
        ("specific", "   ", "specific_too_short"),
        ("specific", "Ledarskap", "specific_too_short"),
        ("specific", "🎯 !!!", "specific_too_short"),
        ("measurable", "Svårt", "measurable_too_short"),
        ("measurable", "Svårt att mäta", "hard_to_measure"),
        ("measurable", "Hard to measure.", "hard_to_measure"),
        ("measurable", "It's not measurable really", "hard_to_measure"),
        ("realistic", "Ja", "realistic_too_short"),
        ("specific", "ord " * 3000, "too_long"),
    ],
)
def test_smart_answers_that_say_too_little_are_refused(field: str, text: str, reason: str) -> None:
    with pytest.raises(GoalRefused) as refused:
        rules.clean_answer(field, text)
    assert refused.value.reason == reason


def test_smart_answers_are_kept_whole_and_trimmed() -> None:
    assert rules.clean_answer("specific", "  Leda teamets möten  ") == "Leda teamets möten"
    hard = "Svårt att mäta, men jag märker det när jag vågar ta ordet på mötena."
    assert rules.clean_answer("measurable", hard) == hard
    long = "ord " * 1250  # 5,000 characters
    assert rules.clean_answer("realistic", long) == long.strip()
    assert rules.clean_answer("specific", "<b>Bli</b> chef & ledare") == "<b>Bli</b> chef & ledare"


def test_steps_depend_on_the_kind_of_goal() -> None:
    assert rules.steps(GoalKind.ADEPT) == ("specific", "measurable", "realistic", "target_date")
    assert rules.steps(GoalKind.MENTOR) == rules.steps(GoalKind.ADEPT)
    assert rules.steps(GoalKind.SITUATION) == ("specific", "measurable", "target_date")
    assert rules.kind_for("adept", "goal") == GoalKind.ADEPT
    assert rules.kind_for("adept", "situation") == GoalKind.SITUATION
    assert rules.kind_for("mentor", "situation") == GoalKind.MENTOR
    assert rules.needs_acceptance(GoalKind.SITUATION)
    assert not rules.needs_acceptance(GoalKind.MENTOR)


def test_the_first_missing_step_is_asked_next() -> None:
    revision = GoalRevision(goal_id=1, version=1, author_id=1)
    assert rules.first_missing(revision, GoalKind.ADEPT) == "specific"
    revision.specific, revision.measurable = "Leda möten", "Sex möten"
    assert rules.first_missing(revision, GoalKind.ADEPT) == "realistic"
    assert rules.first_missing(revision, GoalKind.SITUATION) == "target_date"
    revision.target_date = date(2027, 3, 15)
    assert rules.first_missing(revision, GoalKind.SITUATION) is None
    assert rules.first_missing(revision, GoalKind.ADEPT) == "realistic"


@pytest.mark.parametrize(
    ("percent", "bar"),
    [
        (0, "░░░░░░░░░░ 0 %"),
        (30, "▓▓▓░░░░░░░ 30 %"),
        (45, "▓▓▓▓░░░░░░ 45 %"),
        (100, "▓▓▓▓▓▓▓▓▓▓ 100 %"),
        (140, "▓▓▓▓▓▓▓▓▓▓ 100 %"),
        (-5, "░░░░░░░░░░ 0 %"),
    ],
)
def test_progress_bar(percent: int, bar: str) -> None:
    assert rules.progress_bar(percent) == bar


@pytest.mark.parametrize(("text", "percent"), [("40", 40), ("40 %", 40), ("40%", 40), ("0", 0)])
def test_typed_percentages(text: str, percent: int) -> None:
    assert rules.parse_percent(text) == percent
    assert rules.parse_percent("100 procent") == 100


@pytest.mark.parametrize("text", ["", "fyrtio", "101", "-5", "40 50", "12.5"])
def test_percentages_outside_0_to_100_are_refused(text: str) -> None:
    with pytest.raises(GoalRefused):
        rules.parse_percent(text)


def test_the_deadline_nudge_comes_a_week_before_or_tomorrow() -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    at = rules.deadline_nudge_at(date(2027, 3, 15), today=TODAY, zone="Europe/Stockholm")
    assert at == datetime(2027, 3, 8, 9, 0, tzinfo=stockholm)
    soon = rules.deadline_nudge_at(date(2026, 12, 13), today=TODAY, zone="Europe/Stockholm")
    assert soon == datetime(2026, 12, 11, 9, 0, tzinfo=stockholm)
    assert rules.deadline_nudge_at(date(2026, 12, 11), today=TODAY, zone="Europe/Stockholm") is None
    over = rules.deadline_passed_at(date(2027, 3, 15), zone="Europe/Stockholm")
    assert over == datetime(2027, 3, 16, 0, 0, tzinfo=stockholm)


def test_excerpts_cut_at_a_word_and_keep_short_texts() -> None:
    assert rules.excerpt("Leda möten", 50) == "Leda möten"
    assert rules.excerpt("Rad ett\nrad två", 50) == "Rad ett\nrad två"
    assert rules.excerpt("Rad ett\nrad två", 50, one_line=True) == "Rad ett rad två"
    cut = rules.excerpt("ord " * 100, 30)
    assert len(cut) <= 30 and cut.endswith("…") and not cut.endswith(" …")


def test_a_goal_is_seen_by_its_owner_and_by_the_partner_only_once_shared_and_sent() -> None:
    mentor_goal = Goal(mentorship_id=1, owner_id=7, kind="mentor", visibility="private")
    mentor_goal.current_version = 1
    assert rules.visible_to(mentor_goal, 7)
    assert not rules.visible_to(mentor_goal, 8)
    mentor_goal.visibility = "shared"
    assert rules.visible_to(mentor_goal, 8)
    draft = Goal(mentorship_id=1, owner_id=8, kind="adept", visibility="shared")
    assert rules.visible_to(draft, 8) and not rules.visible_to(draft, 7)
    draft.current_version = 1
    assert rules.visible_to(draft, 7)
