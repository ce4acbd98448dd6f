"""Queries about goals, their versions and their progress (keyword-only, caller's session).

A goal's `current_version` is the last version sent (0 before the first); a
revision with a higher version is the draft its owner is writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import set_column
from storage.models import Goal, GoalProgress, GoalRevision

_FIELDS = ("specific", "measurable", "realistic", "target_date")
_CLOSED = ("achieved", "dropped")


@dataclass(frozen=True, slots=True)
class Draft:
    goal: Goal
    revision: GoalRevision


async def set_answer(
    session: AsyncSession, *, revision: GoalRevision, field: str, value: str | date
) -> None:
    """One answer of a draft, written at once as one UPDATE of its column."""
    assert field in _FIELDS
    await set_column(session, row=revision, field=field, value=value)


async def get(session: AsyncSession, *, goal_id: int) -> Goal | None:
    return await session.get(Goal, goal_id)


async def get_revision(session: AsyncSession, *, revision_id: int) -> GoalRevision | None:
    return await session.get(GoalRevision, revision_id)


async def revision(session: AsyncSession, *, goal_id: int, version: int) -> GoalRevision | None:
    rows = await session.exec(
        select(GoalRevision).where(GoalRevision.goal_id == goal_id, GoalRevision.version == version)
    )
    return rows.first()


async def revisions(session: AsyncSession, *, goal_id: int) -> list[GoalRevision]:
    rows = await session.exec(
        select(GoalRevision)
        .where(GoalRevision.goal_id == goal_id)
        .order_by(col(GoalRevision.version))
    )
    return list(rows)


async def of_mentorship(session: AsyncSession, *, mentorship_id: int) -> list[Goal]:
    rows = await session.exec(
        select(Goal).where(Goal.mentorship_id == mentorship_id).order_by(col(Goal.id))
    )
    return list(rows)


# Built once with bound parameters: every answer of the goal wizard looks up the draft,
# and building the statement (and its cache key) costs more than SQLite running it.
_OPEN_DRAFT = (
    select(Goal, GoalRevision)
    .join(GoalRevision, col(GoalRevision.goal_id) == col(Goal.id))
    .where(
        col(Goal.owner_id) == bindparam("owner_id"),
        col(Goal.mentorship_id) == bindparam("mentorship_id"),
        col(GoalRevision.version) > col(Goal.current_version),
        col(Goal.state).not_in(_CLOSED),
    )
    .order_by(col(GoalRevision.id).desc())
)


async def open_draft(session: AsyncSession, *, owner_id: int, mentorship_id: int) -> Draft | None:
    """The version `owner_id` is writing in this mentorship, newest first if several."""
    rows = await session.exec(
        _OPEN_DRAFT, params={"owner_id": owner_id, "mentorship_id": mentorship_id}
    )
    found = rows.first()
    return Draft(found[0], found[1]) if found else None


async def create(
    session: AsyncSession,
    *,
    mentorship_id: int,
    owner_id: int,
    kind: str,
    visibility: str,
    now: datetime,
) -> Draft:
    goal = Goal(
        mentorship_id=mentorship_id,
        owner_id=owner_id,
        kind=kind,
        visibility=visibility,
        created_at=now,
        updated_at=now,
    )
    session.add(goal)
    await session.flush()
    assert goal.id is not None
    first = GoalRevision(goal_id=goal.id, version=1, author_id=owner_id, created_at=now)
    session.add(first)
    await session.flush()
    return Draft(goal, first)


async def new_revision(
    session: AsyncSession,
    *,
    goal: Goal,
    author_id: int,
    based_on: GoalRevision | None,
    now: datetime,
) -> GoalRevision:
    assert goal.id is not None
    fresh = GoalRevision(
        goal_id=goal.id, version=goal.current_version + 1, author_id=author_id, created_at=now
    )
    if based_on is not None:
        for name in _FIELDS:
            setattr(fresh, name, getattr(based_on, name))
    session.add(fresh)
    await session.flush()
    return fresh


async def discard(session: AsyncSession, *, goal: Goal, revision: GoalRevision) -> None:
    """Remove an unsent version, and the goal too when nothing of it was ever sent."""
    assert goal.id is not None
    await session.delete(revision)
    await session.flush()
    if goal.current_version == 0:
        await session.exec(delete(GoalProgress).where(col(GoalProgress.goal_id) == goal.id))
        await session.delete(goal)
        await session.flush()


async def add_progress(
    session: AsyncSession, *, goal: Goal, percent: int, now: datetime, note: str | None = None
) -> GoalProgress:
    assert goal.id is not None
    row = GoalProgress(goal_id=goal.id, percent=percent, note=note, created_at=now)
    goal.progress_percent = percent
    goal.updated_at = now
    session.add(row)
    session.add(goal)
    await session.flush()
    return row


async def progress(session: AsyncSession, *, goal_id: int) -> list[GoalProgress]:
    rows = await session.exec(
        select(GoalProgress).where(GoalProgress.goal_id == goal_id).order_by(col(GoalProgress.id))
    )
    return list(rows)


async def latest_progress(session: AsyncSession, *, goal_id: int) -> GoalProgress | None:
    rows = await session.exec(
        select(GoalProgress)
        .where(GoalProgress.goal_id == goal_id)
        .order_by(col(GoalProgress.id).desc())
    )
    return rows.first()
