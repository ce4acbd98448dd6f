"""/mydata and /deleteme cover programmes: the programmes and roles a person holds and the
announcements they wrote are in their copy; erasing forgets unsent announcement drafts and
programme drafts, while an announcement already sent finishes its delivery."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.usecases import privacy
from storage import programmes
from storage.db import Database
from storage.models import Announcement, Programme, ProgrammeMember, User

NOW = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)


async def _setup(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        user = User(telegram_id=6601, first_name="Cora", language="en")
        session.add(user)
        await session.flush()
        assert user.id is not None
        codes = {
            k: programmes.new_code() for k in ("mentor_code", "adept_code", "coordinator_code")
        }
        programme = Programme(name="North <2031>", created_by_id=user.id, **codes)
        draft = Programme(
            name="Half-made",
            draft=True,
            created_by_id=user.id,
            **{k: programmes.new_code() for k in codes},
        )
        session.add_all([programme, draft])
        await session.flush()
        assert programme.id is not None
        session.add_all(
            [
                ProgrammeMember(programme_id=programme.id, user_id=user.id, role="coordinator"),
                ProgrammeMember(programme_id=programme.id, user_id=user.id, role="mentor"),
                Announcement(
                    programme_id=programme.id,
                    author_id=user.id,
                    audience="all",
                    text="Sent: welcome all",
                    confirmed_at=NOW,
                    recipients=40,
                ),
                Announcement(
                    programme_id=programme.id,
                    author_id=user.id,
                    audience="mentor",
                    text="Draft: never sent",
                ),
            ]
        )
        await session.commit()
        return user.id, programme.id


async def test_mydata_lists_programmes_roles_and_announcements_and_deleteme_drops_drafts(
    db: Database,
) -> None:
    user_id, programme_id = await _setup(db)
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        copy = await privacy.export(session, user=user, now=NOW)
    assert copy["programmes"] == [{"programme": "North <2031>", "roles": ["coordinator", "mentor"]}]
    assert [(a["audience"], a["text"], a["recipients"]) for a in copy["announcements"]] == [
        ("all", "Sent: welcome all", 40),
        ("mentor", "Draft: never sent", 0),
    ]

    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        await privacy.erase(session, user=user, now=NOW)
        await session.commit()
    async with db.session() as session:
        left = (await session.exec(select(Announcement))).all()
        names = [p.name for p in (await session.exec(select(Programme))).all()]
    assert [a.text for a in left] == ["Sent: welcome all"], "the sent one finishes delivery"
    assert names == ["North <2031>"], "the half-made programme is gone, the real one stays"
    assert programme_id
