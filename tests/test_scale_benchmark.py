"""The scale benchmark runs end to end at 50 pairs: every measure is printed, and the
plans of the claim and of every planner's queries are found and checked.

PostgreSQL only (the benchmark is PostgreSQL's: COPY, EXPLAIN). Counts and presence
only, never how fast: timings depend on the machine.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from storage import planning
from storage.db import Database
from storage.types import utcnow
from tests.planning_data import many_pairs

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgres"), reason="the scale benchmark runs on PostgreSQL"
)

NUMBER = r"(\d+\.\d+|\d+|-)"
MEASURES = (
    "generate s",
    "rows: users",
    "rows: mentorships",
    "rows: meetings",
    "rows: checkins",
    "rows: outbox",
    "start-up to first getUpdates s",
    "idle RSS MB",
    "tick, nothing due ms",
    r"tick, 100 due \(claims of \d+\) ms",
    *(
        f"{planner} {measure}"
        for planner in ("checkins", "nudges", "closing")
        for measure in (
            "pass s",
            "pass ms per 1,000 pairs",
            "first commit s",
            "RSS growth MB",
            "statements",
            "planned",
        )
    ),
    "EXPLAINed statements",
    "of claim",
    "of checkins",
    "of nudges",
    "of closing",
)


def value(out: str, measure: str) -> float:
    found = re.search(rf"^\s*{measure}\s+{NUMBER}\s*$", out, re.M)
    assert found is not None, f"no {measure!r} in:\n{out}"
    return float("nan") if found[1] == "-" else float(found[1])


def test_quick_scale_run_prints_every_measure_and_finds_every_plan() -> None:
    # The benchmark makes its own database on that server and drops it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--quick", "--database-url", URL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    values = {measure: value(out, measure) for measure in MEASURES}

    assert values["rows: mentorships"] == 50
    assert values["rows: users"] == 85, "50 mentees, 35 mentors (some have two)"
    assert values["rows: meetings"] > 50 and values["rows: checkins"] > 50
    assert values["rows: outbox"] > 10 * 50, "meetings and check-ins leave their messages"
    # Start-up is left out of the quick run (it is benchmarks/conversation.py's smoke test's).
    assert math.isnan(values["start-up to first getUpdates s"])
    assert math.isnan(values["idle RSS MB"])
    # The generated data leaves something for every planner to do.
    assert values["checkins planned"] > 0
    assert values["closing planned"] > 0
    for what in ("claim", "checkins", "nudges", "closing"):
        assert values[f"of {what}"] >= 3, f"the plans of {what} were not found"
    assert values["EXPLAINed statements"] == sum(
        values[f"of {what}"] for what in ("claim", "checkins", "nudges", "closing")
    )
    targets = re.findall(r"^  (met    |NOT met) (.+)$", out, re.M)
    labels = [label for _, label in targets]
    assert any(label.startswith("check-in pass commits within 10 s") for label in labels), out
    assert any(label.startswith("check-in pass RSS growth < 30 MB") for label in labels), out
    assert any(label.startswith("no Seq Scan on outbox or mentorships") for label in labels), out


async def test_a_batch_query_sends_its_ids_as_one_array_and_still_finds_them(db: Database) -> None:
    """What the benchmark's CPU column led to: on PostgreSQL a planner batch's ids travel
    as one array parameter (`= ANY`), not as an IN list bound id by id."""
    pairs = await many_pairs(
        db, 3, started_at=utcnow() - timedelta(days=40), first_telegram_id=91_000
    )
    wanted = [*pairs.mentorship_ids, *range(10_000, 10_500)]  # a batch's worth of ids
    sent: list[Any] = []

    def record(*args: Any) -> None:
        sent.append(args[3])  # the parameters of the statement

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.session() as session:
            found = await planning.members(session, mentorship_ids=wanted)
            latest = await planning.latest_periods(session, mentorship_ids=wanted)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert sorted({m.mentorship_id for m in found}) == sorted(pairs.mentorship_ids)
    assert len(found) == 6 and latest == {}
    assert [len(params) for params in sent] == [1, 1], "one array, not 503 values"
