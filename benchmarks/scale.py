"""The scale benchmark: the bot's planners, dispatcher and start-up at 1,000 and 100,000 pairs.

    python -m benchmarks.scale [--pairs 1000,100000] [--database-url URL] [--startup-runs 2]

For each size it makes a fresh PostgreSQL database on the server at `--database-url`
(default: `DATABASE_URL`, else 127.0.0.1:5432 as postgres), brings it to the newest
schema with Alembic and fills it with COPY (asyncpg): N mentorships in the proportions
of a programme under way, with their people (some mentors have two mentees),
memberships, contracts, meetings past and ahead, check-ins, state transitions and the
outbox rows all of that leaves, mostly settled, some pending. Encrypted columns hold
real `enc1:` values, one ciphertext per column reused for every row (the associated
data is the column, so each opens where it lies). Then, on that database:

- EXPLAIN (FORMAT JSON) of every statement a planner pass and a dispatcher claim
  sends, with the parameters they sent, and any sequential scan on outbox or
  mentorships among them;
- one dispatcher tick with nothing due and one that claims 1,000 due rows in the
  dispatcher's batches (the database's part of a tick: what grows with the tables);
- one pass of the check-in, nudge and closing planners, each in a process of its own:
  wall time, time to its first commit, statements, and RSS growth (peak RSS over RSS
  before the pass);
- `mentorbot run`'s start-up (spawn to the first getUpdates at the emulator) and its
  idle RSS a second later.

It prints the numbers per size, the ratio of the largest size to the smallest, and the
targets of issue 11: the check-in pass commits within 10 s and grows RSS by < 30 MB at
the largest size, a tick and a pass cost within 1.5x (a pass per pair: a full pass
reads every pair, so it is compared per 1,000 pairs), and no sequential scan on outbox
or mentorships at the largest size (PostgreSQL rightly reads a table of a thousand rows
whole; the check is made where the tables are big). `--keep` leaves the databases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from bot.domain.contract import add_months
from bot.sandbox.emulator import BotAPIEmulator
from storage import crypto
from storage.crypto import KeyRing
from storage.db import Database, upgrade

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "42:scale-benchmark"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# The targets of issue 11.
COMMIT_WITHIN = 10.0  # seconds to the check-in pass's first commit, at the largest size
RSS_GROWTH = 30.0  # MB a check-in pass may add
RATIO = 1.5  # largest size over smallest: ticks, passes per pair
WATCHED = ("outbox", "mentorships")  # tables no planner or claim query may read whole

# One key for this process and every process it spawns: all read what the others wrote.
KEYRING_KEY = os.environ.get("SCALE_ENCRYPTION_KEY") or KeyRing.generate_key()
ZONES = ("Europe/Stockholm",) * 17 + ("Europe/London", "America/New_York", "Asia/Tokyo")


# -- the generator ---------------------------------------------------------------------------


class Rows:
    """Rows of one table, in the column order given, for one COPY."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table, self.columns = table, tuple(columns)
        self.records: list[tuple[Any, ...]] = []
        self.total = 0

    def add(self, **values: Any) -> None:
        self.records.append(tuple(values.get(c) for c in self.columns))

    async def flush(self, connection: asyncpg.Connection) -> None:
        if self.records:
            await connection.copy_records_to_table(
                self.table, records=self.records, columns=self.columns
            )
            self.total += len(self.records)
            self.records = []


@dataclass
class Counter:
    value: int = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def _secrets(keyring: KeyRing) -> Callable[[str, str], str]:
    """`enc1:` values, one per column (the associated data is `table.column`)."""
    cache: dict[str, str] = {}

    def secret(label: str, plain: str) -> str:
        if label not in cache:
            cache[label] = keyring.encrypt(plain, label)
        return cache[label]

    return secret


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


TABLES: dict[str, tuple[str, ...]] = {
    "users": _columns(
        "id telegram_id first_name language language_chosen timezone current_mentorship_id "
        "created_at updated_at"
    ),
    "mentorships": _columns(
        "id state mode created_by_id started_at planned_end ended_at end_reason created_at"
    ),
    "mentorship_transitions": _columns("id mentorship_id from_state to_state actor_id at"),
    "memberships": _columns(
        "id mentorship_id user_id role joined_at intro_decision intro_decided_at intro_areas "
        "confidentiality_agreed_at"
    ),
    "contracts": _columns(
        "id mentorship_id version aims mode duration_months cadence meeting_minutes "
        "time_budget_hours cancel_notice feedback_cadence rules drafted_by_id submitted_at "
        "adept_accepted_at mentor_accepted_at created_at"
    ),
    "closing_feedback": _columns(
        "id mentorship_id user_id goal_outcomes most_valuable rating shared submitted_at"
    ),
    # The id comes from its sequence: most outbox rows are made by `_MEETING_ROWS` and
    # `_CHECKIN_ROWS` on the server.
    "outbox": _columns(
        "idempotency_key recipient_id mentorship_id kind meeting_id checkin_id payload "
        "state due_at expires_at attempts claimed_at sent_at created_at"
    ),
}


@dataclass
class Generated:
    pairs: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)


def _state(i: int) -> str:
    """A programme under way: most pairs active, some closing or closed, a few starting."""
    slot = (i * 37) % 100  # spread, so that even a few pairs are of every kind
    if slot < 80:
        return "active"
    if slot < 85:
        return "closing"
    if slot < 95:
        return "closed"
    return "intro" if slot < 98 else "invited"


async def generate(url: str, pairs: int, *, now: datetime, keyring: KeyRing) -> Generated:
    """Fill the (migrated, empty) database at `url` with `pairs` mentorships."""
    started_clock = time.perf_counter()
    secret = _secrets(keyring)
    rows = {name: Rows(name, columns) for name, columns in TABLES.items()}
    ids = {name: Counter() for name in TABLES}
    mentors = max(1, math.ceil(pairs * 0.7))  # 30 % of the mentors have a second mentee
    day = timedelta(days=1)
    connection = await asyncpg.connect(_plain(url))
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        phases[name] = time.perf_counter() - mark
        mark = time.perf_counter()

    try:
        # The rows are consistent by construction: no foreign-key trigger per row.
        await connection.execute("SET session_replication_role = replica")
        # Indexes are built once at the end, faster than kept up row by row; those
        # behind constraints (keys, unique) stay, so the data is checked as it loads.
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = ANY($1::text[]) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)",
            [*TABLES, "meetings", "checkins"],
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        # The outbox's key and unique key too (nothing refers to an outbox row): its
        # millions of rows are checked once, when the constraints come back.
        constraints = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = 'outbox'::regclass AND contype IN ('p', 'u')"
        )
        for constraint in constraints:
            await connection.execute(
                f'ALTER TABLE outbox DROP CONSTRAINT "{constraint["conname"]}"'
            )
        for number in range(pairs + mentors):
            user_id = ids["users"].next()
            zone = ZONES[number % len(ZONES)]
            rows["users"].add(
                id=user_id,
                telegram_id=10_000_000 + user_id,
                first_name=secret("users.first_name", "Alex"),
                language="sv" if number % 5 else "en",
                language_chosen=number % 3 == 0,
                timezone=zone,
                created_at=now - 200 * day,
                updated_at=now - 200 * day,
            )
            if len(rows["users"].records) >= 20_000:
                await rows["users"].flush(connection)
        await rows["users"].flush(connection)
        for i in range(pairs):
            _pair(i, pairs, mentors, rows, ids, secret, now)
            if i % 2000 == 1999:
                for table in rows.values():
                    await table.flush(connection)
        for table in rows.values():
            await table.flush(connection)
        # What booking meetings and opening check-ins queued: made on the server from
        # the rows just loaded, millions of rows with no Python in the way.
        phase("rows")
        await connection.execute(_MEETINGS, now, secret("meetings.place", "Kaféet vid stationen"))
        await connection.execute(
            _CHECKINS,
            now,
            secret("checkins.works_well", "Vi hittar tid"),
            secret("checkins.could_improve", "Tydligare mål"),
        )
        phase("meetings and check-ins")
        await connection.execute(_MEETING_ROWS, now)
        await connection.execute(_CHECKIN_ROWS)
        await connection.execute(_NUDGE_ROWS, now)
        phase("outbox")
        for constraint in constraints:
            await connection.execute(
                f'ALTER TABLE outbox ADD CONSTRAINT "{constraint["conname"]}" '
                f"{constraint['definition']}"
            )
        for index in indexes:
            await connection.execute(index["indexdef"])
        phase("indexes")
        # The current mentorship of each person: the latest pair they are in.
        await connection.execute(
            "UPDATE users SET current_mentorship_id = m.mentorship_id FROM "
            "(SELECT user_id, max(mentorship_id) AS mentorship_id FROM memberships "
            "GROUP BY user_id) AS m WHERE m.user_id = users.id"
        )
        for name in (*TABLES, "meetings", "checkins"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            )
        await connection.execute("RESET session_replication_role")
        await connection.execute("VACUUM ANALYZE")
        phase("vacuum")
        seconds = time.perf_counter() - started_clock
        counts = {
            name: int(await connection.fetchval(f"SELECT count(*) FROM {name}"))
            for name in (*TABLES, "meetings", "checkins")
        }
    finally:
        await connection.close()
    return Generated(pairs, seconds, counts, phases)


# A meeting every four weeks from a week after the start while the pair is under way
# (every tenth cancelled), and for three active pairs in five one booked ahead, at least
# two days ahead so nothing of it falls due while the benchmark runs (one in three of
# those still proposed, waiting for the mentor).
_MEETINGS = """
INSERT INTO meetings (mentorship_id, kind, starts_at, duration_minutes, place, state,
                      booked_by_id, awaiting_id, ics_sequence, created_at, updated_at)
SELECT m.id, 'regular', s.starts_at, 60, $2,
       CASE WHEN s.n % 10 = 9 THEN 'cancelled' ELSE 'confirmed' END,
       m.created_by_id, NULL, 0, s.starts_at - interval '10 days', s.starts_at - interval '10 days'
FROM mentorships m
CROSS JOIN LATERAL (
    SELECT n, m.started_at + interval '7 days 2 hours' + n * interval '28 days' AS starts_at
    FROM generate_series(0, 20) AS n
) AS s
WHERE m.started_at IS NOT NULL AND s.starts_at < coalesce(m.ended_at, $1)
UNION ALL
SELECT m.id, 'regular',
       $1::timestamptz + (2 + (m.id - 1) % 17) * interval '1 day' + interval '3 hours', 60,
       $2, CASE WHEN (m.id - 1) % 3 = 0 THEN 'proposed' ELSE 'confirmed' END,
       m.created_by_id, CASE WHEN (m.id - 1) % 3 = 0 THEN p.user_id END, 0,
       $1::timestamptz, $1::timestamptz
FROM mentorships m JOIN memberships p ON p.mentorship_id = m.id AND p.role = 'mentor'
WHERE m.state = 'active' AND (m.id - 1) % 5 < 3
"""

# Every monthly check-in due by now (or the end) in each person's own zone, as
# `bot.domain.checkins.anniversary` reckons it, but the latest for one active pair in
# twenty: the pass opens those. All answered but one latest in three; half shared.
_CHECKINS = """
INSERT INTO checkins (mentorship_id, user_id, period, due_at, works_well, could_improve,
                      rating, note_to_partner, shared, note_shared, answered_at)
SELECT p.mentorship_id, p.user_id, c.n, c.due,
       CASE WHEN c.answered THEN $2 END, CASE WHEN c.answered THEN $3 END,
       CASE WHEN c.answered THEN 4 END, CASE WHEN c.answered THEN '' END,
       c.answered AND m.id % 2 = 1, false, CASE WHEN c.answered THEN c.due + interval '1 day' END
FROM mentorships m
JOIN memberships p ON p.mentorship_id = m.id
JOIN users u ON u.id = p.user_id
CROSS JOIN LATERAL (
    SELECT n, due, NOT (latest AND (m.id - 1) % 3 = 0) AS answered, latest
    FROM (
        SELECT n,
               ((m.started_at AT TIME ZONE u.timezone) + n * interval '1 month')
                   AT TIME ZONE u.timezone AS due,
               ((m.started_at AT TIME ZONE u.timezone) + (n + 1) * interval '1 month')
                   AT TIME ZONE u.timezone > coalesce(m.ended_at, $1) AS latest
        FROM generate_series(1, 12) AS n
    ) AS periods
) AS c
WHERE m.started_at IS NOT NULL AND c.due <= coalesce(m.ended_at, $1)
  AND NOT (m.state = 'active' AND (m.id - 1) % 20 = 0 AND c.latest)
"""

# Drifting pairs (one active pair in five) were nudged once about their latest meeting.
_NUDGE_ROWS = """
INSERT INTO outbox (idempotency_key, recipient_id, mentorship_id, kind, meeting_id, payload,
                    state, due_at, expires_at, attempts, sent_at, created_at)
SELECT 'nudge:' || m.id || ':' || last.id || ':1', m.created_by_id, m.id, 'book_nudge',
       last.id, '{}', 'sent', $1::timestamptz - interval '3 days',
       $1::timestamptz - interval '1 day', 1,
       $1::timestamptz - interval '3 days', $1::timestamptz - interval '3 days'
FROM mentorships m
JOIN (SELECT DISTINCT ON (mentorship_id) mentorship_id, id FROM meetings
      ORDER BY mentorship_id, starts_at DESC, id DESC) AS last ON last.mentorship_id = m.id
WHERE m.state = 'active' AND (m.id - 1) % 5 = 4
"""

# Each meeting's reminders (24 h and 1 h, both), the adept's agenda prompt, the mentor's
# preparation and both evaluations, as `bot.domain.meetings.planned_messages` keys them:
# pending if the meeting is ahead, cancelled with it, else sent (some evaluations expired).
_MEETING_ROWS = """
INSERT INTO outbox (idempotency_key, recipient_id, mentorship_id, kind, meeting_id, payload,
                    state, due_at, expires_at, attempts, sent_at, created_at)
SELECT 'meeting:' || m.id || ':' || to_char(m.starts_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI')
       || k.suffix || CASE WHEN k.personal THEN ':' || p.user_id ELSE '' END,
       p.user_id, m.mentorship_id, k.kind, m.id,
       CASE WHEN m.starts_at > $1 THEN json_build_object('meeting_id', m.id)
            ELSE '{}' END,
       CASE WHEN m.starts_at > $1 THEN 'pending'
            WHEN m.state = 'cancelled' THEN 'cancelled'
            WHEN k.kind = 'meeting_evaluation' AND m.mentorship_id % 7 = 0 THEN 'expired'
            ELSE 'sent' END,
       m.starts_at + k.shift, m.starts_at + k.shift + interval '2 days',
       CASE WHEN m.starts_at > $1 THEN 0 ELSE 1 END,
       CASE WHEN m.starts_at <= $1 AND m.state <> 'cancelled' THEN m.starts_at + k.shift END,
       m.created_at
FROM meetings m
JOIN memberships p ON p.mentorship_id = m.mentorship_id
JOIN (VALUES ('meeting_reminder', ':remind24h', NULL, true, interval '-24 hours'),
             ('meeting_reminder', ':remind1h', NULL, true, interval '-1 hour'),
             ('agenda_prompt', ':agenda', 'adept', false, interval '-48 hours'),
             ('mentor_prep', ':prep', 'mentor', false, interval '-24 hours'),
             ('meeting_evaluation', ':evaluate', NULL, true, interval '1 hour'))
     AS k (kind, suffix, role, personal, shift)
  ON k.role IS NULL OR k.role = p.role
WHERE m.state <> 'proposed'
"""

# Each check-in's prompt and reminder, sent; the reminder cancelled once it was answered.
_CHECKIN_ROWS = """
INSERT INTO outbox (idempotency_key, recipient_id, mentorship_id, kind, checkin_id, payload,
                    state, due_at, expires_at, attempts, sent_at, created_at)
SELECT 'checkin:' || c.mentorship_id || ':' || c.period || ':' || c.user_id || ':' || k.ending,
       c.user_id, c.mentorship_id, k.kind, c.id, '{}',
       CASE WHEN k.ending = 'reminder' AND c.answered_at IS NOT NULL THEN 'cancelled'
            ELSE 'sent' END,
       c.due_at + k.shift, c.due_at + k.shift + interval '2 days', 1,
       CASE WHEN k.ending = 'prompt' OR c.answered_at IS NULL THEN c.due_at + k.shift END,
       c.due_at
FROM checkins c
CROSS JOIN (VALUES ('checkin_prompt', 'prompt', interval '0'),
                   ('checkin_reminder', 'reminder', interval '3 days')) AS k (kind, ending, shift)
"""


def _pair(
    i: int,
    pairs: int,
    mentors: int,
    rows: dict[str, Rows],
    ids: dict[str, Counter],
    secret: Callable[[str, str], str],
    now: datetime,
) -> None:
    """One mentorship and everything it has left behind by `now`."""
    day = timedelta(days=1)
    mentorship_id = i + 1
    adept = i + 1
    mentor = pairs + 1 + (i % mentors)
    state = _state(i)
    # Started up to six months ago (active; some near their planned end), longer if ending.
    age = {"active": 5 + (i * 7919) % 180, "closing": 175 + i % 10, "closed": 200 + i % 60}
    started = now - age.get(state, 0) * day - timedelta(minutes=(i * 37) % 1440)
    created = started - 7 * day if state in age else now - (i % 10) * day
    planned_end = add_months(started.date(), 6) if state in age else None
    if state == "closing":
        planned_end = now.date() + 14 * day
    ended = started + 183 * day if state == "closed" else None
    rows["mentorships"].add(
        id=mentorship_id,
        state=state,
        mode="goal" if i % 3 else "situation",
        created_by_id=adept,
        started_at=started if state in age else None,
        planned_end=planned_end,
        ended_at=ended,
        end_reason="completed" if ended else None,
        created_at=created,
    )

    def transition(before: str, after: str, at: datetime) -> None:
        rows["mentorship_transitions"].add(
            id=ids["mentorship_transitions"].next(),
            mentorship_id=mentorship_id,
            from_state=before,
            to_state=after,
            actor_id=adept,
            at=at,
        )

    members = [(adept, "adept")] if state == "invited" else [(adept, "adept"), (mentor, "mentor")]
    for user, role in members:
        rows["memberships"].add(
            id=ids["memberships"].next(),
            mentorship_id=mentorship_id,
            user_id=user,
            role=role,
            joined_at=created,
            intro_decision="continue" if state in age else None,
            intro_decided_at=started if state in age else None,
            intro_areas=secret("memberships.intro_areas", "Ledarskap och feedback"),
            confidentiality_agreed_at=created,
        )
    if state == "invited":
        return
    transition("invited", "intro", created)
    if state == "intro":
        return
    transition("intro", "active", started)
    rows["contracts"].add(
        id=ids["contracts"].next(),
        mentorship_id=mentorship_id,
        version=1,
        aims=secret("contracts.aims", "Bli en trygg ledare för mitt team"),
        mode="goal",
        duration_months=6,
        cadence=("2w", "3w", "4w", "1m")[i % 4],
        meeting_minutes=60,
        time_budget_hours=3,
        cancel_notice="24h",
        feedback_cadence="1m",
        rules=secret("contracts.rules", "Vi håller tiden och säger till i god tid"),
        drafted_by_id=adept,
        submitted_at=started,
        adept_accepted_at=started,
        mentor_accepted_at=started,
        created_at=started,
    )
    if state == "closing":
        assert planned_end is not None
        # Mostly begun within the last two weeks; one in twenty is due to close now.
        since = now - ((15 if i % 20 == 0 else 1 + i % 13) * day)
        transition("active", "closing", since)
        _queue(
            rows,
            ids,
            f"closing:{mentorship_id}:prompt:{planned_end.isoformat()}",
            adept,
            mentorship_id,
            "closing_prompt",
            since - 14 * day,
            "sent",
        )
        if i % 4 == 0:
            rows["closing_feedback"].add(
                id=ids["closing_feedback"].next(),
                mentorship_id=mentorship_id,
                user_id=adept,
                goal_outcomes="{}",
                most_valuable=secret("closing_feedback.most_valuable", "Samtalen om mål"),
                rating=4,
                shared=True,
                submitted_at=since + day,
            )
    if state == "closed":
        assert ended is not None
        transition("active", "closing", ended - 14 * day)
        transition("closing", "closed", ended)
    near_end = planned_end is not None and planned_end <= now.date() + 28 * day
    # Told about closing already, but for one in twenty (the pass tells them now).
    if state == "active" and near_end and i % 20:
        assert planned_end is not None
        key = f"closing:{mentorship_id}:prompt:{planned_end.isoformat()}"
        _queue(rows, ids, key, adept, mentorship_id, "closing_prompt", now - day, "sent")


def _queue(
    rows: dict[str, Rows],
    ids: dict[str, Counter],
    key: str,
    recipient: int,
    mentorship_id: int,
    kind: str,
    due_at: datetime,
    state: str,
    *,
    meeting_id: int | None = None,
    checkin_id: int | None = None,
) -> None:
    # Positional, in TABLES["outbox"] order: this runs for a million rows and more.
    pending = state == "pending"
    rows["outbox"].records.append(
        (
            key,
            recipient,
            mentorship_id,
            kind,
            meeting_id,
            checkin_id,
            # Settled rows keep no payload; pending ones name what they are about.
            f'{{"meeting_id": {meeting_id}}}' if pending and meeting_id else "{}",
            state,
            due_at,
            None if kind == "closing_prompt" else due_at + _TWO_DAYS,
            0 if pending else 1,
            None,
            due_at if state == "sent" else None,
            due_at - _THREE_DAYS,
        )
    )


_TWO_DAYS, _THREE_DAYS = timedelta(days=2), timedelta(days=3)


# -- databases -------------------------------------------------------------------------------


def _plain(url: str) -> str:
    """The URL as libpq (and asyncpg) take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_database(server: str, name: str, *, keep: bool) -> AsyncIterator[str]:
    """A database made on `server` (dropped afterwards unless `keep`)."""
    admin = await asyncpg.connect(_plain(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- EXPLAIN ---------------------------------------------------------------------------------


class Statements:
    """Every distinct statement an engine sends, with the parameters it first sent."""

    def __init__(self, db: Database) -> None:
        self.seen: dict[str, Any] = {}
        self.count = 0
        self.first_commit: float | None = None
        self.active = True
        self._db = db
        sync = db.engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._commit)

    def _statement(
        self, _c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not self.active:
            return
        self.count += 1
        head = statement.lstrip().split(None, 1)[0].upper()
        if not many and head in {"SELECT", "UPDATE", "INSERT", "DELETE", "WITH"}:
            self.seen.setdefault(statement, params)

    def _commit(self, _c: Any) -> None:
        if self.first_commit is None:
            self.first_commit = time.perf_counter()

    def close(self) -> None:
        sync = self._db.engine.sync_engine
        event.remove(sync, "before_cursor_execute", self._statement)
        event.remove(sync, "commit", self._commit)


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(node type, relation, index) of every scan in a JSON plan."""
    node_type = str(plan.get("Node Type", ""))
    if "Scan" in node_type and "Relation Name" in plan:
        yield node_type, str(plan["Relation Name"]), str(plan.get("Index Name", ""))
    for child in plan.get("Plans", ()):
        yield from _scans(child)


async def explain(db: Database, statements: dict[str, Any]) -> list[dict[str, Any]]:
    """EXPLAIN (FORMAT JSON) of each statement with its parameters, nothing executed."""
    found = []
    async with db.engine.connect() as connection:
        for statement, params in statements.items():
            got = await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
            raw = got.scalar_one()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            found.append({"sql": " ".join(statement.split())[:160], "scans": list(_scans(plan))})
        await connection.rollback()
    return found


# -- one planner pass, in a process of its own -----------------------------------------------


def _rss_kb(field_name: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name}")


async def _pass_in_this_process(url: str, planner: str, now: datetime) -> dict[str, Any]:
    from bot.usecases.checkins import plan_checkins
    from bot.usecases.closing import plan_closing
    from bot.usecases.meetings import plan_nudges

    crypto.configure(KeyRing.from_strings(KEYRING_KEY))
    db = Database(url)
    try:
        async with db.session() as session:  # connected, so the pool is not what grows
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        traced = Statements(db)
        before = _rss_kb("VmRSS")
        cpu = time.process_time()
        started = time.perf_counter()
        async with db.session() as session:
            if planner == "checkins":
                changed = await plan_checkins(session, now=now)
            elif planner == "nudges":
                changed = await plan_nudges(session, now=now)
            else:
                changed = await plan_closing(session, now=now, zone=ZoneInfo("Europe/Stockholm"))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = _rss_kb("VmHWM")
        traced.close()
        plans = await explain(db, traced.seen)
    finally:
        await db.dispose()
    first = traced.first_commit - started if traced.first_commit is not None else None
    return {
        "planner": planner,
        "changed": changed,
        "seconds": seconds,
        "cpu": cpu,
        "first_commit": first,
        "statements": traced.count,
        "rss_growth_mb": max(0, peak - before) / 1024,
        "plans": plans,
    }


def run_pass(url: str, planner: str, now: datetime) -> dict[str, Any]:
    """One pass of `planner` as of `now` in a fresh Python process (so RSS is its own)."""
    env = _child_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "--one-pass",
            planner,
            "--url",
            url,
            "--now",
            now.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {planner} pass failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["SCALE_ENCRYPTION_KEY"] = KEYRING_KEY
    return env


# -- dispatcher ticks ------------------------------------------------------------------------


def claim_size() -> int:
    """How many rows one claim of the dispatcher takes at the default settings."""
    from bot import scheduler
    from bot.settings import Settings

    fields = Settings.model_fields
    rate = float(fields["outbox_rate"].default)
    concurrency = int(fields["outbox_concurrency"].default)
    stale = float(fields["outbox_stale_seconds"].default)
    ahead = min(scheduler.CLAIM_AHEAD, stale / 4)
    return max(1, min(100, max(concurrency, math.ceil(rate * ahead))))


async def tick(
    db: Database, *, now: datetime, due: int, runs: int = 5
) -> tuple[float, dict[str, Any]]:
    """Median ms of the claims that take `due` due rows in the dispatcher's batches
    (one empty claim when `due` is 0); the due rows are put back after each run."""
    from storage import outbox

    size = claim_size()
    traced = Statements(db)
    traced.active = False
    times = []
    for _ in range(runs):
        chosen: list[tuple[int, datetime]] = []
        if due:
            async with db.engine.begin() as connection:
                found = await connection.execute(
                    text(
                        "SELECT id, due_at FROM outbox WHERE state = 'pending' "
                        "ORDER BY due_at, id LIMIT :n"
                    ),
                    {"n": due},
                )
                chosen = [(row[0], row[1]) for row in found.all()]
                if len(chosen) < due:
                    raise RuntimeError(f"only {len(chosen)} pending rows to make due, not {due}")
                await connection.execute(
                    text("UPDATE outbox SET due_at = :at WHERE id = ANY(:ids)"),
                    {"at": now - timedelta(seconds=1), "ids": [c[0] for c in chosen]},
                )
        traced.active = True
        started = time.perf_counter()
        claimed = 0
        while True:
            async with db.session() as session:
                got = await outbox.claim_due(
                    session, now=now, limit=size, stale_after=timedelta(seconds=60)
                )
                await session.commit()
            claimed += len(got)
            if not got:
                break
        times.append((time.perf_counter() - started) * 1000)
        traced.active = False
        if claimed != len(chosen):
            raise RuntimeError(f"claimed {claimed} of {len(chosen)} due rows")
        if chosen:
            async with db.engine.begin() as connection:
                for row_id, due_at in chosen:
                    await connection.execute(
                        text(
                            "UPDATE outbox SET state = 'pending', due_at = :due, claimed_at = NULL,"
                            " attempts = 0 WHERE id = :id"
                        ),
                        {"due": due_at, "id": row_id},
                    )
    traced.close()
    return statistics.median(times), traced.seen


# -- start-up --------------------------------------------------------------------------------


async def startup(emulator: BotAPIEmulator, url: str, runs: int) -> tuple[float, float]:
    """Median seconds from spawning `mentorbot run` to its first getUpdates, and its RSS
    (MB) a second after that."""
    script = Path(sys.executable).with_name("mentorbot")
    command = [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot.cli", "run"]
    seconds, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = _child_env()
        env.update(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_URL=url,
            MENTORBOT_DATA_DIR=tmp,
            ENCRYPTION_KEY=KEYRING_KEY,
            LOG_LEVEL="WARNING",
        )
        log = Path(tmp) / "bot.log"
        for _ in range(runs):
            before = sum(1 for method, _ in emulator.calls if method == "getupdates")
            with log.open("wb") as sink:
                started = time.perf_counter()
                process = await asyncio.create_subprocess_exec(
                    *command, cwd=ROOT, env=env, stdout=sink, stderr=sink
                )
            try:
                while sum(1 for method, _ in emulator.calls if method == "getupdates") == before:
                    if process.returncode is not None or time.perf_counter() - started > 90:
                        raise RuntimeError(f"mentorbot did not start polling: {log.read_text()}")
                    await asyncio.sleep(0.002)
                seconds.append(time.perf_counter() - started)
                await asyncio.sleep(1.0)
                rss.append(_rss_kb("VmRSS", process.pid) / 1024)
            finally:
                if process.returncode is None:
                    process.terminate()
                    try:
                        await asyncio.wait_for(process.wait(), 20)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
    return statistics.median(seconds), statistics.median(rss)


# -- one size --------------------------------------------------------------------------------


PLANNERS = ("checkins", "nudges", "closing")


@dataclass
class Measured:
    pairs: int
    generated: Generated
    startup_s: float = math.nan
    idle_rss_mb: float = math.nan
    tick_idle_ms: float = 0.0
    tick_due_ms: float = 0.0
    passes: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)  # {"what", "sql", "scans"}

    def seq_scans(self) -> list[str]:
        return sorted(
            {
                f"{p['what']}: Seq Scan on {relation}: {p['sql'][:90]}"
                for p in self.plans
                for node, relation, _index in p["scans"]
                if node == "Seq Scan" and relation in WATCHED
            }
        )


async def measure_size(
    emulator: BotAPIEmulator,
    server: str,
    pairs: int,
    *,
    keep: bool,
    startup_runs: int,
    due_rows: int,
    ticks: int,
) -> Measured:
    keyring = KeyRing.from_strings(KEYRING_KEY)
    crypto.configure(keyring)
    now = datetime.now(UTC).replace(microsecond=0)
    name = f"mentorbot_scale_{pairs}_{os.getpid()}"
    async with fresh_database(server, name, keep=keep) as url:
        await asyncio.to_thread(upgrade, url, keyring=keyring)
        generated = await generate(url, pairs, now=now, keyring=keyring)
        measured = Measured(pairs, generated)
        db = Database(url)
        try:
            measured.tick_idle_ms, idle_sql = await tick(db, now=now, due=0, runs=ticks)
            measured.tick_due_ms, due_sql = await tick(db, now=now, due=due_rows, runs=ticks)
            for plan in await explain(db, {**idle_sql, **due_sql}):
                measured.plans.append({"what": "claim", **plan})
        finally:
            await db.dispose()
        if startup_runs:
            # Before the passes: what they plan is due at once, and a bot would send it.
            measured.startup_s, measured.idle_rss_mb = await startup(emulator, url, startup_runs)
        for planner in PLANNERS:
            result = await asyncio.to_thread(run_pass, url, planner, now)
            for plan in result.pop("plans"):
                measured.plans.append({"what": planner, **plan})
            measured.passes[planner] = result
    return measured


# -- the report ------------------------------------------------------------------------------


def _count(table: str) -> Callable[[Measured], float]:
    return lambda r: float(r.generated.counts.get(table, 0))


def _of_pass(planner: str, key: str, *, per_pair: bool = False) -> Callable[[Measured], float]:
    """A number of a planner's pass; per pair in ms per 1,000 pairs (seconds * 1e6 / pairs)."""

    def get(r: Measured) -> float:
        value = float(r.passes[planner][key] or 0.0)
        return value * 1_000_000 / r.pairs if per_pair else value

    return get


def _plans_of(what: str) -> Callable[[Measured], float]:
    return lambda r: float(sum(p["what"] == what for p in r.plans))


def _ratio(big: float, small: float) -> str:
    return f"{big / small:.2f}x" if small > 0 and not math.isnan(big) else "-"


def report(results: Sequence[Measured], due_rows: int) -> list[str]:
    out = ["scale benchmark, PostgreSQL; one pass of each planner, ticks are medians", ""]
    sizes = [f"{r.pairs:,} pairs" for r in results]
    ratio_head = (
        f"{results[-1].pairs // max(1, results[0].pairs)}x pairs" if len(results) > 1 else ""
    )
    out.append(
        f"{'measure':<40}" + "".join(f"{s:>16}" for s in sizes) + f"{'ratio ' + ratio_head:>20}"
    )
    small, big = results[0], results[-1]

    def line(
        label: str, value: Callable[[Measured], float], digits: int = 1, ratio: bool = True
    ) -> None:
        # NaN: not measured in this run (start-up with --startup-runs 0).
        cells = "".join(
            f"{'-':>16}" if math.isnan(value(r)) else f"{value(r):>16.{digits}f}" for r in results
        )
        shown = _ratio(value(big), value(small)) if ratio and len(results) > 1 else ""
        out.append(f"{label:<40}{cells}{shown:>20}")

    line("generate s", lambda r: r.generated.seconds, ratio=False)
    for table in ("users", "mentorships", "meetings", "checkins", "outbox"):
        line(f"  rows: {table}", _count(table), 0, False)
    line("start-up to first getUpdates s", lambda r: r.startup_s, 2)
    line("idle RSS MB", lambda r: r.idle_rss_mb)
    line("tick, nothing due ms", lambda r: r.tick_idle_ms, 2)
    line(f"tick, {due_rows:,} due (claims of {claim_size()}) ms", lambda r: r.tick_due_ms, 1)
    for planner in PLANNERS:
        line(f"{planner} pass s", _of_pass(planner, "seconds"), 2, False)
        line(f"{planner} pass ms per 1,000 pairs", _of_pass(planner, "seconds", per_pair=True), 1)
        line(f"{planner} pass CPU s (this process)", _of_pass(planner, "cpu"), 2, False)
        line(f"{planner} first commit s", _of_pass(planner, "first_commit"), 3, False)
        line(f"{planner} RSS growth MB", _of_pass(planner, "rss_growth_mb"), 1, False)
        line(f"{planner} statements", _of_pass(planner, "statements"), 0, False)
        line(f"{planner} planned", _of_pass(planner, "changed"), 0, False)
    line("EXPLAINed statements", lambda r: float(len(r.plans)), 0, False)
    for what in ("claim", *PLANNERS):
        line(f"  of {what}", _plans_of(what), 0, False)
    for r in results:
        for scan in r.seq_scans():
            out.append(f"  at {r.pairs:,} pairs: {scan}")
    others = sorted(
        {rel for p in big.plans for node, rel, _ in p["scans"] if node == "Seq Scan"} - set(WATCHED)
    )
    out.append(f"  other tables read whole at {big.pairs:,} pairs: {', '.join(others) or 'none'}")
    out.append("")
    checkins = big.passes["checkins"]
    first = checkins["first_commit"]
    targets = [
        (
            f"check-in pass commits within {COMMIT_WITHIN:g} s ({big.pairs:,} pairs)",
            first is not None and first <= COMMIT_WITHIN and checkins["seconds"] <= COMMIT_WITHIN,
            f"first commit {first or 0:.3f} s, whole pass {checkins['seconds']:.2f} s",
        ),
        (
            f"check-in pass RSS growth < {RSS_GROWTH:g} MB",
            checkins["rss_growth_mb"] < RSS_GROWTH,
            f"{checkins['rss_growth_mb']:.1f} MB",
        ),
    ]
    if len(results) > 1:
        for label, a, b in (
            ("tick, nothing due", big.tick_idle_ms, small.tick_idle_ms),
            (f"tick, {due_rows:,} due", big.tick_due_ms, small.tick_due_ms),
            *(
                (
                    f"{p} pass per pair",
                    big.passes[p]["seconds"] / big.pairs,
                    small.passes[p]["seconds"] / small.pairs,
                )
                for p in PLANNERS
            ),
        ):
            targets.append((f"{label} <= {RATIO:g}x", b > 0 and a / b <= RATIO, _ratio(a, b)))
    scans = big.seq_scans()
    targets.append(
        (
            f"no Seq Scan on {' or '.join(WATCHED)} ({big.pairs:,} pairs)",
            not scans,
            f"{len(scans)} found in {len(big.plans)} plans",
        )
    )
    out.append("targets:")
    for label, met, shown in targets:
        out.append(f"  {'met    ' if met else 'NOT met'} {label}: {shown}")
    return out


async def main(args: argparse.Namespace) -> list[str]:
    server = args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    if not server.startswith("postgres"):
        raise SystemExit("the scale benchmark runs on PostgreSQL: give --database-url")
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        results = [
            await measure_size(
                emulator,
                server,
                pairs,
                keep=args.keep,
                startup_runs=args.startup_runs,
                due_rows=args.due,
                ticks=args.ticks,
            )
            for pairs in sorted(args.pairs)
        ]
    finally:
        await emulator.stop()
    return report(results, args.due)


def _sizes(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=_sizes, default=[1000, 100_000])
    parser.add_argument("--database-url", help="the PostgreSQL server to make databases on")
    parser.add_argument("--due", type=int, default=1000, help="due rows for the busy tick")
    parser.add_argument("--startup-runs", type=int, default=2)
    parser.add_argument("--ticks", type=int, default=5, help="runs of each tick (the median)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument(
        "--quick", action="store_true", help="50 pairs, no start-up, 2 ticks of 100 due rows"
    )
    parser.add_argument("--one-pass", choices=PLANNERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.pairs, arguments.startup_runs, arguments.ticks = [50], 0, 2
        arguments.due = min(arguments.due, 100)
    if arguments.one_pass:
        moment = datetime.fromisoformat(arguments.now)
        print(
            json.dumps(
                asyncio.run(_pass_in_this_process(arguments.url, arguments.one_pass, moment))
            )
        )
    else:
        print("\n".join(asyncio.run(main(arguments))))
