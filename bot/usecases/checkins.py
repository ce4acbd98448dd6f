"""Monthly check-ins: planning them, answering them step by step, sharing what the
author chooses, and the ratings over time for the closing summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import checkins as rules
from bot.domain.checkins import CheckInRefused, Sharing
from bot.i18n import N_, t
from bot.usecases import Refused, notify
from bot.usecases.pairing import display_name, member_view
from storage import checkins as store
from storage import mentorships, outbox, planning
from storage.mentorships import Pairing
from storage.models import CheckIn, MentorshipState, Role, User

PROMPT_KIND = "checkin_prompt"
REMINDER_KIND = "checkin_reminder"
SHARED_KIND = "checkin_shared"
# New check-ins start only while active; one already open may be finished while closing.
ANSWERABLE = frozenset({MentorshipState.ACTIVE, MentorshipState.CLOSING})

# Keys built from a `CheckInRefused` reason (see `_refused`).
REFUSALS = (
    N_("checkins.refused.empty"),
    N_("checkins.refused.too_long"),
    N_("checkins.refused.rating"),
    N_("checkins.refused.no_note"),
)


@dataclass(frozen=True, slots=True)
class CheckInView:
    """A check-in as its author sees it, with the mentorship and partner around it."""

    checkin: CheckIn
    pairing: Pairing

    @property
    def partner(self) -> User:
        assert self.pairing.partner is not None
        return self.pairing.partner

    @property
    def role(self) -> str:
        return self.pairing.me.role

    @property
    def step(self) -> str:
        row = self.checkin
        return rules.next_step(
            works_well=row.works_well,
            could_improve=row.could_improve,
            rating=row.rating,
            note=row.note_to_partner,
        )


def _prefix(*, mentorship_id: int, period: int, user_id: int) -> str:
    return f"checkin:{mentorship_id}:{period}:{user_id}:"


def key_prefix(checkin: CheckIn) -> str:
    """The start of the keys of a check-in's messages (they are found by `checkin_id`)."""
    return _prefix(
        mentorship_id=checkin.mentorship_id, period=checkin.period, user_id=checkin.user_id
    )


def _zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone)


def _refused(problem: CheckInRefused) -> Refused:
    """An answer that breaks a rule can be given again: the person stays at the question."""
    return Refused(f"checkins.refused.{problem.reason}", stay=True, limit=rules.MAX_CHARS)


# -- planning ---------------------------------------------------------------------------------


async def plan_checkins(
    session: AsyncSession, *, now: datetime, batch: int = planning.BATCH
) -> int:
    """Open the due check-in for both members of every active mentorship, with its prompt
    and one reminder; returns how many check-ins were opened. Safe to run any number of
    times, and from two processes at once.

    Only the latest due period is opened: after a long outage nobody gets a month's
    backlog of questionnaires at once, and a period older than one already opened
    (after a change of time zone, say) is not opened at all.

    The pairs are read `batch` at a time, a handful of statements each, and every batch
    is committed with its check-ins and their messages together (the job owns this
    session): a crash leaves no check-in without its prompt, and the next run opens
    what the interrupted one did not reach. The unique (mentorship, person, period)
    row decides which of two planners opens a check-in; only that one queues it.
    """
    opened = 0
    # Pairs in the middle of everyone's month are left in the database: nobody in them
    # can be due, whatever their zones (`rules.LEAST_GAP`), so most of a pass is one
    # read per batch of the few that might be.
    async for pairs in planning.walk(
        session,
        states=[MentorshipState.ACTIVE],
        where=planning.may_be_due(
            started_by=now - rules.LEAST_GAP, quiet_since=now - rules.LEAST_GAP
        ),
        size=batch,
    ):
        started = {pair.id: pair.started_at for pair in pairs}
        pair_members: dict[int, list[planning.Member]] = {}
        for member in await planning.members(session, mentorship_ids=list(started)):
            pair_members.setdefault(member.mentorship_id, []).append(member)
        wanted: dict[tuple[int, int], tuple[int, datetime]] = {}
        zones: dict[int, ZoneInfo] = {}
        erased: set[int] = set()
        for mentorship_id, both in pair_members.items():
            started_at = started[mentorship_id]
            if len(both) != 2 or started_at is None:
                continue
            for person in both:
                zone = zones[person.user_id] = ZoneInfo(person.timezone)
                period = rules.period_due(started_at, now, zone)
                if period is None:
                    continue
                due_at = rules.anniversary(started_at, period, zone)
                wanted[(mentorship_id, person.user_id)] = (period, due_at)
                if person.erased:
                    erased.add(person.user_id)
        if wanted:
            latest = await planning.latest_periods(
                session, mentorship_ids=sorted({m for m, _ in wanted})
            )
            # Sorted, so two planners insert in the same order and wait rather than deadlock.
            fresh = [
                (m, u, period, due_at)
                for (m, u), (period, due_at) in sorted(wanted.items())
                if latest.get((m, u), 0) < period
            ]
            if fresh:
                # The contract's feedback cadence sets how many months apart check-ins
                # come; read only for pairs with a month to open, so a pass that finds
                # everything opened costs no more than before.
                fresh = await _at_their_cadence(
                    session, fresh=fresh, started=started, latest=latest, zones=zones
                )
            new = await planning.open_checkins(session, rows=fresh)
            messages: list[outbox.Queued] = []
            for (m, u, period), checkin_id in sorted(new.items()):
                if u in erased:
                    continue  # as in notify.queue: nothing reaches someone who erased their data
                prefix = _prefix(mentorship_id=m, period=period, user_id=u)
                payload = {"checkin_id": checkin_id}
                for kind, ending, due in (
                    (PROMPT_KIND, "prompt", now),
                    (REMINDER_KIND, "reminder", rules.reminder_at(now)),
                ):
                    messages.append(
                        outbox.Queued(
                            key=f"{prefix}{ending}",
                            recipient_id=u,
                            kind=kind,
                            due_at=due,
                            payload=payload,
                            mentorship_id=m,
                            checkin_id=checkin_id,
                        )
                    )
            await outbox.enqueue_many(session, messages)
            opened += len(new)
        await session.commit()
    return opened


async def _at_their_cadence(
    session: AsyncSession,
    *,
    fresh: list[tuple[int, int, int, datetime]],
    started: dict[int, datetime | None],
    latest: dict[tuple[int, int], int],
    zones: dict[int, ZoneInfo],
) -> list[tuple[int, int, int, datetime]]:
    """The monthly periods in `fresh` moved back to the latest one of each pair's own
    feedback cadence (every second month: 2, 4...); those opened already are left out."""
    ids = sorted({m for m, _, _, _ in fresh})
    rhythm = await planning.feedback_cadences(session, mentorship_ids=ids)
    kept: list[tuple[int, int, int, datetime]] = []
    for m, u, period, due_at in fresh:
        every = rules.months_between(rhythm.get(m))
        started_at = started[m]
        if every == 1 or started_at is None:
            kept.append((m, u, period, due_at))
            continue
        due = rules.at_cadence(period, every)
        if due > latest.get((m, u), 0):
            kept.append((m, u, due, rules.anniversary(started_at, due, zones[u])))
    return kept


# -- seeing and answering ---------------------------------------------------------------------


async def view(
    session: AsyncSession, *, checkin_id: int, user: User, stay: bool = False
) -> CheckInView:
    """A check-in as its author sees it; refused for anyone else, the partner included.

    `stay`: whether a refusal leaves the person at the question they are on (see `current`).
    """
    checkin = await store.get(session, checkin_id=checkin_id)
    if checkin is None or checkin.user_id != user.id:
        raise Refused("common.stale_button", stay=stay)
    seen = await member_view(session, mentorship_id=checkin.mentorship_id, user=user)
    return CheckInView(checkin, seen)


async def _view_and_superseded(
    session: AsyncSession, *, checkin_id: int, user: User, stay: bool = False
) -> tuple[CheckInView, bool]:
    """`view`, and whether a check-in of a later period replaced this one (one query for
    both: every answer of a check-in asks)."""
    checkin, superseded = await store.get_and_superseded(session, checkin_id=checkin_id)
    if checkin is None or checkin.user_id != user.id:
        raise Refused("common.stale_button", stay=stay)
    seen = await member_view(session, mentorship_id=checkin.mentorship_id, user=user)
    return CheckInView(checkin, seen), superseded


async def still_wanted(session: AsyncSession, *, checkin_id: int, user: User) -> CheckInView | None:
    """The check-in while a prompt about it still makes sense: unanswered, the latest of
    its kind, and the mentorship active (no reminders once closing has begun)."""
    try:
        found, superseded = await _view_and_superseded(session, checkin_id=checkin_id, user=user)
    except Refused:
        return None
    if found.checkin.answered_at is not None or found.pairing.partner is None:
        return None
    if found.pairing.mentorship.state != MentorshipState.ACTIVE:
        return None
    return None if superseded else found


async def _open(session: AsyncSession, *, checkin_id: int, user: User, stay: bool) -> CheckInView:
    found, superseded = await _view_and_superseded(
        session, checkin_id=checkin_id, user=user, stay=stay
    )
    if found.checkin.answered_at is not None:
        raise Refused("checkins.already_done", stay=stay)
    if found.pairing.mentorship.state not in ANSWERABLE or found.pairing.partner is None:
        raise Refused("checkins.not_active", stay=stay)
    if superseded:
        raise Refused("checkins.superseded", stay=stay)
    return found


async def begin(session: AsyncSession, *, checkin_id: int, user: User) -> CheckInView:
    """Make `checkin_id` the check-in this person's next answers are about.

    A check-in that cannot be opened (finished, superseded, someone else's) is
    explained and changes nothing: the person stays wherever they were.
    """
    found = await _open(session, checkin_id=checkin_id, user=user, stay=True)
    user.focus_checkin_id = checkin_id
    await mentorships.save(session, user)
    return found


async def begin_latest(session: AsyncSession, *, user: User) -> CheckInView | None:
    """The most recently due check-in this person has not finished, or None."""
    assert user.id is not None
    candidates: list[CheckIn] = []
    for seen in await mentorships.pairings_of(session, user_id=user.id, states=ANSWERABLE):
        assert seen.mentorship.id is not None
        newest = await store.latest(session, mentorship_id=seen.mentorship.id, user_id=user.id)
        if newest is not None and newest.answered_at is None and seen.partner is not None:
            candidates.append(newest)
    if not candidates:
        return None
    chosen = max(candidates, key=lambda c: (c.due_at, c.id or 0))
    assert chosen.id is not None
    return await begin(session, checkin_id=chosen.id, user=user)


async def current(
    session: AsyncSession, *, user: User, checkin_id: int | None = None
) -> CheckInView:
    """The check-in being answered; a button naming another one is stale.

    A refused button press (`checkin_id` given) leaves the person at the question
    they are on, so a stale or forged press changes nothing at all. A typed
    answer whose check-in is gone (finished, superseded, the mentorship over)
    ends the questions.
    """
    pressed = checkin_id is not None
    focus = user.focus_checkin_id
    if focus is None or (pressed and checkin_id != focus):
        raise Refused("common.stale_button", stay=pressed)
    return await _open(session, checkin_id=focus, user=user, stay=pressed)


async def answer(
    session: AsyncSession,
    *,
    user: User,
    step: str,
    value: str,
    checkin_id: int | None = None,
) -> CheckInView:
    """Store one answer of the check-in being answered (typed, or a button naming it)."""
    found = await current(session, user=user, checkin_id=checkin_id)
    answer: int | str
    try:
        if step == "rating":
            field, answer = "rating", rules.parse_rating(value)
        elif step in rules.TEXT_STEPS:
            field = "note_to_partner" if step == "note" else step
            answer = rules.clean_answer(value)
        else:
            raise Refused("common.stale_button", stay=checkin_id is not None)
    except CheckInRefused as problem:
        raise _refused(problem) from None
    await store.set_answer(session, checkin=found.checkin, field=field, value=answer)
    return found


async def skip_note(session: AsyncSession, *, user: User, checkin_id: int) -> CheckInView:
    found = await current(session, user=user, checkin_id=checkin_id)
    if found.step != "note":
        raise Refused("common.stale_button", stay=True)
    found.checkin.note_to_partner = rules.NO_NOTE
    await mentorships.save(session, found.checkin)
    return found


async def share(
    session: AsyncSession, *, user: User, checkin_id: int, choice: str, now: datetime
) -> CheckInView:
    """Finish the check-in with the author's choice of what the partner sees."""
    found = await current(session, user=user, checkin_id=checkin_id)
    if found.step != rules.SHARE or choice not in set(Sharing):
        raise Refused("common.stale_button", stay=True)
    row = found.checkin
    try:
        row.shared, row.note_shared = rules.sharing_flags(
            Sharing(choice), has_note=bool(row.note_to_partner)
        )
    except CheckInRefused as problem:
        raise _refused(problem) from None
    row.answered_at = now
    user.focus_checkin_id = None
    await mentorships.save(session, row, user)
    await outbox.cancel(session, checkin_id=row.id, kinds=[REMINDER_KIND])
    if row.shared or row.note_shared:
        await notify.queue(
            session,
            recipient=found.partner,
            kind=SHARED_KIND,
            dedupe=f"{key_prefix(row)}shared",
            due_at=now,
            payload={"checkin_id": row.id},
            mentorship_id=row.mentorship_id,
            checkin_id=row.id,
        )
    return found


@dataclass(frozen=True, slots=True)
class SharedView:
    """What a partner may read of someone's check-in: only the parts marked shared."""

    author: User
    period: int
    works_well: str | None
    could_improve: str | None
    rating: int | None
    note: str | None
    author_role: str


async def shared_with(session: AsyncSession, *, checkin_id: int, reader: User) -> SharedView | None:
    """The shared parts of a finished check-in, for the author's partner; None for anyone
    else or when nothing was shared. Private parts never leave this function."""
    checkin = await store.get(session, checkin_id=checkin_id)
    if checkin is None or checkin.answered_at is None or checkin.user_id == reader.id:
        return None
    if not (checkin.shared or checkin.note_shared):
        return None
    assert reader.id is not None
    seen = await mentorships.pairing(
        session, mentorship_id=checkin.mentorship_id, user_id=reader.id
    )
    if seen is None or seen.partner is None or seen.partner.id != checkin.user_id:
        return None
    assert seen.partner_membership is not None
    return SharedView(
        author=seen.partner,
        period=checkin.period,
        works_well=checkin.works_well if checkin.shared else None,
        could_improve=checkin.could_improve if checkin.shared else None,
        rating=checkin.rating if checkin.shared else None,
        note=(checkin.note_to_partner or None) if checkin.note_shared else None,
        author_role=seen.partner_membership.role,
    )


# -- the closing summary ---------------------------------------------------------------------


async def ratings_series(
    session: AsyncSession, *, mentorship_id: int, viewer: User
) -> dict[str, list[tuple[date, int]]]:
    """Each person's check-in ratings over time, as `viewer` may see them, keyed by the
    name for a chart's legend (adept first).

    The viewer's own ratings are always there; the partner's only from check-ins
    they chose to share. A date is the check-in's due day in its author's zone.
    """
    await member_view(session, mentorship_id=mentorship_id, user=viewer)
    people = {p.id: (m, p) for m, p in await store.members(session, mentorship_id=mentorship_id)}
    names = {uid: display_name(person) for uid, (_, person) in people.items()}
    if len(set(names.values())) < len(names):
        # Two people of the same name are told apart by their role.
        names = {
            uid: f"{names[uid]} ({t(viewer.language, f'role.{membership.role}')})"
            for uid, (membership, _) in people.items()
        }
    order = sorted(people, key=lambda uid: people[uid][0].role != Role.ADEPT)
    series: dict[str, list[tuple[date, int]]] = {names[uid]: [] for uid in order}
    for row in await store.answered(session, mentorship_id=mentorship_id):
        if row.rating is None or row.user_id not in people:
            continue
        if row.user_id != viewer.id and not row.shared:
            continue
        author = people[row.user_id][1]
        day = row.due_at.astimezone(_zone(author)).date()
        series[names[row.user_id]].append((day, row.rating))
    return series
