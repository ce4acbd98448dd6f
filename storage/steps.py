"""Where each person stands in each conversation flow (keyword-only, caller's session).

A row per (flow, person); the key is ConversationHandler's (chat id, user id)
written as JSON. Read once per update for one person, written only when a
step changed, in the update's own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import upsert_insert
from storage.models import ConversationState, User
from storage.types import utcnow

Key = tuple[int, ...]


def encode_key(key: Key) -> str:
    return json.dumps(list(key), separators=(",", ":"))


async def of(session: AsyncSession, *, key: Key) -> dict[str, object]:
    """Every flow this person is in, with its step."""
    rows = await session.exec(
        select(ConversationState.name, ConversationState.state).where(
            ConversationState.key == encode_key(key)
        )
    )
    return {name: json.loads(state) for name, state in rows}


# The statements of every update, built once with bound parameters: building a
# statement and its cache key per update costs more than SQLite running it.
_PERSON_AND_STEPS = (
    select(User, ConversationState.name, ConversationState.state)
    .outerjoin(ConversationState, col(ConversationState.key) == bindparam("key"))
    .where(col(User.telegram_id) == bindparam("telegram_id"))
)
_TABLE = ConversationState.metadata.tables[str(ConversationState.__tablename__)]


async def person_and_steps(
    session: AsyncSession, *, telegram_id: int, key: Key
) -> tuple[User | None, dict[str, object]]:
    """The person behind a Telegram id and their step in every flow, in one query."""
    rows = (
        await session.exec(
            _PERSON_AND_STEPS, params={"key": encode_key(key), "telegram_id": telegram_id}
        )
    ).all()
    if not rows:
        return None, {}
    steps = {name: json.loads(state) for _user, name, state in rows if name is not None}
    return rows[0][0], steps


async def save(session: AsyncSession, *, key: Key, changes: Mapping[str, object | None]) -> None:
    """Record new steps (None: the flow ended) in one statement per kind of change."""
    encoded = encode_key(key)
    ended = [name for name, state in changes.items() if state is None]
    moved = {name: state for name, state in changes.items() if state is not None}
    if ended:
        await session.exec(
            delete(ConversationState).where(
                col(ConversationState.key) == encoded, col(ConversationState.name).in_(ended)
            )
        )
    if moved:
        now = utcnow()
        rows = [
            {"name": name, "key": encoded, "state": json.dumps(state), "updated_at": now}
            for name, state in moved.items()
        ]
        # One row (the usual case) is one execute; more are one executemany.
        await session.exec(
            _upsert_statement(session.get_bind().dialect.name),
            params=rows[0] if len(rows) == 1 else rows,
        )


@cache
def _upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (name, key) DO UPDATE of a step, built once per dialect (a
    Core statement on the table: the rows come as parameters)."""
    statement = upsert_insert(dialect)(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["name", "key"],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )


async def all_of_flow(session: AsyncSession, *, name: str) -> dict[Key, object]:
    """Every person's step in one flow (for tests and maintenance, never per update)."""
    rows = await session.exec(
        select(ConversationState.key, ConversationState.state).where(ConversationState.name == name)
    )
    return {tuple(json.loads(key)): json.loads(state) for key, state in rows}
