"""/goal, /goals, /progress: the adept writes SMART goals step by step, the mentor accepts
or challenges each version, and the owner records progress and closes them.

Callback data (all re-checked in `bot.usecases.goals`):
g:new:<mentorship>  another goal            g:edit:<revision>:<s|m|r|t>  edit a step
g:save:<revision>   send / set the draft    g:dis:<revision>             discard the draft
g:acc:<revision>    mentor accepts          g:chl:<revision>             mentor asks a question
g:rev:<goal>        write a new version     g:show:<goal>                one goal in full
g:lst:<mentorship>  all goals               g:prog:<goal>                record progress
g:pct:<goal>:<n|k>  a percentage or a step  g:skip                       no note this time
g:ach:<goal>, g:drp:<goal>  achieved / dropped      g:shr:<goal>, g:prv:<goal>  share / private
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.domain import goals as rules
from bot.domain.goals import GoalKind, GoalState, Response
from bot.i18n import N_, format_date, t
from bot.textsplit import LIMIT as TEXT_LIMIT
from bot.textsplit import utf16_len
from bot.usecases import Refused, goals_later, pairing
from bot.usecases import goals as usecase
from conversations import choose
from conversations.common import Context, answer_button, keyboard, local_date, raw_keyboard
from conversations.step import END, Callback, State, Step, step
from storage.models import Goal, GoalRevision, User, Visibility

FLOW = "goals"
REVIEW, COMMENT, PERCENT, NOTE = "review", "comment", "percent", "note"
REASON = {GoalState.ACHIEVED: "reason_achieved", GoalState.DROPPED: "reason_dropped"}
NONE_TEXTS = (
    N_("mentorship.none.goal"),
    N_("mentorship.none.goals"),
    N_("mentorship.none.progress"),
)
# Each field of a card sent through the outbox is cut to this, so the whole card
# fits one Telegram message; its 📖 button shows everything, split as needed.
CARD_FIELD_LIMIT = 800
PERCENTS = tuple(range(0, 101, rules.PERCENT_STEP))

QUESTION = {
    (GoalKind.ADEPT, "specific"): N_("goal.ask.adept.specific"),
    (GoalKind.ADEPT, "measurable"): N_("goal.ask.adept.measurable"),
    (GoalKind.ADEPT, "realistic"): N_("goal.ask.adept.realistic"),
    (GoalKind.ADEPT, "target_date"): N_("goal.ask.adept.target_date"),
    (GoalKind.MENTOR, "specific"): N_("goal.ask.mentor.specific"),
    (GoalKind.MENTOR, "measurable"): N_("goal.ask.mentor.measurable"),
    (GoalKind.MENTOR, "realistic"): N_("goal.ask.mentor.realistic"),
    (GoalKind.MENTOR, "target_date"): N_("goal.ask.mentor.target_date"),
    (GoalKind.SITUATION, "specific"): N_("goal.ask.situation.specific"),
    (GoalKind.SITUATION, "measurable"): N_("goal.ask.situation.measurable"),
    (GoalKind.SITUATION, "target_date"): N_("goal.ask.situation.target_date"),
}
INTRO = {
    GoalKind.ADEPT: N_("goal.intro.adept"),
    GoalKind.MENTOR: N_("goal.intro.mentor"),
    GoalKind.SITUATION: N_("goal.intro.situation"),
}
CARD_TITLE = {
    GoalKind.ADEPT: N_("goal.card.title.adept"),
    GoalKind.MENTOR: N_("goal.card.title.mentor"),
    GoalKind.SITUATION: N_("goal.card.title.situation"),
}
FIELD_TITLE = {
    ("smart", "specific"): N_("goal.field.smart.specific"),
    ("smart", "measurable"): N_("goal.field.smart.measurable"),
    ("smart", "realistic"): N_("goal.field.smart.realistic"),
    ("smart", "target_date"): N_("goal.field.smart.target_date"),
    ("situation", "specific"): N_("goal.field.situation.specific"),
    ("situation", "measurable"): N_("goal.field.situation.measurable"),
    ("situation", "target_date"): N_("goal.field.situation.target_date"),
}
EDIT_BUTTON = {
    ("smart", "specific"): N_("goal.button.edit.smart.specific"),
    ("smart", "measurable"): N_("goal.button.edit.smart.measurable"),
    ("smart", "realistic"): N_("goal.button.edit.smart.realistic"),
    ("smart", "target_date"): N_("goal.button.edit.smart.target_date"),
    ("situation", "specific"): N_("goal.button.edit.situation.specific"),
    ("situation", "measurable"): N_("goal.button.edit.situation.measurable"),
    ("situation", "target_date"): N_("goal.button.edit.situation.target_date"),
}
LETTER_OF = {field: letter for letter, field in rules.LETTERS.items()}
STATE_LABEL = {
    GoalState.DRAFT: N_("goal.state.draft"),
    GoalState.READY: N_("goal.state.ready"),
    GoalState.ACCEPTED: N_("goal.state.accepted"),
    GoalState.ACTIVE: N_("goal.state.active"),
    GoalState.ACHIEVED: N_("goal.state.achieved"),
    GoalState.DROPPED: N_("goal.state.dropped"),
}
ASK_REASON = {
    GoalState.ACHIEVED: N_("goal.ask_reason.achieved"),
    GoalState.DROPPED: N_("goal.ask_reason.dropped"),
}
CLOSED_TEXT = {
    GoalState.ACHIEVED: N_("goal.closed.achieved"),
    GoalState.DROPPED: N_("goal.closed.dropped"),
}
CLOSED_LINE = {
    GoalState.ACHIEVED: N_("goal.detail.closed.achieved"),
    GoalState.DROPPED: N_("goal.detail.closed.dropped"),
}


# -- texts ----------------------------------------------------------------------------------


def fmt_date(language: str, day: date, *, weekday: bool = False) -> str:
    """ "15 March 2027"; with `weekday` "Monday, 15 March 2027", to show what was understood."""
    shape = "full" if weekday else "long"
    return format_date(day, shape, locale="sv" if language == "sv" else "en_GB")


def _group(kind: str) -> str:
    return "situation" if kind == GoalKind.SITUATION else "smart"


def _shown(language: str, field: str, value: object, limit: int | None) -> tuple[str, bool]:
    if value in (None, ""):
        return "—", False
    if isinstance(value, date):
        return fmt_date(language, value), False
    text = str(value)
    if limit is not None and len(text) > limit:
        return rules.excerpt(text, limit), True
    return text, False


def fields(
    language: str, goal: Goal, revision: GoalRevision, limit: int | None = None
) -> tuple[str, bool]:
    """The steps of one version, and whether a field had to be shortened to `limit`."""
    lines = []
    clipped = False
    for field in rules.steps(goal.kind):
        shown, cut = _shown(language, field, getattr(revision, field), limit)
        clipped = clipped or cut
        title = t(language, FIELD_TITLE[(_group(goal.kind), field)])
        lines.append(t(language, "goal.card.line", title=title, value=shown))
    return "\n\n".join(lines), clipped


def card(
    language: str, goal: Goal, revision: GoalRevision, owner: str, limit: int | None = None
) -> tuple[str, bool]:
    """One version of a goal with its title, and whether a field had to be shortened."""
    body, clipped = fields(language, goal, revision, limit)
    title = t(language, CARD_TITLE[GoalKind(goal.kind)], owner=owner, version=revision.version)
    return title + "\n\n" + body, clipped


def state_label(language: str, goal: Goal, *, mine: bool, partner: str) -> str:
    if goal.state == GoalState.AWAITING:
        return (
            t(language, "goal.state.awaiting", name=partner)
            if mine
            else t(language, "goal.state.awaiting_you")
        )
    if goal.state == GoalState.CHALLENGED:
        return (
            t(language, "goal.state.challenged", name=partner)
            if mine
            else t(language, "goal.state.challenged_by_you")
        )
    return t(language, STATE_LABEL[GoalState(goal.state)])


def _status(language: str, goal: Goal, *, mine: bool, partner: str) -> str:
    parts = [state_label(language, goal, mine=mine, partner=partner)]
    if goal.target_date is not None and goal.state not in rules.CLOSED:
        parts.append(t(language, "goal.due", date=fmt_date(language, goal.target_date)))
    if goal.state in rules.IN_PROGRESS or goal.state == GoalState.ACHIEVED or goal.progress_percent:
        parts.append(rules.progress_bar(goal.progress_percent))
    return " · ".join(parts)


def _values(language: str, refusal: Refused) -> Refused:
    """The refusal with its dates written the way people read them."""
    values = {
        name: fmt_date(language, value) if isinstance(value, date) else value
        for name, value in refusal.values.items()
    }
    return refusal.with_values(**{k: "—" if v is None else v for k, v in values.items()})


def goal_step(callback: Callable[[Step], Awaitable[State]]) -> Callback:
    """A step of this flow: refusals show their dates in the person's language."""
    return step(FLOW, explained=_values)(callback)


# -- the wizard -----------------------------------------------------------------------------


def _review_text(user: User, draft: usecase.Draft) -> str:
    partner = draft.pairing.partner
    assert partner is not None
    partner_name = pairing.display_name(partner)
    text, _ = card(user.language, draft.goal, draft.revision, pairing.display_name(user))
    previous = draft.previous
    if previous is not None and previous.mentor_response == Response.CHALLENGED:
        text += "\n\n" + t(
            user.language,
            "goal.card.mentor_comment",
            name=partner_name,
            version=previous.version,
            comment=previous.mentor_comment or "",
        )
    hint = (
        N_("goal.review_hint.send")
        if rules.needs_acceptance(draft.goal.kind)
        else N_("goal.review_hint.own")
    )
    if rules.drafting_only(draft.pairing.mentorship.state):
        hint = N_("goal.review_hint.intro")
    return text + "\n\n" + t(user.language, hint, name=partner_name)


def _review_keyboard(draft: usecase.Draft) -> list[list[tuple[str, str]]]:
    revision_id, group = draft.revision.id, _group(draft.goal.kind)
    edits = [
        (EDIT_BUTTON[(group, field)], f"g:edit:{revision_id}:{LETTER_OF[field]}")
        for field in rules.steps(draft.goal.kind)
    ]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    save = (
        N_("goal.button.send")
        if rules.needs_acceptance(draft.goal.kind)
        else N_("goal.button.save")
    )
    if rules.drafting_only(draft.pairing.mentorship.state):
        save = N_("goal.button.keep")
    rows.append([(save, f"g:save:{revision_id}")])
    rows.append([(N_("goal.button.discard"), f"g:dis:{revision_id}")])
    return rows


async def _question(s: Step, draft: usecase.Draft, field: str, prefix: str = "") -> State:
    text = prefix + s.t(QUESTION[(GoalKind(draft.goal.kind), field)])
    current = getattr(draft.revision, field)
    if current not in (None, ""):
        shown, _ = _shown(s.language, field, current, None)
        text += "\n\n" + s.t(N_("goal.current_value"), value=shown)
    await s.goto(field)
    await s.say(text)
    return field


async def _next(s: Step, draft: usecase.Draft, prefix: str = "") -> State:
    """Ask the first missing step, or show the review card when nothing is missing."""
    missing = rules.first_missing(draft.revision, draft.goal.kind)
    if missing is not None:
        return await _question(s, draft, missing, prefix)
    await s.goto(REVIEW)
    await s.say(
        prefix + _review_text(s.person, draft), keyboard(s.language, _review_keyboard(draft))
    )
    return REVIEW


def _opening(user: User, draft: usecase.Draft) -> str:
    if draft.resumed:
        return t(user.language, "goal.resumed") + "\n\n"
    if draft.revision.version > 1:
        return t(user.language, "goal.revising", version=draft.revision.version) + "\n\n"
    return t(user.language, INTRO[GoalKind(draft.goal.kind)]) + "\n\n"


async def _begin(s: Step, mentorship_id: int) -> State:
    draft = await s.do(usecase.open_draft, mentorship_id=mentorship_id, user=s.person, now=s.now)
    return await _next(s, draft, _opening(s.person, draft))


@goal_step
async def start(s: Step) -> State:
    """/goal: write a goal, or go on with the one left half-written."""
    seen = await choose.mentorship(
        s.update, s.context, s.person, purpose="goal", states=rules.DRAFTING_STATES
    )
    if seen is None or seen.mentorship.id is None:
        return END
    return await _begin(s, seen.mentorship.id)


@goal_step
async def new_goal(s: Step) -> State:
    return await _begin(s, int(s.parts(3)[2]))


@goal_step
async def revise(s: Step) -> State:
    goal_id = int(s.parts(3)[2])
    draft = await s.do(usecase.open_revision, goal_id=goal_id, user=s.person, now=s.now)
    return await _next(s, draft, _opening(s.person, draft))


def typed(field: str) -> Callback:
    @goal_step
    async def answer(s: Step) -> State:
        draft = await s.do(
            usecase.answer_current_draft,
            user=s.person,
            field=field,
            text=s.text,
            today=s.today,
        )
        prefix = ""
        if field == "target_date" and draft.revision.target_date is not None:
            understood = fmt_date(s.language, draft.revision.target_date, weekday=True)
            prefix = s.t(N_("goal.date_understood"), date=understood) + "\n\n"
        return await _next(s, draft, prefix)

    return answer


@goal_step
async def edit(s: Step) -> State:
    _, _, revision_id, letter = s.parts(4)
    draft, field = await s.do(
        usecase.draft_field, revision_id=int(revision_id), user=s.person, letter=letter
    )
    return await _question(s, draft, field)


@goal_step
async def save(s: Step) -> State:
    draft = await s.do(
        usecase.submit, revision_id=int(s.parts(3)[2]), user=s.person, now=s.now, today=s.today
    )
    assert draft.pairing.partner is not None
    key = N_("goal.sent") if rules.needs_acceptance(draft.goal.kind) else N_("goal.saved_own")
    if draft.goal.state == GoalState.READY:
        key = N_("goal.kept_for_later")
    all_goals = keyboard(
        s.language, [[(N_("goal.button.all"), f"g:lst:{draft.goal.mentorship_id}")]]
    )
    return await s.reply(
        key, next=END, markup=all_goals, name=pairing.display_name(draft.pairing.partner)
    )


@goal_step
async def discard(s: Step) -> State:
    whole = await s.do(usecase.discard, revision_id=int(s.parts(3)[2]), user=s.person)
    return await s.reply(N_("goal.discarded") if whole else N_("goal.discarded_version"), next=END)


@goal_step
async def use_buttons(s: Step) -> State:
    return await s.reply(N_("goal.use_buttons"), next=None)


@goal_step
async def cancel(s: Step) -> State:
    return await s.reply(N_("goal.paused"), next=END)


# -- the mentor's answer ----------------------------------------------------------------------


@step(explained=_values)
async def accept(s: Step) -> State:
    review = await s.do(usecase.accept, revision_id=int(s.parts(3)[2]), user=s.person, now=s.now)
    query = s.update.callback_query
    assert query is not None and review.pairing.partner is not None
    await answer_button(s.update, s.t(N_("goal.accepted_toast")))
    await query.edit_message_reply_markup(None)
    return await s.reply(
        N_("goal.you_accepted"), next=None, name=pairing.display_name(review.pairing.partner)
    )


@goal_step
async def ask_challenge(s: Step) -> State:
    review = await s.do(usecase.start_challenge, revision_id=int(s.parts(3)[2]), user=s.person)
    assert review.pairing.partner is not None
    name = pairing.display_name(review.pairing.partner)
    return await s.reply(N_("goal.ask_challenge"), next=COMMENT, name=name)


@goal_step
async def save_challenge(s: Step) -> State:
    review = await s.do(usecase.challenge, user=s.person, comment=s.text, now=s.now)
    assert review.pairing.partner is not None
    name = pairing.display_name(review.pairing.partner)
    return await s.reply(N_("goal.challenge_sent"), next=END, name=name)


# -- setting goals later, by agreement ---------------------------------------------------------


@step(explained=_values)
async def propose_later(s: Step) -> State:
    seen = await s.do(
        goals_later.propose, mentorship_id=int(s.parts(3)[2]), user=s.person, now=s.now
    )
    assert seen.partner is not None
    return await s.reply(N_("goal.later_asked"), next=None, name=pairing.display_name(seen.partner))


@step(explained=_values)
async def answer_later(s: Step) -> State:
    _, verb, mentorship_id = s.parts(3)
    await s.do(
        goals_later.answer,
        mentorship_id=int(mentorship_id),
        user=s.person,
        agree=verb == "lok",
        now=s.now,
    )
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    if verb == "lno":
        return await s.reply(N_("goal.later_kept_now"), next=None)
    return None


# -- looking at goals -----------------------------------------------------------------------


def _list_text(user: User, overview: usecase.Overview) -> tuple[str, list[list[tuple[str, str]]]]:
    language = user.language
    seen = overview.pairing
    assert seen.partner is not None
    partner = pairing.display_name(seen.partner)
    i_mentor = seen.me.role == "mentor"
    lines = [t(language, "goal.list.title", name=partner)]
    rows: list[list[tuple[str, str]]] = []
    sections = (
        [(overview.theirs, N_("goal.list.adept_goals")), (overview.mine, N_("goal.list.own"))]
        if i_mentor
        else [(overview.mine, N_("goal.list.mine")), (overview.theirs, N_("goal.list.mentor"))]
    )
    number = 0
    for found, heading in sections:
        if not found:
            continue
        lines.append(t(language, heading, name=partner))
        for goal in found:
            assert goal.id is not None
            number += 1
            mine = goal.owner_id == user.id
            status = _status(language, goal, mine=mine, partner=partner)
            if goal.id in overview.revising:
                status += " · " + t(language, "goal.state.revising")
            if mine and goal.kind == GoalKind.MENTOR and goal.visibility == Visibility.PRIVATE:
                status += " · " + t(language, "goal.state.private")
            shown = overview.shown.get(goal.id)
            lines.append(
                t(
                    language,
                    "goal.list.item",
                    number=number,
                    title=usecase.headline(shown, 200),
                    status=status,
                )
            )
            rows.append([(f"{number}. {usecase.headline(shown, 40)}", f"g:show:{goal.id}")])
    if number == 0 and seen.mentorship.goals_later_at is not None:
        lines.append(t(language, "goal.list.later"))
    elif number == 0:
        empty = N_("goal.list.empty_mentor") if i_mentor else N_("goal.list.empty")
        lines.append(t(language, empty))
    else:
        lines.append(t(language, "goal.list.hint"))
    return "\n\n".join(lines), rows


async def _show_list(s: Step, mentorship_id: int) -> State:
    overview = await s.do(usecase.overview, mentorship_id=mentorship_id, user=s.person)
    text, rows = _list_text(s.person, overview)
    rows.append([(s.t(N_("goal.button.new")), f"g:new:{mentorship_id}")])
    await s.say(text, raw_keyboard(rows))
    return None


@step(explained=_values)
async def show_list(s: Step) -> State:
    """/goals: every goal of the current mentorship this person may see."""
    seen = await choose.mentorship(
        s.update, s.context, s.person, purpose="goals", states=rules.DRAFTING_STATES
    )
    if seen is not None and seen.mentorship.id is not None:
        await _show_list(s, seen.mentorship.id)
    return None


@step(explained=_values)
async def list_button(s: Step) -> State:
    return await _show_list(s, int(s.parts(3)[2]))


def _revision_lines(user: User, found: usecase.Detail, partner: str) -> list[str]:
    language = user.language
    lines = [t(language, "goal.detail.versions")]
    current = found.current
    for revision in found.revisions:
        written = fmt_date(language, local_date(user, revision.created_at))
        if found.draft is not None and revision.id == found.draft.id:
            heading = t(language, "goal.detail.version_draft", version=revision.version)
        else:
            heading = t(language, "goal.detail.version", version=revision.version, date=written)
        body, _ = fields(language, found.goal, revision)
        lines.append(heading + "\n" + body)
        mentor = pairing.display_name(user) if not found.is_mine else partner
        answered = (
            fmt_date(language, local_date(user, revision.responded_at))
            if revision.responded_at
            else ""
        )
        if revision.mentor_response == Response.ACCEPTED:
            lines.append(t(language, "goal.detail.accepted", name=mentor, date=answered))
        elif revision.mentor_response == Response.CHALLENGED:
            lines.append(
                t(
                    language,
                    "goal.detail.challenged",
                    name=mentor,
                    date=answered,
                    comment=revision.mentor_comment or "",
                )
            )
        elif (
            current is not None
            and revision.id == current.id
            and found.goal.state == GoalState.AWAITING
        ):
            lines.append(t(language, "goal.detail.pending", name=mentor))
    return lines


def _detail_text(user: User, found: usecase.Detail) -> str:
    language = user.language
    goal = found.goal
    assert found.pairing.partner is not None
    partner = pairing.display_name(found.pairing.partner)
    owner = pairing.display_name(found.owner)
    title = t(
        language, CARD_TITLE[GoalKind(goal.kind)], owner=owner, version=goal.current_version or 1
    )
    lines = [title, _status(language, goal, mine=found.is_mine, partner=partner)]
    if goal.kind == GoalKind.MENTOR:
        key = (
            N_("goal.detail.shared")
            if goal.visibility == Visibility.SHARED
            else N_("goal.detail.private")
        )
        lines.append(t(language, key, name=partner))
    if goal.state in rules.CLOSED:
        lines.append(
            t(language, CLOSED_LINE[GoalState(goal.state)], reason=goal.closed_reason or "")
        )
    lines += _revision_lines(user, found, partner)
    if found.progress:
        lines.append(t(language, "goal.detail.progress"))
        for row in found.progress:
            key = N_("goal.detail.progress_item") if row.note else N_("goal.detail.progress_bare")
            lines.append(
                t(
                    language,
                    key,
                    date=fmt_date(language, local_date(user, row.created_at)),
                    bar=rules.progress_bar(row.percent),
                    note=row.note or "",
                )
            )
    return "\n\n".join(lines)


def _detail_buttons(found: usecase.Detail) -> list[list[tuple[str, str]]]:
    goal, rows = found.goal, []
    gid = goal.id
    if found.is_mine and goal.state not in rules.CLOSED:
        if found.draft is not None:
            rows.append([(N_("goal.button.continue"), f"g:rev:{gid}")])
        if goal.state in rules.IN_PROGRESS:
            rows.append([(N_("goal.button.progress"), f"g:prog:{gid}")])
        if goal.state in rules.REVISABLE and found.draft is None:
            rows.append([(N_("goal.button.revise"), f"g:rev:{gid}")])
        if goal.current_version >= 1:
            rows.append(
                [
                    (N_("goal.button.achieved"), f"g:ach:{gid}"),
                    (N_("goal.button.drop"), f"g:drp:{gid}"),
                ]
            )
        if goal.kind == GoalKind.MENTOR:
            shared = goal.visibility == Visibility.SHARED
            rows.append(
                [(N_("goal.button.unshare"), f"g:prv:{gid}")]
                if shared
                else [(N_("goal.button.share"), f"g:shr:{gid}")]
            )
    current = found.current
    if (
        not found.is_mine
        and found.pairing.me.role == "mentor"
        and goal.state == GoalState.AWAITING
        and current is not None
    ):
        rows.append(
            [
                (N_("goal.button.accept"), f"g:acc:{current.id}"),
                (N_("goal.button.challenge"), f"g:chl:{current.id}"),
            ]
        )
    rows.append([(N_("goal.button.all"), f"g:lst:{goal.mentorship_id}")])
    return rows


@step(explained=_values)
async def show(s: Step) -> State:
    """One goal in full: every version, the mentor's answers and the progress."""
    found = await s.do(usecase.detail, goal_id=int(s.parts(3)[2]), user=s.person)
    await s.say(_detail_text(s.person, found), keyboard(s.language, _detail_buttons(found)))
    return None


@step(explained=_values)
async def share(s: Step) -> State:
    _, action, goal_id = s.parts(3)
    shared = action == "shr"
    _goal, seen = await s.do(
        usecase.set_shared, goal_id=int(goal_id), user=s.person, shared=shared, now=s.now
    )
    assert seen.partner is not None
    key = N_("goal.shared") if shared else N_("goal.unshared")
    return await s.reply(key, next=None, name=pairing.display_name(seen.partner))


# -- progress and closing --------------------------------------------------------------------


def _percent_rows(goal_id: int) -> list[list[tuple[str, str]]]:
    buttons = [(f"{p} %", f"g:pct:{goal_id}:{p}") for p in PERCENTS]
    return [buttons[i : i + 4] for i in range(0, len(buttons), 4)]


async def _ask_percent(s: Step, goal: Goal, sent: GoalRevision | None) -> State:
    assert goal.id is not None
    rows = _percent_rows(goal.id)
    rows.append([(s.t(N_("goal.button.step")), f"g:pct:{goal.id}:k")])
    bar = rules.progress_bar(goal.progress_percent)
    return await s.reply(
        N_("goal.ask_percent"),
        next=PERCENT,
        markup=raw_keyboard(rows),
        goal=usecase.headline(sent),
        bar=bar,
    )


@goal_step
async def ask_progress(s: Step) -> State:
    goal, sent = await s.do(usecase.start_progress, goal_id=int(s.parts(3)[2]), user=s.person)
    return await _ask_percent(s, goal, sent)


@goal_step
async def progress_command(s: Step) -> State:
    """/progress: the one goal under way, or a choice among them."""
    seen = await choose.mentorship(
        s.update, s.context, s.person, purpose="progress", states=rules.MENTORSHIP_STATES
    )
    if seen is None or seen.mentorship.id is None:
        return END
    found = await s.do(usecase.in_progress, mentorship_id=seen.mentorship.id, user=s.person)
    if len(found) == 1:
        goal_id = found[0][0].id or 0
        goal, sent = await s.do(usecase.start_progress, goal_id=goal_id, user=s.person)
        return await _ask_percent(s, goal, sent)
    if not found:
        return await s.reply(N_("goal.none_in_progress"), next=END)
    rows = [[(usecase.headline(sent, 40), f"g:prog:{goal.id}")] for goal, sent in found]
    await s.goto(END)
    await s.say(s.t(N_("goal.which_progress")), raw_keyboard(rows))
    return END


async def _recorded(s: Step, goal: Goal) -> State:
    skip = keyboard(s.language, [[(N_("goal.button.skip"), "g:skip")]])
    bar = rules.progress_bar(goal.progress_percent)
    return await s.reply(N_("goal.progress_saved"), next=NOTE, markup=skip, bar=bar)


@goal_step
async def percent_button(s: Step) -> State:
    _, _, goal_id, value = s.parts(4)
    percent = None if value == "k" else int(value)
    goal, _row = await s.do(
        usecase.record_progress, goal_id=int(goal_id), user=s.person, percent=percent, now=s.now
    )
    return await _recorded(s, goal)


@goal_step
async def percent_typed(s: Step) -> State:
    goal, _row = await s.do(usecase.record_typed_progress, user=s.person, text=s.text, now=s.now)
    return await _recorded(s, goal)


@goal_step
async def save_note(s: Step) -> State:
    await s.do(usecase.add_note, user=s.person, note=s.text)
    return await s.reply(N_("goal.note_saved"), next=END)


@goal_step
async def skip_note(s: Step) -> State:
    return await s.reply(N_("goal.note_skipped"), next=END)


@goal_step
async def ask_close(s: Step) -> State:
    _, action, goal_id = s.parts(3)
    outcome = GoalState.ACHIEVED if action == "ach" else GoalState.DROPPED
    await s.do(usecase.start_close, goal_id=int(goal_id), user=s.person)
    return await s.reply(ASK_REASON[outcome], next=REASON[outcome])


def closing(outcome: GoalState) -> Callback:
    @goal_step
    async def save_reason(s: Step) -> State:
        goal = await s.do(usecase.close, user=s.person, outcome=outcome, reason=s.text, now=s.now)
        all_goals = keyboard(s.language, [[(N_("goal.button.all"), f"g:lst:{goal.mentorship_id}")]])
        return await s.reply(CLOSED_TEXT[outcome], next=END, markup=all_goals)

    return save_reason


# -- messages sent through the outbox --------------------------------------------------------


def _review_message(language: str, review: usecase.Review, limit: int) -> scheduler.Outgoing:
    assert review.pairing.partner is not None
    adept = pairing.display_name(review.pairing.partner)
    revision_id = review.revision.id
    body, clipped = card(language, review.goal, review.revision, adept, limit)
    intro = (
        t(language, "goal.review_request.revised", name=adept, version=review.revision.version)
        if review.revision.version > 1
        else t(language, "goal.review_request", name=adept)
    )
    parts = [intro, body]
    previous = review.previous
    if previous is not None and previous.mentor_response == Response.CHALLENGED:
        comment = previous.mentor_comment or ""
        clipped = clipped or len(comment) > limit
        parts.append(
            t(
                language,
                "goal.card.your_question",
                version=previous.version,
                comment=rules.excerpt(comment, limit),
            )
        )
    parts.append(t(language, "goal.review_hint.mentor", name=adept))
    buttons = [
        [
            (t(language, "goal.button.accept"), f"g:acc:{revision_id}"),
            (t(language, "goal.button.challenge"), f"g:chl:{revision_id}"),
        ]
    ]
    if clipped:
        parts.append(t(language, "goal.card.shortened"))
        buttons.append([(t(language, "goal.button.open"), f"g:show:{review.goal.id}")])
    return scheduler.Outgoing(text="\n\n".join(parts), buttons=buttons)


async def render_review(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The mentor's copy of a sent version; nothing if it was answered or replaced meanwhile."""
    revision_id = int(ctx.notification.payload["revision_id"])
    review = await usecase.review_for(ctx.session, revision_id=revision_id, user=ctx.recipient)
    if review is None or review.pairing.partner is None:
        return None
    limit = CARD_FIELD_LIMIT
    message = _review_message(ctx.recipient.language, review, limit)
    # Telegram counts UTF-16 units, so a card full of emoji needs shorter fields.
    while utf16_len(message.text) > TEXT_LIMIT and limit > 50:
        limit //= 2
        message = _review_message(ctx.recipient.language, review, limit)
    return message


async def render_deadline(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """A reminder before the deadline; nothing if the version changed or the goal closed."""
    payload = ctx.notification.payload
    found = await usecase.deadline_for(
        ctx.session,
        goal_id=int(payload["goal_id"]),
        version=int(payload["version"]),
        user=ctx.recipient,
    )
    if found is None:
        return None
    goal, sent = found
    assert goal.target_date is not None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "goal.deadline_nudge",
            goal=usecase.headline(sent),
            date=fmt_date(language, goal.target_date),
            bar=rules.progress_bar(goal.progress_percent),
        ),
        buttons=[
            [
                (t(language, "goal.button.progress"), f"g:prog:{goal.id}"),
                (t(language, "goal.button.revise"), f"g:rev:{goal.id}"),
            ]
        ],
    )


async def render_goals_later(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """ "Later" has come: the adept is invited to write a first goal, unless they began one."""
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    seen = await goals_later.reminder_wanted(
        ctx.session, mentorship_id=mentorship_id, user=ctx.recipient
    )
    if seen is None or seen.partner is None:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "goal.later_reminder", name=pairing.display_name(seen.partner)),
        buttons=[[(t(language, "goal.button.new"), f"g:new:{mentorship_id}")]],
    )


scheduler.register("goal_review", render_review)
scheduler.register("goal_deadline", render_deadline)
scheduler.register(goals_later.REMINDER_KIND, render_goals_later)


# -- wiring ---------------------------------------------------------------------------------


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    anywhere: list[BaseHandler] = [
        CallbackQueryHandler(edit, pattern=r"^g:edit:\d+:[smrt]$"),
        CallbackQueryHandler(save, pattern=r"^g:save:\d+$"),
        CallbackQueryHandler(discard, pattern=r"^g:dis:\d+$"),
        CallbackQueryHandler(percent_button, pattern=r"^g:pct:\d+:(\d{1,3}|k)$"),
    ]
    states: dict[object, list[BaseHandler]] = {
        field: [*anywhere, MessageHandler(text, typed(field))] for field in rules.SMART_STEPS
    }
    states[REVIEW] = [*anywhere, MessageHandler(text, use_buttons)]
    states[COMMENT] = [MessageHandler(text, save_challenge)]
    states[PERCENT] = [*anywhere, MessageHandler(text, percent_typed)]
    states[NOTE] = [
        *anywhere,
        CallbackQueryHandler(skip_note, pattern=r"^g:skip$"),
        MessageHandler(text, save_note),
    ]
    for outcome, state in REASON.items():
        states[state] = [MessageHandler(text, closing(outcome))]
    return ConversationHandler(
        entry_points=[
            CommandHandler("goal", start, filters=private),
            CallbackQueryHandler(start, pattern=choose.pick_pattern("goal")),
            CommandHandler("progress", progress_command, filters=private),
            CallbackQueryHandler(progress_command, pattern=choose.pick_pattern("progress")),
            CallbackQueryHandler(new_goal, pattern=r"^g:new:\d+$"),
            CallbackQueryHandler(revise, pattern=r"^g:rev:\d+$"),
            CallbackQueryHandler(ask_challenge, pattern=r"^g:chl:\d+$"),
            CallbackQueryHandler(ask_progress, pattern=r"^g:prog:\d+$"),
            CallbackQueryHandler(ask_close, pattern=r"^g:(ach|drp):\d+$"),
            *anywhere,
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CommandHandler("goals", show_list, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_list, pattern=choose.pick_pattern("goals")),
        CallbackQueryHandler(list_button, pattern=r"^g:lst:\d+$"),
        CallbackQueryHandler(show, pattern=r"^g:show:\d+$"),
        CallbackQueryHandler(accept, pattern=r"^g:acc:\d+$"),
        CallbackQueryHandler(share, pattern=r"^g:(shr|prv):\d+$"),
        CallbackQueryHandler(propose_later, pattern=r"^g:later:\d+$"),
        CallbackQueryHandler(answer_later, pattern=r"^g:(lok|lno):\d+$"),
    ]
