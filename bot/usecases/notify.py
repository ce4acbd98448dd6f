"""Telling someone something through the outbox, in the same transaction as the change.

A message queued here is committed together with the fact it reports, so a
crash can neither lose it nor send it for a change that was rolled back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.models import User

Buttons = list[list[tuple[str, str]]]  # rows of (translation key, callback data)


def to_json(values: dict[str, Any]) -> dict[str, Any]:
    """Dates survive the JSON payload as tagged strings, so they are written out in the
    recipient's language when the message is sent (see `from_json`)."""
    return {
        name: {"date": value.isoformat()}
        if isinstance(value, date) and not isinstance(value, datetime)
        else value
        for name, value in values.items()
    }


def from_json(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: date.fromisoformat(value["date"])
        if isinstance(value, dict) and set(value) == {"date"}
        else value
        for name, value in values.items()
    }


async def tell(
    session: AsyncSession,
    *,
    recipient: User,
    key: str,
    dedupe: str,
    now: datetime,
    values: dict[str, Any] | None = None,
    buttons: Buttons | None = None,
    mentorship_id: int | None = None,
) -> None:
    """Queue a translated message; `dedupe` makes retries of the same action harmless."""
    assert recipient.id is not None
    payload: dict[str, Any] = {"key": key, "values": to_json(values or {})}
    if buttons:
        payload["buttons"] = [[{"key": k, "data": d} for k, d in row] for row in buttons]
    await outbox.enqueue(
        session,
        key=dedupe,
        recipient_id=recipient.id,
        kind="message",
        due_at=now,
        payload=payload,
        mentorship_id=mentorship_id,
    )


async def queue(
    session: AsyncSession,
    *,
    recipient: User,
    kind: str,
    dedupe: str,
    due_at: datetime,
    payload: dict[str, Any],
    mentorship_id: int | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Queue a message of a kind with its own renderer (see `bot.scheduler.register`)."""
    assert recipient.id is not None
    await outbox.enqueue(
        session,
        key=dedupe,
        recipient_id=recipient.id,
        kind=kind,
        due_at=due_at,
        payload=payload,
        mentorship_id=mentorship_id,
        expires_at=expires_at,
    )
