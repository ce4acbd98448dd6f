"""The mentor directory: adepts browse the published profiles and ask, mentors answer
(writing and publishing a profile is `bot.usecases.profiles`).

Everything is per programme: a profile is seen only by adepts of its programme, and
every button names what it is about by id and is checked again here. Fullness is
`bot.domain.directory.is_full` (open mentorships as mentor in the programme against
the capacity given), checked when the directory is shown, when a request is sent and
when it is accepted. A mentor who became full while a request waited keeps it
pending: they are told kindly and may decline it or give more room in /profile.

Typed answers find what they belong to in the database: the adept's request in state
"draft", the mentor's request declined last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import directory as rules
from bot.domain.mentorship import OPEN_STATES
from bot.i18n import N_
from bot.usecases import Refused, notify, pairing
from bot.usecases.programmes import name_of
from storage import directory, mentorships, programmes, users
from storage.mentorships import Pairing
from storage.models import (
    MentorProfile,
    MentorRequest,
    MentorshipState,
    Programme,
    ProgrammeRole,
    RequestState,
    Role,
    User,
)

# Mentorships that take a mentor's place: the intro phase on (an invitation not yet
# answered does not).
TAKING_A_PLACE = frozenset({MentorshipState.INTRO, MentorshipState.ACTIVE, MentorshipState.CLOSING})
WAITING = frozenset({RequestState.PENDING})


def typed(text: str, *, limit: int) -> str:
    """A typed answer, trimmed; empty or over `limit` is refused and the person stays at
    the question to type it again."""
    text = text.strip()
    if not text:
        raise Refused(N_("directory.profile.empty"), stay=True)
    if len(text) > limit:
        raise Refused(N_("directory.profile.too_long"), stay=True, limit=limit, length=len(text))
    return text


# -- which programme ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgrammeChoice:
    """The programme a command means (`chosen`), or the ones to ask about."""

    chosen: Programme | None
    options: list[Programme]


async def programme_for(session: AsyncSession, *, user: User, role: str) -> ProgrammeChoice:
    """The person's current programme if they hold `role` there, else the only open one
    where they do; otherwise the options to choose from (none: not in any)."""
    assert user.id is not None
    options = [
        programme
        for programme, roles in await programmes.programmes_of(session, user_id=user.id)
        if role in roles and programme.closed_at is None
    ]
    current = next((p for p in options if p.id == user.current_programme_id), None)
    if current is not None:
        return ProgrammeChoice(current, options)
    return ProgrammeChoice(options[0] if len(options) == 1 else None, options)


async def in_programme(
    session: AsyncSession, *, user: User, programme_id: int, role: str
) -> Programme:
    assert user.id is not None
    programme = await programmes.get(session, programme_id=programme_id)
    roles = await programmes.roles_in(session, programme_id=programme_id, user_id=user.id)
    if programme is None or programme.closed_at is not None or role not in roles:
        raise Refused(f"directory.not_{role}")
    return programme


async def choose_programme(
    session: AsyncSession, *, user: User, programme_id: int, role: str
) -> Programme:
    """A programme picked from the buttons: remembered as the person's current one."""
    programme = await in_programme(session, user=user, programme_id=programme_id, role=role)
    user.current_programme_id = programme.id
    await directory.save(session, user)
    return programme


async def current_programme(session: AsyncSession, *, user: User, role: str) -> Programme:
    if user.current_programme_id is None:
        raise Refused(f"directory.not_{role}")
    return await in_programme(session, user=user, programme_id=user.current_programme_id, role=role)


# -- browsing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    profile: MentorProfile
    mentor: User


@dataclass(frozen=True, slots=True)
class Browsing:
    programme: Programme
    filters: rules.Filters
    entries: list[Entry]
    index: int
    knows_my_organisation: bool

    @property
    def shown(self) -> Entry | None:
        return self.entries[self.index] if self.entries else None


def _listed(profile: MentorProfile) -> rules.Listed:
    return rules.Listed(
        areas=rules.area_list(profile.areas),
        languages=rules.language_list(profile.languages),
        organisation=profile.organisation,
    )


async def _taken(session: AsyncSession, *, adept: User) -> set[int]:
    """Mentors this adept already has an open mentorship or a waiting request with."""
    assert adept.id is not None
    taken = {
        p.partner.id
        for p in await mentorships.pairings_of(session, user_id=adept.id, states=OPEN_STATES)
        if p.partner is not None and p.partner.id is not None
    }
    waiting = await directory.requests_of_adept(session, adept_id=adept.id, states=WAITING)
    return taken | {r.mentor_id for r in waiting}


async def _fullness(
    session: AsyncSession, *, programme_id: int, profiles: list[MentorProfile]
) -> dict[int, bool]:
    counts = await directory.open_as_mentor(
        session,
        programme_id=programme_id,
        states=TAKING_A_PLACE,
        mentor_ids=[p.user_id for p in profiles],
    )
    return {
        p.user_id: rules.is_full(open_as_mentor=counts.get(p.user_id, 0), capacity=p.capacity)
        for p in profiles
    }


async def my_organisation(session: AsyncSession, *, user: User, programme_id: int) -> str | None:
    assert user.id is not None
    row = await directory.membership_row(
        session, programme_id=programme_id, user_id=user.id, role=ProgrammeRole.ADEPT
    )
    return row.organisation if row is not None else None


async def browse(
    session: AsyncSession, *, user: User, programme_id: int, filters: rules.Filters, index: int
) -> Browsing:
    """The profiles this adept may ask, narrowed by `filters`, at `index` (kept in range).

    Not listed: paused and unpublished profiles, full mentors, the adept themself, and
    mentors they already have an open mentorship or a waiting request with.
    """
    programme = await choose_programme(
        session, user=user, programme_id=programme_id, role=Role.ADEPT
    )
    mine = await my_organisation(session, user=user, programme_id=programme_id)
    offered = rules.area_list(programme.areas)
    candidates = [
        (profile, mentor)
        for profile, mentor in await directory.listed(session, programme_id=programme_id)
        if mentor.id != user.id
    ]
    full = await _fullness(session, programme_id=programme_id, profiles=[p for p, _ in candidates])
    taken = await _taken(session, adept=user)
    entries = [
        Entry(profile, mentor)
        for profile, mentor in candidates
        if not full[profile.user_id]
        and profile.user_id not in taken
        and rules.matches(_listed(profile), filters, programme_areas=offered, my_organisation=mine)
    ]
    return Browsing(
        programme, filters, entries, rules.page_index(index, len(entries)), mine is not None
    )


async def set_my_organisation(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> Programme:
    """The adept's organisation, for "not my organisation"; kept encrypted, shown to no one."""
    programme = await current_programme(session, user=user, role=Role.ADEPT)
    assert user.id is not None and programme.id is not None
    text = typed(text, limit=rules.ORGANISATION_MAX)
    row = await directory.membership_row(
        session, programme_id=programme.id, user_id=user.id, role=ProgrammeRole.ADEPT
    )
    assert row is not None  # _current checked the role
    row.organisation = text
    await directory.save(session, row)
    return programme


# -- requests -----------------------------------------------------------------------------


async def _askable(session: AsyncSession, *, adept: User, profile: MentorProfile | None) -> User:
    """The mentor of `profile` if this adept may ask them now; refused otherwise.

    A profile of a programme the adept is not in is refused as unknown, naming nobody.
    """
    assert adept.id is not None
    if profile is None:
        raise Refused(N_("directory.not_visible"))
    roles = await programmes.roles_in(session, programme_id=profile.programme_id, user_id=adept.id)
    programme = await programmes.get(session, programme_id=profile.programme_id)
    if Role.ADEPT not in roles or programme is None or programme.closed_at is not None:
        raise Refused(N_("directory.not_visible"))
    mentor = await users.get(session, user_id=profile.user_id)
    if mentor is None or mentor.erased_at is not None or mentor.id == adept.id:
        raise Refused(N_("directory.not_visible"))
    name = pairing.display_name(mentor)
    if profile.published_at is None or profile.paused_at is not None:
        raise Refused(N_("directory.mentor_unavailable"), name=name)
    full = await _fullness(session, programme_id=profile.programme_id, profiles=[profile])
    if full[profile.user_id]:
        raise Refused(N_("directory.mentor_full"), name=name)
    if profile.user_id in await _taken(session, adept=adept):
        raise Refused(N_("directory.already_asked"), name=name)
    return mentor


@dataclass(frozen=True, slots=True)
class Asking:
    request: MentorRequest
    mentor: User


async def choose_mentor(
    session: AsyncSession, *, user: User, profile_id: int, now: datetime
) -> Asking:
    """ "Ask for mentorship" pressed: a draft request waits for the note (the mentor is
    told nothing until it is sent); an earlier unsent draft is dropped."""
    profile = await directory.profile(session, profile_id=profile_id)
    mentor = await _askable(session, adept=user, profile=profile)
    assert profile is not None and user.id is not None and mentor.id is not None
    earlier = await directory.latest_draft(session, adept_id=user.id)
    if earlier is not None:
        await directory.discard(session, earlier)
    request = MentorRequest(
        programme_id=profile.programme_id,
        mentor_id=mentor.id,
        adept_id=user.id,
        state=RequestState.DRAFT,
        created_at=now,
    )
    user.current_programme_id = profile.programme_id
    await directory.save(session, request, user)
    return Asking(request, mentor)


def request_buttons(request_id: int) -> notify.Buttons:
    return [
        [
            (N_("directory.button.accept"), f"dir:acc:{request_id}"),
            (N_("directory.button.decline"), f"dir:dec:{request_id}"),
        ]
    ]


async def send_request(session: AsyncSession, *, user: User, note: str, now: datetime) -> Asking:
    """The note typed: the request goes to the mentor, if they can still take someone."""
    assert user.id is not None
    draft = await directory.latest_draft(session, adept_id=user.id)
    if draft is None:
        raise Refused(N_("directory.request.gone"))
    note = typed(note, limit=rules.NOTE_MAX)
    profile = await directory.profile_of(
        session, programme_id=draft.programme_id, user_id=draft.mentor_id
    )
    mentor = await _askable(session, adept=user, profile=profile)
    draft.note, draft.state, draft.created_at = note, RequestState.PENDING, now
    await directory.save(session, draft)
    assert draft.id is not None
    await notify.tell(
        session,
        recipient=mentor,
        key=N_("directory.request_to_mentor"),
        values={
            "name": notify.name_of(user),
            "note": notify.text_of(MentorRequest, draft.id, "note"),
        },
        buttons=request_buttons(draft.id),
        dedupe=f"dirreq:{draft.id}:sent",
        now=now,
    )
    return Asking(draft, mentor)


async def _pending(
    session: AsyncSession, *, request_id: int, user: User, as_role: str
) -> MentorRequest:
    found = await directory.request(session, request_id=request_id)
    mine = found is not None and (
        found.mentor_id == user.id if as_role == Role.MENTOR else found.adept_id == user.id
    )
    if found is None or not mine:
        raise Refused(N_("directory.request.not_yours"))
    if found.state != RequestState.PENDING:
        raise Refused(f"directory.request.already_{found.state}")
    return found


async def _settle(
    session: AsyncSession,
    *,
    found: MentorRequest,
    state: RequestState,
    by: User,
    tell_id: int,
    key: str,
    now: datetime,
) -> User:
    """Close a waiting request in `state` and tell the other side; returns them."""
    found.state, found.decided_at = state, now
    await directory.save(session, found)
    other = await users.get(session, user_id=tell_id)
    assert other is not None
    await notify.tell(
        session,
        recipient=other,
        key=key,
        values={"name": notify.name_of(by)},
        dedupe=f"dirreq:{found.id}:{state.value}",
        now=now,
    )
    return other


async def withdraw(session: AsyncSession, *, user: User, request_id: int, now: datetime) -> User:
    """The adept takes a waiting request back; the mentor is told. Returns the mentor."""
    found = await _pending(session, request_id=request_id, user=user, as_role=Role.ADEPT)
    return await _settle(
        session,
        found=found,
        state=RequestState.WITHDRAWN,
        by=user,
        tell_id=found.mentor_id,
        key=N_("directory.withdrawn_to_mentor"),
        now=now,
    )


async def accept_request(
    session: AsyncSession, *, user: User, request_id: int, now: datetime
) -> Pairing:
    """The mentor accepts: the mentorship starts exactly as an accepted invitation does
    (`pairing.begin_intro`). Full by now: refused kindly, the request stays pending."""
    found = await _pending(session, request_id=request_id, user=user, as_role=Role.MENTOR)
    await in_programme(session, user=user, programme_id=found.programme_id, role=Role.MENTOR)
    adept = await users.get(session, user_id=found.adept_id)
    if adept is None or adept.erased_at is not None:
        raise Refused(N_("directory.request.adept_gone"))
    name = pairing.display_name(adept)
    profile = await directory.profile_of(
        session, programme_id=found.programme_id, user_id=found.mentor_id
    )
    capacity = profile.capacity if profile is not None else 1
    counts = await directory.open_as_mentor(
        session, programme_id=found.programme_id, states=TAKING_A_PLACE, mentor_ids=[user.id or 0]
    )
    if rules.is_full(open_as_mentor=counts.get(user.id or 0, 0), capacity=capacity):
        raise Refused(N_("directory.accept_full"), name=name)
    assert adept.id is not None and user.id is not None
    await pairing.refuse_a_second_pair(session, user=user, other=adept)
    mentorship = await mentorships.create(
        session, creator=adept, role=Role.ADEPT, state=MentorshipState.INVITED
    )
    mentorship.programme_id = found.programme_id
    await mentorships.record_transition(
        session,
        mentorship=mentorship,
        to_state=MentorshipState.INVITED,
        actor_id=adept.id,
        at=now,
        reason="requested",
    )
    found.state, found.decided_at, found.mentorship_id = RequestState.ACCEPTED, now, mentorship.id
    await directory.save(session, found, mentorship)
    await _withdraw_the_others(session, accepted=found, adept=adept, now=now)
    return await pairing.begin_intro(
        session,
        mentorship=mentorship,
        joiner=user,
        joiner_role=Role.MENTOR,
        other=adept,
        other_role=Role.ADEPT,
        told=N_("directory.accepted_to_adept"),
        now=now,
    )


async def _withdraw_the_others(
    session: AsyncSession, *, accepted: MentorRequest, adept: User, now: datetime
) -> None:
    """The mentee has a mentor in this programme now: what else they asked there is taken
    back, and those mentors are told kindly (without naming who said yes)."""
    assert adept.id is not None
    others = await directory.requests_of_adept(
        session, adept_id=adept.id, states=frozenset({RequestState.PENDING, RequestState.DRAFT})
    )
    for other in others:
        if other.id == accepted.id or other.programme_id != accepted.programme_id:
            continue
        if other.state == RequestState.DRAFT:
            await directory.discard(session, other)  # never sent: the mentor knows nothing
            continue
        await _settle(
            session,
            found=other,
            state=RequestState.WITHDRAWN,
            by=adept,
            tell_id=other.mentor_id,
            key=N_("directory.found_a_mentor_to_mentor"),
            now=now,
        )


async def decline_request(
    session: AsyncSession, *, user: User, request_id: int, now: datetime
) -> User:
    """The mentor declines; the adept hears it kindly, never why. Returns the adept."""
    found = await _pending(session, request_id=request_id, user=user, as_role=Role.MENTOR)
    return await _settle(
        session,
        found=found,
        state=RequestState.DECLINED,
        by=user,
        tell_id=found.adept_id,
        key=N_("directory.declined_to_adept"),
        now=now,
    )


async def save_decline_reason(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> MentorRequest:
    """The mentor's own reason for the request they declined last: for them alone."""
    assert user.id is not None
    found = await directory.latest_declined_by(session, mentor_id=user.id)
    if found is None:
        raise Refused(N_("directory.request.gone"))
    text = typed(text, limit=rules.DECLINE_REASON_MAX)
    found.decline_reason = text
    await directory.save(session, found)
    return found


REQUEST_STATE_TEXTS = (
    N_("directory.request.already_accepted"),
    N_("directory.request.already_declined"),
    N_("directory.request.already_withdrawn"),
    N_("directory.request.already_draft"),
    N_("directory.not_mentor"),
    N_("directory.not_adept"),
)


# -- /mydata --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_of(session: AsyncSession, *, user: User) -> dict[str, Any]:
    """What the directory holds about this person: their profiles, the organisation they
    gave, the requests they sent (with their note) and received (with their own private
    reason, never the adept's note: that is the adept's to export)."""
    assert user.id is not None
    names: dict[int, str | None] = {}

    async def programme_name(programme_id: int) -> str | None:
        if programme_id not in names:
            found = await programmes.get(session, programme_id=programme_id)
            names[programme_id] = name_of(found, user.language) if found else None
        return names[programme_id]

    async def person(user_id: int) -> str | None:
        found = await users.get(session, user_id=user_id)
        return pairing.display_name(found) if found is not None else None

    profiles = [
        {
            "programme": await programme_name(p.programme_id),
            "areas": p.areas,
            "other_areas": p.other_areas,
            "career": p.career,
            "languages": p.languages,
            "organisation": p.organisation,
            "capacity": p.capacity,
            "published_at": _iso(p.published_at),
            "paused_at": _iso(p.paused_at),
        }
        for p in await directory.profiles_of(session, user_id=user.id)
    ]
    organisations = [
        {"programme": await programme_name(row.programme_id), "organisation": row.organisation}
        for row in await directory.organisations_of(session, user_id=user.id)
    ]
    sent, received = [], []
    for r in await directory.requests_involving(session, user_id=user.id):
        common = {
            "programme": await programme_name(r.programme_id),
            "state": r.state,
            "created_at": _iso(r.created_at),
            "decided_at": _iso(r.decided_at),
        }
        if r.adept_id == user.id:
            sent.append({"name": await person(r.mentor_id), **common, "note": r.note})
        else:
            received.append(
                {"name": await person(r.adept_id), **common, "decline_reason": r.decline_reason}
            )
    return {
        "mentor_profiles": profiles,
        "my_organisations": organisations,
        "requests_sent": sent,
        "requests_received": received,
    }
