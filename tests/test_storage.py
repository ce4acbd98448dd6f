"""Storage against the real database selected for the run (SQLite file or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import steps, users
from storage.db import MIGRATIONS_DIR, Database, _alembic_config
from storage.models import Mentorship, Notification, User


async def test_schema_is_at_the_newest_migration(db: Database) -> None:
    heads = set(ScriptDirectory.from_config(_alembic_config(db.url)).get_heads())
    async with db.engine.connect() as conn:
        current = set(
            (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
        )
    assert current == heads
    assert MIGRATIONS_DIR.joinpath("versions").is_dir()


async def test_users_are_created_once_and_follow_telegram_until_they_choose(db: Database) -> None:
    async with db.session() as session:
        first = await users.upsert_from_telegram(
            session,
            telegram_id=7_000_000_001,
            first_name="Åsa",
            last_name=None,
            username=None,
            language="sv",
            timezone="Europe/Stockholm",
        )
    async with db.session() as session:
        again = await users.upsert_from_telegram(
            session,
            telegram_id=7_000_000_001,
            first_name="Åsa",
            last_name="Ek",
            username="asa",
            language="en",
            timezone="Europe/Stockholm",
        )
        assert again.id == first.id and again.language == "en" and again.last_name == "Ek"
        await users.set_language(session, user=again, language="sv")
    async with db.session() as session:
        chosen = await users.upsert_from_telegram(
            session,
            telegram_id=7_000_000_001,
            first_name="Åsa",
            last_name="Ek",
            username="asa",
            language="en",
            timezone="Europe/Stockholm",
        )
        assert chosen.language == "sv", "an explicit choice wins over the app language"


async def test_times_come_back_as_aware_utc(db: Database) -> None:
    moment = datetime(2027, 3, 15, 14, 30, tzinfo=UTC) + timedelta(microseconds=0)
    async with db.session() as session:
        user = User(telegram_id=5, first_name="Bo")
        session.add(user)
        await session.flush()
        mentorship = Mentorship(created_by_id=user.id or 0, started_at=moment)
        session.add(mentorship)
        await session.flush()
        mentorship_id = mentorship.id
    async with db.session() as session:
        loaded = await session.get(Mentorship, mentorship_id)
        assert loaded is not None and loaded.started_at == moment
        assert loaded.started_at.tzinfo is not None


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with db.session() as session:
            session.add(User(telegram_id=6, first_name="Naiv", blocked_at=datetime(2027, 1, 1)))
            await session.flush()


async def test_outbox_idempotency_key_is_unique(db: Database) -> None:
    async with db.session() as session:
        user = User(telegram_id=8, first_name="Ida")
        session.add(user)
        await session.flush()
        user_id = user.id or 0
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add(
            Notification(idempotency_key="m1:24h", recipient_id=user_id, kind="r", due_at=now)
        )
    with pytest.raises(Exception):  # noqa: B017 (driver-specific IntegrityError)
        async with db.session() as session:
            session.add(
                Notification(idempotency_key="m1:24h", recipient_id=user_id, kind="r", due_at=now)
            )


async def test_conversation_states_survive_a_new_process(db: Database) -> None:
    async with db.session() as session:
        await steps.save(session, key=(42, 42), changes={"settings": "timezone"})
        await steps.save(session, key=(43, 43), changes={"settings": "language"})
    async with db.session() as session:
        await steps.save(session, key=(43, 43), changes={"settings": None, "goals": "note"})
    fresh = Database(db.url)
    async with fresh.session() as session:
        assert await steps.all_of_flow(session, name="settings") == {(42, 42): "timezone"}
        assert await steps.of(session, key=(43, 43)) == {"goals": "note"}
    await fresh.dispose()


async def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    """Alembic owns the schema: a model change without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        return [
            diff
            for diff in compare_metadata(context, SQLModel.metadata)
            # SQLite cannot name foreign keys after the fact; names are not schema.
            if not (isinstance(diff, tuple) and diff[0] in ("add_fk", "remove_fk"))
        ]

    async with db.engine.connect() as conn:
        found = await conn.run_sync(differences)
    assert found == []
