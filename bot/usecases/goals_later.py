"""Setting goals later, by agreement: the adept proposes it, the mentor agrees (or would
rather set them now). Goals stay the adept's own; this only records that both agreed
to wait, so the bot does not push for them meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.pairing import member_view
from storage import goals, mentorships
from storage.mentorships import Pairing
from storage.models import MentorshipState, Role, User

OPEN = frozenset({MentorshipState.INTRO, MentorshipState.ACTIVE})
# "Later" means after a few meetings: at the usual three-week rhythm, two or three.
REMINDER_AFTER = timedelta(weeks=6)
REMINDER_KIND = "goals_later_reminder"


async def _pair(session: AsyncSession, *, mentorship_id: int, user: User, role: Role) -> Pairing:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.mentorship.state not in OPEN or seen.partner is None or seen.me.role != role:
        raise Refused("common.stale_button")
    return seen


async def propose(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Pairing:
    """The adept asks the mentor to agree that goals come later."""
    seen = await _pair(session, mentorship_id=mentorship_id, user=user, role=Role.ADEPT)
    assert seen.partner is not None
    if seen.mentorship.goals_later_at is not None:
        raise Refused("goal.later_agreed_already")
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("goal.later_proposed"),
        values={"name": notify.name_of(user)},
        buttons=[
            [(N_("goal.button.later_agree"), f"g:lok:{mentorship_id}")],
            [(N_("goal.button.later_now"), f"g:lno:{mentorship_id}")],
        ],
        dedupe=f"goals-later:{mentorship_id}:{now.isoformat()}",
        now=now,
        mentorship_id=mentorship_id,
    )
    return seen


async def answer(
    session: AsyncSession, *, mentorship_id: int, user: User, agree: bool, now: datetime
) -> Pairing:
    """The mentor's answer; when they agree, both are told and it is recorded."""
    seen = await _pair(session, mentorship_id=mentorship_id, user=user, role=Role.MENTOR)
    assert seen.partner is not None
    mentorship = seen.mentorship
    if not agree:
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("goal.later_declined"),
            values={"name": notify.name_of(user)},
            buttons=[[(N_("goal.button.new"), f"g:new:{mentorship_id}")]],
            dedupe=f"goals-later:{mentorship_id}:no:{now.isoformat()}",
            now=now,
            mentorship_id=mentorship_id,
        )
        return seen
    if mentorship.goals_later_at is None:
        mentorship.goals_later_at = now
        await mentorships.save(session, mentorship)
        for person, other in ((user, seen.partner), (seen.partner, user)):
            await notify.tell(
                session,
                recipient=person,
                key=N_("goal.later_agreed"),
                values={"name": notify.name_of(other)},
                dedupe=f"goals-later:{mentorship_id}:agreed:{person.id}",
                now=now,
                mentorship_id=mentorship_id,
            )
        # Goals are the adept's: they are the one reminded, once, that "later" has come.
        await notify.queue(
            session,
            recipient=seen.partner,
            kind=REMINDER_KIND,
            dedupe=f"goals-later:{mentorship_id}:remind",
            due_at=now + REMINDER_AFTER,
            payload={"mentorship_id": mentorship_id},
            mentorship_id=mentorship_id,
        )
    return seen


async def reminder_wanted(
    session: AsyncSession, *, mentorship_id: int, user: User
) -> Pairing | None:
    """The pair, if the adept should still be reminded: the mentorship is under way and
    they have not started a goal meanwhile (a draft counts: they have begun)."""
    assert user.id is not None
    seen = await mentorships.pairing(session, mentorship_id=mentorship_id, user_id=user.id)
    if (
        seen is None
        or seen.partner is None
        or seen.me.role != Role.ADEPT
        or seen.mentorship.state != MentorshipState.ACTIVE
    ):
        return None
    started = [
        goal
        for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id)
        if goal.owner_id == user.id
    ]
    return None if started else seen
