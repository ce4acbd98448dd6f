"""Drafting, reviewing and accepting the collaboration contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import contract as rules
from bot.domain.mentorship import check_transition
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.pairing import display_name, member_view
from storage import contracts, mentorships
from storage.mentorships import Pairing
from storage.models import Contract, MentorshipState, Role, User

OPEN_FOR_CONTRACT = frozenset({MentorshipState.INTRO, MentorshipState.ACTIVE})


@dataclass(frozen=True, slots=True)
class ContractStatus:
    """What /contract should show this user right now."""

    pairing: Pairing
    in_force: Contract | None
    latest: Contract | None

    @property
    def my_draft(self) -> Contract | None:
        """An unsent version this user is writing."""
        latest = self.latest
        if (
            latest
            and latest.submitted_at is None
            and latest.drafted_by_id == self.pairing.me.user_id
        ):
            return latest
        return None

    @property
    def awaiting_me(self) -> Contract | None:
        """A sent version the partner wrote and this user has not accepted yet."""
        latest = self.latest
        if latest is None or latest.submitted_at is None or rules.accepted_by_both(latest):
            return None
        mine = (
            latest.adept_accepted_at
            if self.pairing.me.role == Role.ADEPT
            else latest.mentor_accepted_at
        )
        return latest if mine is None else None


def _ready_for_contract(seen: Pairing) -> None:
    state = seen.mentorship.state
    if state == MentorshipState.INVITED or seen.partner is None:
        raise Refused("intro.not_paired_yet")
    if state not in OPEN_FOR_CONTRACT:
        raise Refused("contract.mentorship_over")
    if state == MentorshipState.INTRO:
        members = [seen.me, seen.partner_membership]
        if not all(m is not None and m.intro_decision == "continue" for m in members):
            raise Refused("intro.decide_first")
        if not all(m is not None and m.confidentiality_agreed_at for m in members):
            raise Refused("contract.confidentiality_first")


async def status(session: AsyncSession, *, mentorship_id: int, user: User) -> ContractStatus:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    return ContractStatus(
        seen,
        await contracts.in_force(session, mentorship_id=mentorship_id),
        await contracts.latest(session, mentorship_id=mentorship_id),
    )


async def open_draft(session: AsyncSession, *, mentorship_id: int, user: User) -> Contract:
    """The draft this user writes: resumed, or started (the first one by the adept)."""
    current = await status(session, mentorship_id=mentorship_id, user=user)
    _ready_for_contract(current.pairing)
    if current.my_draft is not None:
        return current.my_draft
    latest = current.latest
    if latest is not None and latest.submitted_at is None:
        raise Refused(N_("contract.partner_is_drafting"), name=_partner_name(current.pairing))
    if latest is not None and not rules.accepted_by_both(latest):
        if current.awaiting_me is not None:
            raise Refused("contract.answer_first")
        raise Refused(N_("contract.waiting_for_partner"), name=_partner_name(current.pairing))
    if current.in_force is None and current.pairing.me.role != Role.ADEPT:
        raise Refused(N_("contract.adept_drafts_first"), name=_partner_name(current.pairing))
    assert user.id is not None
    return await contracts.new_version(
        session, mentorship_id=mentorship_id, drafted_by_id=user.id, based_on=current.in_force
    )


async def _my_draft(session: AsyncSession, *, contract_id: int, user: User) -> Contract:
    contract = await contracts.get(session, contract_id=contract_id)
    if contract is None:
        raise Refused("common.stale_button")
    await member_view(session, mentorship_id=contract.mentorship_id, user=user)
    if contract.drafted_by_id != user.id or contract.submitted_at is not None:
        raise Refused("contract.not_your_draft")
    return contract


async def set_term(
    session: AsyncSession, *, contract_id: int, user: User, term: str, value: str
) -> Contract:
    """Store one term of the draft; typed values are checked by the domain rules."""
    contract = await _my_draft(session, contract_id=contract_id, user=user)
    try:
        if term == "aims":
            contract.aims = rules.clean_aims(value)
        elif term == "duration_months":
            contract.duration_months = rules.parse_duration(value)
        elif term in rules.CHOICES:
            setattr(contract, term, rules.check_choice(term, value))
        else:
            raise Refused("common.stale_button")
    except rules.TermRefused as refused:
        raise Refused(f"contract.refused.{refused.reason}") from None
    await mentorships.save(session, contract)
    return contract


async def submit(session: AsyncSession, *, contract_id: int, user: User, now: datetime) -> Contract:
    """Send the draft to the partner; sending it counts as the author's acceptance."""
    contract = await _my_draft(session, contract_id=contract_id, user=user)
    if rules.first_missing(contract) is not None:
        raise Refused("contract.incomplete")
    seen = await member_view(session, mentorship_id=contract.mentorship_id, user=user)
    assert seen.partner is not None
    contract.submitted_at = now
    contract.change_request = None
    if seen.me.role == Role.ADEPT:
        contract.adept_accepted_at = now
    else:
        contract.mentor_accepted_at = now
    await mentorships.save(session, contract)
    await notify.queue(
        session,
        recipient=seen.partner,
        kind="contract_review",
        dedupe=f"contract:{contract.id}:review:{now.isoformat()}",
        due_at=now,
        payload={"contract_id": contract.id},
        mentorship_id=contract.mentorship_id,
    )
    return contract


async def _awaiting(session: AsyncSession, *, contract_id: int, user: User) -> ContractStatus:
    contract = await contracts.get(session, contract_id=contract_id)
    if contract is None:
        raise Refused("common.stale_button")
    current = await status(session, mentorship_id=contract.mentorship_id, user=user)
    if current.awaiting_me is None or current.awaiting_me.id != contract.id:
        raise Refused("contract.version_replaced")
    return current


@dataclass(frozen=True, slots=True)
class Acceptance:
    contract: Contract
    activated: bool
    start: date | None
    planned_end: date | None


async def accept(
    session: AsyncSession, *, contract_id: int, user: User, now: datetime, today: date
) -> Acceptance:
    current = await _awaiting(session, contract_id=contract_id, user=user)
    contract, seen = current.awaiting_me, current.pairing
    assert contract is not None and seen.partner is not None
    _ready_for_contract(seen)
    if seen.me.role == Role.ADEPT:
        contract.adept_accepted_at = now
    else:
        contract.mentor_accepted_at = now
    await mentorships.save(session, contract)
    members = [m for m in (seen.me, seen.partner_membership) if m is not None]
    if not rules.may_activate(contract, members):
        raise Refused("contract.confidentiality_first")
    mentorship = seen.mentorship
    assert contract.duration_months is not None
    activated = mentorship.state == MentorshipState.INTRO
    if activated:
        target = check_transition(mentorship.state, MentorshipState.ACTIVE)
        mentorship.started_at = now
        await mentorships.record_transition(
            session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now
        )
    start = (mentorship.started_at or now).date() if not activated else today
    mentorship.planned_end = rules.add_months(start, contract.duration_months)
    mentorship.mode = contract.mode
    await mentorships.save(session, mentorship)
    for member, other in ((user, seen.partner), (seen.partner, user)):
        await notify.tell(
            session,
            recipient=member,
            key=N_("contract.active") if activated else N_("contract.change_accepted"),
            values={
                "name": display_name(other),
                "start": start,
                "end": mentorship.planned_end,
            },
            dedupe=f"contract:{contract.id}:agreed:{member.id}",
            now=now,
            mentorship_id=mentorship.id,
        )
    return Acceptance(contract, activated, start, mentorship.planned_end)


async def start_change_request(session: AsyncSession, *, contract_id: int, user: User) -> Contract:
    """Check that this version awaits `user`, and make its mentorship their current one."""
    current = await _awaiting(session, contract_id=contract_id, user=user)
    assert current.awaiting_me is not None
    user.current_mentorship_id = current.pairing.mentorship.id
    await mentorships.save(session, user)
    return current.awaiting_me


async def request_change(
    session: AsyncSession, *, mentorship_id: int, user: User, comment: str, now: datetime
) -> Pairing:
    """Send the version awaiting `user` back to its author with a comment to revise it."""
    current = await status(session, mentorship_id=mentorship_id, user=user)
    contract, seen = current.awaiting_me, current.pairing
    if contract is None:
        raise Refused("contract.version_replaced")
    assert seen.partner is not None
    cleaned = comment.strip()
    if len(cleaned) < 3:
        raise Refused("contract.comment_empty")
    contract.change_request = cleaned[:3000]
    contract.submitted_at = None
    contract.adept_accepted_at = contract.mentor_accepted_at = None
    await mentorships.save(session, contract)
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("contract.change_requested"),
        values={"name": display_name(user), "comment": contract.change_request},
        buttons=[[(N_("contract.button.revise"), f"ctr:draft:{contract.mentorship_id}")]],
        dedupe=f"contract:{contract.id}:change:{now.isoformat()}",
        now=now,
        mentorship_id=contract.mentorship_id,
    )
    return seen


def _partner_name(seen: Pairing) -> str:
    return display_name(seen.partner) if seen.partner else ""
