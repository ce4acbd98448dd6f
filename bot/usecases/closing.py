"""Ending a mentorship in the handbook's order, on time or early: a closing meeting,
written feedback from both after it, then the look-back; ending early with a private
reason (booked meetings cancelled in both calendars); extending the planned end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import closing as rules
from bot.domain.contract import add_months
from bot.domain.goals import GoalKind, GoalState
from bot.domain.mentorship import check_transition
from bot.i18n import N_
from bot.usecases import Refused, notify
from bot.usecases import meetings as meeting_usecase
from bot.usecases.pairing import member_view
from storage import goals, mentorships, outbox, planning
from storage.mentorships import Pairing
from storage.models import (
    ClosingFeedback,
    Goal,
    GoalRevision,
    Meeting,
    Mentorship,
    MentorshipState,
    MentorshipTransition,
    Role,
    User,
)

ENDABLE = frozenset({MentorshipState.INTRO, MentorshipState.ACTIVE, MentorshipState.CLOSING})
# Written feedback comes after the closing meeting, so also right after the mentorship
# closed: the second person may still be answering when it closes.
FEEDBACK_STATES = frozenset(
    {MentorshipState.CLOSING, MentorshipState.ENDED_EARLY, MentorshipState.CLOSED}
)
REASON_TEXTS = (
    N_("closing.reason.chemistry"),
    N_("closing.reason.conditions"),
    N_("closing.reason.confidentiality"),
    N_("closing.reason.other"),
)


PARTNER_ENDED = N_("closing.partner_ended")


def wrap_up_buttons(mentorship: Mentorship, *, adept: bool, meeting: bool = True) -> notify.Buttons:
    """What comes next at the end, in the handbook's order: the closing meeting (booked by
    the adept, once the mentorship got under way), then written feedback."""
    rows: notify.Buttons = []
    if meeting and adept and mentorship.started_at is not None:
        rows.append([(N_("closing.button.book_meeting"), f"m:cl:{mentorship.id}")])
    rows.append([(N_("closing.button.feedback"), f"cl:fb:{mentorship.id}")])
    return rows


async def closing_meetings(session: AsyncSession, *, mentorship_id: int) -> list[Meeting]:
    found = await planning.closing_meetings(
        session, mentorship_ids=[mentorship_id], kind=rules.CLOSING_MEETING
    )
    return found.get(mentorship_id, [])


@dataclass(frozen=True, slots=True)
class Status:
    """Where a closing stands for one of the pair: the closing meeting, their feedback."""

    pairing: Pairing
    ahead: Meeting | None  # the closing meeting booked and not over yet
    held: bool  # a closing meeting is over
    feedback: ClosingFeedback | None

    @property
    def asks_feedback(self) -> bool:
        """Written feedback is asked after the closing meeting, or once begun."""
        return self.held or self.feedback is not None


async def status(session: AsyncSession, *, mentorship_id: int, user: User, now: datetime) -> Status:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    return await _status_of(session, seen=seen, user=user, now=now)


async def _status_of(session: AsyncSession, *, seen: Pairing, user: User, now: datetime) -> Status:
    assert seen.mentorship.id is not None
    booked = await closing_meetings(session, mentorship_id=seen.mentorship.id)
    ahead = [m for m in booked if rules.meeting_end(m) > now]
    feedback = (
        await session.exec(
            select(ClosingFeedback).where(
                ClosingFeedback.mentorship_id == seen.mentorship.id,
                ClosingFeedback.user_id == user.id,
            )
        )
    ).first()
    held = bool(rules.feedback_due(booked, now=now))
    return Status(seen, ahead[0] if ahead else None, held, feedback)


async def end_early(
    session: AsyncSession,
    *,
    mentorship_id: int,
    user: User,
    reason: str,
    now: datetime,
    notice: str = PARTNER_ENDED,
) -> Pairing:
    """End now. The reason is kept for its author and the statistics, never for the partner.

    `notice` is what the partner is told (someone erasing their data, see
    `bot.usecases.privacy`, ends with a notice of its own).
    """
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.mentorship.state not in ENDABLE or seen.partner is None:
        raise Refused("closing.already_over")
    if reason not in rules.END_REASONS:
        raise Refused("common.stale_button")
    mentorship = seen.mentorship
    target = check_transition(mentorship.state, MentorshipState.ENDED_EARLY)
    mentorship.ended_at, mentorship.end_reason = now, reason
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now, reason="ended"
    )
    assert mentorship.id is not None
    await outbox.cancel_for_mentorship(session, mentorship_id=mentorship.id)
    await meeting_usecase.cancel_ahead(session, seen=seen, user=user, now=now)
    await notify.tell(
        session,
        recipient=seen.partner,
        key=notice,
        values={"name": notify.name_of(user)},
        # Someone erasing their data (another notice) leaves: no meeting to offer with them.
        buttons=wrap_up_buttons(
            mentorship, adept=seen.me.role != Role.ADEPT, meeting=notice == PARTNER_ENDED
        ),
        dedupe=f"closing:{mentorship.id}:ended",
        now=now,
        mentorship_id=mentorship.id,
    )
    return seen


async def start_closing(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Pairing:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if seen.mentorship.state != MentorshipState.ACTIVE or seen.partner is None:
        raise Refused("closing.not_active")
    mentorship = seen.mentorship
    target = check_transition(mentorship.state, MentorshipState.CLOSING)
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=user.id, at=now
    )
    assert mentorship.id is not None
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("closing.started_by_partner"),
        values={"name": notify.name_of(user)},
        buttons=wrap_up_buttons(mentorship, adept=seen.me.role != Role.ADEPT),
        dedupe=f"closing:{mentorship.id}:started",
        now=now,
        mentorship_id=mentorship.id,
    )
    return seen


async def assessed_goals(
    session: AsyncSession, *, mentorship_id: int
) -> list[tuple[Goal, GoalRevision | None]]:
    """The adept's goals worth an outcome at the end: sent to the mentor at some point."""
    found = []
    for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id):
        if goal.kind == GoalKind.MENTOR or goal.state in (
            GoalState.DRAFT,
            GoalState.DROPPED,
            GoalState.READY,
        ):
            continue
        assert goal.id is not None
        found.append(
            (goal, await goals.revision(session, goal_id=goal.id, version=goal.current_version))
        )
    return found


@dataclass(frozen=True, slots=True)
class FeedbackView:
    """One person's closing feedback as they answer it, with the goals and the pair.

    `notice` is what to tell them before the next question: that their answer
    submitted the feedback, or why an answer was not taken.
    """

    feedback: ClosingFeedback
    assessed: list[tuple[Goal, GoalRevision | None]]
    pairing: Pairing
    notice: str | None = None

    @property
    def next(self) -> tuple[str, int | None]:
        """The next unanswered part ("done" once submitted) and the goal it is about."""
        return rules.next_step(self.feedback, [g.id for g, _ in self.assessed if g.id])

    @property
    def partner(self) -> User:
        assert self.pairing.partner is not None
        return self.pairing.partner


async def _feedback_of(session: AsyncSession, *, seen: Pairing, user: User) -> FeedbackView:
    if seen.mentorship.state not in FEEDBACK_STATES:
        raise Refused("closing.not_closing")
    mentorship_id = seen.mentorship.id
    assert user.id is not None and mentorship_id is not None
    feedback = (
        await session.exec(
            select(ClosingFeedback).where(
                ClosingFeedback.mentorship_id == mentorship_id, ClosingFeedback.user_id == user.id
            )
        )
    ).first()
    if feedback is None:
        feedback = ClosingFeedback(mentorship_id=mentorship_id, user_id=user.id)
        await mentorships.save(session, feedback)
    if user.current_mentorship_id != mentorship_id:
        user.current_mentorship_id = mentorship_id
        await mentorships.save(session, user)
    return FeedbackView(feedback, await assessed_goals(session, mentorship_id=mentorship_id), seen)


async def feedback_view(session: AsyncSession, *, mentorship_id: int, user: User) -> FeedbackView:
    """This person's closing feedback (started if needed): what to ask them next."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    return await _feedback_of(session, seen=seen, user=user)


async def my_feedback(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> tuple[ClosingFeedback, list[tuple[Goal, GoalRevision | None]], Pairing]:
    """This person's closing feedback (started if needed), the goals to assess, the pair."""
    found = await feedback_view(session, mentorship_id=mentorship_id, user=user)
    return found.feedback, found.assessed, found.pairing


async def begin_closing(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Status:
    """Start closing (the partner is told); what comes next: the closing meeting, or the
    feedback when one was already held."""
    seen = await start_closing(session, mentorship_id=mentorship_id, user=user, now=now)
    return await _status_of(session, seen=seen, user=user, now=now)


async def answer(
    session: AsyncSession,
    *,
    mentorship_id: int,
    user: User,
    step: str,
    value: str,
    now: datetime,
    goal_id: int | None = None,
) -> ClosingFeedback:
    """Store one answer of the closing feedback; the last one (sharing) submits it."""
    found = await feedback_view(session, mentorship_id=mentorship_id, user=user)
    not_taken = await _take(
        session, found, user=user, step=step, value=value, goal_id=goal_id, now=now
    )
    if not_taken is not None:
        raise Refused(not_taken)
    return found.feedback


async def answer_feedback(
    session: AsyncSession,
    *,
    mentorship_id: int,
    user: User,
    step: str,
    value: str,
    now: datetime,
    goal_id: int | None = None,
) -> FeedbackView:
    """Store one answer and return what to ask next: one step of the feedback questions.

    A typed answer that can be corrected is refused and its question stays open.
    An answer to a question that is not the open one (an old button, a second
    press, feedback already submitted) is not taken; the view's notice says so,
    and the open question is asked again (or the feedback is done).
    """
    found = await feedback_view(session, mentorship_id=mentorship_id, user=user)
    not_taken = await _take(
        session, found, user=user, step=step, value=value, goal_id=goal_id, now=now
    )
    if not_taken is not None:
        return replace(found, notice=not_taken)
    if found.feedback.submitted_at is not None:
        shared = found.feedback.shared
        return replace(
            found, notice=N_("closing.submitted_shared") if shared else N_("closing.submitted")
        )
    return found


async def _take(
    session: AsyncSession,
    found: FeedbackView,
    *,
    user: User,
    step: str,
    value: str,
    goal_id: int | None,
    now: datetime,
) -> str | None:
    """Store `value` as the answer to `step`; the key of why it is not taken, if it is not.

    A typed answer that breaks a rule is refused with `stay`: it can be corrected.
    """
    feedback = found.feedback
    if feedback.submitted_at is not None:
        return N_("closing.already_submitted")
    expected, expected_goal = found.next
    if step != expected or (step == "goals" and goal_id != expected_goal):
        return N_("common.stale_button")
    if step == "goals":
        if value not in rules.GOAL_OUTCOMES:
            return N_("common.stale_button")
        feedback.goal_outcomes = {**feedback.goal_outcomes, str(goal_id): value}
    elif step in ("most_valuable", "could_be_better"):
        cleaned = value.strip()
        if not cleaned:
            raise Refused("common.text_please", stay=True)
        if len(cleaned) > rules.FEEDBACK_MAX_CHARS:
            raise Refused(
                "closing.too_long",
                stay=True,
                limit=rules.FEEDBACK_MAX_CHARS,
                length=len(cleaned),
            )
        setattr(feedback, step, cleaned)
    elif step == "rating":
        if value.strip() not in {"1", "2", "3", "4", "5"}:
            raise Refused("closing.rating_buttons", stay=True)
        feedback.rating = int(value)
    elif step == "stay_in_touch":
        if value not in ("yes", "no"):
            return N_("common.stale_button")
        feedback.stay_in_touch = value == "yes"
    elif step == "share":
        if value not in ("yes", "no"):
            return N_("common.stale_button")
        feedback.shared, feedback.submitted_at = value == "yes", now
    await mentorships.save(session, feedback)
    if step == "share":
        await _after_submit(session, feedback=feedback, seen=found.pairing, user=user, now=now)
    return None


async def _after_submit(
    session: AsyncSession, *, feedback: ClosingFeedback, seen: Pairing, user: User, now: datetime
) -> None:
    assert seen.partner is not None and seen.mentorship.id is not None
    mentorship_id = seen.mentorship.id
    # Wrapping up first: closing cancels what is still queued, not this feedback.
    await _wrap_up_after(session, seen=seen, user=user, now=now)
    if feedback.shared:
        await notify.queue(
            session,
            recipient=seen.partner,
            kind="closing_feedback_shared",
            dedupe=f"closing:{mentorship_id}:shared:{user.id}",
            due_at=now,
            payload={"feedback_id": feedback.id},
            mentorship_id=mentorship_id,
        )


async def _wrap_up_after(
    session: AsyncSession, *, seen: Pairing, user: User, now: datetime
) -> None:
    mentorship_id = seen.mentorship.id
    assert mentorship_id is not None
    if seen.mentorship.state == MentorshipState.CLOSED or seen.mentorship.lookback_sent_at:
        return
    everything = list(
        await session.exec(
            select(ClosingFeedback).where(ClosingFeedback.mentorship_id == mentorship_id)
        )
    )
    # The second submission wraps up at once, unless the closing meeting is still ahead
    # (its reminders stay; plan_closing wraps up after it), or two weeks later.
    if not rules.should_close(
        closing_since=now,
        feedback=everything,
        now=now,
        closing_meetings=await closing_meetings(session, mentorship_id=mentorship_id),
    ):
        return
    if seen.mentorship.state == MentorshipState.CLOSING:
        await close(session, mentorship=seen.mentorship, actor_id=user.id, now=now)
    elif seen.mentorship.started_at is not None:
        await queue_lookback(session, mentorship=seen.mentorship, now=now)


async def close(
    session: AsyncSession, *, mentorship: Mentorship, actor_id: int | None, now: datetime
) -> None:
    """Closed: the look-back goes to both (text, chart and document)."""
    target = check_transition(mentorship.state, MentorshipState.CLOSED)
    mentorship.ended_at = now
    await mentorships.record_transition(
        session, mentorship=mentorship, to_state=target, actor_id=actor_id, at=now
    )
    assert mentorship.id is not None
    await outbox.cancel_for_mentorship(session, mentorship_id=mentorship.id)
    await queue_lookback(session, mentorship=mentorship, now=now)


async def queue_lookback(session: AsyncSession, *, mentorship: Mentorship, now: datetime) -> None:
    """The look-back to both (text, chart and document), once per mentorship."""
    assert mentorship.id is not None
    mentorship.lookback_sent_at = now
    await mentorships.save(session, mentorship)
    seen = await mentorships.pairing(
        session, mentorship_id=mentorship.id, user_id=mentorship.created_by_id
    )
    assert seen is not None and seen.partner is not None
    creator = await session.get(User, mentorship.created_by_id)
    assert creator is not None
    for person in (creator, seen.partner):
        for kind in ("lookback_text", "lookback_chart", "lookback_document"):
            await notify.queue(
                session,
                recipient=person,
                kind=kind,
                dedupe=f"closing:{mentorship.id}:{kind}:{person.id}",
                due_at=now,
                payload={"mentorship_id": mentorship.id},
                mentorship_id=mentorship.id,
            )


async def closing_since(session: AsyncSession, *, mentorship_id: int) -> datetime | None:
    moves = await session.exec(
        select(MentorshipTransition)
        .where(
            MentorshipTransition.mentorship_id == mentorship_id,
            MentorshipTransition.to_state == MentorshipState.CLOSING,
        )
        .order_by(col(MentorshipTransition.id))
    )
    found = list(moves)
    return found[-1].at if found else None


async def plan_closing(
    session: AsyncSession, *, now: datetime, zone: ZoneInfo, batch: int = planning.BATCH
) -> int:
    """The closing prompt four weeks before the planned end; written feedback asked after
    each closing meeting; closing once both gave their feedback, or two weeks after closing
    began or the closing meeting ended (never while it is ahead); and the same wrap-up
    (the look-back) for pairs that ended early. Returns how many prompts were queued and
    pairs wrapped up. Safe to run any number of times, and from two processes at once.

    Only the pairs concerned are read: active ones whose planned end is at most four
    weeks ahead, those closing, and those ended early still awaiting their look-back,
    `batch` at a time, each batch committed on its own (the job owns this session).
    """
    changed = 0
    today = now.astimezone(zone).date()
    async for pairs in planning.walk(
        session,
        states=[MentorshipState.ACTIVE],
        where=[
            col(Mentorship.planned_end).is_not(None),
            col(Mentorship.planned_end) <= today + rules.CLOSING_PROMPT_BEFORE,
        ],
        size=batch,
    ):
        changed += await _prompt(session, pairs=pairs, today=today, now=now)
        await session.commit()
    async for pairs in planning.walk(session, states=[MentorshipState.CLOSING], size=batch):
        changed += await _wrap_up(session, pairs=pairs, state=MentorshipState.CLOSING, now=now)
        await session.commit()
    # After an early end: the closing meeting's feedback, then the look-back (once).
    async for pairs in planning.walk(
        session,
        states=[MentorshipState.ENDED_EARLY],
        where=[
            col(Mentorship.lookback_sent_at).is_(None),
            col(Mentorship.started_at).is_not(None),
        ],
        size=batch,
    ):
        changed += await _wrap_up(session, pairs=pairs, state=MentorshipState.ENDED_EARLY, now=now)
        await session.commit()
    return changed


async def _wrap_up(
    session: AsyncSession, *, pairs: list[planning.Pair], state: str, now: datetime
) -> int:
    """Ask for written feedback after each closing meeting that is over; close (or, after
    an early end, send the look-back) when `rules.should_close` says so."""
    changed = 0
    ids = [p.id for p in pairs]
    since = await planning.closing_since(session, mentorship_ids=ids, state=state)
    feedback = await planning.feedback_of(session, mentorship_ids=ids)
    booked = await planning.closing_meetings(
        session, mentorship_ids=ids, kind=rules.CLOSING_MEETING
    )
    changed += await _ask_feedback(session, booked=booked, feedback=feedback, now=now)
    for pair in pairs:
        if not rules.should_close(
            closing_since=since.get(pair.id),
            feedback=feedback.get(pair.id, []),
            now=now,
            closing_meetings=booked.get(pair.id, []),
        ):
            continue
        # Another planner (or the second feedback) may have wrapped it up since the read.
        if not await planning.hold_if_in(session, mentorship_id=pair.id, state=state):
            continue
        mentorship = await session.get(Mentorship, pair.id, populate_existing=True)
        assert mentorship is not None
        if mentorship.lookback_sent_at is not None:
            continue
        if state == MentorshipState.CLOSING:
            await close(session, mentorship=mentorship, actor_id=None, now=now)
        else:
            await queue_lookback(session, mentorship=mentorship, now=now)
        changed += 1
    return changed


async def _ask_feedback(
    session: AsyncSession,
    *,
    booked: dict[int, list[Meeting]],
    feedback: dict[int, list[ClosingFeedback]],
    now: datetime,
) -> int:
    """Once a closing meeting is over, both are asked for their written feedback (once per
    meeting; not someone who already gave it)."""
    over: dict[int, Meeting] = {}
    for mentorship_id, meetings in booked.items():
        held = rules.feedback_due(meetings, now=now)
        if held:
            over[mentorship_id] = held[-1]
    if not over:
        return 0
    submitted = {
        (f.mentorship_id, f.user_id) for fs in feedback.values() for f in fs if f.submitted_at
    }
    rows = [
        outbox.Queued(
            key=f"closing:{member.mentorship_id}:ask:{over[member.mentorship_id].id}:"
            f"{member.user_id}",
            recipient_id=member.user_id,
            kind="closing_feedback_prompt",
            due_at=now,
            payload={"mentorship_id": member.mentorship_id},
            mentorship_id=member.mentorship_id,
            meeting_id=over[member.mentorship_id].id,
        )
        for member in await planning.members(session, mentorship_ids=list(over))
        if not member.erased and (member.mentorship_id, member.user_id) not in submitted
    ]
    told = await planning.existing_keys(session, keys=[row.key for row in rows])
    return await outbox.enqueue_many(session, [row for row in rows if row.key not in told])


async def _prompt(
    session: AsyncSession, *, pairs: list[planning.Pair], today: date, now: datetime
) -> int:
    """The adept's prompt to start closing, once per planned end."""
    keys = {
        p.id: f"closing:{p.id}:prompt:{p.planned_end.isoformat()}"
        for p in pairs
        if p.planned_end is not None
        and rules.closing_prompt_due(planned_end=p.planned_end, today=today)
    }
    # Exact keys (a unique index) rather than queueing again and again to be told no.
    told = await planning.existing_keys(session, keys=keys.values())
    waiting = [m for m, key in keys.items() if key not in told]
    if not waiting:
        return 0
    adepts = {
        m.mentorship_id: m
        for m in await planning.members(session, mentorship_ids=waiting)
        if m.role == Role.ADEPT and not m.erased
    }
    return await outbox.enqueue_many(
        session,
        [
            outbox.Queued(
                key=keys[m],
                recipient_id=adepts[m].user_id,
                kind="closing_prompt",
                due_at=now,
                payload={"mentorship_id": m},
                mentorship_id=m,
            )
            for m in waiting
            if m in adepts
        ],
    )


async def propose_extension(
    session: AsyncSession, *, mentorship_id: int, user: User, months: int, now: datetime
) -> date:
    """Ask the partner to agree to a later planned end; returns the proposed end."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    mentorship = seen.mentorship
    if mentorship.state != MentorshipState.ACTIVE or seen.partner is None:
        raise Refused("closing.extend_active_only")
    if months not in rules.EXTEND_MONTHS or mentorship.planned_end is None:
        raise Refused("common.stale_button")
    proposed = add_months(mentorship.planned_end, months)
    stamp = mentorship.planned_end.strftime("%Y%m%d")
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("closing.extension_proposed"),
        values={"name": notify.name_of(user), "n": months, "end": proposed},
        buttons=[
            [
                (
                    N_("closing.button.agree_extension"),
                    f"cl:xok:{mentorship_id}:{months}:{stamp}:{user.id}",
                ),
                (N_("closing.button.keep_end"), f"cl:xno:{mentorship_id}:{user.id}"),
            ]
        ],
        dedupe=f"closing:{mentorship_id}:extend:{stamp}:{months}:{user.id}:{now.isoformat()}",
        now=now,
        mentorship_id=mentorship_id,
    )
    return proposed


async def answer_extension(
    session: AsyncSession,
    *,
    mentorship_id: int,
    user: User,
    months: int | None,
    stamp: str | None,
    proposer_id: int,
    now: datetime,
) -> date | None:
    """The partner agrees (months given) or keeps the planned end; both are told."""
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    mentorship = seen.mentorship
    if seen.partner is None or seen.partner.id != proposer_id:
        raise Refused("common.stale_button")
    if months is None:
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("closing.extension_declined"),
            values={"name": notify.name_of(user)},
            dedupe=f"closing:{mentorship_id}:extend-no:{now.isoformat()}",
            now=now,
            mentorship_id=mentorship_id,
        )
        return None
    if (
        mentorship.state != MentorshipState.ACTIVE
        or mentorship.planned_end is None
        or mentorship.planned_end.strftime("%Y%m%d") != stamp
        or months not in rules.EXTEND_MONTHS
    ):
        raise Refused("closing.extension_stale")
    mentorship.planned_end = add_months(mentorship.planned_end, months)
    await mentorships.save(session, mentorship)
    for person in (user, seen.partner):
        await notify.tell(
            session,
            recipient=person,
            key=N_("closing.extended"),
            values={"end": mentorship.planned_end},
            dedupe=f"closing:{mentorship_id}:extended:{stamp}:{person.id}",
            now=now,
            mentorship_id=mentorship_id,
        )
    return mentorship.planned_end
