"""Migration 0012 on a database of the run's kind: outbox rows written before it get the
meeting, goal and check-in they are about, from their payload or their key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from storage.db import _alembic_config, create_engine, upgrade_async
from storage.types import UTCDateTime
from tests.conftest import TEST_KEYRING

AT = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)


def _table(name: str, **columns: Any) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, t) for c, t in columns.items()))


USERS = _table(
    "users",
    id=sa.Integer,
    telegram_id=sa.BigInteger,
    first_name=sa.Text,
    language=sa.String,
    language_chosen=sa.Boolean,
    timezone=sa.String,
    created_at=UTCDateTime,
    updated_at=UTCDateTime,
)
MENTORSHIPS = _table(
    "mentorships", id=sa.Integer, state=sa.String, created_by_id=sa.Integer, created_at=UTCDateTime
)
MEETINGS = _table(
    "meetings",
    id=sa.Integer,
    mentorship_id=sa.Integer,
    kind=sa.String,
    starts_at=UTCDateTime,
    duration_minutes=sa.Integer,
    state=sa.String,
    booked_by_id=sa.Integer,
    ics_sequence=sa.Integer,
    created_at=UTCDateTime,
    updated_at=UTCDateTime,
)
GOALS = _table(
    "goals",
    id=sa.Integer,
    mentorship_id=sa.Integer,
    owner_id=sa.Integer,
    kind=sa.String,
    state=sa.String,
    visibility=sa.String,
    current_version=sa.Integer,
    progress_percent=sa.Integer,
    created_at=UTCDateTime,
    updated_at=UTCDateTime,
)
REVISIONS = _table(
    "goal_revisions",
    id=sa.Integer,
    goal_id=sa.Integer,
    version=sa.Integer,
    author_id=sa.Integer,
    created_at=UTCDateTime,
)
CHECKINS = _table(
    "checkins",
    id=sa.Integer,
    mentorship_id=sa.Integer,
    user_id=sa.Integer,
    period=sa.Integer,
    due_at=UTCDateTime,
    shared=sa.Boolean,
    note_shared=sa.Boolean,
)
OUTBOX = _table(
    "outbox",
    id=sa.Integer,
    idempotency_key=sa.String,
    recipient_id=sa.Integer,
    mentorship_id=sa.Integer,
    kind=sa.String,
    payload=sa.JSON,
    state=sa.String,
    due_at=UTCDateTime,
    attempts=sa.Integer,
    created_at=UTCDateTime,
)

# key, kind, state, payload -> (meeting_id, goal_id, checkin_id) once migrated
ROWS: list[tuple[str, str, str, dict[str, Any], tuple[int | None, int | None, int | None]]] = [
    ("meeting:5:20310112T1000:remind24h:1", "meeting_reminder", "pending",
     {"meeting_id": 5, "starts_at": "2031-01-12T10:00:00+00:00"}, (5, None, None)),
    ("meeting:5:request:0:2031-01-10T09:00:00", "meeting_request", "sent", {}, (5, None, None)),
    ("agenda:77", "agenda_to_mentor", "pending", {"meeting_id": 5, "item_id": 77},
     (5, None, None)),
    ("nudge:1:5:2", "book_nudge", "sent", {}, (5, None, None)),
    ("nudge:1:start:1", "book_nudge", "sent", {}, (None, None, None)),
    ("nudge:1:5:stop:1", "message", "sent", {}, (5, None, None)),
    ("goal:9:v1:review", "goal_review", "pending", {"revision_id": 11}, (None, 9, None)),
    ("goal:9:v1:deadline", "goal_deadline", "sent", {}, (None, 9, None)),
    ("checkin:1:2:1:prompt", "checkin_prompt", "pending", {"checkin_id": 3}, (None, None, 3)),
    ("checkin:1:2:1:reminder", "checkin_reminder", "cancelled", {}, (None, None, 3)),
    ("checkin:1:3", "message", "sent", {}, (None, None, None)),
    ("checkin:1:9:1:prompt", "checkin_prompt", "sent", {}, (None, None, None)),
    ("closing:1:prompt:2031-07-01", "closing_prompt", "pending", {"mentorship_id": 1},
     (None, None, None)),
]  # fmt: skip


async def test_the_refs_migration_fills_meeting_goal_and_checkin_ids_from_payloads_and_keys(
    scratch_database_url: str,
) -> None:
    url = scratch_database_url
    # The two heads before it, then rows as the bot wrote them then.
    await upgrade_async(url, "0010", keyring=TEST_KEYRING)
    await upgrade_async(url, "0011", keyring=TEST_KEYRING)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            stamps = {"created_at": AT, "updated_at": AT}
            await conn.execute(
                USERS.insert(),
                [
                    {"id": i, "telegram_id": 700 + i, "first_name": "x", "language": "sv",
                     "language_chosen": False, "timezone": "Europe/Stockholm", **stamps}
                    for i in (1, 2)
                ],
            )  # fmt: skip
            await conn.execute(
                MENTORSHIPS.insert().values(id=1, state="active", created_by_id=1, created_at=AT)
            )
            await conn.execute(
                MEETINGS.insert().values(
                    id=5, mentorship_id=1, kind="regular", starts_at=AT, duration_minutes=60,
                    state="confirmed", booked_by_id=1, ics_sequence=1, **stamps,
                )
            )  # fmt: skip
            await conn.execute(
                GOALS.insert().values(
                    id=9, mentorship_id=1, owner_id=1, kind="adept", state="proposed",
                    visibility="shared", current_version=1, progress_percent=0, **stamps,
                )
            )  # fmt: skip
            await conn.execute(
                REVISIONS.insert().values(id=11, goal_id=9, version=1, author_id=1, created_at=AT)
            )
            await conn.execute(
                CHECKINS.insert().values(
                    id=3, mentorship_id=1, user_id=1, period=2, due_at=AT, shared=False,
                    note_shared=False,
                )
            )  # fmt: skip
            await conn.execute(
                OUTBOX.insert(),
                [
                    {"idempotency_key": key, "recipient_id": 1, "mentorship_id": 1, "kind": kind,
                     "payload": payload, "state": state, "due_at": AT, "attempts": 0,
                     "created_at": AT}
                    for key, kind, state, payload, _ in ROWS
                ],
            )  # fmt: skip

        await upgrade_async(url, keyring=TEST_KEYRING)
        wanted = {key: refs for key, _, _, _, refs in ROWS}
        assert await _refs(engine) == wanted

        # Down and up again: the columns go, and come back filled.
        config = _alembic_config(url, TEST_KEYRING)
        await _in_thread(command.downgrade, config, "0010")  # what descends from it: 0012
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("outbox")}
            )
            versions = set(
                (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars()
            )
        assert versions == {"0010", "0011"}
        assert not columns & {"meeting_id", "goal_id", "checkin_id"}
        await upgrade_async(url, keyring=TEST_KEYRING)
        assert await _refs(engine) == wanted
    finally:
        await engine.dispose()


async def _refs(engine: Any) -> dict[str, tuple[int | None, int | None, int | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT idempotency_key, meeting_id, goal_id, checkin_id FROM outbox")
        )
        return {key: (m, g, c) for key, m, g, c in rows.all()}


async def _in_thread(function: Any, *args: Any) -> None:
    import asyncio

    await asyncio.to_thread(function, *args)
