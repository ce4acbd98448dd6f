"""Pieces the benchmarks share: the bare PTB echo bot, starting and stopping an
Application against the emulator, and active pairs written straight into storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.domain.contract import add_months
from bot.sandbox.emulator import BotAPIEmulator
from storage import users
from storage.db import Database
from storage.models import Contract, Membership, Mentorship, MentorshipState

TOKEN = "42:benchmark"
AnyApp = Application[Any, Any, Any, Any, Any, Any]


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


def echo_app(emulator: BotAPIEmulator) -> AnyApp:
    """The yardstick: PTB's defaults and one handler that answers every message."""
    app = Application.builder().token(TOKEN).base_url(emulator.base_url).build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


async def start(app: AnyApp) -> None:
    """What `run_polling` does, without taking over the event loop."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)


async def stop(app: AnyApp) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


@dataclass(frozen=True)
class SeededPair:
    mentorship_id: int
    adept_id: int  # storage ids, not Telegram ids
    mentor_id: int


async def seed_pairs(
    db: Database, telegram_ids: Sequence[tuple[int, int]], *, now: datetime, language: str = "sv"
) -> list[SeededPair]:
    """Active mentorships with an accepted contract, as the pairing and contract flows
    leave them (the same rows tests/factories.py writes), one per (adept, mentor)."""
    seeded = []
    for adept_tg, mentor_tg in telegram_ids:
        async with db.session() as session:
            people = [
                await users.upsert_from_telegram(
                    session,
                    telegram_id=tg,
                    first_name=name,
                    last_name=None,
                    username=None,
                    language=language,
                    timezone="Europe/Stockholm",
                )
                for tg, name in ((adept_tg, f"Adept{adept_tg}"), (mentor_tg, f"Mentor{mentor_tg}"))
            ]
            adept, mentor = people
            assert adept.id is not None and mentor.id is not None
            # Started well over a month ago, so a monthly check-in is due.
            mentorship = Mentorship(
                created_by_id=adept.id,
                state=MentorshipState.ACTIVE,
                mode="goal",
                started_at=now - timedelta(days=40),
                planned_end=add_months(now.date(), 6),
            )
            session.add(mentorship)
            await session.flush()
            assert mentorship.id is not None
            for user, role in ((adept, "adept"), (mentor, "mentor")):
                assert user.id is not None
                session.add(
                    Membership(
                        mentorship_id=mentorship.id,
                        user_id=user.id,
                        role=role,
                        intro_decision="continue",
                        confidentiality_agreed_at=now,
                    )
                )
                user.current_mentorship_id = mentorship.id
                session.add(user)
            session.add(
                Contract(
                    mentorship_id=mentorship.id,
                    aims="Bli en trygg ledare för mitt team",
                    mode="goal",
                    duration_months=6,
                    cadence="3w",
                    meeting_minutes=60,
                    time_budget_hours=3,
                    cancel_notice="24h",
                    feedback_cadence="1m",
                    drafted_by_id=adept.id,
                    submitted_at=now,
                    adept_accepted_at=now,
                    mentor_accepted_at=now,
                )
            )
            seeded.append(SeededPair(mentorship.id, adept.id, mentor.id))
    return seeded
