"""A mentor's directory profile: the /profile wizard's steps, publishing and pausing.

One profile per mentor and programme (`mentor_profiles`). While it is edited it is out
of the directory, so no adept sees it half-changed; typed answers find the profile of
the person's `current_programme_id`. Browsing and requests are `bot.usecases.directory`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import directory as rules
from bot.i18n import N_
from bot.usecases import Refused
from bot.usecases.directory import choose_programme, current_programme, in_programme, typed
from storage import directory
from storage.models import MentorProfile, Programme, Role, User


@dataclass(frozen=True, slots=True)
class Editing:
    profile: MentorProfile
    programme: Programme
    mentor: User


async def my_profile(
    session: AsyncSession, *, user: User, programme_id: int
) -> MentorProfile | None:
    """The mentor's profile in the programme, if they ever finished one."""
    await in_programme(session, user=user, programme_id=programme_id, role=Role.MENTOR)
    assert user.id is not None
    found = await directory.profile_of(session, programme_id=programme_id, user_id=user.id)
    return found if found is not None and found.career else None


async def start_profile(
    session: AsyncSession, *, user: User, programme_id: int, now: datetime
) -> Editing:
    """Begin (or edit) the profile. While it is edited it is out of the directory, so no
    adept sees it half-changed; the preview's Publish puts it back."""
    programme = await choose_programme(
        session, user=user, programme_id=programme_id, role=Role.MENTOR
    )
    assert user.id is not None and programme.id is not None
    profile = await directory.profile_of(session, programme_id=programme.id, user_id=user.id)
    if profile is None:
        profile = MentorProfile(
            programme_id=programme.id, user_id=user.id, languages=user.language, updated_at=now
        )
    profile.published_at, profile.updated_at = None, now
    await directory.save(session, profile)
    return Editing(profile, programme, user)


async def _own_profile(session: AsyncSession, *, user: User, profile_id: int) -> Editing:
    profile = await directory.profile(session, profile_id=profile_id)
    if profile is None or profile.user_id != user.id:
        raise Refused(N_("directory.profile.not_yours"))
    programme = await in_programme(
        session, user=user, programme_id=profile.programme_id, role=Role.MENTOR
    )
    return Editing(profile, programme, user)


async def _typed_profile(session: AsyncSession, *, user: User) -> Editing:
    programme = await current_programme(session, user=user, role=Role.MENTOR)
    assert user.id is not None and programme.id is not None
    profile = await directory.profile_of(session, programme_id=programme.id, user_id=user.id)
    if profile is None:
        raise Refused(N_("directory.profile.gone"))
    return Editing(profile, programme, user)


async def editing(session: AsyncSession, *, user: User, profile_id: int) -> Editing:
    return await _own_profile(session, user=user, profile_id=profile_id)


async def toggle_area(
    session: AsyncSession, *, user: User, profile_id: int, index: int, now: datetime
) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    offered = rules.area_list(found.programme.areas)
    if not 0 <= index < len(offered):
        raise Refused(N_("directory.profile.unknown_area"), stay=True)
    chosen = rules.toggled(rules.area_list(found.profile.areas), offered[index])
    found.profile.areas = "\n".join(chosen) or None
    found.profile.updated_at = now
    await directory.save(session, found.profile)
    return found


async def set_other_areas(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> Editing:
    found = await _typed_profile(session, user=user)
    text = typed(text, limit=rules.OTHER_AREAS_MAX)
    found.profile.other_areas, found.profile.updated_at = text, now
    await directory.save(session, found.profile)
    return found


async def areas_done(session: AsyncSession, *, user: User, profile_id: int) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    if not rules.area_list(found.profile.areas) and not found.profile.other_areas:
        raise Refused(N_("directory.profile.no_areas"), stay=True)
    return found


async def set_career(session: AsyncSession, *, user: User, text: str, now: datetime) -> Editing:
    found = await _typed_profile(session, user=user)
    text = typed(text, limit=rules.CAREER_MAX)
    found.profile.career, found.profile.updated_at = text, now
    await directory.save(session, found.profile)
    return found


async def toggle_language(
    session: AsyncSession, *, user: User, profile_id: int, code: str, now: datetime
) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    if code not in rules.LANGUAGES:
        raise Refused(N_("directory.profile.unknown_language"), stay=True)
    chosen = rules.toggled(rules.language_list(found.profile.languages), code)
    found.profile.languages = ",".join(c for c in rules.LANGUAGES if c in chosen)
    found.profile.updated_at = now
    await directory.save(session, found.profile)
    return found


async def languages_done(session: AsyncSession, *, user: User, profile_id: int) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    if not rules.language_list(found.profile.languages):
        raise Refused(N_("directory.profile.no_languages"), stay=True)
    return found


async def set_organisation(
    session: AsyncSession, *, user: User, text: str | None, now: datetime
) -> Editing:
    """The organisation typed, or None (skipped: the profile then names none)."""
    found = await _typed_profile(session, user=user)
    text = typed(text, limit=rules.ORGANISATION_MAX) if text and text.strip() else None
    found.profile.organisation, found.profile.updated_at = text or None, now
    await directory.save(session, found.profile)
    return found


async def set_capacity(
    session: AsyncSession, *, user: User, profile_id: int, capacity: int, now: datetime
) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    if capacity not in rules.CAPACITIES:
        raise Refused(N_("directory.profile.unknown_capacity"), stay=True)
    found.profile.capacity, found.profile.updated_at = capacity, now
    await directory.save(session, found.profile)
    return found


async def publish(session: AsyncSession, *, user: User, profile_id: int, now: datetime) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    profile = found.profile
    complete = (
        profile.career
        and (rules.area_list(profile.areas) or profile.other_areas)
        and rules.language_list(profile.languages)
    )
    if not complete:
        raise Refused(N_("directory.profile.incomplete"))
    profile.published_at, profile.paused_at, profile.updated_at = now, None, now
    await directory.save(session, profile)
    return found


async def pause(session: AsyncSession, *, user: User, profile_id: int, now: datetime) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    found.profile.paused_at = now
    await directory.save(session, found.profile)
    return found


async def resume(session: AsyncSession, *, user: User, profile_id: int, now: datetime) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    found.profile.paused_at = None
    await directory.save(session, found.profile)
    return found


async def unpublish(
    session: AsyncSession, *, user: User, profile_id: int, now: datetime
) -> Editing:
    found = await _own_profile(session, user=user, profile_id=profile_id)
    found.profile.published_at = None
    await directory.save(session, found.profile)
    return found
