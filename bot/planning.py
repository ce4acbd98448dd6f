"""The planners: everything the bot schedules on its own, in one list.

A planner looks at the database as of `now` and plans what has fallen due by then:
it opens the month's check-ins, queues booking nudges, sends the closing prompt and
closes, reminds about and purges old texts, and asks about the chemistry. It returns
how much it changed, so the caller knows whether the dispatcher has something new to
send.

What every planner keeps to:
- it reads the time from `now` only, never from a clock of its own, and works only
  on the `db` it is given;
- running it twice plans nothing twice;
- it plans whatever is due by `now`, so whatever a pass as of some moment would
  plan, a pass as of any later moment plans as well (only later). A pass that plans
  nothing at a moment therefore plans nothing at any moment before it: the
  sandbox relies on that to skip quiet stretches of a jump.

Two callers share this list, so they can never disagree about what gets planned:
the bot runs each planner as an hourly job on PTB's JobQueue (`job`, registered in
`bot.app`), and the sandbox's time travel runs all of them at every moment it steps
through (`run_all`, used by `bot.sandbox.server`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext

from bot import scheduler, services
from bot.settings import Settings
from bot.usecases.checkins import plan_checkins
from bot.usecases.closing import plan_closing
from bot.usecases.meetings import plan_nudges
from bot.usecases.signals import plan_chemistry
from conversations.privacy import run_retention
from storage.db import Database

log = logging.getLogger("mentorbot.planning")

Planner = Callable[[Database, datetime], Awaitable[int]]
JobCallback = Callable[[CallbackContext[Any, Any, Any, Any]], Coroutine[Any, Any, None]]

# The job names the bot registers (and tests look jobs up by).
CHECKINS = "monthly-checkins"
NUDGES = "booking-nudges"
CLOSING = "closing"
RETENTION = "retention"
CHEMISTRY = "chemistry-checks"


async def _checkins(db: Database, now: datetime) -> int:
    async with db.session() as session:
        return await plan_checkins(session, now=now)


async def _nudges(db: Database, now: datetime) -> int:
    async with db.session() as session:
        return await plan_nudges(session, now=now)


async def _chemistry(db: Database, now: datetime) -> int:
    async with db.session() as session:
        return await plan_chemistry(session, now=now)


def planners(settings: Settings) -> dict[str, Planner]:
    """Every planner by job name, in the order a pass runs them."""

    async def closing(db: Database, now: datetime) -> int:
        async with db.session() as session:
            return await plan_closing(session, now=now, zone=settings.zone)

    async def retention(db: Database, now: datetime) -> int:
        reminded, purged = await run_retention(db, now=now, months=settings.retention_months)
        if purged:
            log.info("retention: texts of %d closed mentorship(s) erased", purged)
        return reminded + purged

    return {
        CHECKINS: _checkins,
        NUDGES: _nudges,
        CLOSING: closing,
        RETENTION: retention,
        CHEMISTRY: _chemistry,
    }


async def run_all(db: Database, settings: Settings, now: datetime) -> int:
    """One pass of every planner as of `now`; how much they changed in all."""
    changed = 0
    for plan in planners(settings).values():
        changed += await plan(db, now)
    return changed


def job(name: str) -> JobCallback:
    """The JobQueue callback that runs planner `name` on the bot's clock.

    The planner is looked up when the job runs, from the application's own settings.
    """
    if name not in (CHECKINS, NUDGES, CLOSING, RETENTION, CHEMISTRY):
        raise ValueError(f"no planner called {name!r}")

    async def run(context: CallbackContext[Any, Any, Any, Any]) -> None:
        svc = services.of(context)
        changed = await planners(svc.settings)[name](svc.db, svc.clock.now())
        if changed:
            scheduler.kick(context.application)

    run.__qualname__ = run.__name__ = f"planning_{name.replace('-', '_')}"
    return run
