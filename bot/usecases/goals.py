"""Goals: writing them step by step, the mentor's answer, revisions, progress and closing.

A typed answer that is about one goal (the mentor's question, a percentage, a
note, a closing reason) acts on the user's `focus_goal_id`, set by the button
that asked for it and re-checked here like any button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import dates
from bot.domain import goals as rules
from bot.domain.goals import GoalKind, GoalRefused, GoalState, Response
from bot.i18n import N_
from bot.usecases import Refused, misread, notify
from bot.usecases.pairing import display_name, member_view
from storage import goals, mentorships
from storage.mentorships import Pairing
from storage.models import Goal, GoalProgress, GoalRevision, Role, User, Visibility

# Keys reached through `Refused(f"goal.refused.{reason}", stay=True)`: the answer can be
# corrected, so the person stays at the step.
REFUSALS = (
    N_("goal.refused.specific_too_short"),
    N_("goal.refused.measurable_too_short"),
    N_("goal.refused.realistic_too_short"),
    N_("goal.refused.hard_to_measure"),
    N_("goal.refused.too_long"),
    N_("goal.refused.date_unclear"),
    N_("goal.refused.date_past"),
    N_("goal.refused.date_after_end"),
    N_("goal.refused.comment_empty"),
    N_("goal.refused.note_empty"),
    N_("goal.refused.percent_invalid"),
)
# A goal named in a notice, and user text quoted in one: notices go out through the
# outbox as a single message, so they quote; the whole text is always in /goals.
NAMED = 120
QUOTED = 1500


@dataclass(frozen=True, slots=True)
class Draft:
    """A version its owner is writing, with what the review card needs."""

    goal: Goal
    revision: GoalRevision
    pairing: Pairing
    previous: GoalRevision | None  # the version sent before, with the mentor's answer
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class Overview:
    """The goals of one mentorship that this user may see, with the version to show."""

    pairing: Pairing
    mine: list[Goal]
    theirs: list[Goal]
    shown: dict[int, GoalRevision]
    revising: frozenset[int]  # own goals with a new version being written


@dataclass(frozen=True, slots=True)
class Detail:
    goal: Goal
    owner: User
    pairing: Pairing
    revisions: list[GoalRevision]  # every version sent, and the owner's draft
    progress: list[GoalProgress]

    @property
    def is_mine(self) -> bool:
        return self.goal.owner_id == self.pairing.me.user_id

    @property
    def current(self) -> GoalRevision | None:
        """The version sent last, or the first draft of a goal never sent."""
        sent = [r for r in self.revisions if r.version <= self.goal.current_version]
        if sent:
            return sent[-1]
        return self.revisions[-1] if self.revisions else None

    @property
    def draft(self) -> GoalRevision | None:
        latest = self.revisions[-1] if self.revisions else None
        if latest is not None and rules.is_open_draft(self.goal.current_version, latest):
            return latest
        return None


@dataclass(frozen=True, slots=True)
class Review:
    """A version awaiting the mentor's answer, as the mentor sees it."""

    goal: Goal
    revision: GoalRevision
    pairing: Pairing
    previous: GoalRevision | None


def headline(revision: GoalRevision | None, limit: int = NAMED) -> str:
    """A goal named by its first step, on one line."""
    if revision is None or not revision.specific:
        return "…"
    # Named inside a sentence, so its own full stop would double the sentence's.
    return rules.excerpt(revision.specific, limit, one_line=True).rstrip(" .") or "…"


def _local_today(user: User, now: datetime) -> date:
    return now.astimezone(ZoneInfo(user.timezone)).date()


async def _pairing(
    session: AsyncSession, *, mentorship_id: int, user: User, drafting: bool = False
) -> Pairing:
    """The mentorship as `user` sees it, if goals can be worked on in it now.

    `drafting`: writing a goal, which the adept may already do in the intro phase.
    """
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    states = rules.DRAFTING_STATES if drafting else rules.MENTORSHIP_STATES
    if seen.mentorship.state not in states or seen.partner is None:
        raise Refused("goal.mentorship_not_active")
    if rules.drafting_only(seen.mentorship.state) and seen.me.role != Role.ADEPT:
        raise Refused(N_("goal.mentor_after_contract"), name=display_name(seen.partner))
    return seen


async def _previous(
    session: AsyncSession, goal: Goal, revision: GoalRevision
) -> GoalRevision | None:
    if revision.version <= 1:
        return None
    assert goal.id is not None
    return await goals.revision(session, goal_id=goal.id, version=revision.version - 1)


async def _focus(session: AsyncSession, user: User, goal: Goal, seen: Pairing) -> None:
    user.current_mentorship_id = seen.mentorship.id
    user.focus_goal_id = goal.id
    await mentorships.save(session, user)


async def _own_goal(
    session: AsyncSession, *, goal_id: int | None, user: User, drafting: bool = False
) -> tuple[Goal, Pairing]:
    """A goal of `user` in a mentorship where goals can be worked on."""
    goal = await goals.get(session, goal_id=goal_id) if goal_id is not None else None
    if goal is None:
        raise Refused("goal.not_found")
    await member_view(session, mentorship_id=goal.mentorship_id, user=user)
    if not rules.visible_to(goal, user.id):
        raise Refused("goal.not_found")
    if goal.owner_id != user.id:
        raise Refused("goal.owner_only")
    return goal, await _pairing(
        session, mentorship_id=goal.mentorship_id, user=user, drafting=drafting
    )


def _open(goal: Goal) -> None:
    if goal.state in rules.CLOSED:
        raise Refused("goal.closed_already")


# -- writing -------------------------------------------------------------------------------


async def open_draft(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Draft:
    """The goal this user is writing in this mentorship: resumed, or a new one."""
    seen = await _pairing(session, mentorship_id=mentorship_id, user=user, drafting=True)
    assert user.id is not None
    found = await goals.open_draft(session, owner_id=user.id, mentorship_id=mentorship_id)
    resumed = found is not None
    if found is None:
        kind = rules.kind_for(seen.me.role, seen.mentorship.mode)
        visibility = Visibility.PRIVATE if kind == GoalKind.MENTOR else Visibility.SHARED
        found = await goals.create(
            session,
            mentorship_id=mentorship_id,
            owner_id=user.id,
            kind=kind,
            visibility=visibility,
            now=now,
        )
    await _focus(session, user, found.goal, seen)
    previous = await _previous(session, found.goal, found.revision)
    return Draft(found.goal, found.revision, seen, previous, resumed)


async def open_revision(session: AsyncSession, *, goal_id: int, user: User, now: datetime) -> Draft:
    """A new version of a sent goal (insight grows), or the one already being written."""
    goal, seen = await _own_goal(session, goal_id=goal_id, user=user, drafting=True)
    assert user.id is not None and goal.id is not None
    found = await goals.open_draft(session, owner_id=user.id, mentorship_id=goal.mentorship_id)
    if found is not None and found.goal.id != goal.id:
        raise Refused("goal.finish_draft_first")
    if found is not None:
        revision, resumed = found.revision, True
    else:
        _open(goal)
        if goal.state == GoalState.AWAITING:
            assert seen.partner is not None
            raise Refused(N_("goal.revise_wait"), name=display_name(seen.partner))
        sent = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
        revision = await goals.new_revision(
            session, goal=goal, author_id=user.id, based_on=sent, now=now
        )
        resumed = False
    await _focus(session, user, goal, seen)
    previous = await _previous(session, goal, revision)
    return Draft(goal, revision, seen, previous, resumed)


async def current_draft(session: AsyncSession, *, user: User) -> Draft | None:
    """The draft in the user's current mentorship, for a typed answer."""
    if user.current_mentorship_id is None or user.id is None:
        return None
    found = await goals.open_draft(
        session, owner_id=user.id, mentorship_id=user.current_mentorship_id
    )
    if found is None:
        return None
    seen = await _pairing(session, mentorship_id=found.goal.mentorship_id, user=user, drafting=True)
    previous = await _previous(session, found.goal, found.revision)
    return Draft(found.goal, found.revision, seen, previous, resumed=True)


async def my_draft(session: AsyncSession, *, revision_id: int, user: User) -> Draft:
    """The draft a review-card button names, if it is still this user's unsent version."""
    revision = await goals.get_revision(session, revision_id=revision_id)
    goal = await goals.get(session, goal_id=revision.goal_id) if revision else None
    if revision is None or goal is None:
        raise Refused("goal.draft_gone")
    await member_view(session, mentorship_id=goal.mentorship_id, user=user)
    if goal.owner_id != user.id:
        # A draft is its owner's alone, so the partner is not even told it exists.
        raise Refused("goal.not_found")
    if not rules.is_open_draft(goal.current_version, revision) or goal.state in rules.CLOSED:
        raise Refused("goal.draft_gone")
    seen = await _pairing(session, mentorship_id=goal.mentorship_id, user=user, drafting=True)
    return Draft(goal, revision, seen, await _previous(session, goal, revision), resumed=True)


async def set_answer(
    session: AsyncSession,
    *,
    revision_id: int,
    user: User,
    field: str,
    text: str,
    today: date,
) -> Draft:
    """Store one step of the draft a button names; checked by the domain rules."""
    draft = await my_draft(session, revision_id=revision_id, user=user)
    return await _answer(session, draft, user=user, field=field, text=text, today=today)


async def answer_current_draft(
    session: AsyncSession, *, user: User, field: str, text: str, today: date
) -> Draft:
    """A typed answer to the wizard's question: stored in the draft being written.

    A refused answer keeps the person at the question; a draft that is gone
    (sent or discarded meanwhile) ends the wizard.
    """
    draft = await current_draft(session, user=user)
    if draft is None or draft.revision.id is None:
        raise Refused("goal.draft_gone")
    return await _answer(session, draft, user=user, field=field, text=text, today=today)


async def draft_field(
    session: AsyncSession, *, revision_id: int, user: User, letter: str
) -> tuple[Draft, str]:
    """The draft and the step an edit button names (one of S, M, R, T of its kind)."""
    draft = await my_draft(session, revision_id=revision_id, user=user)
    field = rules.LETTERS.get(letter)
    if field is None or field not in rules.steps(draft.goal.kind):
        raise Refused("goal.draft_gone")
    return draft, field


async def _answer(
    session: AsyncSession, draft: Draft, *, user: User, field: str, text: str, today: date
) -> Draft:
    if field not in rules.steps(draft.goal.kind):
        raise Refused("goal.draft_gone")
    revision = draft.revision
    planned_end = draft.pairing.mentorship.planned_end
    if field == "target_date":
        try:
            parsed = dates.parse_date(
                text, today=today, timezone=user.timezone, language=user.language
            )
        except dates.Unreadable as problem:
            if problem.reason == "weekday_mismatch":
                raise misread.weekday_mismatch(problem, language=user.language) from None
            raise Refused("goal.refused.date_unclear", stay=True) from None
        try:
            value: str | date = rules.check_target(parsed, today=today, planned_end=planned_end)
        except GoalRefused as refused:
            raise Refused(
                f"goal.refused.{refused.reason}", stay=True, date=parsed, end=planned_end
            ) from None
    else:
        try:
            value = rules.clean_answer(field, text)
        except GoalRefused as refused:
            raise Refused(
                f"goal.refused.{refused.reason}", stay=True, limit=rules.MAX_CHARS
            ) from None
    await goals.set_answer(session, revision=revision, field=field, value=value)
    return draft


async def submit(
    session: AsyncSession, *, revision_id: int, user: User, now: datetime, today: date
) -> Draft:
    """Send the draft: to the mentor for acceptance, or, for a mentor's own goal, set it."""
    draft = await my_draft(session, revision_id=revision_id, user=user)
    goal, revision, seen = draft.goal, draft.revision, draft.pairing
    if rules.first_missing(revision, goal.kind) is not None:
        raise Refused("goal.incomplete")
    assert revision.target_date is not None and seen.partner is not None
    try:
        rules.check_target(
            revision.target_date, today=today, planned_end=seen.mentorship.planned_end
        )
    except GoalRefused as refused:
        raise Refused(
            f"goal.refused.{refused.reason}",
            date=revision.target_date,
            end=seen.mentorship.planned_end,
        ) from None
    goal.current_version = revision.version
    goal.target_date = revision.target_date
    goal.updated_at = now
    if rules.drafting_only(seen.mentorship.state):
        goal.state = GoalState.READY  # sent by `send_ready` once the mentorship is active
    elif rules.needs_acceptance(goal.kind):
        await _send_for_review(session, goal=goal, revision=revision, mentor=seen.partner, now=now)
    else:
        goal.state = GoalState.ACTIVE
        await _queue_deadline(session, goal=goal, owner=user, now=now)
        if goal.visibility == Visibility.SHARED:
            await _tell_shared(
                session, goal=goal, revision=revision, owner=user, seen=seen, now=now
            )
    await mentorships.save(session, goal)
    return draft


async def _send_for_review(
    session: AsyncSession, *, goal: Goal, revision: GoalRevision, mentor: User, now: datetime
) -> None:
    goal.state = GoalState.AWAITING
    await notify.queue(
        session,
        recipient=mentor,
        kind="goal_review",
        dedupe=f"goal:{goal.id}:v{revision.version}:review",
        due_at=now,
        payload={"revision_id": revision.id},
        mentorship_id=goal.mentorship_id,
        goal_id=goal.id,
    )


async def send_ready(
    session: AsyncSession, *, mentorship_id: int, mentor: User, now: datetime
) -> int:
    """The mentorship became active: the goals the adept wrote in the intro phase go to
    the mentor for acceptance. Returns how many."""
    sent = 0
    for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id):
        if goal.state != GoalState.READY or goal.id is None:
            continue
        revision = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
        if revision is None:
            continue
        goal.updated_at = now
        await _send_for_review(session, goal=goal, revision=revision, mentor=mentor, now=now)
        await mentorships.save(session, goal)
        sent += 1
    return sent


async def discard(session: AsyncSession, *, revision_id: int, user: User) -> bool:
    """Drop the version being written; True when the whole goal went with it."""
    draft = await my_draft(session, revision_id=revision_id, user=user)
    whole = draft.goal.current_version == 0
    await goals.discard(session, goal=draft.goal, revision=draft.revision)
    user.focus_goal_id = None
    await mentorships.save(session, user)
    return whole


# -- the mentor's answer ---------------------------------------------------------------------


async def _awaiting_mentor(session: AsyncSession, *, revision_id: int | None, user: User) -> Review:
    revision = (
        await goals.get_revision(session, revision_id=revision_id)
        if revision_id is not None
        else None
    )
    goal = await goals.get(session, goal_id=revision.goal_id) if revision else None
    if revision is None or goal is None:
        raise Refused("common.stale_button")
    seen = await member_view(session, mentorship_id=goal.mentorship_id, user=user)
    if not rules.visible_to(goal, user.id):
        raise Refused("goal.not_found")
    if seen.me.role != Role.MENTOR or goal.owner_id == user.id:
        raise Refused("goal.mentor_only")
    seen = await _pairing(session, mentorship_id=goal.mentorship_id, user=user)
    if (
        goal.state != GoalState.AWAITING
        or goal.current_version != revision.version
        or revision.mentor_response is not None
    ):
        raise Refused("goal.version_replaced")
    return Review(goal, revision, seen, await _previous(session, goal, revision))


async def review_for(session: AsyncSession, *, revision_id: int, user: User) -> Review | None:
    """The version as the mentor should see it now, or None if it no longer awaits them."""
    try:
        return await _awaiting_mentor(session, revision_id=revision_id, user=user)
    except Refused:
        return None


async def accept(session: AsyncSession, *, revision_id: int, user: User, now: datetime) -> Review:
    review = await _awaiting_mentor(session, revision_id=revision_id, user=user)
    goal, revision, seen = review.goal, review.revision, review.pairing
    assert seen.partner is not None
    revision.mentor_response = Response.ACCEPTED
    revision.responded_at = now
    goal.state = GoalState.ACCEPTED
    goal.updated_at = now
    await mentorships.save(session, revision, goal)
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("goal.accepted"),
        values={"name": notify.name_of(user), "goal": notify.goal_headline(revision)},
        buttons=[
            [
                (N_("goal.button.progress"), f"g:prog:{goal.id}"),
                (N_("goal.button.open"), f"g:show:{goal.id}"),
            ]
        ],
        dedupe=f"goal:{goal.id}:v{revision.version}:accepted",
        now=now,
        mentorship_id=goal.mentorship_id,
    )
    await _queue_deadline(session, goal=goal, owner=seen.partner, now=now)
    return review


async def start_challenge(session: AsyncSession, *, revision_id: int, user: User) -> Review:
    """Check the version awaits this mentor, and remember it for the question they type."""
    review = await _awaiting_mentor(session, revision_id=revision_id, user=user)
    await _focus(session, user, review.goal, review.pairing)
    return review


async def challenge(session: AsyncSession, *, user: User, comment: str, now: datetime) -> Review:
    """The mentor's question on the version awaiting them; the adept may then revise."""
    goal = await goals.get(session, goal_id=user.focus_goal_id) if user.focus_goal_id else None
    if goal is None or goal.id is None:
        raise Refused("common.stale_button")
    sent = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
    review = await _awaiting_mentor(session, revision_id=sent.id if sent else None, user=user)
    try:
        cleaned = rules.clean_comment(comment)
    except GoalRefused as refused:
        raise Refused(f"goal.refused.{refused.reason}", stay=True, limit=rules.MAX_CHARS) from None
    revision, seen = review.revision, review.pairing
    assert seen.partner is not None
    revision.mentor_response = Response.CHALLENGED
    revision.mentor_comment = cleaned
    revision.responded_at = now
    goal.state = GoalState.CHALLENGED
    goal.updated_at = now
    user.focus_goal_id = None
    await mentorships.save(session, revision, goal, user)
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("goal.challenged"),
        values={
            "name": notify.name_of(user),
            "goal": notify.goal_headline(revision),
            "comment": notify.text_of(GoalRevision, revision.id, "mentor_comment", limit=QUOTED),
        },
        buttons=[
            [
                (N_("goal.button.revise"), f"g:rev:{goal.id}"),
                (N_("goal.button.open"), f"g:show:{goal.id}"),
            ]
        ],
        dedupe=f"goal:{goal.id}:v{revision.version}:challenged",
        now=now,
        mentorship_id=goal.mentorship_id,
    )
    return review


# -- looking at goals -----------------------------------------------------------------------


async def overview(session: AsyncSession, *, mentorship_id: int, user: User) -> Overview:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    mine: list[Goal] = []
    theirs: list[Goal] = []
    shown: dict[int, GoalRevision] = {}
    revising: set[int] = set()
    for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id):
        if not rules.visible_to(goal, user.id):
            continue
        assert goal.id is not None
        (mine if goal.owner_id == user.id else theirs).append(goal)
        versions = await goals.revisions(session, goal_id=goal.id)
        sent = [r for r in versions if r.version <= goal.current_version]
        if sent:
            shown[goal.id] = sent[-1]
        elif versions:
            shown[goal.id] = versions[-1]
        if goal.owner_id == user.id and goal.current_version and len(versions) > len(sent):
            revising.add(goal.id)
    return Overview(seen, mine, theirs, shown, frozenset(revising))


async def detail(session: AsyncSession, *, goal_id: int, user: User) -> Detail:
    goal = await goals.get(session, goal_id=goal_id)
    if goal is None or goal.id is None:
        raise Refused("goal.not_found")
    seen = await member_view(session, mentorship_id=goal.mentorship_id, user=user)
    if not rules.visible_to(goal, user.id):
        raise Refused("goal.not_found")
    mine = goal.owner_id == user.id
    owner = user if mine else seen.partner
    assert owner is not None
    versions = [
        r
        for r in await goals.revisions(session, goal_id=goal.id)
        if mine or r.version <= goal.current_version
    ]
    return Detail(goal, owner, seen, versions, await goals.progress(session, goal_id=goal.id))


# -- progress and closing --------------------------------------------------------------------


async def in_progress(
    session: AsyncSession, *, mentorship_id: int, user: User
) -> list[tuple[Goal, GoalRevision | None]]:
    """This user's goals that progress can be recorded on, with the version to name them by."""
    await _pairing(session, mentorship_id=mentorship_id, user=user)
    found = []
    for goal in await goals.of_mentorship(session, mentorship_id=mentorship_id):
        if goal.owner_id == user.id and goal.state in rules.IN_PROGRESS:
            assert goal.id is not None
            sent = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
            found.append((goal, sent))
    return found


async def _progressing(
    session: AsyncSession, *, goal_id: int | None, user: User
) -> tuple[Goal, Pairing]:
    goal, seen = await _own_goal(session, goal_id=goal_id, user=user)
    _open(goal)
    if goal.state not in rules.IN_PROGRESS:
        raise Refused("goal.progress_not_yet")
    return goal, seen


async def start_progress(
    session: AsyncSession, *, goal_id: int, user: User
) -> tuple[Goal, GoalRevision | None]:
    goal, seen = await _progressing(session, goal_id=goal_id, user=user)
    await _focus(session, user, goal, seen)
    assert goal.id is not None
    return goal, await goals.revision(session, goal_id=goal.id, version=goal.current_version)


async def record_progress(
    session: AsyncSession, *, goal_id: int | None, user: User, percent: int | None, now: datetime
) -> tuple[Goal, GoalProgress]:
    """A new percentage, or a step with the percentage kept (`percent` None)."""
    goal, seen = await _progressing(session, goal_id=goal_id, user=user)
    try:
        value = goal.progress_percent if percent is None else rules.check_percent(percent)
    except GoalRefused as refused:
        raise Refused(f"goal.refused.{refused.reason}", stay=True) from None
    row = await goals.add_progress(session, goal=goal, percent=value, now=now)
    await _focus(session, user, goal, seen)
    return goal, row


async def record_typed_progress(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> tuple[Goal, GoalProgress]:
    try:
        percent = rules.parse_percent(text)
    except GoalRefused as refused:
        raise Refused(f"goal.refused.{refused.reason}", stay=True) from None
    return await record_progress(
        session, goal_id=user.focus_goal_id, user=user, percent=percent, now=now
    )


async def add_note(session: AsyncSession, *, user: User, note: str) -> GoalProgress:
    """The note to the progress just recorded on the goal in focus."""
    goal, _seen = await _own_goal(session, goal_id=user.focus_goal_id, user=user)
    assert goal.id is not None
    latest = await goals.latest_progress(session, goal_id=goal.id)
    if latest is None or latest.note is not None:
        raise Refused("common.stale_button")
    try:
        latest.note = rules.clean_note(note)
    except GoalRefused as refused:
        raise Refused(f"goal.refused.{refused.reason}", stay=True, limit=rules.MAX_CHARS) from None
    user.focus_goal_id = None
    await mentorships.save(session, latest, user)
    return latest


async def start_close(
    session: AsyncSession, *, goal_id: int, user: User
) -> tuple[Goal, GoalRevision | None]:
    goal, seen = await _own_goal(session, goal_id=goal_id, user=user)
    _open(goal)
    if goal.current_version == 0:
        raise Refused("goal.close_draft")
    await _focus(session, user, goal, seen)
    assert goal.id is not None
    return goal, await goals.revision(session, goal_id=goal.id, version=goal.current_version)


async def close(
    session: AsyncSession, *, user: User, outcome: str, reason: str, now: datetime
) -> Goal:
    """Mark the goal in focus achieved or dropped, with the owner's reason."""
    goal, seen = await _own_goal(session, goal_id=user.focus_goal_id, user=user)
    _open(goal)
    if outcome not in (GoalState.ACHIEVED, GoalState.DROPPED) or goal.current_version == 0:
        raise Refused("common.stale_button")
    try:
        cleaned = rules.clean_comment(reason)
    except GoalRefused as refused:
        raise Refused(f"goal.refused.{refused.reason}", stay=True, limit=rules.MAX_CHARS) from None
    assert goal.id is not None and seen.partner is not None
    goal.state = outcome
    goal.closed_reason = cleaned
    goal.updated_at = now
    if outcome == GoalState.ACHIEVED and goal.progress_percent < 100:
        await goals.add_progress(session, goal=goal, percent=100, now=now)
    user.focus_goal_id = None
    await mentorships.save(session, goal, user)
    if rules.visible_to(goal, seen.partner.id):
        sent = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
        await notify.tell(
            session,
            recipient=seen.partner,
            key=N_("goal.partner_achieved")
            if outcome == GoalState.ACHIEVED
            else N_("goal.partner_dropped"),
            values={
                "name": notify.name_of(user),
                "goal": notify.goal_headline(sent),
                "reason": notify.text_of(Goal, goal.id, "closed_reason", limit=QUOTED),
            },
            buttons=[[(N_("goal.button.open"), f"g:show:{goal.id}")]],
            dedupe=f"goal:{goal.id}:closed",
            now=now,
            mentorship_id=goal.mentorship_id,
        )
    return goal


async def set_shared(
    session: AsyncSession, *, goal_id: int, user: User, shared: bool, now: datetime
) -> tuple[Goal, Pairing]:
    """A mentor's own goal shown to the adept, or made private again."""
    goal, seen = await _own_goal(session, goal_id=goal_id, user=user)
    if goal.kind != GoalKind.MENTOR:
        raise Refused("common.stale_button")
    was_shared = goal.visibility == Visibility.SHARED
    goal.visibility = Visibility.SHARED if shared else Visibility.PRIVATE
    goal.updated_at = now
    await mentorships.save(session, goal)
    if shared and not was_shared and goal.current_version >= 1 and goal.id is not None:
        sent = await goals.revision(session, goal_id=goal.id, version=goal.current_version)
        await _tell_shared(session, goal=goal, revision=sent, owner=user, seen=seen, now=now)
    return goal, seen


async def _tell_shared(
    session: AsyncSession,
    *,
    goal: Goal,
    revision: GoalRevision | None,
    owner: User,
    seen: Pairing,
    now: datetime,
) -> None:
    assert seen.partner is not None
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("goal.mentor_shared"),
        values={"name": notify.name_of(owner), "goal": notify.goal_headline(revision)},
        buttons=[[(N_("goal.button.open"), f"g:show:{goal.id}")]],
        dedupe=f"goal:{goal.id}:v{goal.current_version}:shared:{now.isoformat()}",
        now=now,
        mentorship_id=goal.mentorship_id,
    )


# -- the deadline ---------------------------------------------------------------------------


async def _queue_deadline(session: AsyncSession, *, goal: Goal, owner: User, now: datetime) -> None:
    """A reminder to the owner some days before the deadline of this version."""
    if goal.target_date is None:
        return
    due = rules.deadline_nudge_at(
        goal.target_date, today=_local_today(owner, now), zone=owner.timezone
    )
    if due is None:
        return
    await notify.queue(
        session,
        recipient=owner,
        kind="goal_deadline",
        dedupe=f"goal:{goal.id}:v{goal.current_version}:deadline",
        due_at=due,
        payload={"goal_id": goal.id, "version": goal.current_version},
        mentorship_id=goal.mentorship_id,
        expires_at=rules.deadline_passed_at(goal.target_date, zone=owner.timezone),
        goal_id=goal.id,
    )


async def deadline_for(
    session: AsyncSession, *, goal_id: int, version: int, user: User
) -> tuple[Goal, GoalRevision] | None:
    """The goal a deadline reminder is about, if that version is still being worked on."""
    goal = await goals.get(session, goal_id=goal_id)
    if goal is None or goal.owner_id != user.id or goal.current_version != version:
        return None
    if goal.state not in rules.IN_PROGRESS or goal.target_date is None:
        return None
    try:
        await _pairing(session, mentorship_id=goal.mentorship_id, user=user)
    except Refused:
        return None
    sent = await goals.revision(session, goal_id=goal_id, version=version)
    return (goal, sent) if sent is not None else None
