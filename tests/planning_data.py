"""Thousands of mentorships written straight into storage, a statement per few hundred
rows, with the rows `tests/factories.active_pair` leaves for one pair: two people,
the mentorship, both memberships and an accepted contract. Plus the counting of
statements and commits the planner tests assert on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.contract import add_months
from storage.db import Database
from storage.models import (
    Contract,
    Meeting,
    Membership,
    Mentorship,
    MentorshipTransition,
    Notification,
    User,
)
from storage.types import utcnow

# Zones far apart, so a person's check-in falls due by their own clock.
ZONES = ("Europe/Stockholm", "America/New_York", "Asia/Tokyo", "Pacific/Auckland")


@dataclass(frozen=True)
class Generated:
    mentorship_ids: list[int]
    adept_ids: list[int]
    mentor_ids: list[int]


async def _returning(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], column: str = "id"
) -> list[tuple[int, Any]]:
    """Insert `rows` (one executemany); (id, `column`) of each, in no particular order."""
    if not rows:
        return []
    table = model.metadata.tables[model.__tablename__]
    result = await session.exec(insert(table).returning(table.c.id, table.c[column]), params=rows)
    return [(row[0], row[1]) for row in result.all()]


async def many_pairs(
    db: Database,
    count: int,
    *,
    started_at: datetime,
    first_telegram_id: int,
    state: str = "active",
    cadence: str = "3w",
    planned_end: date | None = None,
    zones: Sequence[str] = ("Europe/Stockholm",),
) -> Generated:
    """`count` pairs in `state`, started at `started_at`; people's zones cycle through `zones`."""
    async with db.session() as session:
        people = [
            {
                "telegram_id": first_telegram_id + i,
                "first_name": f"P{i}",
                "language": "sv" if i % 2 else "en",
                "timezone": zones[(i // 2) % len(zones)],
            }
            for i in range(2 * count)
        ]
        # RETURNING promises no order: people are paired up by their Telegram ids.
        by_telegram = {
            telegram: user
            for user, telegram in await _returning(session, User, people, "telegram_id")
        }
        adepts = [by_telegram[first_telegram_id + 2 * i] for i in range(count)]
        mentors = [by_telegram[first_telegram_id + 2 * i + 1] for i in range(count)]
        end = planned_end or add_months(started_at.date(), 6)
        created = await _returning(
            session,
            Mentorship,
            [
                {
                    "created_by_id": adept,
                    "state": state,
                    "mode": "goal",
                    "started_at": started_at,
                    "planned_end": end,
                }
                for adept in adepts
            ],
            "created_by_id",
        )
        of_adept = {adept: m for m, adept in created}
        mentorship_ids = [of_adept[adept] for adept in adepts]
        memberships = [
            {
                "mentorship_id": m,
                "user_id": user,
                "role": role,
                "intro_decision": "continue",
                "confidentiality_agreed_at": started_at,
            }
            for m, adept, mentor in zip(mentorship_ids, adepts, mentors, strict=True)
            for user, role in ((adept, "adept"), (mentor, "mentor"))
        ]
        await _returning(session, Membership, memberships)
        contracts = [
            {
                "mentorship_id": m,
                "mode": "goal",
                "duration_months": 6,
                "cadence": cadence,
                "meeting_minutes": 60,
                "drafted_by_id": adept,
                "submitted_at": started_at,
                "adept_accepted_at": started_at,
                "mentor_accepted_at": started_at,
            }
            for m, adept in zip(mentorship_ids, adepts, strict=True)
        ]
        await _returning(session, Contract, contracts)
        if state == "closing":
            await _returning(
                session,
                MentorshipTransition,
                [
                    {
                        "mentorship_id": m,
                        "from_state": "active",
                        "to_state": "closing",
                        "actor_id": adept,
                        "at": started_at,
                    }
                    for m, adept in zip(mentorship_ids, adepts, strict=True)
                ],
            )
    return Generated(mentorship_ids, adepts, mentors)


async def meetings(
    db: Database,
    pairs: Sequence[tuple[int, int]],
    *,
    starts_at: datetime,
    state: str = "confirmed",
) -> list[int]:
    """A meeting for each (mentorship, booked by) at `starts_at`; their ids in that order."""
    async with db.session() as session:
        created = await _returning(
            session,
            Meeting,
            [
                {
                    "mentorship_id": m,
                    "starts_at": starts_at,
                    "duration_minutes": 60,
                    "state": state,
                    "booked_by_id": booker,
                }
                for m, booker in pairs
            ],
            "mentorship_id",
        )
    of_pair = {m: meeting for meeting, m in created}
    return [of_pair[m] for m, _ in pairs]


async def outbox_rows(db: Database, rows: list[dict[str, Any]]) -> None:
    """Outbox rows as `storage.outbox.enqueue` leaves them (defaults filled in here)."""
    now = utcnow()
    filled = [
        {"state": "pending", "payload": {}, "attempts": 0, "due_at": now, **row} for row in rows
    ]
    async with db.session() as session:
        await _returning(session, Notification, filled)


@dataclass
class Counted:
    statements: int = 0
    commits: int = 0
    seen: list[tuple[str, Any]] = field(default_factory=list)


@contextmanager
def counting(db: Database, *, keep: str | None = None) -> Iterator[Counted]:
    """Count the statements sent and transactions committed on `db`'s engine, keeping
    the statements (with their parameters) that contain `keep`."""
    counted = Counted()
    engine = db.engine.sync_engine

    def on_statement(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        counted.statements += 1
        if keep is not None and keep in statement:
            counted.seen.append((statement, parameters))

    def on_commit(_conn: Any) -> None:
        counted.commits += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def days(n: float) -> timedelta:
    return timedelta(days=n)
