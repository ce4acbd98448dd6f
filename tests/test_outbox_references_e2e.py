"""The outbox holds ids, never what people wrote: queued notices are read from their source
when they are sent, and a settled row keeps no payload at all.

Every free text and every name below carries a marker. The use cases are run
as the handlers run them (one transaction each, the person loaded in it), the
real dispatcher sends through the emulator, and the `outbox` table is read with
plain SQL before and after every dispatcher run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import configure_logging
from bot.clock import TravellingClock
from bot.domain.goals import GoalState
from bot.i18n import t
from bot.scheduler import Dispatcher
from bot.usecases import closing, contract, diary, goals, intro, meetings, notify, pairing
from storage.db import Database
from storage.models import DiaryEntry, GoalRevision, User
from tests.conftest import TOKEN
from tests.harness import Person

T = TypeVar("T")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# (session, adept, mentor) -> a use case; both people are loaded in that session.
Action = Callable[[AsyncSession, User, User], Awaitable[T]]

ADEPT_NAME = "Qxadeptname"
MENTOR_NAME = "Qxmentorname"
MARKERS = {
    "areas": "Qxareas417 leading a team",
    "aims": "Qxaims902 grow into a calm and clear team lead",
    "change": "Qxchange33 please make the meetings shorter",
    "withdrawn": "Qxchange34 and a second thought, revised before it was sent",
    "specific": "Qxspecific58 run my first team retrospective",
    "comment": "Qxcomment71 who takes part in it?",
    "reason": "Qxreason64 the team liked it a lot",
    "mentor_goal": "Qxmentorgoal12 ask better open questions",
    "place": "Qxplace85 the cafe by the river",
    "diary": "Qxdiary29 today I finally said no to a meeting",
}
EVERY_MARKER = (ADEPT_NAME, MENTOR_NAME, *(value.split()[0] for value in MARKERS.values()))


class Scenario:
    def __init__(self, db: Database, clock: TravellingClock, adept_id: int, mentor_id: int):
        self.db, self.clock = db, clock
        self.adept_id, self.mentor_id = adept_id, mentor_id

    @property
    def now(self) -> datetime:
        # Notices made in the same instant would share a dedupe key; people are slower.
        self.clock.advance(timedelta(seconds=1))
        return self.clock.now()

    @property
    def today(self) -> date:
        return self.clock.now().astimezone(STOCKHOLM).date()

    async def act(self, action: Action[T]) -> T:
        async with self.db.session() as session:
            adept = await session.get(User, self.adept_id)
            mentor = await session.get(User, self.mentor_id)
            assert adept is not None and mentor is not None
            return await action(session, adept, mentor)


async def outbox_as_stored(db: Database) -> str:
    """Every column of every outbox row, as a plain SQL connection reads it."""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM outbox ORDER BY id"))).all()
    assert rows, "the scenario queued nothing"
    return "\n".join(repr(tuple(row)) for row in rows)


async def assert_no_marker_in_outbox(db: Database) -> None:
    stored = await outbox_as_stored(db)
    found = [marker for marker in EVERY_MARKER if marker in stored]
    assert not found, f"the outbox holds {found}:\n{stored}"


async def send_everything(dispatcher: Dispatcher, db: Database) -> None:
    """Run the dispatcher until nothing due is left, reading the table around every run."""
    for _ in range(60):
        await assert_no_marker_in_outbox(db)
        if (await dispatcher.run_once()).claimed == 0:
            break
    await assert_no_marker_in_outbox(db)


def html_seen_by(person: Person) -> str:
    return "\n".join(m.html or m.text or m.caption or "" for m in person.messages)


async def pair_through_the_intro(it: Scenario) -> int:
    """Invitation, areas, both decisions and confidentiality: every notice on the way."""
    invite = await it.act(
        lambda s, a, m: pairing.create_invitation(
            s, creator=a, role="adept", now=it.now, ttl_days=7
        )
    )
    seen = await it.act(
        lambda s, a, m: pairing.accept_invitation(s, code=invite.code, user=m, now=it.now)
    )
    mentorship_id = seen.mentorship.id
    assert mentorship_id is not None
    await it.act(
        lambda s, a, m: intro.save_areas(
            s, mentorship_id=mentorship_id, user=a, text=MARKERS["areas"], now=it.now
        )
    )
    # The decision opens after the intro meeting; here they met outside the bot (issue 13).
    await it.act(
        lambda s, a, m: intro.met_outside(s, mentorship_id=mentorship_id, user=a, now=it.now)
    )
    for adept_first in (True, False):
        await it.act(
            lambda s, a, m, first=adept_first: intro.decide(  # type: ignore[misc]
                s, mentorship_id=mentorship_id, user=a if first else m, decision="continue",
                now=it.now,
            )
        )  # fmt: skip
    for adept_first in (True, False):
        await it.act(
            lambda s, a, m, first=adept_first: intro.agree_confidentiality(  # type: ignore[misc]
                s, mentorship_id=mentorship_id, user=a if first else m, now=it.now
            )
        )
    return mentorship_id


async def agree_on_a_contract(it: Scenario, mentorship_id: int, dispatcher: Dispatcher) -> None:
    """The adept drafts; the mentor asks for a change, which is sent; a second request is
    overtaken by a new version before it goes out; the mentor agrees."""
    draft = await it.act(
        lambda s, a, m: contract.open_draft(s, mentorship_id=mentorship_id, user=a)
    )
    contract_id = draft.id
    assert contract_id is not None
    terms = {
        "aims": MARKERS["aims"],
        "mode": "goal",
        "duration_months": "6",
        "cadence": "3w",
        "meeting_minutes": "60",
        "time_budget_hours": "3",
        "cancel_notice": "24h",
        "feedback_cadence": "1m",
    }
    for term, value in terms.items():
        await it.act(
            lambda s, a, m, term=term, value=value: contract.set_term(  # type: ignore[misc]
                s, contract_id=contract_id, user=a, term=term, value=value
            )
        )
    for comment, sent_before_the_next_version in (("change", True), ("withdrawn", False)):
        await it.act(
            lambda s, a, m: contract.submit(s, contract_id=contract_id, user=a, now=it.now)
        )
        if sent_before_the_next_version:
            await send_everything(dispatcher, it.db)  # the mentor reads the aims
        await it.act(
            lambda s, a, m, comment=comment: contract.request_change(  # type: ignore[misc]
                s, mentorship_id=mentorship_id, user=m, comment=MARKERS[comment], now=it.now
            )
        )
        if sent_before_the_next_version:
            await send_everything(dispatcher, it.db)
    await it.act(lambda s, a, m: contract.submit(s, contract_id=contract_id, user=a, now=it.now))
    await it.act(
        lambda s, a, m: contract.accept(
            s, contract_id=contract_id, user=m, now=it.now, today=it.today
        )
    )


async def write_goal(
    it: Scenario, mentorship_id: int, *, by_adept: bool, specific: str
) -> tuple[int, int]:
    """A whole SMART draft, sent; returns (goal id, revision id)."""
    found = await it.act(
        lambda s, a, m: goals.open_draft(
            s, mentorship_id=mentorship_id, user=a if by_adept else m, now=it.now
        )
    )
    goal_id, revision_id = found.goal.id, found.revision.id
    assert goal_id is not None and revision_id is not None
    answers = {
        "specific": specific,
        "measurable": "the team says in a survey that it helped",
        "realistic": "I have the time and my manager supports it",
        "target_date": (it.clock.now().date() + timedelta(days=60)).isoformat(),
    }
    for field, answer in answers.items():
        await it.act(
            lambda s, a, m, field=field, answer=answer: goals.set_answer(  # type: ignore[misc]
                s, revision_id=revision_id, user=a if by_adept else m, field=field, text=answer,
                today=it.today,
            )
        )  # fmt: skip
    await it.act(
        lambda s, a, m: goals.submit(
            s, revision_id=revision_id, user=a if by_adept else m, now=it.now, today=it.today
        )
    )
    return goal_id, revision_id


async def work_on_goals(it: Scenario, mentorship_id: int) -> None:
    """Challenged, revised, accepted and achieved; and the mentor's own goal shared."""
    goal_id, first = await write_goal(
        it, mentorship_id, by_adept=True, specific=MARKERS["specific"]
    )
    await it.act(lambda s, a, m: goals.start_challenge(s, revision_id=first, user=m))
    await it.act(lambda s, a, m: goals.challenge(s, user=m, comment=MARKERS["comment"], now=it.now))
    revised = await it.act(
        lambda s, a, m: goals.open_revision(s, goal_id=goal_id, user=a, now=it.now)
    )
    second = revised.revision.id
    assert second is not None
    await it.act(
        lambda s, a, m: goals.submit(s, revision_id=second, user=a, now=it.now, today=it.today)
    )
    await it.act(lambda s, a, m: goals.accept(s, revision_id=second, user=m, now=it.now))
    await it.act(lambda s, a, m: goals.start_close(s, goal_id=goal_id, user=a))
    await it.act(
        lambda s, a, m: goals.close(
            s, user=a, outcome=GoalState.ACHIEVED, reason=MARKERS["reason"], now=it.now
        )
    )
    own_goal, _ = await write_goal(
        it, mentorship_id, by_adept=False, specific=MARKERS["mentor_goal"]
    )
    await it.act(
        lambda s, a, m: goals.set_shared(s, goal_id=own_goal, user=m, shared=True, now=it.now)
    )


async def book_and_share(it: Scenario, mentorship_id: int) -> int:
    """A meeting booked at a place, and a diary entry shared; returns the entry's id."""
    await it.act(lambda s, a, m: meetings.draft(s, mentorship_id=mentorship_id, user=a, now=it.now))
    day = it.clock.now().astimezone(STOCKHOLM).date() + timedelta(days=3)
    starts = datetime.combine(day, time(14, 0), tzinfo=STOCKHOLM)
    await it.act(lambda s, a, m: meetings.set_time(s, user=a, starts_at=starts, now=it.now))
    await it.act(lambda s, a, m: meetings.book(s, user=a, place=MARKERS["place"], now=it.now))
    entry = await it.act(
        lambda s, a, m: diary.write(
            s, user=a, mentorship_id=mentorship_id, text=MARKERS["diary"], now=it.now
        )
    )
    entry_id = entry.id
    assert entry_id is not None
    await it.act(lambda s, a, m: diary.share(s, user=a, entry_id=entry_id, now=it.now))
    return entry_id


async def talk_about_the_end(it: Scenario, mentorship_id: int) -> None:
    await it.act(
        lambda s, a, m: closing.propose_extension(
            s, mentorship_id=mentorship_id, user=a, months=2, now=it.now
        )
    )
    await it.act(
        lambda s, a, m: closing.answer_extension(
            s, mentorship_id=mentorship_id, user=m, months=None, stamp=None,
            proposer_id=a.id or 0, now=it.now,
        )
    )  # fmt: skip
    await it.act(
        lambda s, a, m: closing.start_closing(s, mentorship_id=mentorship_id, user=a, now=it.now)
    )


def named(specific: str) -> str:
    """How a notice names a goal whose first step is `specific`."""
    return goals.headline(GoalRevision(goal_id=0, version=1, author_id=0, specific=specific))


async def test_every_notice_is_queued_as_ids_and_read_from_its_source_when_sent(
    people: Callable[..., Person], db: Database, clock: TravellingClock, dispatcher: Dispatcher
) -> None:
    adept_chat, mentor_chat = people(ADEPT_NAME, "en"), people(MENTOR_NAME, "sv")
    async with db.session() as session:
        adept = User(telegram_id=adept_chat.user_id, first_name=ADEPT_NAME, language="en")
        mentor = User(telegram_id=mentor_chat.user_id, first_name=MENTOR_NAME, language="sv")
        session.add_all([adept, mentor])
        await session.flush()
        assert adept.id is not None and mentor.id is not None
        it = Scenario(db, clock, adept.id, mentor.id)

    mentorship_id = await pair_through_the_intro(it)
    await assert_no_marker_in_outbox(db)
    await send_everything(dispatcher, db)
    await agree_on_a_contract(it, mentorship_id, dispatcher)
    await work_on_goals(it, mentorship_id)
    entry_id = await book_and_share(it, mentorship_id)
    await talk_about_the_end(it, mentorship_id)
    await assert_no_marker_in_outbox(db)
    await send_everything(dispatcher, db)

    # Each recipient reads the names and texts, in their own language.
    to_adept, to_mentor = html_seen_by(adept_chat), html_seen_by(mentor_chat)
    for expected in (
        t("en", "pairing.accepted_to_inviter", name=MENTOR_NAME),
        t("en", "contract.change_requested", name=MENTOR_NAME, comment=MARKERS["change"]),
        t(
            "en",
            "goal.challenged",
            name=MENTOR_NAME,
            goal=named(MARKERS["specific"]),
            comment=MARKERS["comment"],
        ),
        t("en", "goal.mentor_shared", name=MENTOR_NAME, goal=named(MARKERS["mentor_goal"])),
        t("en", "closing.extension_declined", name=MENTOR_NAME),
    ):
        assert expected in to_adept, f"{expected!r} not in:\n{to_adept}"
    for expected in (
        t("sv", "intro.areas_to_mentor", name=ADEPT_NAME, areas=MARKERS["areas"]),
        t("sv", "intro.partner_agreed_confidentiality", name=ADEPT_NAME),
        t(
            "sv",
            "goal.partner_achieved",
            name=ADEPT_NAME,
            goal=named(MARKERS["specific"]),
            reason=MARKERS["reason"],
        ),
        t("sv", "closing.started_by_partner", name=ADEPT_NAME),
    ):
        assert expected in to_mentor, f"{expected!r} not in:\n{to_mentor}"
    for key in ("aims", "place", "diary"):  # read by the renderers of their own kinds
        assert MARKERS[key] in to_mentor, key
    # The change request overtaken by a new version is not sent with a gap: it is cancelled.
    assert (
        to_adept.count(t("en", "contract.change_requested", name=MENTOR_NAME, comment="")[:30]) == 1
    )

    # A notice that cannot reach its recipient tells the partner by name, read when sent.
    mentor_chat.emulator.block_chat(mentor_chat.user_id)
    async with db.session() as session:
        again = await session.get(User, it.mentor_id)
        assert again is not None
        await notify.queue(
            session,
            recipient=again,
            kind=diary.SHARED_KIND,
            dedupe="diary:again",
            due_at=clock.now(),
            payload={"entry_id": entry_id},
            mentorship_id=mentorship_id,
        )
    await send_everything(dispatcher, db)
    assert t("en", "common.partner_unreachable", name=MENTOR_NAME) in html_seen_by(adept_chat)

    # Settled rows keep nothing but their key and state; pending ones only ids.
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT state, payload FROM outbox"))).all()
    settled = [payload for state, payload in rows if state not in ("pending", "sending")]
    assert len(settled) >= 25 and all(payload in ({}, "{}") for payload in settled), rows
    async with db.session() as session:
        assert (await session.exec(select(DiaryEntry.text))).all() == [MARKERS["diary"]]


def test_a_notice_refuses_a_text_value_so_no_call_site_can_queue_one() -> None:
    with pytest.raises(TypeError, match="reference"):
        notify.to_json({"name": "Anna"})
    with pytest.raises(ValueError, match="QUOTABLE"):
        notify.text_of(User, 1, "first_name")
    queued = notify.to_json({"name": notify.NameOf(3), "goal": notify.GoalHeadline(9), "months": 2})
    assert queued == {"name": {"user": 3}, "goal": {"goal_revision": 9}, "months": 2}
    assert notify.from_json(queued) == {
        "name": notify.NameOf(3),
        "goal": notify.GoalHeadline(9),
        "months": 2,
    }


async def every_stored_value(db: Database) -> list[str]:
    """Every value of every column of every table, as a plain SQL connection returns it."""
    found: list[str] = []
    async with db.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in await connection.execute(text(f"SELECT * FROM {table.name}")):
                found.extend(str(value) for value in row)
    return found


async def test_a_whole_mentorship_leaves_no_marker_in_the_database_its_files_or_a_debug_log(
    people: Callable[..., Person],
    db: Database,
    clock: TravellingClock,
    dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
    logger_levels: None,
) -> None:
    """The auditor's test: every free text and both names carry a marker; after a whole
    mentorship at LOG_LEVEL=DEBUG neither SQL, nor the SQLite file and its WAL, nor any
    log record shows a marker, a name or the token."""
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    adept_chat, mentor_chat = people(ADEPT_NAME, "en"), people(MENTOR_NAME, "sv")
    async with db.session() as session:
        adept = User(telegram_id=adept_chat.user_id, first_name=ADEPT_NAME, language="en")
        mentor = User(telegram_id=mentor_chat.user_id, first_name=MENTOR_NAME, language="sv")
        session.add_all([adept, mentor])
        await session.flush()
        assert adept.id is not None and mentor.id is not None
        it = Scenario(db, clock, adept.id, mentor.id)
    mentorship_id = await pair_through_the_intro(it)
    await agree_on_a_contract(it, mentorship_id, dispatcher)
    await work_on_goals(it, mentorship_id)
    await book_and_share(it, mentorship_id)
    await talk_about_the_end(it, mentorship_id)
    await send_everything(dispatcher, db)
    # The recipients did read the texts: they were stored, only never readable.
    assert MARKERS["diary"] in html_seen_by(mentor_chat)

    secrets_ = [*EVERY_MARKER, ADEPT_NAME, MENTOR_NAME]
    stored = "\n".join(await every_stored_value(db))
    assert not [s for s in secrets_ if s in stored]
    if db.dialect == "sqlite":
        path = Path(db.engine.url.database or "")
        for file in (p for p in (path, Path(f"{path}-wal")) if p.exists()):
            content = file.read_bytes()
            assert not [s for s in secrets_ if s.encode() in content], file.name
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the run logged nothing at all: the capture is not working"
    assert not [s for s in [*secrets_, TOKEN, TOKEN.split(":", 1)[1]] if s in logged]
