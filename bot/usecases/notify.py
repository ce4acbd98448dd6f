"""Telling someone something through the outbox, in the same transaction as the change.

A message queued here is committed together with the fact it reports, so a
crash can neither lose it nor send it for a change that was rolled back.

A queued notice holds references, never texts: names, goal headlines and
quoted answers are kept as ids (`name_of`, `goal_headline`, `text_of`) and read
from their source when the message is sent (`bot.scheduler.render_message`), in
the recipient's language. The outbox therefore never holds a copy of what
people wrote, and a text erased or changed since is never sent in its old form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.models import (
    Contract,
    Goal,
    GoalRevision,
    MeetingEvaluation,
    Membership,
    MentorRequest,
    Programme,
    User,
)

Buttons = list[list[tuple[str, str]]]  # rows of (translation key, callback data)


@dataclass(frozen=True, slots=True)
class NameOf:
    """A person's name, as shown to others (`bot.usecases.pairing.display_name`)."""

    user_id: int


@dataclass(frozen=True, slots=True)
class GoalHeadline:
    """A goal named by the first step of one of its versions (`bot.usecases.goals.headline`)."""

    revision_id: int | None


@dataclass(frozen=True, slots=True)
class TextOf:
    """What someone wrote in one column of one row, cut to `limit` characters if given."""

    table: str
    row_id: int
    column: str
    limit: int | None = None


Reference = NameOf | GoalHeadline | TextOf

# What a notice may quote: the source of every quoted text is named here, so a
# reviewer sees at once which answers can reach a partner's chat.
QUOTABLE: dict[str, tuple[type[SQLModel], frozenset[str]]] = {
    # The intro reason and a close-out are quoted only when their author chose to share them.
    Membership.__tablename__: (Membership, frozenset({"intro_areas", "intro_private_reason"})),
    MeetingEvaluation.__tablename__: (MeetingEvaluation, frozenset({"useful", "next_steps"})),
    Contract.__tablename__: (Contract, frozenset({"change_request"})),
    GoalRevision.__tablename__: (GoalRevision, frozenset({"mentor_comment"})),
    Goal.__tablename__: (Goal, frozenset({"closed_reason"})),
    # A programme's name heads what is said in its name (the coordinator typed it).
    Programme.__tablename__: (Programme, frozenset({"name"})),
    # The adept's note to a mentor found in the directory (never the decline reason).
    MentorRequest.__tablename__: (MentorRequest, frozenset({"note"})),
}


def name_of(user: User) -> NameOf:
    assert user.id is not None
    return NameOf(user.id)


def goal_headline(revision: GoalRevision | None) -> GoalHeadline:
    return GoalHeadline(revision.id if revision is not None else None)


def text_of(
    model: type[SQLModel], row_id: int | None, column: str, *, limit: int | None = None
) -> TextOf:
    table = str(model.__tablename__)
    allowed = QUOTABLE.get(table)
    if allowed is None or allowed[0] is not model or column not in allowed[1]:
        raise ValueError(f"{table}.{column} is not in notify.QUOTABLE")
    assert row_id is not None
    return TextOf(table, row_id, column, limit)


def _tagged(name: str, value: Any) -> Any:
    if isinstance(value, NameOf):
        return {"user": value.user_id}
    if isinstance(value, GoalHeadline):
        return {"goal_revision": value.revision_id}
    if isinstance(value, TextOf):
        return {"quote": f"{value.table}.{value.column}", "id": value.row_id, "limit": value.limit}
    if isinstance(value, date) and not isinstance(value, datetime):
        return {"date": value.isoformat()}
    if value is None or isinstance(value, bool | int | float):
        return value
    # A string here would be a copy of a name or an answer kept in the outbox.
    raise TypeError(
        f"notice value {name!r} is a {type(value).__name__}: pass a reference "
        "(notify.name_of, notify.goal_headline, notify.text_of), a number or a date"
    )


def to_json(values: dict[str, Any]) -> dict[str, Any]:
    """References and dates survive the JSON payload as tagged ids and ISO dates, so they
    are read and written out in the recipient's language when the message is sent."""
    return {name: _tagged(name, value) for name, value in values.items()}


def from_json(values: dict[str, Any]) -> dict[str, Any]:
    """The values as queued: dates back as dates, references as `Reference` objects."""
    found: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict) and set(value) == {"date"}:
            found[name] = date.fromisoformat(value["date"])
        elif isinstance(value, dict) and set(value) == {"user"}:
            found[name] = NameOf(int(value["user"]))
        elif isinstance(value, dict) and set(value) == {"goal_revision"}:
            revision = value["goal_revision"]
            found[name] = GoalHeadline(None if revision is None else int(revision))
        elif isinstance(value, dict) and set(value) == {"quote", "id", "limit"}:
            table, column = str(value["quote"]).split(".", 1)
            limit = value["limit"]
            found[name] = TextOf(
                table, int(value["id"]), column, None if limit is None else int(limit)
            )
        else:
            found[name] = value
    return found


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
    meeting_id: int | None = None,
) -> None:
    """Queue a translated message; `dedupe` makes retries of the same action harmless.

    `values` hold references, numbers and dates only (see the module docstring).
    `meeting_id` names the meeting the message is about (see `queue`).
    """
    assert recipient.id is not None
    if recipient.erased_at is not None:
        return  # they erased their data (/deleteme): nothing reaches them any more
    await outbox.enqueue(
        session,
        key=dedupe,
        recipient_id=recipient.id,
        kind="message",
        due_at=now,
        payload=message_payload(key, values, buttons),
        mentorship_id=mentorship_id,
        meeting_id=meeting_id,
    )


def message_payload(
    key: str, values: dict[str, Any] | None = None, buttons: Buttons | None = None
) -> dict[str, Any]:
    """The payload of a "message" row (`tell`): a translation key, its values, buttons."""
    payload: dict[str, Any] = {"key": key, "values": to_json(values or {})}
    if buttons:
        payload["buttons"] = [[{"key": k, "data": d} for k, d in row] for row in buttons]
    return payload


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
    meeting_id: int | None = None,
    goal_id: int | None = None,
    checkin_id: int | None = None,
) -> None:
    """Queue a message of a kind with its own renderer (see `bot.scheduler.register`).

    The payload names what the message is about by id; its renderer reads the
    rest when it sends. `meeting_id`, `goal_id` and `checkin_id` name it once more
    in indexed columns, for the lookups and cancellations that concern one meeting,
    goal or check-in (`storage.outbox.cancel`).
    """
    assert recipient.id is not None
    if recipient.erased_at is not None:
        return  # they erased their data (/deleteme): nothing reaches them any more
    await outbox.enqueue(
        session,
        key=dedupe,
        recipient_id=recipient.id,
        kind=kind,
        due_at=due_at,
        payload=payload,
        mentorship_id=mentorship_id,
        expires_at=expires_at,
        meeting_id=meeting_id,
        goal_id=goal_id,
        checkin_id=checkin_id,
    )
