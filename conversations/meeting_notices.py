"""What a meeting sends through the outbox: the request to confirm, the calendar
invitation, reminders, the agenda prompt, the mentor's preparation, the evaluation,
and nudges to book. Each renderer builds its message when it is sent, in the
recipient's language, and returns None when the message no longer applies."""

from __future__ import annotations

from sqlmodel import col, select

from bot import scheduler
from bot.domain import ics
from bot.domain.closing import CLOSING_MEETING
from bot.domain.goals import GoalKind, GoalState
from bot.i18n import N_, Html, escape, t
from bot.usecases import Refused, pairing, questions
from bot.usecases import meetings as usecase
from conversations.meetings import local, when_text
from storage import meetings as store
from storage import mentorships
from storage.models import Goal, GoalRevision, Meeting, MentorshipState, User

# The adept's goals worth mentioning before a meeting: sent to the mentor and not finished.
OPEN_GOAL_STATES = (GoalState.AWAITING, GoalState.CHALLENGED, GoalState.ACCEPTED)


async def _meeting_for(ctx: scheduler.RenderContext) -> usecase.MeetingView | None:
    try:
        return await usecase.view(
            ctx.session, meeting_id=int(ctx.notification.payload["meeting_id"]), user=ctx.recipient
        )
    except Refused:
        return None


def _partner(found: usecase.MeetingView, recipient: User) -> User:
    return found.mentor if found.adept.id == recipient.id else found.adept


def _still_on(found: usecase.MeetingView, payload: dict[str, object]) -> bool:
    """A message planned for a meeting applies only while it is confirmed at that time."""
    return (
        found.meeting.state == "confirmed"
        and found.meeting.starts_at.isoformat() == payload.get("starts_at")
    )


async def render_request(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None:
        return None
    meeting, language = found.meeting, ctx.recipient.language
    if (
        meeting.state != "proposed"
        or meeting.awaiting_id != ctx.recipient.id
        or meeting.ics_sequence != ctx.notification.payload.get("sequence")
    ):
        return None
    partner = _partner(found, ctx.recipient)
    text = t(
        language,
        "meetings.request",
        name=pairing.display_name(partner),
        when=Html(when_text(language, ctx.recipient, partner, meeting.starts_at)),
        n=meeting.duration_minutes,
        place=meeting.place or "—",
    )
    return scheduler.Outgoing(
        text=text,
        buttons=[
            [(t(language, "meetings.button.confirm"), f"m:ok:{meeting.id}:{meeting.ics_sequence}")],
            [
                (t(language, "meetings.button.other_time"), f"m:new:{meeting.id}"),
                (t(language, "meetings.button.decline"), f"m:x:{meeting.id}"),
            ],
        ],
    )


async def render_invite(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or found.meeting.ics_sequence != ctx.notification.payload.get("sequence"):
        return None
    meeting, language = found.meeting, ctx.recipient.language
    partner = _partner(found, ctx.recipient)
    cancelled = meeting.state == "cancelled"
    summary_key = (
        N_("meetings.intro.ics_summary") if meeting.kind == "intro" else N_("meetings.ics_summary")
    )
    summary = t(language, summary_key, name=pairing.display_name(partner))
    assert meeting.id is not None
    content = ics.meeting_invite(
        meeting_id=meeting.id,
        starts_at=meeting.starts_at,
        minutes=meeting.duration_minutes,
        summary=summary,
        description=t(language, "meetings.ics_description"),
        location=meeting.place,
        sequence=meeting.ics_sequence,
        stamp=ctx.now,
        cancelled=cancelled,
    )
    caption_key = N_("meetings.invite_cancelled") if cancelled else N_("meetings.invite")
    return scheduler.Outgoing(
        text=t(
            language,
            caption_key,
            name=pairing.display_name(partner),
            when=Html(when_text(language, ctx.recipient, partner, meeting.starts_at)),
            n=meeting.duration_minutes,
            place=meeting.place or "—",
        ),
        document=(f"meeting-{meeting.id}.ics", content, "text/calendar"),
    )


async def render_cancelled(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or found.meeting.state != "cancelled":
        return None
    partner = _partner(found, ctx.recipient)
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "meetings.cancelled_by_partner",
            name=pairing.display_name(partner),
            when=local(ctx.recipient, found.meeting.starts_at),
        )
    )


async def render_reminder(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or not _still_on(found, ctx.notification.payload):
        return None
    meeting, language = found.meeting, ctx.recipient.language
    partner = _partner(found, ctx.recipient)
    hours = (meeting.starts_at - ctx.now).total_seconds() / 3600
    soon_key = N_("meetings.reminder_soon") if hours <= 2 else N_("meetings.reminder_day")
    return scheduler.Outgoing(
        text=t(
            language,
            soon_key,
            name=pairing.display_name(partner),
            when=Html(when_text(language, ctx.recipient, partner, meeting.starts_at)),
            place=meeting.place or "—",
        )
    )


async def _goal_lines(ctx: scheduler.RenderContext, found: usecase.MeetingView) -> list[str]:
    """The adept's accepted goals with progress, as short lines."""
    goals = await ctx.session.exec(
        select(Goal, GoalRevision)
        .join(GoalRevision, col(GoalRevision.goal_id) == col(Goal.id))
        .where(
            Goal.mentorship_id == found.meeting.mentorship_id,
            Goal.owner_id == found.adept.id,
            col(Goal.kind) != GoalKind.MENTOR,
            col(Goal.state).in_(OPEN_GOAL_STATES),
            col(GoalRevision.version) == col(Goal.current_version),
        )
    )
    return [
        t(
            ctx.recipient.language,
            "meetings.goal_line",
            goal=revision.specific or "—",
            percent=goal.progress_percent,
        )
        for goal, revision in goals
    ]


async def render_agenda_prompt(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or not _still_on(found, ctx.notification.payload):
        return None
    meeting, language = found.meeting, ctx.recipient.language
    if meeting.kind == "intro":
        return _intro_agenda_prompt(ctx, found)
    parts = [
        t(
            language,
            "meetings.agenda_prompt",
            name=pairing.display_name(found.mentor),
            when=local(ctx.recipient, meeting.starts_at),
        )
    ]
    goals = await _goal_lines(ctx, found)
    if goals:
        parts.append(t(language, "meetings.your_goals") + "\n" + "\n".join(goals))
    tasks = await usecase.agreed_tasks(
        ctx.session,
        mentorship_id=meeting.mentorship_id,
        before=meeting.starts_at,
        viewer_id=ctx.recipient.id,
    )
    if tasks:
        parts.append(
            t(language, "meetings.agreed_last_time")
            + "\n"
            + "\n".join(f"• {escape(task)}" for task in tasks)
        )
    return scheduler.Outgoing(
        text="\n\n".join(parts),
        buttons=[[(t(language, "meetings.button.write_agenda"), f"m:ag:{meeting.id}")]],
    )


async def render_agenda_to_mentor(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or found.meeting.state not in store.LIVE_STATES:
        return None
    items = await store.agenda(ctx.session, meeting_id=found.meeting.id or 0)
    item = next((i for i in items if i.id == ctx.notification.payload.get("item_id")), None)
    if item is None:
        return None
    return scheduler.Outgoing(
        text=t(
            ctx.recipient.language,
            "meetings.agenda_to_mentor",
            name=pairing.display_name(found.adept),
            when=local(ctx.recipient, found.meeting.starts_at),
            agenda=item.text,
        )
    )


async def render_preparation(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or not _still_on(found, ctx.notification.payload):
        return None
    meeting, language = found.meeting, ctx.recipient.language
    items = await store.agenda(ctx.session, meeting_id=meeting.id or 0)
    agenda_text = "\n\n".join(item.text for item in items)
    title_key = (
        N_("meetings.intro.prep_title") if meeting.kind == "intro" else N_("meetings.prep_title")
    )
    parts = [
        t(
            language,
            title_key,
            name=pairing.display_name(found.adept),
            when=local(ctx.recipient, meeting.starts_at),
        ),
        t(language, "meetings.prep_agenda", agenda=agenda_text)
        if items
        else t(language, "meetings.prep_no_agenda", name=pairing.display_name(found.adept)),
    ]
    tasks = await usecase.agreed_tasks(
        ctx.session,
        mentorship_id=meeting.mentorship_id,
        before=meeting.starts_at,
        viewer_id=ctx.recipient.id,
    )
    tasks += await usecase.shared_notes_of_last(
        ctx.session, mentorship_id=meeting.mentorship_id, before=meeting.starts_at
    )
    if tasks:
        parts.append(
            t(language, "meetings.prep_last_notes")
            + "\n"
            + "\n".join(f"• {escape(task)}" for task in tasks)
        )
    goals = await _goal_lines(ctx, found)
    if goals:
        parts.append(
            t(language, "meetings.prep_goals", name=pairing.display_name(found.adept))
            + "\n"
            + "\n".join(goals)
        )
    suggestions = await question_lines(ctx, meeting, agenda_text)
    if suggestions:
        parts.append(t(language, "meetings.prep_questions") + "\n" + "\n".join(suggestions))
    parts.append(t(language, "meetings.prep_listen"))
    return scheduler.Outgoing(text="\n\n".join(parts))


async def question_lines(
    ctx: scheduler.RenderContext, meeting: Meeting, agenda_text: str
) -> list[str]:
    """Three open questions fitting the agenda, new to this pair."""
    chosen = await questions.suggestions_for(
        ctx.session,
        mentorship_id=meeting.mentorship_id,
        agenda_text=agenda_text,
        language=ctx.recipient.language,
        count=3,
        now=ctx.now,
        occasion=questions.OCCASION_OF_MEETING.get(meeting.kind),
    )
    return [f"• {escape(q.text(ctx.recipient.language))}" for q in chosen]


async def render_evaluation(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await _meeting_for(ctx)
    if found is None or not _still_on(found, ctx.notification.payload):
        return None
    if found.meeting.kind == CLOSING_MEETING:
        return None  # the closing feedback follows it instead (bot.usecases.closing)
    if found.meeting.kind == "intro":
        return _after_intro(ctx, found)
    partner = _partner(found, ctx.recipient)
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "meetings.eval.prompt", name=pairing.display_name(partner)),
        buttons=[[(t(language, "meetings.button.evaluate"), f"m:ev:{found.meeting.id}")]],
    )


# -- the intro meeting: its agenda template and the decision after it ---------------------


def _intro_agenda_prompt(
    ctx: scheduler.RenderContext, found: usecase.MeetingView
) -> scheduler.Outgoing:
    """The intro meeting's agenda is the handbook's template; the adept may add to it."""
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "meetings.intro.agenda_prompt",
            name=pairing.display_name(found.mentor),
            when=local(ctx.recipient, found.meeting.starts_at),
        ),
        buttons=[[(t(language, "meetings.button.write_agenda"), f"m:ag:{found.meeting.id}")]],
    )


def _after_intro(
    ctx: scheduler.RenderContext, found: usecase.MeetingView
) -> scheduler.Outgoing | None:
    """After the intro meeting: a note while it is fresh, and the decision, if still open."""
    seen = found.pairing
    if seen.mentorship.state != MentorshipState.INTRO or seen.me.intro_decision is not None:
        return None
    mentorship_id = found.meeting.mentorship_id
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "meetings.intro.after",
            name=pairing.display_name(_partner(found, ctx.recipient)),
        ),
        buttons=[
            [
                (t(language, "intro.button.continue"), f"intro:yes:{mentorship_id}"),
                (t(language, "intro.button.stop"), f"intro:no:{mentorship_id}"),
            ],
            [(t(language, "meetings.button.diary"), "d:write")],
        ],
    )


async def render_nudge(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    seen = await mentorships.pairing(
        ctx.session, mentorship_id=mentorship_id, user_id=ctx.recipient.id or 0
    )
    if seen is None or seen.partner is None or seen.mentorship.state != MentorshipState.ACTIVE:
        return None
    if await store.upcoming(ctx.session, mentorship_id=mentorship_id, now=ctx.now):
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "meetings.nudge", name=pairing.display_name(seen.partner)),
        buttons=[[(t(language, "meetings.button.book"), f"ms:pick:{mentorship_id}:book")]],
    )


for _kind, _renderer in (
    ("meeting_request", render_request),
    ("meeting_invite", render_invite),
    ("meeting_cancelled", render_cancelled),
    ("meeting_reminder", render_reminder),
    ("agenda_prompt", render_agenda_prompt),
    ("agenda_to_mentor", render_agenda_to_mentor),
    ("mentor_prep", render_preparation),
    ("meeting_evaluation", render_evaluation),
    ("book_nudge", render_nudge),
):
    scheduler.register(_kind, _renderer)
