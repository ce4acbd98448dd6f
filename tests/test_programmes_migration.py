"""Migration 0016 on a database of the run's kind: pairs and people from before programmes
move into one default programme, in the roles they had."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from storage.db import create_engine, upgrade_async
from tests.conftest import TEST_KEYRING
from tests.test_outbox_refs_migration import MENTORSHIPS, USERS, _table

AT = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
MEMBERSHIPS = _table(
    "memberships",
    id=sa.Integer,
    mentorship_id=sa.Integer,
    user_id=sa.Integer,
    role=sa.String,
    joined_at=MENTORSHIPS.c.created_at.type,
)


async def test_existing_pairs_and_people_join_one_default_programme(
    scratch_database_url: str,
) -> None:
    url = scratch_database_url
    await upgrade_async(url, "0015", keyring=TEST_KEYRING)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            stamps = {"created_at": AT, "updated_at": AT}
            await conn.execute(
                USERS.insert(),
                [
                    {"id": i, "telegram_id": 900 + i, "first_name": "x", "language": "sv",
                     "language_chosen": False, "timezone": "Europe/Stockholm", **stamps}
                    for i in (1, 2, 3)
                ],
            )  # fmt: skip
            await conn.execute(
                MENTORSHIPS.insert(),
                [
                    {"id": 1, "state": "active", "created_by_id": 1, "created_at": AT},
                    {"id": 2, "state": "intro", "created_by_id": 1, "created_at": AT},
                ],
            )
            await conn.execute(
                MEMBERSHIPS.insert(),
                [
                    {"id": 1, "mentorship_id": 1, "user_id": 1, "role": "mentor", "joined_at": AT},
                    {"id": 2, "mentorship_id": 1, "user_id": 2, "role": "adept", "joined_at": AT},
                    {"id": 3, "mentorship_id": 2, "user_id": 1, "role": "mentor", "joined_at": AT},
                    {"id": 4, "mentorship_id": 2, "user_id": 3, "role": "adept", "joined_at": AT},
                ],
            )
        await upgrade_async(url, "head", keyring=TEST_KEYRING)
        async with engine.connect() as conn:
            programmes = (
                await conn.execute(sa.text("SELECT id, is_default, name FROM programmes"))
            ).all()
            assert len(programmes) == 1
            default_id, is_default, name = programmes[0]
            assert is_default and name is None
            pairs = (await conn.execute(sa.text("SELECT programme_id FROM mentorships"))).all()
            assert [p for (p,) in pairs] == [default_id, default_id]
            members = (
                await conn.execute(
                    sa.text(
                        "SELECT user_id, role FROM programme_members "
                        "WHERE programme_id = :p ORDER BY user_id"
                    ),
                    {"p": default_id},
                )
            ).all()
            assert [tuple(m) for m in members] == [(1, "mentor"), (2, "adept"), (3, "adept")]
    finally:
        await engine.dispose()


async def test_a_new_database_has_no_programme_until_one_is_needed(
    scratch_database_url: str,
) -> None:
    await upgrade_async(scratch_database_url, "head", keyring=TEST_KEYRING)
    engine = create_engine(scratch_database_url)
    try:
        async with engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT count(*) FROM programmes"))).scalar_one()
        assert count == 0
    finally:
        await engine.dispose()
