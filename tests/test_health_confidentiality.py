"""What a coordinator's /stats shows (text, chart data, CSV) holds no name, username or
anything anyone wrote, and no count from 1 to 4."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.patches import Rectangle

from bot.clock import TravellingClock
from bot.domain import health as rules
from bot.domain.charts import health_figure
from bot.sandbox.emulator import BotAPIEmulator, SentMessage
from bot.usecases import health as usecase
from storage import users
from storage.db import Database
from tests.factories import busy_programme
from tests.harness import Person

People = Callable[..., Person]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = set(range(1, 5))


def _counts_in_text(text: str) -> list[int]:
    """Every count the text shows: "label: n" at a line's end, and "(av n betyg)"."""
    found = [int(n) for n in re.findall(r": (\d+)$", text, flags=re.MULTILINE)]
    found += [int(n) for n in re.findall(r"\(av (\d+) betyg\)", text)]
    return found


def _csv(message: SentMessage) -> list[dict[str, str]]:
    assert message.document is not None
    assert message.document.file_name.endswith(".csv")
    assert message.document.mime_type == "text/csv"
    return list(csv.DictReader(io.StringIO(message.document.data.decode("utf-8-sig"))))


async def _stats(coordinator: Person) -> tuple[SentMessage, SentMessage, SentMessage]:
    await coordinator.send("/stats")
    text, photo, document = await coordinator.replies(3, timeout=30)
    assert (text.kind, photo.kind, document.kind) == ("text", "photo", "document")
    return text, photo, document


async def test_no_coordinator_output_holds_a_name_or_a_text_and_small_counts_are_masked(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock
) -> None:
    coordinator = people("Koordinator", "sv")
    other = people("Samordnare", "sv")
    busy = await busy_programme(db, clock, coordinator, marker="QZXW")
    # Another programme's pairs are not counted, nor shown.
    elsewhere = await busy_programme(
        db,
        clock,
        other,
        marker="VKJY",
        name="Grannprogrammet",
        layout={"active": 6},
        first_telegram_id=800_000,
    )
    text, photo, document = await _stats(coordinator)
    rows = _csv(document)
    raw_csv = document.document.data.decode("utf-8-sig") if document.document else ""
    everything = "\n".join(
        [text.text, text.html or "", photo.caption or "", document.caption or "", raw_csv]
    )
    for secret in busy.secrets + elsewhere.secrets:
        assert secret not in everything
    assert "QZXW" not in everything and "VKJY" not in everything
    assert "Grannprogrammet" not in everything

    # Exact where 5 or more (or none), "<5" for 1-4, this programme only.
    assert "Aktiva: 7" in text.text and "Avslutade: 5" in text.text
    assert "Öppna inbjudningar: <5" in text.text
    assert "I introduktionsskedet: <5" in text.text
    assert "Avslutas: 0" in text.text
    assert "som dröjt mer än 21 dagar: <5" in text.text
    assert "som inte haft något möte på 6 veckor: <5" in text.text
    assert "Besvarade avstämningar: 98" in text.text
    assert "Problem rapporterade till er: <5" in text.text
    assert "Vi passar inte ihop: <5" in text.text
    assert not SMALL & set(_counts_in_text(text.text))
    assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)

    assert list(rows[0]) == list(rules.CSV_HEADER)
    values = {(row["metric"], row["month"]): row["value"] for row in rows}
    assert values[("pairs.active", "")] == "7"
    assert values[("pairs.intro", "")] == "<5"
    assert values[("pairs.closed", "")] == "5"
    assert values[("ended_early.chemistry", "")] == "<5"
    assert values[("ended_early.confidentiality", "")] == "<5"
    # Beside a hidden reason a zero hides too: the pairs ended early would give it away.
    assert values[("ended_early.conditions", "")] == "<5"
    assert values[("intro_pending_over_21_days", "")] == "<5"
    assert values[("active_without_meeting_6_weeks", "")] == "<5"
    assert values[("checkins_answered", "")] == "98"
    assert values[("checkins_unanswered", "")] == "14"
    assert values[("problem_reports_sent", "")] == "<5"
    for row in rows:
        if row["metric"] == "rating_average":
            assert row["value"] == "" or 1 <= float(row["value"]) <= 5
        elif row["value"] != rules.SMALL:
            assert int(row["value"]) not in SMALL, row
    assert any(row["value"] == rules.SMALL for row in rows if row["month"])

    # The chart's data, as computed and as drawn.
    async with db.session() as session:
        coordinator_user = await users.get_by_telegram_id(session, telegram_id=coordinator.user_id)
        assert coordinator_user is not None
        found = await usecase.health(
            session,
            user=coordinator_user,
            programme_id=busy.programme_id,
            super_coordinators=[],
            now=clock.now(),
        )
    series = rules.chart_series(found.figures)
    plotted_pairs = [v for _, values in series.pairs for v in values]
    assert None in plotted_pairs, "some month ends had 1-4 pairs in a state"
    assert not SMALL & {v for v in plotted_pairs if v is not None}
    assert not SMALL & set(series.meetings)
    assert max(v for v in plotted_pairs if v is not None) >= 5
    figure = health_figure(series, title="t", language="sv")
    pairs_axes, meetings_axes = figure.axes
    drawn = [y for line in pairs_axes.get_lines() for y in line.get_ydata()]
    assert not SMALL & {int(y) for y in drawn if not math.isnan(y)}
    labels = {line.get_label() for line in pairs_axes.get_lines()}
    assert labels <= {"Öppna inbjudningar", "I introduktionsskedet", "Aktiva", "Avslutade",
                      "Avslutade i förtid", "Avslutas", "Avböjda inbjudningar"}  # fmt: skip
    heights = [p.get_height() for p in meetings_axes.patches if isinstance(p, Rectangle)]
    assert heights and not SMALL & {int(h) for h in heights}
    assert any(h >= 5 for h in heights)


def test_one_mask_hides_one_to_four_and_averages_over_fewer_than_five() -> None:
    assert [rules.mask(n) for n in range(7)] == [0, None, None, None, None, 5, 6]
    assert [rules.shown(rules.mask(n)) for n in (0, 3, 12)] == ["0", "<5", "12"]
    assert rules.masked_average(4, 4.5) is None
    assert rules.masked_average(0, None) is None
    assert rules.masked_average(5, 3.44) == 3.4


def test_figures_mask_every_small_count_and_hide_averages_of_few_ratings() -> None:
    zone = ZoneInfo("Europe/Stockholm")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    created = now - timedelta(days=100)
    raw = rules.Raw(
        by_state={"active": 3, "closed": 8},
        intro_overdue=1,
        active_idle=2,
        checkins_answered=4,
        checkins_unanswered=9,
        rated=4,
        average_rating=2.0,
        ratings=[(now - timedelta(days=1), 1)] * 4 + [(now - timedelta(days=40), 5)] * 6,
        ended_early={"confidentiality": 1, None: 2},
        sent={"contact": 1, "report": 5},
        meetings=[now - timedelta(days=2)] * 3 + [now - timedelta(days=70)] * 5,
        pairs=[(i, "active" if i < 3 else "closed", created) for i in range(11)],
        moves=[],
    )
    found = rules.figures(raw, now=now, zone=zone)
    assert dict(found.by_state)["active"] is None and dict(found.by_state)["closed"] == 8
    assert (found.intro_overdue, found.active_idle) == (None, None)
    assert (found.checkins_answered, found.checkins_unanswered) == (None, 9)
    assert found.average_rating is None, "4 ratings: a person's own rating could show"
    november, october = found.ratings[-1], found.ratings[-2]
    assert (november.answers, november.average) == (None, None)
    assert (october.answers, october.average) == (6, 5.0)
    assert dict(found.ended_early) == dict.fromkeys(
        ("chemistry", "conditions", "confidentiality", "other")
    ), "unknown reasons count as other; beside a hidden reason, zeros hide too"
    assert (found.contacts_sent, found.reports_sent) == (None, 5)
    assert found.meetings_last_30_days is None
    assert found.meetings_by_month[-1] is None and found.meetings_by_month[-3] == 5
    series = rules.chart_series(found)
    assert series.meetings[-1] == 0 and series.meetings_small[-1]
    assert dict(series.pairs)["active"][-1] is None
    assert dict(series.pairs)["closed"][-1] == 8
    assert "invited" not in dict(series.pairs), "a state never held is not drawn"
    csv_values = [row[3] for row in rules.csv_rows(found, "en")]
    assert rules.SMALL in csv_values
    assert not {"1", "2", "3", "4"} & set(csv_values)


def test_no_hidden_reason_can_be_worked_out_from_the_pairs_ended_early() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    raw = rules.Raw(
        by_state={"ended_early": 6},
        intro_overdue=0,
        active_idle=0,
        checkins_answered=0,
        checkins_unanswered=0,
        rated=0,
        average_rating=None,
        ratings=[],
        ended_early={"chemistry": 5, "confidentiality": 1},
        sent={},
        meetings=[],
        pairs=[],
        moves=[],
    )
    found = rules.figures(raw, now=now, zone=ZoneInfo("Europe/Stockholm"))
    assert dict(found.by_state)["ended_early"] == 6
    # 6 - 5 - 0 - 0 would say that exactly one pair ended over broken confidentiality.
    assert dict(found.ended_early) == {
        "chemistry": 5,
        "conditions": None,
        "confidentiality": None,
        "other": None,
    }
    raw_without_small = dataclasses.replace(raw, ended_early={"chemistry": 6})
    found = rules.figures(raw_without_small, now=now, zone=ZoneInfo("Europe/Stockholm"))
    assert dict(found.ended_early) == {
        "chemistry": 6,
        "conditions": 0,
        "confidentiality": 0,
        "other": 0,
    }
