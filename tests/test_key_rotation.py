"""Key rotation and the migration that encrypts an existing database in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.cli import main
from storage import crypto, rotation
from storage.db import Database, _alembic_config, upgrade, upgrade_async
from storage.models import CheckIn, DiaryEntry, Membership, User
from tests.conftest import TEST_KEYRING
from tests.test_encryption import raw_secrets, value_for, write_everything

KEY_A = crypto.KeyRing.generate_key()
KEY_B = crypto.KeyRing.generate_key()
RING_A = crypto.KeyRing.from_strings(KEY_A)
RING_B = crypto.KeyRing.from_strings(KEY_B)
RING_B_READS_A = crypto.KeyRing.from_strings(KEY_B, [KEY_A])


MODELS = {m.__tablename__: m for m in SQLModel.__subclasses__() if hasattr(m, "__table__")}


async def everything_as_read(url: str, ring: crypto.KeyRing) -> dict[str, list[str | None]]:
    """Each encrypted column's values as the bot reads them with `ring`."""
    crypto.configure(ring)
    database = Database(url)
    read: dict[str, list[str | None]] = {}
    try:
        async with database.session() as session:
            for table in rotation.encrypted_tables():
                for row in await session.exec(select(MODELS[table.name]).order_by("id")):
                    for name, label in table.labels.items():
                        read.setdefault(label, []).append(getattr(row, name))
    finally:
        await database.dispose()
    return read


async def key_ids(url: str) -> set[str]:
    """The key ids of every stored encrypted value, in hex."""
    database = Database(url)
    try:
        stored = await raw_secrets(database)
    finally:
        await database.dispose()
    return {
        crypto._b64decode(value[len(crypto.PREFIX) :])[: crypto.KEY_ID_BYTES].hex()
        for values in stored.values()
        for value in values
        if value is not None
    }


async def fill(url: str, ring: crypto.KeyRing, marker: str, *, copies: int = 1) -> None:
    crypto.configure(ring)
    await upgrade_async(url, keyring=ring)
    database = Database(url)
    try:
        for copy in range(copies):
            await write_everything(database, marker, telegram_id=78_000_000 + 10 * copy)
    finally:
        await database.dispose()


@pytest.fixture
def keys_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scratch_database_url: str
) -> pytest.MonkeyPatch:
    """What `mentorbot keys rotate` reads, pointed at the scratch database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", scratch_database_url)
    monkeypatch.setenv("MENTORBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return monkeypatch


def test_old_rows_stay_readable_and_keys_rotate_moves_every_row_to_the_new_key(
    scratch_database_url: str, keys_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = scratch_database_url
    asyncio.run(fill(url, RING_A, "ROTATE"))
    written = asyncio.run(everything_as_read(url, RING_A))
    assert asyncio.run(key_ids(url)) == {RING_A.current_id.hex()}

    # The new key is current, the old one only reads: nothing has moved yet, all reads.
    assert asyncio.run(everything_as_read(url, RING_B_READS_A)) == written

    keys_env.setenv("ENCRYPTION_KEY", KEY_B)
    keys_env.setenv("ENCRYPTION_OLD_KEYS", KEY_A)
    assert main(["keys", "rotate", "--batch-size", "2"]) == 0
    err = capsys.readouterr().err
    assert "keys rotate  [" in err and "100%" in err
    assert "old keys may now be removed" in err

    assert asyncio.run(key_ids(url)) == {RING_B.current_id.hex()}
    # The old key is no longer needed, and no longer enough.
    assert asyncio.run(everything_as_read(url, RING_B)) == written
    with pytest.raises(rotation.KeysDoNotOpen):
        asyncio.run(rotation.check_keys(url, RING_A))
    assert value_for("ROTATE", "diary_entries.text") in written["diary_entries.text"]


class Crash(Exception):
    pass


def test_a_rotation_that_crashed_midway_is_finished_by_running_it_again(
    scratch_database_url: str, keys_env: pytest.MonkeyPatch
) -> None:
    url = scratch_database_url
    asyncio.run(fill(url, RING_A, "CRASH", copies=4))
    written = asyncio.run(everything_as_read(url, RING_A))
    batches = 0

    def crash_after_three_batches(progress: rotation.Progress) -> None:
        nonlocal batches
        if progress.done:
            batches += 1
        if batches == 3:
            raise Crash

    with pytest.raises(Crash):
        asyncio.run(
            rotation.rotate(url, RING_B_READS_A, batch_size=2, progress=crash_after_three_batches)
        )
    # What was committed before the crash is under the new key; everything still reads.
    assert asyncio.run(key_ids(url)) == {RING_A.current_id.hex(), RING_B.current_id.hex()}
    assert asyncio.run(everything_as_read(url, RING_B_READS_A)) == written

    again = asyncio.run(rotation.rotate(url, RING_B_READS_A, batch_size=2))
    assert again.already_current > 0 and again.rotated > 0
    assert asyncio.run(key_ids(url)) == {RING_B.current_id.hex()}
    assert asyncio.run(everything_as_read(url, RING_B)) == written

    # A third run (the CLI this time) finds nothing left to do.
    keys_env.setenv("ENCRYPTION_KEY", KEY_B)
    assert main(["keys", "rotate"]) == 0
    final = asyncio.run(rotation.rotate(url, RING_B))
    assert final.rotated == 0 and not final.unreadable


def test_rotation_leaves_a_value_no_key_opens_as_it_was(scratch_database_url: str) -> None:
    url = scratch_database_url
    asyncio.run(fill(url, RING_A, "DAMAGED"))

    async def damage() -> None:
        database = Database(url)
        async with database.engine.begin() as conn:
            # Well-formed, but under a key id nobody has.
            junk = crypto.PREFIX + "A" * 52
            await conn.execute(text("UPDATE diary_entries SET text = :junk"), {"junk": junk})
        await database.dispose()

    asyncio.run(damage())
    report = asyncio.run(rotation.rotate(url, RING_B_READS_A))
    assert report.unreadable == {"diary_entries.text": 1}
    read = asyncio.run(everything_as_read(url, RING_B))
    assert read["diary_entries.text"] == [crypto.UNREADABLE]
    assert read["goal_progress.note"] == [value_for("DAMAGED", "goal_progress.note")]


def test_the_migration_encrypts_an_existing_database_in_place(scratch_database_url: str) -> None:
    url = scratch_database_url
    upgrade(url, "0008")

    async def plaintext_rows() -> None:
        database = Database(url)
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, telegram_id, first_name, last_name, username, language,"
                    " language_chosen, timezone, created_at, updated_at) VALUES"
                    " (1, 501, 'Plain Anna', NULL, 'plainanna', 'sv', false, 'Europe/Stockholm',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                    " (2, 502, 'Plain Bertil', 'Berg', NULL, 'sv', false, 'Europe/Stockholm',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO mentorships (id, state, created_by_id, created_at)"
                    " VALUES (1, 'active', 1, CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO memberships (id, mentorship_id, user_id, role, joined_at,"
                    " intro_areas) VALUES (1, 1, 1, 'adept', CURRENT_TIMESTAMP, 'Plain areas'),"
                    " (2, 1, 2, 'mentor', CURRENT_TIMESTAMP, NULL)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO diary_entries (id, author_id, mentorship_id, visibility, text,"
                    " created_at) VALUES (1, 1, 1, 'private', 'Plain diary', CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO checkins (id, mentorship_id, user_id, period, due_at, shared,"
                    " note_shared, note_to_partner) VALUES"
                    " (1, 1, 1, 1, CURRENT_TIMESTAMP, false, false, ''),"
                    " (2, 1, 2, 1, CURRENT_TIMESTAMP, false, false, NULL)"
                )
            )
        await database.dispose()

    asyncio.run(plaintext_rows())
    upgrade(url, keyring=TEST_KEYRING)

    async def check() -> None:
        database = Database(url)
        stored = await raw_secrets(database)
        assert stored["users.first_name"] and all(
            v.startswith(crypto.PREFIX) for v in stored["users.first_name"] if v
        )
        flat = [v for values in stored.values() for v in values if v is not None]
        assert flat and all(v.startswith(crypto.PREFIX) for v in flat)
        assert not [v for v in flat if "Plain" in v or "plainanna" in v]
        crypto.configure(TEST_KEYRING)
        async with database.session() as session:
            users = list(await session.exec(select(User).order_by("id")))
            assert [(u.first_name, u.last_name, u.username) for u in users] == [
                ("Plain Anna", None, "plainanna"),
                ("Plain Bertil", "Berg", None),
            ]
            areas = [m.intro_areas for m in await session.exec(select(Membership).order_by("id"))]
            assert areas == ["Plain areas", None]
            assert (await session.exec(select(DiaryEntry))).one().text == "Plain diary"
            notes = [c.note_to_partner for c in await session.exec(select(CheckIn).order_by("id"))]
            assert notes == ["", None]
        await database.dispose()

    asyncio.run(check())


def test_downgrading_the_encryption_migration_gives_the_plain_texts_back(
    scratch_database_url: str,
) -> None:
    url = scratch_database_url
    upgrade(url, "0009", keyring=TEST_KEYRING)

    async def one_user() -> None:
        # Raw SQL: the models already have the columns of later revisions.
        database = Database(url)
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, telegram_id, first_name, language, language_chosen,"
                    " timezone, created_at, updated_at) VALUES (1, 601, :name, 'sv', false,"
                    " 'Europe/Stockholm', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"name": TEST_KEYRING.encrypt("Downgraded Dora", "users.first_name")},
            )
        await database.dispose()

    asyncio.run(one_user())
    config = _alembic_config(url, TEST_KEYRING)
    command.downgrade(config, "0008")

    async def read() -> list[str]:
        database = Database(url)
        async with database.engine.connect() as conn:
            names = list((await conn.execute(text("SELECT first_name FROM users"))).scalars())
        await database.dispose()
        return names

    assert asyncio.run(read()) == ["Downgraded Dora"]
