"""Acting on signals, privately and kindly: the chemistry check after the first meetings
and a gentle word when a meeting is called off inside the agreed notice.

Each message goes to one person only and asks nothing of the partner; what the person
answers to the chemistry check is not stored or passed on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import signals as rules
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.pairing import member_view
from storage import contracts, meetings, outbox, planning
from storage.mentorships import Pairing
from storage.models import Meeting, MentorshipState, User

CHEMISTRY_KIND = "chemistry_check"
SHORT_NOTICE_KIND = "short_notice"
# The chemistry check is about a pair still getting going; once closing, it is moot.
CHEMISTRY_STATES = frozenset({MentorshipState.ACTIVE})
# How the notice reads, in the contract's own words.
NOTICE_NAMES = {
    "24h": N_("contract.value.cancel_notice.24h"),
    "48h": N_("contract.value.cancel_notice.48h"),
    "1w": N_("contract.value.cancel_notice.1w"),
}


# -- the chemistry check ----------------------------------------------------------------------


def chemistry_key(*, mentorship_id: int, user_id: int) -> str:
    return f"chemistry:{mentorship_id}:{user_id}"


async def plan_chemistry(
    session: AsyncSession, *, now: datetime, batch: int = planning.BATCH
) -> int:
    """Ask each person of every active pair, once, whether the chemistry works, a day after
    their second meeting; returns how many messages were queued. Safe to run any number
    of times and from two processes at once: the key names the pair and the person.

    The pairs are read `batch` at a time, a few statements each, committed per batch.
    """
    queued = 0
    async for pairs in planning.walk(session, states=CHEMISTRY_STATES, size=batch):
        ids = [pair.id for pair in pairs]
        second = await planning.nth_held(
            session, mentorship_ids=ids, n=rules.CHEMISTRY_AFTER_MEETINGS, now=now
        )
        due = {
            m: rules.chemistry_due(held.starts_at + timedelta(minutes=held.minutes))
            for m, held in second.items()
        }
        ready = sorted(m for m, at in due.items() if at <= now)
        if not ready:
            await session.commit()
            continue
        people = await planning.members(session, mentorship_ids=ready)
        keys = {
            (p.mentorship_id, p.user_id): chemistry_key(
                mentorship_id=p.mentorship_id, user_id=p.user_id
            )
            for p in people
        }
        sent = await planning.existing_keys(session, keys=keys.values())
        rows = [
            outbox.Queued(
                key=keys[(p.mentorship_id, p.user_id)],
                recipient_id=p.user_id,
                kind=CHEMISTRY_KIND,
                due_at=due[p.mentorship_id],
                payload={"mentorship_id": p.mentorship_id},
                mentorship_id=p.mentorship_id,
            )
            for p in people
            # As in notify.queue: nothing reaches someone who erased their data.
            if keys[(p.mentorship_id, p.user_id)] not in sent and not p.erased
        ]
        queued += await outbox.enqueue_many(session, rows)
        await session.commit()
    return queued


async def chemistry_wanted(
    session: AsyncSession, *, mentorship_id: int, user: User
) -> Pairing | None:
    """The pair while the chemistry question still makes sense: `user` is a member, the
    partner is there, and the mentorship is active."""
    try:
        seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    except Refused:
        return None
    if seen.partner is None or seen.mentorship.state not in CHEMISTRY_STATES:
        return None
    return seen


async def chemistry_answer(
    session: AsyncSession, *, mentorship_id: int, user: User, answer: str
) -> Pairing:
    """What the person answered, re-checked against who pressed: nothing is written."""
    if answer not in rules.CHEMISTRY_ANSWERS:
        raise Refused("common.stale_button")
    seen = await chemistry_wanted(session, mentorship_id=mentorship_id, user=user)
    if seen is None:
        raise Refused("signals.chemistry_moot")
    return seen


# -- cancelling inside the agreed notice -------------------------------------------------------


async def mind_the_notice(
    session: AsyncSession, *, meeting: Meeting, user: User, now: datetime
) -> None:
    """Called where a confirmed meeting is cancelled or moved, before it changes: when
    it is later than the contract's cancellation notice, `user` (who called it off) gets
    a gentle word about it. The partner is told of the change as before, nothing more."""
    if meeting.state != "confirmed" or meeting.id is None:
        return
    contract = await contracts.in_force(session, mentorship_id=meeting.mentorship_id)
    notice = contract.cancel_notice if contract is not None else None
    if not rules.inside_notice(cancel_notice=notice, starts_at=meeting.starts_at, now=now):
        return
    await notify.queue(
        session,
        recipient=user,
        kind=SHORT_NOTICE_KIND,
        dedupe=f"meeting:{meeting.id}:short_notice:{meeting.ics_sequence}:{user.id}",
        due_at=now,
        payload={"meeting_id": meeting.id, "notice": notice},
        mentorship_id=meeting.mentorship_id,
        meeting_id=meeting.id,
    )


async def short_notice_view(
    session: AsyncSession, *, meeting_id: int, user: User
) -> Pairing | None:
    """The pair of a meeting `user` still belongs to, for the short-notice word."""
    meeting = await meetings.get(session, meeting_id=meeting_id)
    if meeting is None:
        return None
    try:
        return await member_view(session, mentorship_id=meeting.mentorship_id, user=user)
    except Refused:
        return None
