"""Which programme a person or a pair is in (the rest of programmes builds on these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import programmes as rules
from bot.i18n import N_, t
from bot.usecases import Refused
from storage import mentorships, programmes
from storage.models import Mentorship, Programme, ProgrammeRole, User
from storage.types import utcnow


async def for_new_pair(session: AsyncSession, *, user: User, now: datetime) -> Programme:
    """The programme an invitation this person makes belongs to: the one they chose last,
    else the only open one they are in, else the default programme."""
    assert user.id is not None
    mine = [p for p, _ in await programmes.programmes_of(session, user_id=user.id)]
    open_ones = [p for p in mine if p.closed_at is None]
    chosen = next((p for p in open_ones if p.id == user.current_programme_id), None)
    if chosen is not None:
        return chosen
    if len(open_ones) == 1:
        return open_ones[0]
    return await programmes.default(session, now=now)


async def of_pair(session: AsyncSession, *, mentorship: Mentorship, now: datetime) -> Programme:
    return await programmes.of_mentorship(session, mentorship=mentorship, now=now)


async def join_as(
    session: AsyncSession, *, programme: Programme, user: User, role: str, now: datetime
) -> None:
    """Record the person in the programme in this role (nothing happens if already there)."""
    assert programme.id is not None and user.id is not None
    await programmes.add_member(
        session, programme_id=programme.id, user_id=user.id, role=role, now=now
    )


async def coordinated_by(
    session: AsyncSession, *, user: User, super_coordinators: frozenset[int] | list[int]
) -> list[Programme]:
    """The programmes this person coordinates: every programme for the deployment's
    super-coordinators (`ADMIN_IDS`, Telegram ids), else those they are a coordinator of."""
    if user.telegram_id in super_coordinators:
        every = await programmes.every(session)
        # A new deployment has no programme yet: its pairs will be the default one's. The
        # default is not added beside real programmes until something is in it.
        return every or [await programmes.default(session, now=utcnow())]
    assert user.id is not None
    return [
        programme
        for programme, roles in await programmes.programmes_of(session, user_id=user.id)
        if "coordinator" in roles
    ]


async def coordinates(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: frozenset[int] | list[int],
) -> bool:
    """Whether this person may see this programme's counts and speak to its members."""
    if user.telegram_id in super_coordinators:
        return True
    assert user.id is not None
    roles = await programmes.roles_in(session, programme_id=programme_id, user_id=user.id)
    return "coordinator" in roles


DEFAULT_NAME = N_("programme.default_name")


def name_of(programme: Programme, language: str) -> str:
    """How a programme is named to people: its own name, or (the default programme) ours."""
    return programme.name or t(language, DEFAULT_NAME)


# -- setting up a programme (/programme new) ------------------------------------------------

# Keys reached through `Refused(f"programme.refused.{reason}", ...)` below.
REFUSALS = (
    N_("programme.refused.name_too_short"),
    N_("programme.refused.name_too_long"),
    N_("programme.refused.contact_empty"),
    N_("programme.refused.text_empty"),
    N_("programme.refused.too_long"),
    N_("programme.refused.length_not_a_number"),
    N_("programme.refused.length_out_of_range"),
    N_("programme.refused.not_a_choice"),
    N_("programme.refused.timezone_unknown"),
    N_("programme.refused.too_many_areas"),
    N_("programme.refused.area_too_long"),
)
# The wizard's typed steps and what each one stores.
FIELDS = ("name", "contact", "support", "conduct", "language", "timezone", "length", "areas")
SKIPPABLE = frozenset({"support", "conduct", "areas"})


def _may_create(user: User, super_coordinators: frozenset[int] | list[int]) -> None:
    if user.telegram_id not in super_coordinators:
        raise Refused(N_("programme.create_coordinators_only"))


def _refused(problem: rules.ProgrammeRefused) -> Refused:
    # A typed value can be corrected: the coordinator stays at the question.
    return Refused(
        f"programme.refused.{problem.reason}",
        stay=True,
        limit=problem.limit,
        low=rules.LENGTH_MIN,
        high=rules.LENGTH_MAX,
    )


async def may_create(
    session: AsyncSession, *, user: User, super_coordinators: frozenset[int] | list[int]
) -> None:
    """Only the deployment's super-coordinators (`ADMIN_IDS`) create programmes; a draft
    left from an earlier start is forgotten."""
    _may_create(user, super_coordinators)
    assert user.id is not None
    await programmes.discard_drafts(session, user_id=user.id)


async def name_draft(
    session: AsyncSession,
    *,
    user: User,
    text: str,
    super_coordinators: frozenset[int] | list[int],
    now: datetime,
) -> Programme:
    """The first answer: the name. The programme is kept as a draft until the last step."""
    _may_create(user, super_coordinators)
    try:
        name = rules.clean_name(text)
    except rules.ProgrammeRefused as problem:
        raise _refused(problem) from None
    assert user.id is not None
    await programmes.discard_drafts(session, user_id=user.id)
    return await programmes.create(
        session,
        programme=Programme(
            name=name,
            mentor_code=programmes.new_code(),
            adept_code=programmes.new_code(),
            coordinator_code=programmes.new_code(),
            draft=True,
            created_by_id=user.id,
            created_at=now,
        ),
    )


async def _my_draft(session: AsyncSession, user: User) -> Programme:
    assert user.id is not None
    draft = await programmes.draft_of(session, user_id=user.id)
    if draft is None:
        raise Refused(N_("programme.draft_gone"))
    return draft


async def answer_draft(
    session: AsyncSession, *, user: User, field: str, value: str | None
) -> Programme:
    """Store one answer of the wizard (`value=None`: skipped, where that is allowed)."""
    draft = await _my_draft(session, user)
    if value is None and field not in SKIPPABLE:
        raise Refused("common.stale_button", stay=True)
    try:
        if field == "contact":
            draft.coordinator_contact = rules.clean_contact(value or "")
        elif field == "support":
            draft.support_text = value and rules.clean_text(value, rules.SUPPORT_TEXT_MAX_CHARS)
        elif field == "conduct":
            draft.code_of_conduct = value and rules.clean_text(value, rules.CONDUCT_MAX_CHARS)
        elif field == "language":
            draft.language = rules.check_language(value or "")
        elif field == "timezone":
            draft.timezone = rules.check_timezone(value or "")
        elif field == "length":
            draft.length_months = rules.parse_length(value or "")
        elif field == "areas":
            draft.areas = value and rules.parse_areas(value)
        else:
            raise Refused("common.stale_button", stay=True)
    except rules.ProgrammeRefused as problem:
        raise _refused(problem) from None
    await programmes.save(session, draft)
    return draft


async def finish_draft(session: AsyncSession, *, user: User, now: datetime) -> Programme:
    """The last answer given: the programme opens and its creator coordinates it."""
    draft = await _my_draft(session, user)
    draft.draft = False
    draft.created_at = now
    user.current_programme_id = draft.id
    await programmes.save(session, draft, user)
    await join_as(session, programme=draft, user=user, role=ProgrammeRole.COORDINATOR, now=now)
    return draft


# -- joining by link -------------------------------------------------------------------------

JOIN_TEXTS = (
    N_("programme.join.ask.mentor"),
    N_("programme.join.ask.adept"),
    N_("programme.join.ask.coordinator"),
    N_("programme.join.done.mentor"),
    N_("programme.join.done.adept"),
    N_("programme.join.done.coordinator"),
    N_("programme.join.already.mentor"),
    N_("programme.join.already.adept"),
    N_("programme.join.already.coordinator"),
)


@dataclass(frozen=True, slots=True)
class JoinView:
    programme: Programme
    role: str
    name: str
    # The programme's time zone, when joining made it the person's.
    timezone: str | None = None


async def _joinable(session: AsyncSession, *, code: str, user: User) -> JoinView:
    found = await programmes.by_code(session, code=code)
    if found is None:
        raise Refused(N_("programme.join.unknown"))
    name = name_of(found.programme, user.language)
    if found.programme.closed_at is not None:
        raise Refused(N_("programme.join.closed"), programme=name)
    assert found.programme.id is not None and user.id is not None
    roles = await programmes.roles_in(session, programme_id=found.programme.id, user_id=user.id)
    if found.role in roles:
        raise Refused(f"programme.join.already.{found.role}", programme=name)
    return JoinView(found.programme, found.role, name)


async def view_join(session: AsyncSession, *, code: str, user: User) -> JoinView:
    """What a join link offers this person: the programme and the role."""
    return await _joinable(session, code=code, user=user)


async def join(
    session: AsyncSession,
    *,
    code: str,
    user: User,
    now: datetime,
    deployment_timezone: str,
    telegram_language: str | None = None,
) -> JoinView:
    """Join by link: a member in that role, and the programme becomes the current one.

    Someone still on the deployment's time zone takes the programme's (its people mostly
    live there); anyone who chose another keeps theirs. Someone whose language nothing
    told us (not chosen in /settings, none from Telegram) takes the programme's."""
    seen = await _joinable(session, code=code, user=user)
    await join_as(session, programme=seen.programme, user=user, role=seen.role, now=now)
    user.current_programme_id = seen.programme.id
    if not user.language_chosen and not telegram_language:
        user.language = seen.programme.language
    adopted = None
    if user.timezone == deployment_timezone != seen.programme.timezone:
        user.timezone = adopted = seen.programme.timezone
    await programmes.save(session, user)
    return JoinView(seen.programme, seen.role, seen.name, adopted)


# -- a coordinator's programmes (/programme) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overview:
    programme: Programme
    counts: dict[str, int]


async def _coordinated(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: frozenset[int] | list[int],
) -> Programme:
    programme = await programmes.get(session, programme_id=programme_id)
    if (
        programme is None
        or programme.draft
        or not await coordinates(
            session, user=user, programme_id=programme_id, super_coordinators=super_coordinators
        )
    ):
        raise Refused(N_("programme.coordinators_only"))
    return programme


async def mine(
    session: AsyncSession, *, user: User, super_coordinators: frozenset[int] | list[int]
) -> list[Programme]:
    """The programmes /programme shows this person; refused for anyone who coordinates none."""
    found = await coordinated_by(session, user=user, super_coordinators=super_coordinators)
    if not found:
        raise Refused(N_("programme.coordinators_only"))
    return found


async def overview(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: frozenset[int] | list[int],
) -> Overview:
    programme = await _coordinated(
        session, user=user, programme_id=programme_id, super_coordinators=super_coordinators
    )
    return Overview(programme, await programmes.member_counts(session, programme_id=programme_id))


async def close(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: frozenset[int] | list[int],
    now: datetime,
) -> Programme:
    """No new joins and no new pairs from now on; the pairs it has go on."""
    programme = await _coordinated(
        session, user=user, programme_id=programme_id, super_coordinators=super_coordinators
    )
    name = name_of(programme, user.language)
    if programme.is_default:
        raise Refused(N_("programme.default_stays_open"), programme=name)
    if programme.closed_at is not None:
        raise Refused(N_("programme.already_closed"), programme=name)
    programme.closed_at = now
    await programmes.save(session, programme)
    return programme


def check_open_for_pairs(programme: Programme, language: str) -> None:
    """A closed programme gets no new pairs (by invitation or from the directory)."""
    if programme.closed_at is not None:
        raise Refused(N_("programme.closed_for_pairs"), programme=name_of(programme, language))


# -- which programme a new invitation belongs to (/new) ----------------------------------------


async def open_programmes_of(session: AsyncSession, *, user: User) -> list[Programme]:
    """The open programmes this person is in: /new asks which when there are several."""
    assert user.id is not None
    return [
        programme
        for programme, _ in await programmes.programmes_of(session, user_id=user.id)
        if programme.closed_at is None
    ]


async def choose_for_new_pair(session: AsyncSession, *, user: User, programme_id: int) -> Programme:
    """Remember the programme the person's next invitation belongs to."""
    chosen = next(
        (p for p in await open_programmes_of(session, user=user) if p.id == programme_id), None
    )
    if chosen is None:
        found = await programmes.get(session, programme_id=programme_id)
        if found is not None and found.closed_at is not None:
            check_open_for_pairs(found, user.language)
        raise Refused("common.not_yours")
    user.current_programme_id = chosen.id
    await programmes.save(session, user)
    return chosen


# -- the programme's own texts (/support, the code of conduct) ---------------------------------


@dataclass(frozen=True, slots=True)
class ProgrammeTexts:
    """What a programme says where people turn for help; None: not set, use the settings."""

    contact: str | None
    support_text: str | None
    conduct_text: str | None
    conduct_url: str | None


async def texts_for(session: AsyncSession, *, user: User, now: datetime) -> ProgrammeTexts:
    """The texts of the programme of the person's current mentorship, else of their current
    programme, else of the default programme."""
    programme = await _programme_for_texts(session, user=user, now=now)
    conduct = (programme.code_of_conduct or "").strip() or None
    is_link = conduct is not None and rules.is_link(conduct)
    return ProgrammeTexts(
        contact=(programme.coordinator_contact or "").strip() or None,
        support_text=(programme.support_text or "").strip() or None,
        conduct_text=None if is_link else conduct,
        conduct_url=conduct if is_link else None,
    )


async def _programme_for_texts(session: AsyncSession, *, user: User, now: datetime) -> Programme:
    assert user.id is not None
    if user.current_mentorship_id is not None:
        seen = await mentorships.pairing(
            session, mentorship_id=user.current_mentorship_id, user_id=user.id
        )
        if seen is not None:
            return await of_pair(session, mentorship=seen.mentorship, now=now)
    if user.current_programme_id is not None:
        roles = await programmes.roles_in(
            session, programme_id=user.current_programme_id, user_id=user.id
        )
        found = await programmes.get(session, programme_id=user.current_programme_id)
        if roles and found is not None:
            return found
    return await programmes.default(session, now=now)


async def planned_length(session: AsyncSession, *, mentorship_id: int, now: datetime) -> int | None:
    """The mentorship length a pair's programme plans (None for the default programme,
    which plans nothing of its own): the contract offers it first."""
    mentorship = await mentorships.get(session, mentorship_id=mentorship_id)
    if mentorship is None:
        return None
    programme = await of_pair(session, mentorship=mentorship, now=now)
    return None if programme.is_default else programme.length_months
