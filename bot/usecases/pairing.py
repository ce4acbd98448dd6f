"""Starting a mentorship: invitations, answering them, and choosing the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import invites as rules
from bot.domain.mentorship import OPEN_STATES, check_transition, other_role
from bot.i18n import N_, Phrase, t
from bot.usecases import Refused, notify
from bot.usecases import programmes as programmes_uc
from storage import mentorships, users
from storage.mentorships import Pairing
from storage.models import Invite, Mentorship, MentorshipState, Role, User

# Keys built from an `InviteProblem` value in `_usable_invite`.
PROBLEM_TEXTS = (
    N_("invite.problem.malformed"),
    N_("invite.problem.unknown"),
    N_("invite.problem.own"),
    N_("invite.problem.used"),
    N_("invite.problem.declined"),
    N_("invite.problem.revoked"),
    N_("invite.problem.expired"),
)

# A party who has not decided a few days after pairing is reminded once.
INTRO_REMINDER_AFTER = timedelta(days=4)


@dataclass(frozen=True, slots=True)
class InvitationView:
    invite: Invite
    inviter: User
    role_for_me: Role


FORMER_PARTICIPANT = N_("privacy.former_participant")


def display_name(user: User) -> str:
    """How others see this person; someone who erased their data is a "former participant"
    (in the language of the text the name is put into, see `bot.i18n.Phrase`)."""
    if user.erased_at is not None:
        return Phrase(FORMER_PARTICIPANT, t(user.language, FORMER_PARTICIPANT))
    return f"{user.first_name} {user.last_name}".strip() if user.last_name else user.first_name


async def create_invitation(
    session: AsyncSession, *, creator: User, role: str, now: datetime, ttl_days: int
) -> Invite:
    if role not in (Role.MENTOR, Role.ADEPT):
        raise Refused("pairing.unknown_role")
    programme = await programmes_uc.for_new_pair(session, user=creator, now=now)
    mentorship = await mentorships.create(
        session, creator=creator, role=role, state=MentorshipState.INVITED
    )
    assert mentorship.id is not None and creator.id is not None
    mentorship.programme_id = programme.id
    await programmes_uc.join_as(session, programme=programme, user=creator, role=role, now=now)
    await mentorships.record_transition(
        session,
        mentorship=mentorship,
        to_state=MentorshipState.INVITED,
        actor_id=creator.id,
        at=now,
        reason="created",
    )
    return await mentorships.add_invite(
        session,
        invite=Invite(
            code=rules.new_code(),
            mentorship_id=mentorship.id,
            created_by_id=creator.id,
            inviter_role=role,
            created_at=now,
            expires_at=now + timedelta(days=ttl_days),
        ),
    )


async def _usable_invite(
    session: AsyncSession, *, code: str, user: User, now: datetime
) -> tuple[Invite, User]:
    assert user.id is not None
    if not rules.looks_like_code(code):
        raise Refused("invite.problem.malformed")
    invite = await mentorships.invite_by_code(session, code=code)
    problem = rules.problem_with(invite, user_id=user.id, now=now)
    inviter = await users.get(session, user_id=invite.created_by_id) if invite else None
    name = display_name(inviter) if inviter else ""
    if problem is not None:
        expired_on = invite.expires_at.date() if invite else ""
        raise Refused(f"invite.problem.{problem.value}", name=name, date=expired_on)
    assert invite is not None and inviter is not None
    await refuse_a_second_pair(session, user=user, other=inviter)
    return invite, inviter


async def refuse_a_second_pair(session: AsyncSession, *, user: User, other: User) -> None:
    """Two people have one open mentorship together at most, however it was started."""
    assert user.id is not None
    for existing in await mentorships.pairings_of(session, user_id=user.id, states=OPEN_STATES):
        if existing.partner is not None and existing.partner.id == other.id:
            raise Refused(N_("invite.problem.already_paired"), name=display_name(other))


async def _open_programme(
    session: AsyncSession, *, invite: Invite, user: User, now: datetime
) -> None:
    """A programme that closed after the invitation was made starts no new pair."""
    mentorship = await mentorships.get(session, mentorship_id=invite.mentorship_id)
    assert mentorship is not None
    programme = await programmes_uc.of_pair(session, mentorship=mentorship, now=now)
    programmes_uc.check_open_for_pairs(programme, user.language)


async def view_invitation(
    session: AsyncSession, *, code: str, user: User, now: datetime
) -> InvitationView:
    invite, inviter = await _usable_invite(session, code=code, user=user, now=now)
    await _open_programme(session, invite=invite, user=user, now=now)
    return InvitationView(invite, inviter, other_role(invite.inviter_role))


def intro_buttons(mentorship_id: int, role: str) -> notify.Buttons:
    """Buttons under the intro guide: roles and conduct, areas (adept), the decision."""
    # What each role is, and how we treat each other, before they first meet.
    rows: notify.Buttons = [[(N_("roles.button"), "roles"), (N_("conduct.button"), "sup:coc")]]
    if role == Role.ADEPT:
        rows.append([(N_("intro.button.areas"), f"intro:areas:{mentorship_id}")])
    rows.append(
        [
            (N_("intro.button.continue"), f"intro:yes:{mentorship_id}"),
            (N_("intro.button.stop"), f"intro:no:{mentorship_id}"),
        ]
    )
    return rows


async def accept_invitation(
    session: AsyncSession, *, code: str, user: User, now: datetime
) -> Pairing:
    invite, inviter = await _usable_invite(session, code=code, user=user, now=now)
    await _open_programme(session, invite=invite, user=user, now=now)
    mentorship = await mentorships.get(session, mentorship_id=invite.mentorship_id)
    assert mentorship is not None and user.id is not None
    invite.used_at, invite.used_by_id = now, user.id
    await mentorships.save(session, invite)
    return await begin_intro(
        session,
        mentorship=mentorship,
        joiner=user,
        joiner_role=other_role(invite.inviter_role),
        other=inviter,
        other_role=invite.inviter_role,
        told=N_("pairing.accepted_to_inviter"),
        now=now,
    )


async def begin_intro(
    session: AsyncSession,
    *,
    mentorship: Mentorship,
    joiner: User,
    joiner_role: str,
    other: User,
    other_role: str,
    told: str,
    now: datetime,
) -> Pairing:
    """The second person joins an invited pair, which moves into the intro phase.

    The one way a mentorship starts, whether an invitation was accepted or a mentor
    accepted a request from the directory (`bot.usecases.directory`): the joiner
    becomes a member of the pair and of its programme, INVITED→INTRO is recorded,
    `other` is told (`told`, with the joiner's name) and gets the intro guide, and
    both are reminded of the intro decision. Returns the pair as the joiner sees it.
    """
    assert mentorship.id is not None and joiner.id is not None
    target = check_transition(mentorship.state, MentorshipState.INTRO)
    await mentorships.add_member(session, mentorship=mentorship, user=joiner, role=joiner_role)
    programme = await programmes_uc.of_pair(session, mentorship=mentorship, now=now)
    await programmes_uc.join_as(
        session, programme=programme, user=joiner, role=joiner_role, now=now
    )
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=joiner.id, at=now
    )
    joiner.current_mentorship_id = other.current_mentorship_id = mentorship.id
    await mentorships.save(session, joiner, other)

    await notify.tell(
        session,
        recipient=other,
        key=told,
        values={"name": notify.name_of(joiner)},
        dedupe=f"pair:{mentorship.id}:accepted",
        now=now,
        mentorship_id=mentorship.id,
    )
    await notify.tell(
        session,
        recipient=other,
        key=f"intro.guide.{other_role}",
        values={"name": notify.name_of(joiner)},
        buttons=intro_buttons(mentorship.id, other_role),
        dedupe=f"pair:{mentorship.id}:guide:{other.id}",
        now=now,
        mentorship_id=mentorship.id,
    )
    for member in (joiner, other):
        await notify.queue(
            session,
            recipient=member,
            kind="intro_decision_reminder",
            dedupe=f"intro:{mentorship.id}:remind:{member.id}",
            due_at=now + INTRO_REMINDER_AFTER,
            payload={"mentorship_id": mentorship.id},
            mentorship_id=mentorship.id,
        )
    found = await mentorships.pairing(session, mentorship_id=mentorship.id, user_id=joiner.id)
    assert found is not None
    return found


async def decline_invitation(
    session: AsyncSession, *, code: str, user: User, now: datetime
) -> User:
    """Turn an invitation down; returns the inviter (who is told kindly)."""
    invite, inviter = await _usable_invite(session, code=code, user=user, now=now)
    mentorship = await mentorships.get(session, mentorship_id=invite.mentorship_id)
    assert mentorship is not None and mentorship.id is not None
    target = check_transition(mentorship.state, MentorshipState.DECLINED)
    invite.declined_at, invite.used_by_id = now, user.id
    await mentorships.save(session, invite)
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now, reason="declined"
    )
    await notify.tell(
        session,
        recipient=inviter,
        key=N_("pairing.declined_to_inviter"),
        values={"name": notify.name_of(user)},
        dedupe=f"pair:{mentorship.id}:declined",
        now=now,
        mentorship_id=mentorship.id,
    )
    return inviter


async def revoke_invitation(
    session: AsyncSession, *, invite_id: int, user: User, now: datetime
) -> None:
    invite = await mentorships.invite_by_id(session, invite_id=invite_id)
    if invite is None or invite.created_by_id != user.id:
        raise Refused("common.not_yours")
    if not rules.is_open(invite, now=now):
        raise Refused("pairing.revoke_too_late")
    mentorship = await mentorships.get(session, mentorship_id=invite.mentorship_id)
    assert mentorship is not None
    target = check_transition(mentorship.state, MentorshipState.DECLINED)
    invite.revoked_at = now
    await mentorships.save(session, invite)
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now, reason="revoked"
    )


async def member_view(session: AsyncSession, *, mentorship_id: int, user: User) -> Pairing:
    """The mentorship as this user sees it; refused for anyone who is not a member."""
    assert user.id is not None
    found = await mentorships.pairing(session, mentorship_id=mentorship_id, user_id=user.id)
    if found is None:
        raise Refused("common.not_yours")
    return found


async def choose_current(session: AsyncSession, *, user: User, mentorship_id: int) -> Pairing:
    found = await member_view(session, mentorship_id=mentorship_id, user=user)
    user.current_mentorship_id = mentorship_id
    await mentorships.save(session, user)
    return found


@dataclass(frozen=True, slots=True)
class Choice:
    """Which mentorship a command acts on: `chosen`, or `options` to ask about."""

    chosen: Pairing | None
    options: list[Pairing]


async def resolve(
    session: AsyncSession, *, user: User, states: frozenset[str] = OPEN_STATES
) -> Choice:
    """The mentorship a command means: the only one, or the remembered current one."""
    assert user.id is not None
    options = [
        p
        for p in await mentorships.pairings_of(session, user_id=user.id, states=states)
        if p.partner is not None
    ]
    if len(options) == 1:
        return Choice(options[0], options)
    current = next((p for p in options if p.mentorship.id == user.current_mentorship_id), None)
    return Choice(current, options)
