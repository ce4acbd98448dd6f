"""Which refused answers keep a person at the question in the intro and contract flows.

The use case decides (`Refused(..., stay=True)`); these tests pin the decisions
down through the real bot: an answer that can be corrected is asked for again
and the next answer is taken, while one whose subject is gone ends the flow.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from storage.db import Database
from storage.models import Contract, Membership, Mentorship
from tests.harness import Person
from tests.test_pairing_e2e import met_outside, pair

People = Callable[..., Person]
ADEPT = "I'm the mentee – invite my mentor"
CONTINUE = "✅ I'll continue"
PROMISE = "🔒 I'll keep it between us"


async def _paired(people: People) -> tuple[Person, Person]:
    ella, fred = people("Ella", "en"), people("Fred", "en")
    await pair(ella, fred, ADEPT, "Accept ✅")
    await ella.expect("Before the meeting")
    await fred.expect("intro meeting with Ella")
    return ella, fred


async def test_too_short_or_too_long_areas_are_asked_for_again_and_the_next_answer_is_saved(
    people: People, db: Database
) -> None:
    ella, fred = await _paired(people)
    await ella.press("✍️ Write my areas")
    await ella.expect("Which areas")

    await ella.send("ok")
    await ella.expect("a bit short")
    await ella.send("x" * 4001)
    await ella.expect("4001 characters")
    fred.mark_read()
    await ella.send("Leading a team, salary talks")
    await ella.expect("sent to Fred")
    assert "Leading a team, salary talks" in (await fred.expect("Leading a team")).text
    async with db.session() as session:
        areas = [m.intro_areas for m in (await session.exec(select(Membership))).all()]
    assert "Leading a team, salary talks" in areas

    # The flow ended with the saved answer: a later text is not taken as areas.
    await ella.send("Something else entirely")
    await ella.quiet(0.3)
    async with db.session() as session:
        areas = [m.intro_areas for m in (await session.exec(select(Membership))).all()]
    assert "Something else entirely" not in areas


async def test_a_refused_choice_and_a_too_short_change_comment_keep_the_person_at_the_step(
    people: People, db: Database
) -> None:
    ella, fred = await _paired(people)
    await ella.press(CONTINUE)
    await met_outside(ella)
    await ella.press(CONTINUE)
    await fred.expect("Ella has decided to continue")
    await fred.press(CONTINUE)
    await ella.expect("both want to continue")
    await ella.press(PROMISE)
    await fred.expect("Ella has promised")
    await fred.press(PROMISE)
    await ella.expect("Time for your collaboration contract")
    await ella.press("✍️ Draft the contract")
    await ella.send("I want to lead my first team with confidence.")
    question = await ella.expect("2/8")

    # A choice that is not one of the buttons: explained, and still at the same term.
    ella.mark_read()
    await ella.press_data(question.message_id, "ctr:set:mode:nonsense")
    await ella.expect("isn't available")
    await ella.press("Goal-driven", message_id=question.message_id)
    await ella.expect("3/8")
    await ella.send("6")
    for button in (
        "Every 3 weeks",
        "60 minutes",
        "About 3 hours a month",
        "At least 24 hours before",
        "Once a month",
    ):
        await ella.expect("/8")
        await ella.press(button)
    await ella.expect("version 1")
    fred.mark_read()
    await ella.press("📨 Send for acceptance")
    card = await fred.expect("has sent you the collaboration contract")

    # A too short comment is asked for again; the next one is sent.
    await fred.press("Suggest a change", message_id=card.message_id)
    await fred.expect("What would you like to change")
    await fred.send("no")
    await fred.expect("a few words")
    ella.mark_read()
    await fred.send("Let's meet every 2 weeks")
    await fred.expect("suggestion is sent to Ella")
    assert "Let's meet every 2 weeks" in (await ella.expect("suggests a change")).text
    async with db.session() as session:
        contract = (await session.exec(select(Contract))).one()
        mentorship = (await session.exec(select(Mentorship))).one()
    assert contract.change_request == "Let's meet every 2 weeks"
    assert contract.submitted_at is None and mentorship.state == "intro"
