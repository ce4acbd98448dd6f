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

from datetime import date

from babel.dates import format_date
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
from bot.i18n import N_, t
from bot.textsplit import LIMIT as TEXT_LIMIT
from bot.textsplit import utf16_len
from bot.usecases import Refused, pairing
from bot.usecases import goals as usecase
from conversations import choose
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    keyboard,
    local_date,
    message_of,
    now,
    raw_keyboard,
    remember_step,
    remember_user,
    run,
    say,
    today_for,
)
from storage.models import Goal, GoalRevision, User, Visibility

FLOW = "goals"
REVIEW, COMMENT, PERCENT, NOTE = "review", "comment", "percent", "note"
REASON = {GoalState.ACHIEVED: "reason_achieved", GoalState.DROPPED: "reason_dropped"}
END = ConversationHandler.END
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


def fmt_date(language: str, day: date) -> str:
    return format_date(day, "long", locale="sv" if language == "sv" else "en_GB")


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
    return Refused(refusal.key, **{k: "—" if v is None else v for k, v in values.items()})


async def _explain(update: Update, user: User, refusal: Refused) -> None:
    await explain(update, user, _values(user.language, refusal))


async def _refused_answer(
    update: Update, context: Context, user: User, refusal: Refused
) -> int | None:
    """A refused typed answer: ask again, unless what it answered is gone (then leave)."""
    if refusal.key.startswith("goal.refused."):
        await _explain(update, user, refusal)
        return None
    await remember_step(update, context, FLOW, None)
    await _explain(update, user, refusal)
    return END


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
    rows.append([(save, f"g:save:{revision_id}")])
    rows.append([(N_("goal.button.discard"), f"g:dis:{revision_id}")])
    return rows


async def _question(
    update: Update, context: Context, user: User, draft: usecase.Draft, field: str, prefix: str = ""
) -> str:
    await remember_step(update, context, FLOW, field)
    text = prefix + t(user.language, QUESTION[(GoalKind(draft.goal.kind), field)])
    current = getattr(draft.revision, field)
    if current not in (None, ""):
        shown, _ = _shown(user.language, field, current, None)
        text += "\n\n" + t(user.language, "goal.current_value", value=shown)
    await say(update, text)
    return field


async def _next(
    update: Update, context: Context, user: User, draft: usecase.Draft, prefix: str = ""
) -> str:
    """Ask the first missing step, or show the review card when nothing is missing."""
    step = rules.first_missing(draft.revision, draft.goal.kind)
    if step is not None:
        return await _question(update, context, user, draft, step, prefix)
    await remember_step(update, context, FLOW, REVIEW)
    await say(
        update,
        prefix + _review_text(user, draft),
        keyboard(user.language, _review_keyboard(draft)),
    )
    return REVIEW


def _opening(user: User, draft: usecase.Draft) -> str:
    if draft.resumed:
        return t(user.language, "goal.resumed") + "\n\n"
    if draft.revision.version > 1:
        return t(user.language, "goal.revising", version=draft.revision.version) + "\n\n"
    return t(user.language, INTRO[GoalKind(draft.goal.kind)]) + "\n\n"


async def _begin(update: Update, context: Context, user: User, mentorship_id: int) -> str | int:
    try:
        draft = await run(
            context,
            lambda s: usecase.open_draft(
                s, mentorship_id=mentorship_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    return await _next(update, context, user, draft, _opening(user, draft))


async def start(update: Update, context: Context) -> str | int:
    """/goal: write a goal, or go on with the one left half-written."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(
        update, context, user, purpose="goal", states=rules.MENTORSHIP_STATES
    )
    if seen is None or seen.mentorship.id is None:
        return END
    return await _begin(update, context, user, seen.mentorship.id)


async def new_goal(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    return await _begin(update, context, user, int(callback_parts(update, 3)[2]))


async def revise(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    goal_id = int(callback_parts(update, 3)[2])
    try:
        draft = await run(
            context,
            lambda s: usecase.open_revision(s, goal_id=goal_id, user=user, now=now(context)),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    return await _next(update, context, user, draft, _opening(user, draft))


def typed(field: str) -> object:
    async def answer(update: Update, context: Context) -> str | int | None:
        user = await remember_user(update, context)
        try:
            draft = await run(context, lambda s: usecase.current_draft(s, user=user))
        except Refused as refusal:
            await remember_step(update, context, FLOW, None)
            await _explain(update, user, refusal)
            return END
        if draft is None or draft.revision.id is None:
            await remember_step(update, context, FLOW, None)
            await _explain(update, user, Refused("goal.draft_gone"))
            return END
        revision_id, text = draft.revision.id, message_of(update).text or ""
        try:
            draft = await run(
                context,
                lambda s: usecase.set_answer(
                    s,
                    revision_id=revision_id,
                    user=user,
                    field=field,
                    text=text,
                    today=today_for(user, context),
                ),
            )
        except Refused as refusal:
            return await _refused_answer(update, context, user, refusal)
        prefix = ""
        if field == "target_date" and draft.revision.target_date is not None:
            understood = fmt_date(user.language, draft.revision.target_date)
            prefix = t(user.language, "goal.date_understood", date=understood) + "\n\n"
        return await _next(update, context, user, draft, prefix)

    return answer


async def edit(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    _, _, revision_id, letter = callback_parts(update, 4)
    try:
        draft = await run(
            context, lambda s: usecase.my_draft(s, revision_id=int(revision_id), user=user)
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    field = rules.LETTERS.get(letter)
    if field is None or field not in rules.steps(draft.goal.kind):
        await _explain(update, user, Refused("goal.draft_gone"))
        return END
    await answer_button(update)
    return await _question(update, context, user, draft, field)


async def save(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    revision_id = int(callback_parts(update, 3)[2])
    try:
        draft = await run(
            context,
            lambda s: usecase.submit(
                s,
                revision_id=revision_id,
                user=user,
                now=now(context),
                today=today_for(user, context),
            ),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    assert draft.pairing.partner is not None
    key = N_("goal.sent") if rules.needs_acceptance(draft.goal.kind) else N_("goal.saved_own")
    await say(
        update,
        t(user.language, key, name=pairing.display_name(draft.pairing.partner)),
        keyboard(user.language, [[(N_("goal.button.all"), f"g:lst:{draft.goal.mentorship_id}")]]),
    )
    return END


async def discard(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    revision_id = int(callback_parts(update, 3)[2])
    try:
        whole = await run(context, lambda s: usecase.discard(s, revision_id=revision_id, user=user))
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    key = N_("goal.discarded") if whole else N_("goal.discarded_version")
    await say(update, t(user.language, key))
    return END


async def use_buttons(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await say(update, t(user.language, "goal.use_buttons"))


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "goal.paused"))
    return END


# -- the mentor's answer ----------------------------------------------------------------------


async def accept(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    revision_id = int(callback_parts(update, 3)[2])
    try:
        review = await run(
            context,
            lambda s: usecase.accept(s, revision_id=revision_id, user=user, now=now(context)),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return
    query = update.callback_query
    assert query is not None and review.pairing.partner is not None
    await query.answer(t(user.language, "goal.accepted_toast"))
    await query.edit_message_reply_markup(None)
    await say(
        update,
        t(user.language, "goal.you_accepted", name=pairing.display_name(review.pairing.partner)),
    )


async def ask_challenge(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    revision_id = int(callback_parts(update, 3)[2])
    try:
        review = await run(
            context, lambda s: usecase.start_challenge(s, revision_id=revision_id, user=user)
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, COMMENT)
    assert review.pairing.partner is not None
    name = pairing.display_name(review.pairing.partner)
    await say(update, t(user.language, "goal.ask_challenge", name=name))
    return COMMENT


async def save_challenge(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        review = await run(
            context,
            lambda s: usecase.challenge(s, user=user, comment=text, now=now(context)),
        )
    except Refused as refusal:
        return await _refused_answer(update, context, user, refusal)
    await remember_step(update, context, FLOW, None)
    assert review.pairing.partner is not None
    name = pairing.display_name(review.pairing.partner)
    await say(update, t(user.language, "goal.challenge_sent", name=name))
    return END


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
    if number == 0:
        empty = N_("goal.list.empty_mentor") if i_mentor else N_("goal.list.empty")
        lines.append(t(language, empty))
    else:
        lines.append(t(language, "goal.list.hint"))
    return "\n\n".join(lines), rows


async def _show_list(update: Update, context: Context, user: User, mentorship_id: int) -> None:
    try:
        overview = await run(
            context, lambda s: usecase.overview(s, mentorship_id=mentorship_id, user=user)
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return
    await answer_button(update)
    text, rows = _list_text(user, overview)
    rows.append([(t(user.language, "goal.button.new"), f"g:new:{mentorship_id}")])
    await say(update, text, raw_keyboard(rows))


async def show_list(update: Update, context: Context) -> None:
    """/goals: every goal of the current mentorship this person may see."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(
        update, context, user, purpose="goals", states=rules.MENTORSHIP_STATES
    )
    if seen is not None and seen.mentorship.id is not None:
        await _show_list(update, context, user, seen.mentorship.id)


async def list_button(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await _show_list(update, context, user, int(callback_parts(update, 3)[2]))


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


async def show(update: Update, context: Context) -> None:
    """One goal in full: every version, the mentor's answers and the progress."""
    user = await remember_user(update, context)
    goal_id = int(callback_parts(update, 3)[2])
    try:
        found = await run(context, lambda s: usecase.detail(s, goal_id=goal_id, user=user))
    except Refused as refusal:
        await _explain(update, user, refusal)
        return
    await answer_button(update)
    await say(update, _detail_text(user, found), keyboard(user.language, _detail_buttons(found)))


async def share(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    _, action, goal_id = callback_parts(update, 3)
    shared = action == "shr"
    try:
        _goal, seen = await run(
            context,
            lambda s: usecase.set_shared(
                s, goal_id=int(goal_id), user=user, shared=shared, now=now(context)
            ),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return
    await answer_button(update)
    assert seen.partner is not None
    key = N_("goal.shared") if shared else N_("goal.unshared")
    await say(update, t(user.language, key, name=pairing.display_name(seen.partner)))


# -- progress and closing --------------------------------------------------------------------


def _percent_rows(goal_id: int) -> list[list[tuple[str, str]]]:
    buttons = [(f"{p} %", f"g:pct:{goal_id}:{p}") for p in PERCENTS]
    return [buttons[i : i + 4] for i in range(0, len(buttons), 4)]


async def _ask_percent(
    update: Update, context: Context, user: User, goal: Goal, sent: GoalRevision | None
) -> str:
    assert goal.id is not None
    await remember_step(update, context, FLOW, PERCENT)
    rows = _percent_rows(goal.id)
    rows.append([(t(user.language, "goal.button.step"), f"g:pct:{goal.id}:k")])
    await say(
        update,
        t(
            user.language,
            "goal.ask_percent",
            goal=usecase.headline(sent),
            bar=rules.progress_bar(goal.progress_percent),
        ),
        raw_keyboard(rows),
    )
    return PERCENT


async def ask_progress(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    goal_id = int(callback_parts(update, 3)[2])
    try:
        goal, sent = await run(
            context, lambda s: usecase.start_progress(s, goal_id=goal_id, user=user)
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    return await _ask_percent(update, context, user, goal, sent)


async def progress_command(update: Update, context: Context) -> str | int:
    """/progress: the one goal under way, or a choice among them."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(
        update, context, user, purpose="progress", states=rules.MENTORSHIP_STATES
    )
    if seen is None or seen.mentorship.id is None:
        return END
    mentorship_id = seen.mentorship.id
    try:
        found = await run(
            context, lambda s: usecase.in_progress(s, mentorship_id=mentorship_id, user=user)
        )
        if len(found) == 1:
            goal_id = found[0][0].id or 0
            goal, sent = await run(
                context, lambda s: usecase.start_progress(s, goal_id=goal_id, user=user)
            )
            return await _ask_percent(update, context, user, goal, sent)
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    if not found:
        await say(update, t(user.language, "goal.none_in_progress"))
        return END
    rows = [[(usecase.headline(sent, 40), f"g:prog:{goal.id}")] for goal, sent in found]
    await say(update, t(user.language, "goal.which_progress"), raw_keyboard(rows))
    return END


async def _recorded(update: Update, context: Context, user: User, bar: str) -> str:
    await remember_step(update, context, FLOW, NOTE)
    await say(
        update,
        t(user.language, "goal.progress_saved", bar=bar),
        keyboard(user.language, [[(N_("goal.button.skip"), "g:skip")]]),
    )
    return NOTE


async def percent_button(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    _, _, goal_id, value = callback_parts(update, 4)
    percent = None if value == "k" else int(value)
    try:
        goal, _row = await run(
            context,
            lambda s: usecase.record_progress(
                s, goal_id=int(goal_id), user=user, percent=percent, now=now(context)
            ),
        )
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    return await _recorded(update, context, user, rules.progress_bar(goal.progress_percent))


async def percent_typed(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        goal, _row = await run(
            context,
            lambda s: usecase.record_typed_progress(s, user=user, text=text, now=now(context)),
        )
    except Refused as refusal:
        return await _refused_answer(update, context, user, refusal)
    return await _recorded(update, context, user, rules.progress_bar(goal.progress_percent))


async def save_note(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        await run(context, lambda s: usecase.add_note(s, user=user, note=text))
    except Refused as refusal:
        return await _refused_answer(update, context, user, refusal)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "goal.note_saved"))
    return END


async def skip_note(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "goal.note_skipped"))
    return END


async def ask_close(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    _, action, goal_id = callback_parts(update, 3)
    outcome = GoalState.ACHIEVED if action == "ach" else GoalState.DROPPED
    try:
        await run(context, lambda s: usecase.start_close(s, goal_id=int(goal_id), user=user))
    except Refused as refusal:
        await _explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, REASON[outcome])
    await say(update, t(user.language, ASK_REASON[outcome]))
    return REASON[outcome]


def closing(outcome: GoalState) -> object:
    async def save_reason(update: Update, context: Context) -> str | int | None:
        user = await remember_user(update, context)
        text = message_of(update).text or ""
        try:
            goal = await run(
                context,
                lambda s: usecase.close(
                    s, user=user, outcome=outcome, reason=text, now=now(context)
                ),
            )
        except Refused as refusal:
            return await _refused_answer(update, context, user, refusal)
        await remember_step(update, context, FLOW, None)
        await say(
            update,
            t(user.language, CLOSED_TEXT[outcome]),
            keyboard(user.language, [[(N_("goal.button.all"), f"g:lst:{goal.mentorship_id}")]]),
        )
        return END

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


scheduler.register("goal_review", render_review)
scheduler.register("goal_deadline", render_deadline)


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
        field: [*anywhere, MessageHandler(text, typed(field))]  # type: ignore[arg-type]
        for field in rules.SMART_STEPS
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
        states[state] = [MessageHandler(text, closing(outcome))]  # type: ignore[arg-type]
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
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("goals", show_list, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_list, pattern=choose.pick_pattern("goals")),
        CallbackQueryHandler(list_button, pattern=r"^g:lst:\d+$"),
        CallbackQueryHandler(show, pattern=r"^g:show:\d+$"),
        CallbackQueryHandler(accept, pattern=r"^g:acc:\d+$"),
        CallbackQueryHandler(share, pattern=r"^g:(shr|prv):\d+$"),
    ]
