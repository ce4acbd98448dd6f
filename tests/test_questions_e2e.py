"""/questions through the real bot, and the pair's question history on the real database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.domain.question_bank import BANK, BY_ID, Question
from bot.usecases import questions as usecase
from storage import questions as uses
from storage.db import Database
from storage.models import Membership, Mentorship, QuestionUse, Role, User
from tests.harness import Person
from tests.test_diary_e2e import activate
from tests.test_pairing_e2e import pair

People = Callable[..., Person]
NUMBERED = re.compile(r"^\d\. (?:🧭 )?(.+)$", re.MULTILINE)


async def mentor_and_adept(people: People, db: Database) -> tuple[Person, Person]:
    """Maria (mentor) and Sam (adept), English, in an active mentorship, inboxes read."""
    maria, sam = people("Maria", "en"), people("Sam", "en")
    await pair(maria, sam, "I'm the mentor – invite my mentee", "Accept ✅")
    await sam.expect("Before the meeting")
    await maria.expect("Sam accepted")
    await activate(db)
    maria.mark_read()
    sam.mark_read()
    return maria, sam


async def offered(db: Database) -> list[Question]:
    async with db.session() as session:
        rows = await session.exec(select(QuestionUse).order_by(col(QuestionUse.id)))
        return [BY_ID[row.question_id] for row in rows]


def shown_questions(text: str) -> list[str]:
    return NUMBERED.findall(text)


async def test_a_mentor_gets_three_fitting_questions_and_new_ones_next_time(
    people: People, db: Database
) -> None:
    maria, _ = await mentor_and_adept(people, db)
    first = await maria.ask("/questions salary negotiation")
    assert "Questions to bring to your conversation with Sam" in first.text
    first_ids = await offered(db)
    assert len(first_ids) == 3
    assert all("career" in q.themes for q in first_ids), [q.id for q in first_ids]
    assert shown_questions(first.text) == [q.en for q in first_ids]

    # The button asks again the same way, and never repeats what was offered.
    await maria.press("🔄 Three new questions", message_id=first.message_id)
    second = await maria.expect("Questions to bring to your conversation with Sam")
    both = await offered(db)
    assert len(both) == 6 and len({q.id for q in both}) == 6
    assert all("career" in q.themes for q in both[3:]), [q.id for q in both[3:]]
    assert shown_questions(second.text) == [q.en for q in both[3:]]

    # And the command again, unsteered, still brings only questions not yet seen.
    await maria.ask("/questions")
    assert len({q.id for q in await offered(db)}) == 9


async def test_without_words_the_adepts_own_areas_steer_the_questions(
    people: People, db: Database
) -> None:
    maria, _ = await mentor_and_adept(people, db)
    async with db.session() as session:
        adept = (await session.exec(select(Membership).where(Membership.role == Role.ADEPT))).one()
        adept.intro_areas = "I'm worried I will fail at leading my new team"
        session.add(adept)
    reply = await maria.ask("/questions")
    found = await offered(db)
    assert sum(q.family == "challenge" for q in found) == 2, [q.id for q in found]
    assert any("leadership" in q.themes for q in found)
    assert "🧭" in reply.text and "challenging question" in reply.text


async def test_an_adept_asking_for_questions_gets_a_kind_explanation(
    people: People, db: Database
) -> None:
    _, sam = await mentor_and_adept(people, db)
    reply = await sam.ask("/questions")
    assert "tool for the mentor" in reply.text and "/diary" in reply.text
    assert await offered(db) == []


async def test_someone_without_a_mentorship_is_pointed_to_new(people: People) -> None:
    erik = people("Erik", "sv")
    reply = await erik.ask("/questions")
    assert "/new" in reply.text


async def test_a_forged_more_button_for_another_pair_gives_nothing(
    people: People, db: Database
) -> None:
    _, sam = await mentor_and_adept(people, db)
    async with db.session() as session:
        mentorship_id = (await session.exec(select(Mentorship.id))).one()
    outsider = people("Olle", "sv")
    await outsider.ask("/start")
    await outsider.press_data(outsider.last.message_id, f"q:more:{mentorship_id}:career")
    await outsider.expect("någon annans")
    await sam.press_data(sam.last.message_id, f"q:more:{mentorship_id}")
    await sam.expect("tool for the mentor")
    assert await offered(db) == []


# -- storage and use case on the database selected for the run ------------------------------


async def _a_mentorship(db: Database, telegram_id: int = 880_001) -> int:
    async with db.session() as session:
        user = User(telegram_id=telegram_id, first_name="Vera")
        session.add(user)
        await session.flush()
        assert user.id is not None
        mentorship = Mentorship(created_by_id=user.id, state="active")
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        return mentorship.id


async def test_question_uses_are_stored_per_pair_in_order(db: Database) -> None:
    ours, theirs = await _a_mentorship(db), await _a_mentorship(db, 880_002)
    moment = datetime(2027, 5, 4, 8, 30, tzinfo=UTC)
    async with db.session() as session:
        await uses.record(
            session,
            mentorship_id=ours,
            question_ids=["open.goals.2", "open.career.1", "challenge.stress.1"],
            now=moment,
        )
        await uses.record(
            session, mentorship_id=ours, question_ids=["open.career.1"], now=moment + timedelta(1)
        )
        await uses.record(session, mentorship_id=theirs, question_ids=["open.goals.1"], now=moment)
    async with db.session() as session:
        assert await uses.used_ids(session, mentorship_id=ours) == {
            "open.goals.2",
            "open.career.1",
            "challenge.stress.1",
        }
        assert await uses.history(session, mentorship_id=ours) == [
            "open.goals.2",
            "open.career.1",
            "challenge.stress.1",
            "open.career.1",
        ]
        assert await uses.history(session, mentorship_id=theirs) == ["open.goals.1"]
        stored = (await session.exec(select(QuestionUse))).first()
        assert stored is not None and stored.used_at == moment and stored.used_at.tzinfo


async def test_suggestions_for_a_pair_go_through_the_whole_bank_before_repeating(
    db: Database,
) -> None:
    mentorship_id = await _a_mentorship(db)
    moment = datetime(2027, 5, 4, 8, 30, tzinfo=UTC)
    first_round: list[str] = []
    calls = -(-len(BANK) // 3)
    for number in range(calls):
        async with db.session() as session:
            picked = await usecase.suggestions_for(
                session,
                mentorship_id=mentorship_id,
                agenda_text="lönesamtal",
                language="sv",
                count=3,
                now=moment + timedelta(minutes=number),
            )
        first_round += [q.id for q in picked if q.id not in first_round]
    assert sorted(first_round) == sorted(BY_ID)
    async with db.session() as session:
        history = await uses.history(session, mentorship_id=mentorship_id)
        nothing_left = await usecase.suggestions_for(
            session,
            mentorship_id=mentorship_id,
            agenda_text="lönesamtal",
            language="sv",
            count=3,
            now=moment + timedelta(hours=5),
        )
    assert len(history) == calls * 3
    # The next round has started: fresh questions, even those seen long ago, come back.
    assert len({q.id for q in nothing_left}) == 3
    assert all("career" in q.themes for q in nothing_left)
