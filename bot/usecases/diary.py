"""The diary: entries of insights and thoughts, private unless their author shares them.

Every function re-checks who is asking: an entry id from a button is only ever
acted on for its author, and only shown to the author or, once shared, to the
other member of its mentorship.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import diary as rules
from bot.i18n import N_
from bot.usecases import Refused, notify, pairing
from storage import diary as entries
from storage import mentorships, users
from storage.models import DiaryEntry, Meeting, User, Visibility

SHARED_KIND = "diary_shared"


@dataclass(frozen=True, slots=True)
class Written:
    """An entry as its author sees it, with the partner it is or could be shared with."""

    entry: DiaryEntry
    partner: User | None


@dataclass(frozen=True, slots=True)
class Shown:
    entry: DiaryEntry
    author: User
    partner: User | None  # for the author's own entries: the pair partner, if any


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Shown]
    bounds: rules.PageBounds
    total: int


def _clean(text: str) -> str:
    """The entry's text; an empty or overlong one can be typed again, so the writer stays."""
    cleaned = text.strip()
    if not cleaned:
        raise Refused("diary.empty", stay=True)
    if len(cleaned) > rules.MAX_CHARS:
        raise Refused(N_("diary.too_long"), stay=True, limit=rules.MAX_CHARS, length=len(cleaned))
    return cleaned


async def _partner(
    session: AsyncSession, *, mentorship_id: int | None, user_id: int
) -> User | None:
    if mentorship_id is None:
        return None
    seen = await mentorships.pairing(session, mentorship_id=mentorship_id, user_id=user_id)
    return seen.partner if seen else None


async def write(
    session: AsyncSession,
    *,
    user: User,
    mentorship_id: int | None,
    text: str,
    meeting_id: int | None = None,
    now: datetime,
) -> DiaryEntry:
    """A new private entry; `mentorship_id` must be the user's, `meeting_id` one of its meetings."""
    cleaned = _clean(text)
    if mentorship_id is not None:
        await pairing.member_view(session, mentorship_id=mentorship_id, user=user)
    if meeting_id is not None and (
        mentorship_id is None
        or not await entries.meeting_in(session, meeting_id=meeting_id, mentorship_id=mentorship_id)
    ):
        raise Refused("common.not_yours")
    return await _add(
        session,
        user=user,
        mentorship_id=mentorship_id,
        meeting_id=meeting_id,
        text=cleaned,
        now=now,
    )


async def _add(
    session: AsyncSession,
    *,
    user: User,
    mentorship_id: int | None,
    meeting_id: int | None,
    text: str,
    now: datetime,
) -> DiaryEntry:
    assert user.id is not None
    return await entries.add(
        session,
        entry=DiaryEntry(
            author_id=user.id,
            mentorship_id=mentorship_id,
            meeting_id=meeting_id,
            visibility=Visibility.PRIVATE,
            text=text,
            created_at=now,
        ),
    )


# Reflections within a week of a meeting are taken to be about it.
RECENT_MEETING = timedelta(days=7)


async def write_in_current(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> Written:
    """A new entry tied to the user's current mentorship, if there is one.

    The mentorship is found among the user's own memberships, and the meeting is
    checked to be one of its own by `_recent_meeting`, so neither is read again
    (as `write` would) before the entry is added.
    """
    cleaned = _clean(text)
    seen = (await pairing.resolve(session, user=user)).chosen
    mentorship_id = seen.mentorship.id if seen else None
    meeting_id = await _recent_meeting(session, user=user, mentorship_id=mentorship_id, now=now)
    entry = await _add(
        session,
        user=user,
        mentorship_id=mentorship_id,
        meeting_id=meeting_id,
        text=cleaned,
        now=now,
    )
    return Written(entry, seen.partner if seen else None)


async def _recent_meeting(
    session: AsyncSession, *, user: User, mentorship_id: int | None, now: datetime
) -> int | None:
    """The meeting just evaluated, so reflections written right after belong to it."""
    if mentorship_id is None or user.focus_meeting_id is None:
        return None
    meeting = await session.get(Meeting, user.focus_meeting_id)
    if (
        meeting is None
        or meeting.mentorship_id != mentorship_id
        or meeting.state != "confirmed"
        or not meeting.starts_at <= now <= meeting.starts_at + RECENT_MEETING
    ):
        return None
    return meeting.id


async def continue_latest(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> Written | None:
    """Add a text to the entry just written (the rest of a long message Telegram split).

    None when there is no such entry: then the text was not meant for the diary.
    """
    assert user.id is not None
    latest = await entries.latest_by(session, author_id=user.id)
    # A shared entry is not extended: the partner was shown what it said when shared.
    if (
        latest is None
        or latest.visibility != Visibility.PRIVATE
        or not rules.continues(latest.created_at, now)
    ):
        return None
    latest.text = _clean(f"{latest.text}\n{text.strip()}")
    await entries.save(session, entry=latest)
    partner = await _partner(session, mentorship_id=latest.mentorship_id, user_id=user.id)
    return Written(latest, partner)


async def _own(session: AsyncSession, *, user: User, entry_id: int) -> DiaryEntry:
    entry = await entries.get(session, entry_id=entry_id)
    # The same answer for an unknown id as for someone else's: it reveals nothing.
    if entry is None or entry.author_id != user.id:
        raise Refused("diary.not_yours")
    return entry


async def share(session: AsyncSession, *, user: User, entry_id: int, now: datetime) -> Written:
    """Make an entry visible to the partner and tell them, through the outbox."""
    assert user.id is not None
    entry = await _own(session, user=user, entry_id=entry_id)
    partner = await _partner(session, mentorship_id=entry.mentorship_id, user_id=user.id)
    if partner is None:
        raise Refused("diary.no_partner")
    if entry.visibility == Visibility.SHARED:
        raise Refused(N_("diary.already_shared"), name=pairing.display_name(partner))
    entry.visibility = Visibility.SHARED
    await entries.save(session, entry=entry)
    # Rendered when sent, from the entry itself: unsharing before delivery (quiet
    # hours) stops the message, and the outbox never holds a copy of the text.
    await notify.queue(
        session,
        recipient=partner,
        kind=SHARED_KIND,
        dedupe=f"diary:{entry.id}:shared:{now.isoformat()}",
        due_at=now,
        payload={"entry_id": entry.id},
        mentorship_id=entry.mentorship_id,
    )
    return Written(entry, partner)


async def unshare(session: AsyncSession, *, user: User, entry_id: int) -> Written:
    assert user.id is not None
    entry = await _own(session, user=user, entry_id=entry_id)
    if entry.visibility != Visibility.SHARED:
        raise Refused("diary.already_private")
    entry.visibility = Visibility.PRIVATE
    await entries.save(session, entry=entry)
    partner = await _partner(session, mentorship_id=entry.mentorship_id, user_id=user.id)
    return Written(entry, partner)


async def readable(session: AsyncSession, *, user: User, entry_id: int) -> Shown:
    """An entry this user may read: their own, or one shared within their mentorship."""
    assert user.id is not None
    entry = await entries.get(session, entry_id=entry_id)
    if entry is None:
        raise Refused("diary.not_yours")
    in_pair = entry.mentorship_id is not None and (
        await mentorships.pairing(session, mentorship_id=entry.mentorship_id, user_id=user.id)
        is not None
    )
    if not rules.may_read(
        author_id=entry.author_id,
        visibility=entry.visibility,
        reader_id=user.id,
        reader_in_mentorship=in_pair,
    ):
        raise Refused("diary.not_yours")
    author = (
        user if entry.author_id == user.id else await users.get(session, user_id=entry.author_id)
    )
    assert author is not None
    partner = await _partner(session, mentorship_id=entry.mentorship_id, user_id=user.id)
    return Shown(entry, author, partner)


async def my_page(session: AsyncSession, *, user: User, page: int) -> Page:
    """The user's own entries, newest first, `rules.PAGE_SIZE` at a time."""
    assert user.id is not None
    total = await entries.count_by(session, author_id=user.id)
    bounds = rules.page_bounds(total, page)
    found = await entries.page_by(
        session, author_id=user.id, offset=bounds.offset, limit=rules.PAGE_SIZE
    )
    partners: dict[int | None, User | None] = {}
    items = []
    for entry in found:
        if entry.mentorship_id not in partners:
            partners[entry.mentorship_id] = await _partner(
                session, mentorship_id=entry.mentorship_id, user_id=user.id
            )
        items.append(Shown(entry, user, partners[entry.mentorship_id]))
    return Page(items, bounds, total)


async def shared_page(session: AsyncSession, *, user: User, page: int) -> Page:
    """What partners shared with the user, newest first."""
    assert user.id is not None
    total = await entries.count_shared_with(session, user_id=user.id)
    bounds = rules.page_bounds(total, page)
    found = await entries.page_shared_with(
        session, user_id=user.id, offset=bounds.offset, limit=rules.PAGE_SIZE
    )
    authors: dict[int, User | None] = {}
    items = []
    for entry in found:
        if entry.author_id not in authors:
            authors[entry.author_id] = await users.get(session, user_id=entry.author_id)
        author = authors[entry.author_id]
        assert author is not None
        items.append(Shown(entry, author, user))
    return Page(items, bounds, total)
