"""A coordinator's message to a programme's mentors, mentees or everyone, through the outbox.

The flow: choose the programme and the audience (a draft is made), type the text
(checked and kept encrypted in the draft), see it as members will, confirm. The
confirmation queues one outbox row per recipient, naming the announcement by id
(`outbox.announcement_id`, payload ids only); the text is read from the
announcement when each row is sent, in the recipient's language for the heading.
One more row, to the author, reports delivered and unreachable once every row of
the announcement is settled; after that the text is no longer kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import announcements as rules
from bot.i18n import LANGUAGES, N_, t
from bot.usecases import Refused
from bot.usecases.programmes import coordinated_by, coordinates, name_of
from storage import announcements as store
from storage import outbox, programmes
from storage.models import Announcement, Programme, User

KIND = store.KIND
REPORT_KIND = store.REPORT_KIND
MESSAGE = N_("announce.message")
AUDIENCE_NAMES = {
    "mentor": N_("announce.audience.mentor"),
    "adept": N_("announce.audience.adept"),
    "all": N_("announce.audience.all"),
}
# How many earlier announcements /announce shows with their counts.
RECENT = 3

SuperCoordinators = frozenset[int] | list[int]


def message(programme: Programme, language: str, text: str) -> str:
    """The announcement as its recipients see it (HTML): the programme's name as a
    heading, then the text, both escaped."""
    return t(language, MESSAGE, programme=name_of(programme, language), text=text)


def room_for_text(programme: Programme) -> int:
    """How long the text may be so that the whole message fits Telegram, in any language."""
    return rules.room_for_text(message(programme, language, "") for language in LANGUAGES)


@dataclass(frozen=True, slots=True)
class Summary:
    """How one sent announcement went, counts only."""

    announcement: Announcement
    programme: Programme
    tally: rules.Tally


@dataclass(frozen=True, slots=True)
class Start:
    """What /announce offers: the open programmes this person may speak to, and how the
    latest announcements in them went."""

    programmes: list[Programme]
    recent: list[Summary]


@dataclass(frozen=True, slots=True)
class Draft:
    """An announcement being written, with where it goes and how many it reaches now."""

    announcement: Announcement
    programme: Programme
    reach: int
    room: int


async def start(
    session: AsyncSession, *, user: User, super_coordinators: SuperCoordinators
) -> Start:
    mine = await coordinated_by(session, user=user, super_coordinators=super_coordinators)
    open_ones = [p for p in mine if p.closed_at is None]
    if not open_ones:
        raise Refused("announce.coordinators_only")
    recent = await _summaries(
        session, programme_ids=[p.id for p in mine if p.id is not None], limit=RECENT
    )
    return Start(open_ones, recent)


async def programme(
    session: AsyncSession, *, user: User, programme_id: int, super_coordinators: SuperCoordinators
) -> Programme:
    """The programme, if this person may speak to it (re-checked at every button)."""
    found = await programmes.get(session, programme_id=programme_id)
    if found is None or not await coordinates(
        session, user=user, programme_id=programme_id, super_coordinators=super_coordinators
    ):
        raise Refused("announce.coordinators_only")
    if found.closed_at is not None:
        raise Refused("announce.programme_closed", programme=name_of(found, user.language))
    return found


async def _reach(session: AsyncSession, *, programme: Programme, audience: str) -> list[int]:
    assert programme.id is not None
    return await store.recipient_ids(
        session, programme_id=programme.id, roles=rules.AUDIENCES[audience]
    )


def _nobody(programme: Programme, audience: str, language: str) -> Refused:
    return Refused(
        "announce.nobody",
        audience=t(language, AUDIENCE_NAMES[audience]),
        programme=name_of(programme, language),
    )


async def begin(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    audience: str,
    super_coordinators: SuperCoordinators,
    now: datetime,
) -> Draft:
    """A new draft for this audience; the author's earlier unsent drafts go (their
    buttons then answer that nothing is waiting any more)."""
    found = await programme(
        session, user=user, programme_id=programme_id, super_coordinators=super_coordinators
    )
    if audience not in rules.AUDIENCES:
        raise Refused("announce.stale")
    reach = await _reach(session, programme=found, audience=audience)
    if not reach:
        raise _nobody(found, audience, user.language)
    assert user.id is not None and found.id is not None
    for earlier in await store.drafts_of(session, author_id=user.id):
        await store.delete(session, earlier)
    draft = await store.save(
        session,
        Announcement(programme_id=found.id, author_id=user.id, audience=audience, created_at=now),
    )
    return Draft(draft, found, len(reach), room_for_text(found))


async def write(
    session: AsyncSession, *, user: User, text: str, super_coordinators: SuperCoordinators
) -> Draft:
    """The typed text into the author's draft, if it fits; too long or empty can be typed
    again, so the person stays at the question."""
    assert user.id is not None
    drafts = await store.drafts_of(session, author_id=user.id)
    if not drafts:
        raise Refused("announce.stale")
    draft = drafts[0]
    found = await programme(
        session,
        user=user,
        programme_id=draft.programme_id,
        super_coordinators=super_coordinators,
    )
    room = room_for_text(found)
    checked = rules.check_text(text, room)
    if checked.problem == "empty":
        raise Refused("announce.empty", stay=True)
    if checked.problem == "too_long":
        raise Refused(
            "announce.too_long",
            stay=True,
            length=checked.length,
            limit=room,
            telegram=rules.TELEGRAM_LIMIT,
        )
    reach = await _reach(session, programme=found, audience=draft.audience)
    if not reach:
        raise _nobody(found, draft.audience, user.language)
    draft.text = checked.text
    await store.save(session, draft)
    return Draft(draft, found, len(reach), room)


async def _own(session: AsyncSession, *, user: User, announcement_id: int) -> Announcement:
    found = await store.get(session, announcement_id=announcement_id)
    if found is None or found.author_id != user.id:
        raise Refused("announce.stale")
    if found.confirmed_at is not None:
        raise Refused("announce.already_sent", n=found.recipients)
    if not found.text:
        raise Refused("announce.stale")
    return found


async def confirm(
    session: AsyncSession,
    *,
    user: User,
    announcement_id: int,
    super_coordinators: SuperCoordinators,
    now: datetime,
    rate: float,
) -> Announcement:
    """Queue the announcement to everyone in its audience now, once: a second press finds
    it sent, and the keys (`announce:<id>:<user id>`) would turn any copy away."""
    draft = await _own(session, user=user, announcement_id=announcement_id)
    found = await programme(
        session, user=user, programme_id=draft.programme_id, super_coordinators=super_coordinators
    )
    reach = await _reach(session, programme=found, audience=draft.audience)
    if not reach:
        raise _nobody(found, draft.audience, user.language)
    assert draft.id is not None and user.id is not None
    draft.confirmed_at, draft.recipients = now, len(reach)
    await store.save(session, draft)
    # Each recipient's own quiet hours and time zone hold, as for every outbox row; a
    # row still not sent after the delivery window counts as unreachable.
    payload = {"announcement": draft.id}
    due = now + rules.START_AFTER
    await outbox.enqueue_many(
        session,
        [
            outbox.Queued(
                key=f"announce:{draft.id}:{recipient_id}",
                recipient_id=recipient_id,
                kind=KIND,
                due_at=due,
                payload=payload,
                expires_at=due + rules.DELIVERY_WINDOW,
                announcement_id=draft.id,
            )
            for recipient_id in reach
        ],
    )
    await outbox.enqueue(
        session,
        key=f"announce:{draft.id}:report",
        recipient_id=user.id,
        kind=REPORT_KIND,
        due_at=rules.first_look(now, len(reach), rate),
        payload=payload,
        announcement_id=draft.id,
    )
    return draft


async def stop(
    session: AsyncSession,
    *,
    user: User,
    announcement_id: int,
    super_coordinators: SuperCoordinators,
    now: datetime,
) -> int:
    """Its author stops an announcement on its way (a wrong date, the wrong audience): the
    rows not yet sent are cancelled and the text goes. How many were kept back; what went
    out already stays sent, and the count afterwards says both."""
    found = await store.get(session, announcement_id=announcement_id)
    if found is None or found.author_id != user.id or found.confirmed_at is None:
        raise Refused("announce.stale")
    if found.stopped_at is not None:
        raise Refused("announce.already_stopped")
    # Still its coordinator (a coordinator who left the programme stops nothing).
    await programme(
        session, user=user, programme_id=found.programme_id, super_coordinators=super_coordinators
    )
    assert found.id is not None
    kept_back = await store.cancel_waiting(session, announcement_id=found.id)
    if kept_back == 0:
        raise Refused("announce.nothing_to_stop")
    found.stopped_at, found.text = now, None
    await store.save(session, found)
    return kept_back


async def discard(session: AsyncSession, *, user: User, announcement_id: int) -> None:
    await store.delete(session, await _own(session, user=user, announcement_id=announcement_id))


async def discard_drafts(session: AsyncSession, *, user: User) -> None:
    """/cancel while typing: the unsent drafts go."""
    assert user.id is not None
    for draft in await store.drafts_of(session, author_id=user.id):
        await store.delete(session, draft)


# -- what the outbox sends ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    programme: Programme
    text: str


async def _delivery(session: AsyncSession, *, announcement_id: int) -> Delivery | None:
    found = await store.get(session, announcement_id=announcement_id)
    if found is None or found.confirmed_at is None or not found.text:
        return None
    where = await programmes.get(session, programme_id=found.programme_id)
    return Delivery(where, found.text) if where is not None else None


async def to_deliver(
    session: AsyncSession, *, announcement_id: int, recipient: User
) -> Delivery | None:
    """What one recipient's row says, read at send time; None once the announcement is
    gone or its text withdrawn, or when the person erased their data meanwhile."""
    if recipient.erased_at is not None:
        return None
    # A fan-out renders hundreds of rows in one session, which holds what it loaded only
    # weakly: keep the announcement and its programme for the batch.
    held: dict[int, Delivery | None] = session.info.setdefault("announcements", {})
    if announcement_id not in held:
        held[announcement_id] = await _delivery(session, announcement_id=announcement_id)
    return held[announcement_id]


async def report(
    session: AsyncSession, *, announcement_id: int, now: datetime, rate: float
) -> Summary | datetime | None:
    """The author's count once every row is settled (the text then goes: it is no longer
    needed); else when to look again; None when the announcement is gone."""
    found = await store.get(session, announcement_id=announcement_id)
    if found is None:
        return None
    where = await programmes.get(session, programme_id=found.programme_id)
    if where is None:
        return None
    by_state = await store.outcomes(session, announcement_ids=[announcement_id])
    tally = rules.tally(by_state[announcement_id], stopped=found.stopped_at is not None)
    if not tally.done:
        latest = await store.latest_due_unfinished(
            session, announcement_id=announcement_id, final_states=rules.FINAL_STATES
        )
        return rules.next_look(now, tally.waiting, latest, rate)
    if found.text is not None:
        found.text = None
        await store.save(session, found)
    return Summary(found, where, tally)


async def _summaries(
    session: AsyncSession, *, programme_ids: list[int], limit: int
) -> list[Summary]:
    sent = await store.sent_in(session, programme_ids=programme_ids, limit=limit)
    if not sent:
        return []
    counts = await store.outcomes(session, announcement_ids=[a.id for a in sent if a.id])
    found: list[Summary] = []
    for announcement in sent:
        where = await programmes.get(session, programme_id=announcement.programme_id)
        if where is not None and announcement.id is not None:
            stopped = announcement.stopped_at is not None
            counted = rules.tally(counts[announcement.id], stopped=stopped)
            found.append(Summary(announcement, where, counted))
    return found
