"""Drafting, reviewing and accepting the collaboration contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import contract as rules
from bot.domain.mentorship import check_transition
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases.goals import send_ready
from bot.usecases.pairing import display_name, member_view
from storage import contracts, mentorships
from storage.mentorships import Pairing
from storage.models import Contract, Mentorship, MentorshipState, Role, User

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

    @property
    def to_write(self) -> bool:
        """Nothing to answer, in force or sent and waiting: /contract opens a draft."""
        latest, in_force = self.latest, self.in_force
        if self.awaiting_me is not None:
            return False
        if in_force is not None and latest is not None and latest.id == in_force.id:
            return False
        return latest is None or latest.submitted_at is None


@dataclass(frozen=True, slots=True)
class Draft:
    """An unsent version this user writes, with the mentorship as they see it."""

    contract: Contract
    pairing: Pairing


@dataclass(frozen=True, slots=True)
class Overview:
    """What /contract shows: the status, and the draft it opened when it is this user's turn."""

    status: ContractStatus
    draft: Draft | None


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
    found = await draft_to_write(session, mentorship_id=mentorship_id, user=user)
    return found.contract


async def draft_to_write(session: AsyncSession, *, mentorship_id: int, user: User) -> Draft:
    """`open_draft`, with the mentorship as this user sees it (for the review card)."""
    current = await status(session, mentorship_id=mentorship_id, user=user)
    return Draft(await _open(session, current, user=user), current.pairing)


async def overview(session: AsyncSession, *, mentorship_id: int, user: User) -> Overview:
    """What /contract shows now; when it is this user's turn to write, the draft is opened."""
    current = await status(session, mentorship_id=mentorship_id, user=user)
    if not current.to_write:
        return Overview(current, None)
    return Overview(current, Draft(await _open(session, current, user=user), current.pairing))


async def _open(session: AsyncSession, current: ContractStatus, *, user: User) -> Contract:
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
    mentorship_id = current.pairing.mentorship.id
    assert mentorship_id is not None and user.id is not None
    return await contracts.new_version(
        session, mentorship_id=mentorship_id, drafted_by_id=user.id, based_on=current.in_force
    )


async def current_draft(session: AsyncSession, *, user: User) -> Draft:
    """The unsent draft this user writes in their current mentorship (a typed answer's target).

    Gone (sent, replaced, or never begun): the flow ends.
    """
    mentorship_id = user.current_mentorship_id
    if mentorship_id is not None:
        current = await status(session, mentorship_id=mentorship_id, user=user)
        if current.my_draft is not None:
            return Draft(current.my_draft, current.pairing)
    raise Refused("common.stale_button")


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
    await _set(session, contract, term=term, value=value)
    return contract


async def answer_current_draft(
    session: AsyncSession, *, user: User, term: str, value: str
) -> Draft:
    """A typed answer or a choice for the current draft.

    A refused value keeps the person at the question; a draft that is gone ends the flow.
    """
    draft = await current_draft(session, user=user)
    await _set(session, draft.contract, term=term, value=value)
    return draft


async def _set(session: AsyncSession, contract: Contract, *, term: str, value: str) -> None:
    # Refused values can be corrected (or another button pressed): the person stays.
    try:
        if term == "aims":
            contract.aims = rules.clean_aims(value)
        elif term == "duration_months":
            contract.duration_months = rules.parse_duration(value)
        elif term in rules.CHOICES:
            setattr(contract, term, rules.check_choice(term, value))
        else:
            raise Refused("common.stale_button", stay=True)
    except rules.TermRefused as refused:
        raise Refused(f"contract.refused.{refused.reason}", stay=True) from None
    await mentorships.save(session, contract)


async def submit(session: AsyncSession, *, contract_id: int, user: User, now: datetime) -> Contract:
    """Send the draft to the partner; sending it counts as the author's acceptance."""
    contract = await _my_draft(session, contract_id=contract_id, user=user)
    seen = await member_view(session, mentorship_id=contract.mentorship_id, user=user)
    await _submit(session, Draft(contract, seen), now=now)
    return contract


async def send_current_draft(session: AsyncSession, *, user: User, now: datetime) -> Draft:
    """Send the current draft (the review card's button)."""
    draft = await current_draft(session, user=user)
    await _submit(session, draft, now=now)
    return draft


async def _submit(session: AsyncSession, draft: Draft, *, now: datetime) -> None:
    contract, seen = draft.contract, draft.pairing
    if rules.first_missing(contract) is not None:
        raise Refused("contract.incomplete")
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
    adept, mentor = (user, seen.partner) if seen.me.role == Role.ADEPT else (seen.partner, user)
    drafted = 0
    if activated:
        assert mentorship.id is not None
        drafted = await send_ready(session, mentorship_id=mentorship.id, mentor=mentor, now=now)
    for member, other in ((user, seen.partner), (seen.partner, user)):
        await notify.tell(
            session,
            recipient=member,
            key=N_("contract.active") if activated else N_("contract.change_accepted"),
            values={
                "name": notify.name_of(other),
                "start": start,
                "end": mentorship.planned_end,
            },
            buttons=_next_steps(mentorship, adept=member is adept, drafted=drafted)
            if activated
            else None,
            dedupe=f"contract:{contract.id}:agreed:{member.id}",
            now=now,
            mentorship_id=mentorship.id,
        )
    if drafted:
        await notify.tell(
            session,
            recipient=adept,
            key=N_("goal.ready_sent"),
            values={"name": notify.name_of(mentor)},
            dedupe=f"contract:{contract.id}:drafts-sent",
            now=now,
            mentorship_id=mentorship.id,
        )
    return Acceptance(contract, activated, start, mentorship.planned_end)


def _next_steps(mentorship: Mentorship, *, adept: bool, drafted: int) -> notify.Buttons:
    """The first steps once active: the adept writes a goal and books a meeting (or both
    agree to set goals later); the mentor sees the goals as they come."""
    if not adept:
        return [[(N_("goal.button.all"), f"g:lst:{mentorship.id}")]]
    rows: notify.Buttons = [
        [(N_("goal.button.new"), f"g:new:{mentorship.id}")],
        [(N_("meetings.button.book"), f"ms:pick:{mentorship.id}:book")],
    ]
    if not drafted and mentorship.goals_later_at is None:
        rows.append([(N_("goal.button.later"), f"g:later:{mentorship.id}")])
    return rows


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
        raise Refused("contract.comment_empty", stay=True)  # retyped at the same step
    contract.change_request = cleaned[:3000]
    contract.submitted_at = None
    contract.adept_accepted_at = contract.mentor_accepted_at = None
    await mentorships.save(session, contract)
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("contract.change_requested"),
        values={
            "name": notify.name_of(user),
            "comment": notify.text_of(Contract, contract.id, "change_request"),
        },
        buttons=[[(N_("contract.button.revise"), f"ctr:draft:{contract.mentorship_id}")]],
        dedupe=f"contract:{contract.id}:change:{now.isoformat()}",
        now=now,
        mentorship_id=contract.mentorship_id,
    )
    return seen


def _partner_name(seen: Pairing) -> str:
    return display_name(seen.partner) if seen.partner else ""
