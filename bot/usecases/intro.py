"""After pairing: the adept's areas, both decisions, and mutual confidentiality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.mentorship import IntroDecision, IntroOutcome, check_transition, intro_outcome
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.meetings import cancel_ahead
from bot.usecases.pairing import display_name, member_view
from storage import meetings, mentorships
from storage.mentorships import Pairing
from storage.models import Membership, MentorshipState, Role, User

AREAS_MAX_CHARS = 4000
DECIDED_TEXTS = (N_("intro.already_decided_continue"), N_("intro.already_decided_stop"))


async def _in_intro(session: AsyncSession, *, mentorship_id: int, user: User) -> Pairing:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.mentorship.state == MentorshipState.INVITED or seen.partner is None:
        raise Refused("intro.not_paired_yet")
    if seen.mentorship.state != MentorshipState.INTRO:
        raise Refused("intro.already_past")
    return seen


async def start_areas(session: AsyncSession, *, mentorship_id: int, user: User) -> Pairing:
    """Only the adept writes the areas, and only while the intro is under way."""
    seen = await _in_intro(session, mentorship_id=mentorship_id, user=user)
    if seen.me.role != Role.ADEPT:
        raise Refused("intro.areas_adept_only")
    return seen


async def save_areas(
    session: AsyncSession, *, mentorship_id: int, user: User, text: str, now: datetime
) -> Pairing:
    seen = await start_areas(session, mentorship_id=mentorship_id, user=user)
    # A typed answer that can be corrected: the person stays at the question.
    cleaned = text.strip()
    if len(cleaned) < 3:
        raise Refused("intro.areas_empty", stay=True)
    if len(cleaned) > AREAS_MAX_CHARS:
        raise Refused(
            N_("intro.areas_too_long"), stay=True, limit=AREAS_MAX_CHARS, length=len(cleaned)
        )
    seen.me.intro_areas = cleaned
    await mentorships.save(session, seen.me)
    assert seen.partner is not None
    # A new version of the areas replaces an unsent older one (same dedupe key prefix + time).
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("intro.areas_to_mentor"),
        values={
            "name": notify.name_of(user),
            "areas": notify.text_of(Membership, seen.me.id, "intro_areas"),
        },
        dedupe=f"intro:{mentorship_id}:areas:{now.isoformat()}",
        now=now,
        mentorship_id=mentorship_id,
    )
    return seen


async def decide(
    session: AsyncSession, *, mentorship_id: int, user: User, decision: str, now: datetime
) -> IntroOutcome:
    seen = await _in_intro(session, mentorship_id=mentorship_id, user=user)
    if decision not in (IntroDecision.CONTINUE, IntroDecision.STOP):
        raise Refused("common.stale_button")
    assert seen.partner is not None and seen.partner_membership is not None
    if seen.me.intro_decision is not None:
        if seen.partner_membership.intro_decision == seen.me.intro_decision == "continue":
            raise Refused("intro.both_decided", name=display_name(seen.partner))
        raise Refused(f"intro.already_decided_{seen.me.intro_decision}")
    if not await met(session, seen=seen, now=now):
        raise Refused("intro.meet_first")
    seen.me.intro_decision, seen.me.intro_decided_at = decision, now
    await mentorships.save(session, seen.me)
    outcome = intro_outcome(decision, seen.partner_membership.intro_decision)
    name = notify.name_of(user)
    if outcome.someone_stopped:
        target = check_transition(seen.mentorship.state, MentorshipState.ENDED_EARLY)
        seen.mentorship.ended_at, seen.mentorship.end_reason = now, "intro_not_continue"
        await mentorships.record_transition(
            session,
            mentorship=seen.mentorship,
            to_state=target,
            actor_id=user.id,
            at=now,
            reason="intro_not_continue",
        )
        await cancel_ahead(session, seen=seen, user=user, now=now)
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("intro.partner_stopped"),
            values={"name": name},
            buttons=[[(N_("intro.button.few_words"), f"intro:fb:{mentorship_id}")]],
            dedupe=f"intro:{mentorship_id}:stopped",
            now=now,
            mentorship_id=mentorship_id,
        )
    elif outcome.both_continue:
        for member in (user, seen.partner):
            await notify.tell(
                session,
                recipient=member,
                key=N_("intro.both_continue"),
                values={"name": notify.name_of(seen.partner if member is user else user)},
                buttons=[[(N_("intro.button.confidentiality"), f"conf:yes:{mentorship_id}")]],
                dedupe=f"intro:{mentorship_id}:both:{member.id}",
                now=now,
                mentorship_id=mentorship_id,
            )
    else:
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("intro.partner_continues"),
            values={"name": name},
            buttons=[
                [
                    (N_("intro.button.continue"), f"intro:yes:{mentorship_id}"),
                    (N_("intro.button.stop"), f"intro:no:{mentorship_id}"),
                ]
            ],
            dedupe=f"intro:{mentorship_id}:continues:{user.id}",
            now=now,
            mentorship_id=mentorship_id,
        )
    return outcome


async def met(session: AsyncSession, *, seen: Pairing, now: datetime) -> bool:
    """Whether the pair has had its intro meeting: one booked here has ended, or one of
    them said they met outside the bot. Only then is the decision asked for."""
    if seen.mentorship.intro_met_outside_at is not None:
        return True
    assert seen.mentorship.id is not None
    return await meetings.intro_held(session, mentorship_id=seen.mentorship.id, now=now)


async def met_outside(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Pairing:
    """One of the pair says they had the intro meeting outside the bot."""
    seen = await _in_intro(session, mentorship_id=mentorship_id, user=user)
    if seen.mentorship.intro_met_outside_at is None:
        seen.mentorship.intro_met_outside_at = now
        await mentorships.save(session, seen.mentorship)
    return seen


@dataclass(frozen=True, slots=True)
class Readiness:
    seen: Pairing
    met: bool


async def ready_to_decide(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Readiness:
    """Before a decision is asked or confirmed: the decision's own checks, and whether the
    intro meeting has happened (if not, the person is offered to book it or to say they
    met outside the bot). Nothing is written."""
    seen = await _in_intro(session, mentorship_id=mentorship_id, user=user)
    assert seen.partner is not None and seen.partner_membership is not None
    if seen.me.intro_decision is not None:
        if seen.partner_membership.intro_decision == seen.me.intro_decision == "continue":
            raise Refused("intro.both_decided", name=display_name(seen.partner))
        raise Refused(f"intro.already_decided_{seen.me.intro_decision}")
    return Readiness(seen, await met(session, seen=seen, now=now))


def _ended_at_intro(seen: Pairing) -> bool:
    return (
        seen.mentorship.state == MentorshipState.ENDED_EARLY
        and seen.mentorship.end_reason == "intro_not_continue"
    )


async def start_feedback(session: AsyncSession, *, mentorship_id: int, user: User) -> Pairing:
    """Either of the pair may leave a few words after an intro that ended the mentorship."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if not _ended_at_intro(seen):
        raise Refused("common.stale_button")
    user.current_mentorship_id = mentorship_id
    await mentorships.save(session, user)
    return seen


async def save_private_reason(
    session: AsyncSession, *, mentorship_id: int, user: User, reason: str
) -> None:
    """Kept for its author; the other sees it only if the author shares it (`share_reason`)."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if not _ended_at_intro(seen):
        raise Refused("common.stale_button")
    cleaned = reason.strip()
    if not cleaned:
        raise Refused("common.text_please", stay=True)
    seen.me.intro_private_reason = cleaned[:AREAS_MAX_CHARS]
    await mentorships.save(session, seen.me)


async def share_reason(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Pairing:
    """Send the author's few words to the other, as the author chose."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if not _ended_at_intro(seen) or not seen.me.intro_private_reason or seen.partner is None:
        raise Refused("common.stale_button")
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("intro.feedback_from_partner"),
        values={
            "name": notify.name_of(user),
            "words": notify.text_of(Membership, seen.me.id, "intro_private_reason"),
        },
        dedupe=f"intro:{mentorship_id}:words:{user.id}",
        now=now,
        mentorship_id=mentorship_id,
    )
    return seen


async def agree_confidentiality(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> bool:
    """Record the agreement; True once both have agreed."""
    seen = await _in_intro(session, mentorship_id=mentorship_id, user=user)
    assert seen.partner is not None and seen.partner_membership is not None
    if not (seen.me.intro_decision == seen.partner_membership.intro_decision == "continue"):
        raise Refused("intro.decide_first")
    if seen.me.confidentiality_agreed_at is not None:
        raise Refused("intro.confidentiality_already")
    seen.me.confidentiality_agreed_at = now
    await mentorships.save(session, seen.me)
    both = seen.partner_membership.confidentiality_agreed_at is not None
    adept = user if seen.me.role == Role.ADEPT else seen.partner
    mentor = seen.partner if adept is user else user
    if both:
        await notify.tell(
            session,
            recipient=adept,
            key=N_("contract.invite_adept_to_draft"),
            values={"name": notify.name_of(mentor)},
            buttons=[[(N_("contract.button.draft"), f"ctr:draft:{mentorship_id}")]],
            dedupe=f"intro:{mentorship_id}:draft-prompt",
            now=now,
            mentorship_id=mentorship_id,
        )
        await notify.tell(
            session,
            recipient=mentor,
            key=N_("contract.mentor_waits_for_draft"),
            values={"name": notify.name_of(adept)},
            dedupe=f"intro:{mentorship_id}:mentor-waits",
            now=now,
            mentorship_id=mentorship_id,
        )
    else:
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("intro.partner_agreed_confidentiality"),
            values={"name": notify.name_of(user)},
            buttons=[[(N_("intro.button.confidentiality"), f"conf:yes:{mentorship_id}")]],
            dedupe=f"intro:{mentorship_id}:conf:{user.id}",
            now=now,
            mentorship_id=mentorship_id,
        )
    return both
