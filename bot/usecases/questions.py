"""Question suggestions for the mentor, remembered per pair so they keep changing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import questions as rules
from bot.domain.mentorship import OPEN_STATES
from bot.domain.question_bank import Question
from bot.usecases import Refused, pairing
from storage import contracts
from storage import questions as uses
from storage.models import MentorshipState, Role, User

SUGGESTED = 3
# Once paired: the intro meeting is a conversation worth good questions too.
ASKING_STATES = OPEN_STATES - {MentorshipState.INVITED}
# Before the contract the intro meeting is what is coming; once closing, the closing one.
OCCASION_OF_STATE: dict[str, str] = {
    MentorshipState.INTRO: "intro",
    MentorshipState.CLOSING: "closing",
}
# A meeting's own kind says the same for the mentor's preparation before it.
OCCASION_OF_MEETING: dict[str, str] = {"intro": "intro", "closing": "closing"}


async def suggestions_for(
    session: AsyncSession,
    *,
    mentorship_id: int,
    agenda_text: str,
    language: str,
    count: int = SUGGESTED,
    now: datetime,
    occasion: str | None = None,
) -> list[Question]:
    """Pick `count` questions fitting `agenda_text` that this pair has not seen in the
    current round through the bank, and remember them as seen. `occasion` ("intro",
    "closing") brings in that meeting's own questions.

    No authorization here: the caller has established that the suggestions go to
    the pair's mentor (e.g. in the meeting preparation message).
    """
    seen = rules.this_round(await uses.history(session, mentorship_id=mentorship_id))
    picked = rules.suggest(agenda_text, language, seen, count=count, occasion=occasion)
    await uses.record(
        session, mentorship_id=mentorship_id, question_ids=[q.id for q in picked], now=now
    )
    return picked


@dataclass(frozen=True, slots=True)
class Suggestions:
    questions: list[Question]
    adept: User
    steer: str  # compact theme words behind the choice, for asking again the same way


async def for_mentor(
    session: AsyncSession,
    *,
    mentorship_id: int,
    user: User,
    words: str,
    now: datetime,
    count: int = SUGGESTED,
) -> Suggestions:
    """/questions: suggestions for the mentor, steered by `words` or else by what the
    adept said they want help with (their intro areas and the contract's aims)."""
    seen = await pairing.member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.me.role != Role.MENTOR:
        raise Refused("questions.mentors_only")
    if seen.mentorship.state not in ASKING_STATES or seen.partner is None:
        raise Refused("questions.not_now")
    if words.strip():
        agenda = words
    else:
        contract = await contracts.in_force(session, mentorship_id=mentorship_id)
        areas = seen.partner_membership.intro_areas if seen.partner_membership else None
        agenda = " ".join(text for text in (areas, contract.aims if contract else None) if text)
    picked = await suggestions_for(
        session,
        mentorship_id=mentorship_id,
        agenda_text=agenda,
        language=user.language,
        count=count,
        now=now,
        occasion=OCCASION_OF_STATE.get(seen.mentorship.state),
    )
    return Suggestions(picked, seen.partner, rules.steer(words) if words.strip() else "")
