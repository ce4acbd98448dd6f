"""After pairing: the adept's areas, both decisions, and mutual confidentiality."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.mentorship import IntroDecision, IntroOutcome, check_transition, intro_outcome
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.pairing import member_view
from storage import mentorships
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
    if seen.me.intro_decision is not None:
        raise Refused(f"intro.already_decided_{seen.me.intro_decision}")
    assert seen.partner is not None and seen.partner_membership is not None
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
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("intro.partner_stopped"),
            values={"name": name},
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


async def save_private_reason(
    session: AsyncSession, *, mentorship_id: int, user: User, reason: str
) -> None:
    """Kept for its author only; the partner is never shown it."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.me.intro_decision != IntroDecision.STOP:
        raise Refused("common.stale_button")
    seen.me.intro_private_reason = reason.strip()[:AREAS_MAX_CHARS]
    await mentorships.save(session, seen.me)


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
