"""One unit of work per update: one session, the person loaded once, one commit before the reply.

PTB hands every update to an update processor; ours opens a `Work` around it
and makes it the current one for the task that processes the update. Handlers
and use cases share its session, so the person, their mentorships and their
conversation steps are read once and written once. The work commits itself
right before the first request to Telegram that this update causes (see
`CommittingRequest`), so nothing is confirmed that is not stored, and again at
the end for whatever was written after the last reply. A `kill -9` therefore
loses no acknowledged answer.

Conversation steps are read from the database on every update (one query per
update, for this person only) instead of from a per-process dictionary, so a
restart, or another process, always sees where the person stands.

On PostgreSQL, where several workers share the database, each transaction of an
update starts by taking the person's advisory transaction lock and claiming the
update id in the same statement (`storage.updates.claim`): two updates of one
person never run at once on two workers, and an update Telegram delivers again
after its effects were committed is skipped. The claim rides along with the
update's first commit; an update that writes nothing rolls it back, so repeating
it is harmless anyway.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.telegram_http import AiohttpRequest
from bot.usecases import Refused
from storage import steps as stored_steps
from storage import updates as handled_updates
from storage.types import utcnow

if TYPE_CHECKING:
    from telegram.ext import Application

    from storage.db import Database

log = logging.getLogger("mentorbot.work")
T = TypeVar("T")
StepKey = tuple[
    int, int
]  # (chat id, user id): ConversationHandler's key with per_chat and per_user

_CURRENT: ContextVar[Work | None] = ContextVar("mentorbot_work", default=None)

# Session.info flags, set by the listeners below and by `storage.outbox.enqueue`.
WROTE = "wrote"
QUEUED = "queued"
# (person, update id, claimed at) once the update's first transaction claimed it: every
# later transaction of the update takes the lock (and the claim) again.
RECLAIM = "reclaim"


@event.listens_for(Session, "do_orm_execute")
def _note_orm_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    if _has_changes(session):
        session.info[WROTE] = True


@event.listens_for(Session, "after_begin")
def _lock_again(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    reclaim = session.info.get(RECLAIM)
    if reclaim is not None and not connection.in_nested_transaction():
        person, update_id, now = reclaim
        handled_updates.claim_again(connection, person=person, update_id=update_id, now=now)


def _has_changes(session: Session) -> bool:
    """Whether a flush would write anything (an attribute set to its own value does not)."""
    return bool(
        session.new
        or session.deleted
        or any(session.is_modified(obj, include_collections=False) for obj in session.dirty)
    )


def current() -> Work | None:
    """The unit of work of the update this task is processing, if any.

    Tasks started while an update is processed inherit the context variable;
    only the task that owns the work may use it (a kicked dispatcher run is
    another task and opens its own sessions).
    """
    work = _CURRENT.get()
    if work is None or work.closed or work.task is not asyncio.current_task():
        return None
    return work


class Work:
    """Everything one update reads and writes, committed as one transaction."""

    def __init__(self, database: Database, update: object, on_queued: Callable[[], None]) -> None:
        self.database = database
        self.update = update
        self.task = asyncio.current_task()
        self.closed = False
        self.failed = False
        self._on_queued = on_queued
        self._session: AsyncSession | None = None
        self._steps: dict[str, object] | None = None
        self._step_changes: dict[str, object | None] = {}
        self._queued = False
        self.person: Any = None  # storage.models.User once loaded (see conversations.common)
        # Whether `person` was looked up (None then means: not stored yet).
        self.person_loaded = False
        # Whether Telegram's view of the person (names, language) was applied this update.
        self.refreshed = False

    # -- the session ---------------------------------------------------------------------

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.database.new_session()
        return self._session

    def _wrote(self) -> bool:
        session = self._session
        if session is None:
            return False
        return bool(session.info.get(WROTE)) or _has_changes(session.sync_session)

    @property
    def pending(self) -> bool:
        """Whether anything is written but not yet committed."""
        return bool(self._step_changes) or self._wrote()

    async def act(self, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one use case in this work; a `Refused` leaves no trace of it.

        When nothing is written yet (the usual case), a refusal rolls the
        transaction back; otherwise the action runs in a savepoint so that what
        was already done in this update survives the refusal.
        """
        session = self.session
        if self._wrote():
            # Flushed first, so the savepoint opens inside the write transaction: on
            # SQLite a SAVEPOINT as a transaction's first statement starts a deferred
            # one whose later write can fail at once when another connection committed.
            await session.flush()
        if session.info.get(WROTE):
            async with session.begin_nested():
                return await action(session)
        try:
            return await action(session)
        except Refused:
            if self._wrote():
                await self._roll_back()
            raise

    async def _roll_back(self) -> None:
        """Undo the open transaction and reload what callers still hold (rollback expires it)."""
        session = self.session
        held = [obj for obj in session.identity_map.values() if obj not in session.new]
        await session.rollback()
        session.info.pop(WROTE, None)
        session.info.pop(QUEUED, None)
        for obj in held:
            try:
                await session.refresh(obj)
            except Exception:  # a row created in the rolled-back transaction: gone, not held
                session.expunge(obj)

    async def commit(self) -> None:
        """Write the changed steps and commit, if anything is pending."""
        if self.closed or self.failed or not self.pending:
            return
        session = self.session
        if self._step_changes:
            key = self.step_key
            assert key is not None
            await stored_steps.save(session, key=key, changes=self._step_changes)
            assert self._steps is not None
            self._step_changes.clear()
        self._queued = self._queued or bool(session.info.get(QUEUED))
        await session.commit()
        session.info.pop(WROTE, None)
        session.info.pop(QUEUED, None)

    async def abandon(self) -> None:
        """Roll back what is not committed yet; nothing more is written for this update."""
        self.failed = True
        self._step_changes.clear()
        if self._session is not None:
            await self._session.rollback()
            self._session.info.pop(WROTE, None)
            self._session.info.pop(QUEUED, None)

    async def close(self) -> None:
        """Commit what is left (or roll back after an error), then send what was queued."""
        if self.closed:
            return
        try:
            if self.failed:
                if self._session is not None:
                    await self._session.rollback()
            else:
                await self.commit()
        finally:
            self.closed = True
            if self._session is not None:
                await self._session.close()
        if self._queued:
            self._on_queued()

    # -- one person at a time, each update once ------------------------------------------

    async def claim(self) -> bool:
        """Wait for the person's lock and claim the update; False when it was handled before.

        PostgreSQL only: SQLite is one process, whose updates run one at a time.
        """
        update = self.update
        if (
            self.database.dialect != "postgresql"
            or not isinstance(update, Update)
            or update.effective_user is None
        ):
            return True
        person, now = update.effective_user.id, utcnow()
        session = self.session
        fresh = await handled_updates.claim(
            session, person=person, update_id=update.update_id, now=now
        )
        session.info[RECLAIM] = (person, update.update_id, now)
        return fresh

    # -- conversation steps ----------------------------------------------------------------

    @functools.cached_property
    def step_key(self) -> StepKey | None:
        # Asked by every flow for every update (`StoredSteps`), and the update is this work's.
        update = self.update
        if not isinstance(update, Update):
            return None
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return None
        return (chat.id, user.id)

    async def load_steps(self) -> None:
        """Read the person and their step in every flow (one query), once per update."""
        if self._steps is not None:
            return
        key = self.step_key
        update = self.update
        if key is None or not isinstance(update, Update) or update.effective_user is None:
            self._steps = {}
            return
        self.person, self._steps = await stored_steps.person_and_steps(
            self.session, telegram_id=update.effective_user.id, key=key
        )
        self.person_loaded = True

    def step(self, flow: str) -> object | None:
        assert self._steps is not None, "load_steps runs before the flows look"
        return self._steps.get(flow)

    def set_step(self, flow: str, state: object | None) -> None:
        assert self._steps is not None
        if self._steps.get(flow) == state:
            return
        if state is None:
            self._steps.pop(flow, None)
        else:
            self._steps[flow] = state
        self._step_changes[flow] = state


class StoredSteps(MutableMapping[StepKey, object]):
    """`ConversationHandler._conversations` backed by the current unit of work.

    PTB keeps conversation states in a dictionary filled once at start-up; this
    mapping answers for the person of the update being processed, from the
    database, so no process holds a stale copy.
    """

    def __init__(self, flow: str) -> None:
        self.flow = flow

    def _work(self, key: StepKey) -> Work | None:
        work = current()
        if work is None or work.step_key != key:
            return None
        return work

    def __getitem__(self, key: StepKey) -> object:
        state = self.get(key)
        if state is None:
            raise KeyError(key)
        return state

    # `get` and `in` answer without raising: PTB asks every flow about every update, and
    # most of them find the person in no step (Mapping's versions catch a KeyError each).
    def get(self, key: StepKey, default: object = None) -> object:
        work = self._work(key)
        state = work.step(self.flow) if work is not None else None
        return default if state is None else state

    def __contains__(self, key: object) -> bool:
        work = current()
        return work is not None and work.step_key == key and work.step(self.flow) is not None

    def __setitem__(self, key: StepKey, state: object) -> None:
        work = self._work(key)
        if work is not None:
            work.set_step(self.flow, state)

    def __delitem__(self, key: StepKey) -> None:
        work = self._work(key)
        if work is None or work.step(self.flow) is None:
            raise KeyError(key)
        work.set_step(self.flow, None)

    def __iter__(self) -> Iterator[StepKey]:
        work = current()
        key = work.step_key if work is not None else None
        if work is not None and key is not None and work.step(self.flow) is not None:
            yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


class UnitOfWorkProcessor(BaseUpdateProcessor):
    """Processes one update at a time, each inside its own `Work`."""

    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=1)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.database: Database | None = None
        self.on_queued: Callable[[], None] = lambda: None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        assert self.database is not None, "build_application binds the database"
        work = Work(self.database, update, self.on_queued)
        token = _CURRENT.set(work)
        try:
            if not await work.claim():
                coroutine.close()  # type: ignore[attr-defined]
                log.info("update %s was handled before; skipped", getattr(update, "update_id", "?"))
                return
            if work.step_key is not None:
                await work.load_steps()
            await coroutine
        except Exception:
            work.failed = True
            log.exception("update could not be processed")
        finally:
            _CURRENT.reset(token)
            try:
                await work.close()
            except Exception as error:
                # The reply (if any) went out only after an earlier commit; what
                # is lost here was never confirmed to anyone.
                log.error("closing the unit of work failed: %s", type(error).__name__)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def abandon() -> None:
    """The error handler calls this: the update's writes since its last reply are undone."""
    work = current()
    if work is not None:
        await work.abandon()


class CommittingRequest(AiohttpRequest):
    """Commits the current unit of work before anything leaves for Telegram.

    This is the one place that guarantees "stored before confirmed": every
    reply, edit and button answer of an update goes through it.
    """

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        work = current()
        if work is not None and work.pending:
            await work.commit()
        return await super().do_request(*args, **kwargs)
