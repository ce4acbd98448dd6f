"""Encryption at rest: what the database holds, what people see, and the keys at start-up."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select

from bot.cli import configure_logging
from storage import crypto, rotation
from storage.db import Database, upgrade_async
from storage.models import (
    AgendaItem,
    Announcement,
    CheckIn,
    ClosingFeedback,
    Contract,
    DiaryEntry,
    Goal,
    GoalProgress,
    GoalRevision,
    Meeting,
    MeetingEvaluation,
    Membership,
    MentorProfile,
    MentorRequest,
    Mentorship,
    Notification,
    Programme,
    ProgrammeMember,
    SupportReport,
    User,
)
from tests.conftest import ENCRYPTION_KEY
from tests.harness import Person
from tests.test_diary_e2e import active_pair, open_diary, write

People = Callable[..., Person]

# What the issue names: every free text and every name the bot stores.
MUST_BE_ENCRYPTED = {
    "users.first_name",
    "users.last_name",
    "users.username",
    "memberships.intro_private_reason",
    "memberships.intro_areas",
    "contracts.aims",
    "contracts.rules",
    "contracts.change_request",
    "goals.closed_reason",
    "goal_revisions.specific",
    "goal_revisions.measurable",
    "goal_revisions.realistic",
    "goal_revisions.mentor_comment",
    "goal_progress.note",
    "meetings.place",
    "meetings.shared_notes",
    "meeting_evaluations.useful",
    "meeting_evaluations.next_steps",
    "agenda_items.text",
    "diary_entries.text",
    "checkins.works_well",
    "checkins.could_improve",
    "checkins.note_to_partner",
    "closing_feedback.most_valuable",
    "closing_feedback.could_be_better",
    "support_reports.text",
    # Programmes (issue 15): what coordinators, mentors and mentees type there.
    "programmes.name",
    "programmes.coordinator_contact",
    "programmes.support_text",
    "programmes.code_of_conduct",
    "programmes.areas",
    "programme_members.organisation",
    "mentor_profiles.areas",
    "mentor_profiles.other_areas",
    "mentor_profiles.career",
    "mentor_profiles.organisation",
    "mentor_requests.note",
    "mentor_requests.decline_reason",
    "announcements.text",
}


def value_for(marker: str, label: str) -> str:
    return f"{marker} in {label} åäö"


async def write_everything(db: Database, marker: str, *, telegram_id: int = 77_000_001) -> int:
    """One row in every table with encrypted columns, each column holding `marker`
    (and its own label, so a value found in the wrong column is recognisable).
    Returns the mentorship's id."""
    now = datetime.now(UTC)

    def v(label: str) -> str:
        return value_for(marker, label)

    async with db.session() as session:
        adept = User(
            telegram_id=telegram_id,
            first_name=v("users.first_name"),
            last_name=v("users.last_name"),
            username=v("users.username"),
        )
        mentor = User(telegram_id=telegram_id + 1, first_name="Mentor")
        session.add_all([adept, mentor])
        await session.flush()
        assert adept.id is not None and mentor.id is not None
        mentorship = Mentorship(created_by_id=adept.id, state="active", started_at=now)
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        session.add(
            Membership(
                mentorship_id=mentorship.id,
                user_id=adept.id,
                role="adept",
                intro_private_reason=v("memberships.intro_private_reason"),
                intro_areas=v("memberships.intro_areas"),
            )
        )
        session.add(Membership(mentorship_id=mentorship.id, user_id=mentor.id, role="mentor"))
        session.add(
            Contract(
                mentorship_id=mentorship.id,
                aims=v("contracts.aims"),
                rules=v("contracts.rules"),
                change_request=v("contracts.change_request"),
                drafted_by_id=adept.id,
            )
        )
        goal = Goal(
            mentorship_id=mentorship.id, owner_id=adept.id, closed_reason=v("goals.closed_reason")
        )
        meeting = Meeting(
            mentorship_id=mentorship.id,
            starts_at=now + timedelta(days=3),
            place=v("meetings.place"),
            shared_notes=v("meetings.shared_notes"),
            booked_by_id=adept.id,
        )
        session.add_all([goal, meeting])
        await session.flush()
        assert goal.id is not None and meeting.id is not None
        session.add_all(
            [
                GoalRevision(
                    goal_id=goal.id,
                    version=1,
                    specific=v("goal_revisions.specific"),
                    measurable=v("goal_revisions.measurable"),
                    realistic=v("goal_revisions.realistic"),
                    mentor_comment=v("goal_revisions.mentor_comment"),
                    author_id=adept.id,
                ),
                GoalProgress(goal_id=goal.id, percent=40, note=v("goal_progress.note")),
                MeetingEvaluation(
                    meeting_id=meeting.id,
                    user_id=adept.id,
                    useful=v("meeting_evaluations.useful"),
                    next_steps=v("meeting_evaluations.next_steps"),
                ),
                AgendaItem(meeting_id=meeting.id, author_id=adept.id, text=v("agenda_items.text")),
                DiaryEntry(
                    author_id=adept.id,
                    mentorship_id=mentorship.id,
                    text=v("diary_entries.text"),
                ),
                CheckIn(
                    mentorship_id=mentorship.id,
                    user_id=adept.id,
                    period=1,
                    due_at=now,
                    works_well=v("checkins.works_well"),
                    could_improve=v("checkins.could_improve"),
                    note_to_partner=v("checkins.note_to_partner"),
                ),
                ClosingFeedback(
                    mentorship_id=mentorship.id,
                    user_id=adept.id,
                    most_valuable=v("closing_feedback.most_valuable"),
                    could_be_better=v("closing_feedback.could_be_better"),
                ),
                SupportReport(user_id=adept.id, text=v("support_reports.text")),
            ]
        )
        programme = Programme(
            name=v("programmes.name"),
            coordinator_contact=v("programmes.coordinator_contact"),
            support_text=v("programmes.support_text"),
            code_of_conduct=v("programmes.code_of_conduct"),
            areas=v("programmes.areas"),
            mentor_code=f"m{telegram_id}",
            adept_code=f"a{telegram_id}",
            coordinator_code=f"c{telegram_id}",
        )
        session.add(programme)
        await session.flush()
        assert programme.id is not None
        session.add_all(
            [
                ProgrammeMember(
                    programme_id=programme.id,
                    user_id=adept.id,
                    role="adept",
                    organisation=v("programme_members.organisation"),
                ),
                MentorProfile(
                    programme_id=programme.id,
                    user_id=mentor.id,
                    areas=v("mentor_profiles.areas"),
                    other_areas=v("mentor_profiles.other_areas"),
                    career=v("mentor_profiles.career"),
                    organisation=v("mentor_profiles.organisation"),
                ),
                MentorRequest(
                    programme_id=programme.id,
                    mentor_id=mentor.id,
                    adept_id=adept.id,
                    note=v("mentor_requests.note"),
                    decline_reason=v("mentor_requests.decline_reason"),
                ),
                Announcement(
                    programme_id=programme.id,
                    author_id=mentor.id,
                    audience="all",
                    text=v("announcements.text"),
                ),
            ]
        )
        return mentorship.id


async def raw_rows(db: Database) -> list[str]:
    """Every value of every column of every table, as a plain SQL connection returns it."""
    found: list[str] = []
    async with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in await conn.execute(text(f"SELECT * FROM {table.name}")):
                found.extend(str(value) for value in row)
    return found


async def raw_secrets(db: Database) -> dict[str, list[str | None]]:
    """The stored form of every encrypted column, by label."""
    stored: dict[str, list[str | None]] = {}
    async with db.engine.connect() as conn:
        for table in rotation.encrypted_tables():
            for column in table.columns:
                label = table.labels[column.name]
                stored[label] = list(
                    (await conn.execute(text(f"SELECT {column.name} FROM {table.name}"))).scalars()
                )
    return stored


def test_every_free_text_and_name_is_declared_encrypted() -> None:
    labels = {label for table in rotation.encrypted_tables() for label in table.labels.values()}
    assert labels >= MUST_BE_ENCRYPTED
    # Codes that statistics count stay readable to SQL.
    assert "mentorships.end_reason" not in labels
    assert "mentorship_transitions.reason" not in labels


async def test_what_the_bot_writes_comes_back_as_written_but_sql_sees_only_ciphertext(
    db: Database,
) -> None:
    marker = "MARKER-7f3a"
    await write_everything(db, marker)
    stored = await raw_secrets(db)
    for label, values in stored.items():
        written = [value for value in values if value is not None]
        assert written, f"{label}: write_everything left it empty"
        assert all(value.startswith(crypto.PREFIX) for value in written), label
    assert not [value for value in await raw_rows(db) if marker in value]

    async with db.session() as session:
        adept = (await session.exec(select(User).where(User.telegram_id == 77_000_001))).one()
        assert adept.first_name == value_for(marker, "users.first_name")
        assert adept.username == value_for(marker, "users.username")
        checkin = (await session.exec(select(CheckIn))).one()
        assert checkin.note_to_partner == value_for(marker, "checkins.note_to_partner")
        revision = (await session.exec(select(GoalRevision))).one()
        assert revision.mentor_comment == value_for(marker, "goal_revisions.mentor_comment")


async def test_the_sqlite_file_and_its_wal_hold_no_plaintext(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the file check is for SQLite; PostgreSQL is checked through SQL above")
    marker = "FILEMARKER-91c2"
    await write_everything(db, marker)
    path = Path(db.engine.url.database or "")
    files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    assert files
    for file in files:
        content = file.read_bytes()
        assert marker.encode() not in content, file.name
        assert marker.encode("utf-16-le") not in content, file.name


async def test_a_long_name_fits_although_its_ciphertext_is_longer(db: Database) -> None:
    name = "Ö" * 256
    async with db.session() as session:
        session.add(User(telegram_id=77_100_001, first_name=name, last_name=name))
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.telegram_id == 77_100_001))).one()
        assert user.first_name == name and user.last_name == name


async def test_an_empty_note_and_a_missing_note_stay_apart(db: Database) -> None:
    await write_everything(db, "EMPTY-NOTE")
    async with db.session() as session:
        checkin = (await session.exec(select(CheckIn))).one()
        checkin.note_to_partner = ""
        second = CheckIn(
            mentorship_id=checkin.mentorship_id,
            user_id=checkin.user_id,
            period=2,
            due_at=checkin.due_at,
        )
        session.add_all([checkin, second])
    stored = (await raw_secrets(db))["checkins.note_to_partner"]
    assert None in stored, "not asked stays NULL"
    assert all(value is None or value.startswith(crypto.PREFIX) for value in stored)
    async with db.session() as session:
        notes = [c.note_to_partner for c in await session.exec(select(CheckIn).order_by("period"))]
    assert notes == ["", None]


async def test_a_value_moved_to_another_column_reads_as_unreadable(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "SWAP-5d1e"
    await write_everything(db, marker)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE goal_revisions SET specific = measurable, measurable = specific,"
                " realistic = (SELECT text FROM diary_entries LIMIT 1)"
            )
        )
    caplog.set_level(logging.ERROR, logger="mentorbot")
    async with db.session() as session:
        revision = (await session.exec(select(GoalRevision))).one()
        entry = (await session.exec(select(DiaryEntry))).one()
    assert revision.specific == crypto.UNREADABLE
    assert revision.measurable == crypto.UNREADABLE
    assert revision.realistic == crypto.UNREADABLE
    # Untouched columns of the same row, and the original, still read.
    assert revision.mentor_comment == value_for(marker, "goal_revisions.mentor_comment")
    assert entry.text == value_for(marker, "diary_entries.text")
    logged = [r.getMessage() for r in caplog.records if r.name == "mentorbot.storage"]
    assert any("goal_revisions.specific" in line for line in logged)
    assert not any(marker in line for line in logged)


async def test_sql_comparisons_on_an_encrypted_column_are_refused(db: Database) -> None:
    with pytest.raises(TypeError, match="encrypted"):
        select(DiaryEntry).where(DiaryEntry.text == "anything")
    with pytest.raises(TypeError, match="encrypted"):
        select(User).order_by(col(User.first_name).desc())
    # NULL tests are fine: they never look at the ciphertext.
    await write_everything(db, "NULLTEST")
    async with db.session() as session:
        assert list(await session.exec(select(CheckIn).where(col(CheckIn.works_well).is_not(None))))
        assert not list(
            await session.exec(select(CheckIn).where(col(CheckIn.works_well).is_(None)))
        )
        assert not list(await session.exec(select(DiaryEntry).where(DiaryEntry.text == None)))  # noqa: E711


async def test_a_corrupted_diary_entry_shows_as_unreadable_and_the_rest_still_works(
    people: People, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    anna, _ = await active_pair(people, db)
    await write(anna, "Första anteckningen om mitt ledarskap")
    await write(anna, "Andra anteckningen om feedback")
    async with db.engine.begin() as conn:
        entry_id, stored = (
            await conn.execute(text("SELECT id, text FROM diary_entries ORDER BY id LIMIT 1"))
        ).one()
        middle = len(stored) // 2
        damaged = stored[:middle] + ("A" if stored[middle] != "A" else "B") + stored[middle + 1 :]
        await conn.execute(
            text("UPDATE diary_entries SET text = :t WHERE id = :i"), {"t": damaged, "i": entry_id}
        )
    caplog.set_level(logging.ERROR, logger="mentorbot")
    await open_diary(anna)
    await anna.press("📖 Mina anteckningar")
    page = await anna.expect("sida 1 av 1")
    assert crypto.UNREADABLE in page.text
    assert "Andra anteckningen om feedback" in page.text
    assert "Första" not in page.text
    # The bot goes on: a new entry is written and listed.
    await write(anna, "Tredje anteckningen")
    lines = [r.getMessage() for r in caplog.records if "diary_entries.text" in r.getMessage()]
    assert lines and all("anteckningen" not in line for line in lines)


async def test_database_errors_do_not_show_the_values_bound(db: Database) -> None:
    marker = "BOUND-VALUE-c0ffee"
    async with db.session() as session:
        user = User(telegram_id=77_200_001, first_name="Ida")
        session.add(user)
        await session.flush()
        user_id = user.id or 0
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add(
            Notification(idempotency_key=marker, recipient_id=user_id, kind="r", due_at=now)
        )
    with pytest.raises(IntegrityError) as caught:
        async with db.session() as session:
            session.add(
                Notification(idempotency_key=marker, recipient_id=user_id, kind="r", due_at=now)
            )
    assert marker not in str(caught.value)


async def test_at_debug_level_the_database_drivers_log_no_statement_parameters(
    db: Database, caplog: pytest.LogCaptureFixture, logger_levels: None
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG")
    for name in ("asyncpg", "sqlalchemy"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
    telegram_id = 987_654_321_012
    async with db.session() as session:
        session.add(User(telegram_id=telegram_id, first_name="Debug"))
    assert not [r for r in caplog.records if str(telegram_id) in r.getMessage()]


# -- keys at start-up --------------------------------------------------------------------------


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "BOT_TOKEN", "DATABASE_URL", "ENCRYPTION", "MENTORBOT"))
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=base,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade"), ("keys", "rotate")])
def test_a_postgresql_database_without_a_key_exits_2_with_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = cli(
        *command,
        cwd=tmp_path,
        BOT_TOKEN="123:abc",
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/production",
        MENTORBOT_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ENCRYPTION_KEY" in lines[0], result.stderr
    assert not (tmp_path / "encryption.key").exists()


def test_the_embedded_database_gets_an_owner_only_key_file_announced_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = cli("db", "upgrade", cwd=tmp_path, MENTORBOT_DATA_DIR=str(data))
    assert first.returncode == 0, first.stderr
    key_file = data / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    crypto.parse_key(key_file.read_text())
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 1, first.stderr
    assert str(key_file.resolve()) in lines[0] and "back it up" in lines[0]
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]

    key = key_file.read_text()
    again = cli("db", "upgrade", cwd=tmp_path, MENTORBOT_DATA_DIR=str(data))
    assert again.returncode == 0 and again.stderr == ""
    assert key_file.read_text() == key


@pytest.mark.parametrize(
    ("name", "value"),
    [("ENCRYPTION_KEY", "not-a-real-key"), ("ENCRYPTION_OLD_KEYS", f"{ENCRYPTION_KEY},short")],
)
def test_a_malformed_key_exits_2_naming_the_setting_but_not_the_key(
    tmp_path: Path, name: str, value: str
) -> None:
    result = cli(
        "run", cwd=tmp_path, BOT_TOKEN="123:abc", MENTORBOT_DATA_DIR=str(tmp_path), **{name: value}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr
    assert "not-a-real-key" not in result.stderr and ENCRYPTION_KEY not in result.stderr


def test_a_damaged_key_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "encryption.key").write_text("this is not a key\n")
    result = cli("db", "upgrade", cwd=tmp_path, MENTORBOT_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "encryption.key" in lines[0], result.stderr


async def test_a_wrong_key_for_existing_data_exits_2_and_changes_nothing(
    scratch_database_url: str, tmp_path: Path
) -> None:
    await upgrade_async(scratch_database_url)
    scratch = Database(scratch_database_url)
    await write_everything(scratch, "WRONGKEY")
    before = await raw_rows(scratch)
    other = crypto.KeyRing.generate_key()
    common = {"DATABASE_URL": scratch_database_url, "MENTORBOT_DATA_DIR": str(tmp_path)}
    for command in (("db", "upgrade"), ("run",), ("keys", "rotate")):
        result = cli(*command, cwd=tmp_path, BOT_TOKEN="123:abc", ENCRYPTION_KEY=other, **common)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "ENCRYPTION_KEY" in lines[0], result.stderr
        assert "does not open" in lines[0]
    assert await raw_rows(scratch) == before
    # The right key opens it, even with the newest diary entry damaged.
    async with scratch.engine.begin() as conn:
        await conn.execute(text("UPDATE diary_entries SET text = 'enc1:broken'"))
    right = cli("db", "upgrade", cwd=tmp_path, ENCRYPTION_KEY=ENCRYPTION_KEY, **common)
    assert right.returncode == 0, right.stderr
    await scratch.dispose()


async def test_the_sandbox_makes_its_own_key_without_any_configuration(tmp_path: Path) -> None:
    from bot.sandbox.server import SandboxServer
    from bot.settings import Settings

    settings = Settings(
        MENTORBOT_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/production",
    )
    server = SandboxServer(settings, port=0)
    await server.start()
    try:
        key_file = tmp_path / "encryption.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert crypto.active().current_id == crypto.key_id(crypto.parse_key(key_file.read_text()))
    finally:
        await server.stop()
