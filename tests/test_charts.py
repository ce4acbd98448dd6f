"""The ratings chart for the closing summary: a real PNG of the configured size that
plots exactly the ratings stored, and only those the viewer may see."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from matplotlib.dates import num2date
from matplotlib.image import imread

from bot.domain.charts import DEFAULT_SIZE, ratings_chart, ratings_figure
from bot.usecases import Refused
from bot.usecases.checkins import ratings_series
from storage import users
from storage.db import Database
from storage.models import CheckIn, Membership, Mentorship, MentorshipState, User

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERIES = {
    "Anna Adept": [(date(2026, 5, 10), 4), (date(2026, 3, 10), 2), (date(2026, 4, 10), 3)],
    "Bertil Mentor": [(date(2026, 3, 10), 3), (date(2026, 4, 10), 4)],
}


def plotted(series: dict[str, list[tuple[date, int]]], language: str = "en") -> dict[str, object]:
    figure = ratings_figure(series, title="t", language=language)
    [axes] = figure.axes
    return {
        line.get_label(): [
            (num2date(x).date(), int(y))
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        ]
        for line in axes.get_lines()
    }


def test_the_chart_is_a_png_of_the_configured_size() -> None:
    for size in (DEFAULT_SIZE, (640, 360)):
        png = ratings_chart(SERIES, title="Our collaboration", language="en", size=size)
        assert png.startswith(PNG_SIGNATURE)
        pixels = imread(io.BytesIO(png), format="png")
        height, width = pixels.shape[:2]
        assert (width, height) == size
        assert pixels.std() > 0, "something is drawn"


def test_each_person_is_one_line_with_their_ratings_in_date_order() -> None:
    lines = plotted(SERIES)
    assert list(lines) == ["Anna Adept", "Bertil Mentor"]
    assert lines["Anna Adept"] == sorted(SERIES["Anna Adept"])
    assert lines["Bertil Mentor"] == SERIES["Bertil Mentor"]


def test_the_axes_run_from_one_to_five_and_speak_the_language() -> None:
    for language, axis_label, may in (("sv", "Betyg (1–5)", "10 maj"), ("en", "Rating", "10 May")):
        figure = ratings_figure(SERIES, title="Titel", language=language)
        [axes] = figure.axes
        assert [int(tick) for tick in axes.get_yticks()] == [1, 2, 3, 4, 5]
        low, high = axes.get_ylim()
        assert low < 1 and high > 5
        assert axis_label in axes.get_ylabel()
        assert axes.get_title() == "Titel"
        ticks = axes.xaxis.get_major_locator()()
        shown = [axes.xaxis.get_major_formatter()(tick) for tick in ticks]
        assert may in shown
        legend = axes.get_legend()
        assert legend is not None
        assert [text.get_text() for text in legend.get_texts()] == list(SERIES)


def test_nobody_with_ratings_gives_an_empty_chart_not_an_error() -> None:
    png = ratings_chart({"Anna": [], "Bertil": []}, title="—", language="sv", size=(400, 300))
    assert png.startswith(PNG_SIGNATURE)
    assert imread(io.BytesIO(png), format="png").shape[:2] == (300, 400)
    assert plotted({"Anna": [], "Bertil": [(date(2026, 1, 1), 5)]}) == {
        "Bertil": [(date(2026, 1, 1), 5)]
    }


async def _pair(db: Database) -> tuple[int, User, User]:
    async with db.session() as session:
        adept = await users.upsert_from_telegram(
            session,
            telegram_id=9_100_001,
            first_name="Anna",
            last_name=None,
            username=None,
            language="sv",
            timezone="Europe/Stockholm",
        )
        mentor = await users.upsert_from_telegram(
            session,
            telegram_id=9_100_002,
            first_name="Bertil",
            last_name=None,
            username=None,
            language="en",
            timezone="America/New_York",
        )
    async with db.session() as session:
        assert adept.id is not None and mentor.id is not None
        mentorship = Mentorship(
            created_by_id=adept.id,
            state=MentorshipState.CLOSING,
            started_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        )
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        session.add(Membership(mentorship_id=mentorship.id, user_id=adept.id, role="adept"))
        session.add(Membership(mentorship_id=mentorship.id, user_id=mentor.id, role="mentor"))
        return mentorship.id, adept, mentor


async def test_the_series_are_the_stored_ratings_and_private_ones_stay_private(
    db: Database,
) -> None:
    mentorship_id, adept, mentor = await _pair(db)
    assert adept.id is not None and mentor.id is not None
    start = datetime(2026, 2, 15, 9, 0, tzinfo=UTC)
    stored = [
        # (who, period, rating, shared, answered)
        (adept.id, 1, 3, True, True),
        (mentor.id, 1, 4, False, True),
        (adept.id, 2, 5, False, True),
        (mentor.id, 2, 2, True, True),
        (adept.id, 3, 1, True, False),  # begun but not finished: not a rating yet
    ]
    async with db.session() as session:
        for user_id, period, rating, shared, done in stored:
            due = start + timedelta(days=30 * (period - 1))
            session.add(
                CheckIn(
                    mentorship_id=mentorship_id,
                    user_id=user_id,
                    period=period,
                    due_at=due,
                    works_well="privat svar",
                    could_improve="privat svar",
                    rating=rating,
                    note_to_partner="",
                    shared=shared,
                    answered_at=due + timedelta(days=1) if done else None,
                )
            )
    day1, day2 = start.date(), (start + timedelta(days=30)).date()
    async with db.session() as session:
        for_adept = await ratings_series(session, mentorship_id=mentorship_id, viewer=adept)
        for_mentor = await ratings_series(session, mentorship_id=mentorship_id, viewer=mentor)
    # Each sees all their own ratings and only the partner's shared ones (adept first).
    assert for_adept == {"Anna": [(day1, 3), (day2, 5)], "Bertil": [(day2, 2)]}
    # The mentor's dates are their own local days (New York: 04:00 on the same day).
    assert for_mentor == {"Anna": [(day1, 3)], "Bertil": [(day1, 4), (day2, 2)]}
    # What the chart plots is exactly that.
    assert plotted(for_adept) == for_adept
    assert plotted(for_mentor) == for_mentor
    assert ratings_chart(for_adept, title="Anna", language="sv").startswith(PNG_SIGNATURE)


async def test_the_series_are_refused_to_anyone_outside_the_pair(db: Database) -> None:
    mentorship_id, _, _ = await _pair(db)
    async with db.session() as session:
        stranger = await users.upsert_from_telegram(
            session,
            telegram_id=9_100_003,
            first_name="Mallory",
            last_name=None,
            username=None,
            language="en",
            timezone="Europe/Stockholm",
        )
    async with db.session() as session:
        with pytest.raises(Refused):
            await ratings_series(session, mentorship_id=mentorship_id, viewer=stranger)
