"""/mentors: an adept browses their programme's mentor profiles and asks one; the
mentor accepts (the pair goes into the intro phase as after an invitation) or
declines kindly, with a private reason if they like.

Buttons (every id re-checked in `bot.usecases.directory`):
`dir:prog:<programme>` which programme; `dir:f:<programme>:<area>:<language>:<not mine>`
the filters; `dir:org:<programme>` asks the adept's own organisation once;
`dir:b:<programme>:<filters>:<index>` one profile, with ◀ ▶; `dir:ask:<profile>`
starts a request (the note is typed next); `dir:wd:<request>` withdraws it;
`dir:acc:<request>` and `dir:dec:<request>` answer it (`dir:noreason` skips the
private reason). The filters travel in the buttons, so an old message still
pages through what it showed.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain import directory as rules
from bot.i18n import N_
from bot.usecases import directory as usecase
from bot.usecases import pairing
from bot.usecases.programmes import name_of
from conversations.common import Context, answer_button, keyboard, raw_keyboard
from conversations.profile import CHOSEN, LANGUAGE_NAMES, card
from conversations.step import END, State, Step, step
from storage.models import Role

FLOW = "directory"
ORGANISATION, NOTE, REASON = "organisation", "note", "reason"
ID = r"\d{1,18}"
FILTERS = r"(\d{1,3}|-):(sv|en|-):[01]"


async def _edit(s: Step, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(text, reply_markup=markup)


async def _close_buttons(s: Step) -> None:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)


def _filters_screen(s: Step, seen: usecase.Browsing) -> tuple[str, InlineKeyboardMarkup]:
    programme, chosen = seen.programme, seen.filters
    pid = programme.id
    offered = rules.area_list(programme.areas)

    def data(f: rules.Filters) -> str:
        return f"dir:f:{pid}:{f.encoded()}"

    rows: list[list[tuple[str, str]]] = []
    for index, area in enumerate(offered):
        picked = chosen.area == index
        other = rules.Filters(
            None if picked else index, chosen.language, chosen.not_my_organisation
        )
        rows.append([((CHOSEN if picked else "") + area, data(other))])
    languages: list[tuple[str | None, str]] = [(None, N_("directory.filter.any_language"))]
    languages += [(code, LANGUAGE_NAMES[code]) for code in rules.LANGUAGES]
    rows.append(
        [
            (
                (CHOSEN if chosen.language == code else "") + s.t(label),
                data(rules.Filters(chosen.area, code, chosen.not_my_organisation)),
            )
            for code, label in languages
        ]
    )
    not_mine = s.t(N_("directory.filter.not_my_organisation"))
    if chosen.not_my_organisation:
        off = rules.Filters(chosen.area, chosen.language, False)
        rows.append([(CHOSEN + not_mine, data(off))])
    elif seen.knows_my_organisation:
        rows.append([(not_mine, data(rules.Filters(chosen.area, chosen.language, True)))])
    else:
        rows.append([(not_mine, f"dir:org:{pid}")])
    count = len(seen.entries)
    if count:
        show = s.t(N_("directory.button.show"), n=count)
        rows.append([(show, f"dir:b:{pid}:{chosen.encoded()}:0")])
    text = s.t(N_("directory.filters"), programme=name_of(programme, s.language), n=count)
    if not count:
        text += "\n\n" + s.t(N_("directory.filters.none"))
    return text, raw_keyboard(rows)


def _page(s: Step, seen: usecase.Browsing) -> tuple[str, InlineKeyboardMarkup]:
    pid, encoded = seen.programme.id, seen.filters.encoded()
    back = (s.t(N_("directory.button.filters")), f"dir:f:{pid}:{encoded}")
    shown = seen.shown
    if shown is None:
        return s.t(N_("directory.filters.none")), raw_keyboard([[back]])
    total = len(seen.entries)
    text = "\n\n".join(
        [
            card(s.language, shown.profile, shown.mentor),
            s.t(N_("directory.page"), position=seen.index + 1, total=total),
        ]
    )
    nav = []
    if seen.index > 0:
        nav.append(("◀", f"dir:b:{pid}:{encoded}:{seen.index - 1}"))
    if seen.index < total - 1:
        nav.append(("▶", f"dir:b:{pid}:{encoded}:{seen.index + 1}"))
    rows = [nav] if nav else []
    rows.append([(s.t(N_("directory.button.ask")), f"dir:ask:{shown.profile.id}")])
    rows.append([back])
    return text, raw_keyboard(rows)


async def _show_filters(s: Step, programme_id: int, chosen: rules.Filters, *, edit: bool) -> State:
    seen = await s.do(
        usecase.browse, user=s.person, programme_id=programme_id, filters=chosen, index=0
    )
    text, markup = _filters_screen(s, seen)
    if edit:
        await _edit(s, text, markup)
    else:
        await s.say(text, markup)
    return None


@step(FLOW)
async def mentors_command(s: Step) -> State:
    """/mentors (an entry of the flow, so a note half-begun is left behind)."""
    choice = await s.do(usecase.programme_for, user=s.person, role=Role.ADEPT)
    if choice.chosen is not None:
        assert choice.chosen.id is not None
        await s.goto(END)
        await _show_filters(s, choice.chosen.id, rules.Filters(), edit=False)
        return END
    if not choice.options:
        return await s.reply(N_("directory.not_adept"), next=END)
    rows = [[(name_of(p, s.language), f"dir:prog:{p.id}")] for p in choice.options]
    return await s.reply(N_("directory.which_programme"), next=END, markup=raw_keyboard(rows))


@step()
async def programme_picked(s: Step) -> State:
    programme_id = int(s.parts(3)[2])
    return await _show_filters(s, programme_id, rules.Filters(), edit=True)


@step()
async def filters_changed(s: Step) -> State:
    _, _, programme_id, area, language, not_mine = s.parts(6)
    chosen = rules.Filters.decoded(area, language, not_mine)
    return await _show_filters(s, int(programme_id), chosen, edit=True)


@step()
async def browse(s: Step) -> State:
    _, _, programme_id, area, language, not_mine, index = s.parts(7)
    seen = await s.do(
        usecase.browse,
        user=s.person,
        programme_id=int(programme_id),
        filters=rules.Filters.decoded(area, language, not_mine),
        index=int(index),
    )
    await _edit(s, *_page(s, seen))
    return None


@step(FLOW)
async def ask_organisation(s: Step) -> State:
    programme_id = int(s.parts(3)[2])
    await s.do(usecase.choose_programme, user=s.person, programme_id=programme_id, role="adept")
    await _close_buttons(s)
    return await s.reply(N_("directory.ask_my_organisation"), next=ORGANISATION)


@step(FLOW)
async def typed_organisation(s: Step) -> State:
    programme = await s.do(usecase.set_my_organisation, user=s.person, text=s.text, now=s.now)
    assert programme.id is not None
    await s.goto(END)
    await s.say(s.t(N_("directory.my_organisation_saved")))
    # Filters were on the message that asked; they start again with this one on.
    await _show_filters(s, programme.id, rules.Filters(not_my_organisation=True), edit=False)
    return END


@step(FLOW)
async def ask_mentor(s: Step) -> State:
    asking = await s.do(
        usecase.choose_mentor, user=s.person, profile_id=int(s.parts(3)[2]), now=s.now
    )
    await answer_button(s.update)
    return await s.reply(
        N_("directory.ask_note"),
        next=NOTE,
        name=pairing.display_name(asking.mentor),
        limit=rules.NOTE_MAX,
    )


@step(FLOW)
async def typed_note(s: Step) -> State:
    sent = await s.do(usecase.send_request, user=s.person, note=s.text, now=s.now)
    withdraw = [[(N_("directory.button.withdraw"), f"dir:wd:{sent.request.id}")]]
    return await s.reply(
        N_("directory.request_sent"),
        next=END,
        markup=keyboard(s.language, withdraw),
        name=pairing.display_name(sent.mentor),
    )


@step()
async def withdraw(s: Step) -> State:
    mentor = await s.do(usecase.withdraw, user=s.person, request_id=int(s.parts(3)[2]), now=s.now)
    await _edit(s, s.t(N_("directory.withdrawn"), name=pairing.display_name(mentor)))
    return None


@step()
async def accept(s: Step) -> State:
    seen = await s.do(
        usecase.accept_request, user=s.person, request_id=int(s.parts(3)[2]), now=s.now
    )
    assert seen.partner is not None and seen.mentorship.id is not None
    partner = pairing.display_name(seen.partner)
    await _close_buttons(s)
    await s.say(s.t(N_("directory.accepted"), name=partner))
    guide = keyboard(s.language, pairing.intro_buttons(seen.mentorship.id, seen.me.role))
    return await s.reply(f"intro.guide.{seen.me.role}", next=None, markup=guide, name=partner)


@step(FLOW)
async def decline(s: Step) -> State:
    adept = await s.do(
        usecase.decline_request, user=s.person, request_id=int(s.parts(3)[2]), now=s.now
    )
    await _close_buttons(s)
    skip = [[(N_("directory.button.skip"), "dir:noreason")]]
    return await s.reply(
        N_("directory.declined"),
        next=REASON,
        markup=keyboard(s.language, skip),
        name=pairing.display_name(adept),
    )


@step(FLOW)
async def typed_reason(s: Step) -> State:
    await s.do(usecase.save_decline_reason, user=s.person, text=s.text, now=s.now)
    return await s.reply(N_("directory.reason_saved"), next=END)


@step(FLOW)
async def skip_reason(s: Step) -> State:
    await _close_buttons(s)
    return await s.reply(N_("directory.reason_skipped"), next=END)


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("directory.cancelled"), next=END)


def conversation() -> ConversationHandler[Context]:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("mentors", mentors_command, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(ask_organisation, pattern=rf"^dir:org:{ID}$"),
            CallbackQueryHandler(ask_mentor, pattern=rf"^dir:ask:{ID}$"),
            CallbackQueryHandler(decline, pattern=rf"^dir:dec:{ID}$"),
        ],
        states={
            ORGANISATION: [MessageHandler(text, typed_organisation)],
            NOTE: [MessageHandler(text, typed_note)],
            REASON: [
                CallbackQueryHandler(skip_reason, pattern=r"^dir:noreason$"),
                MessageHandler(text, typed_reason),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CallbackQueryHandler(programme_picked, pattern=rf"^dir:prog:{ID}$"),
        CallbackQueryHandler(filters_changed, pattern=rf"^dir:f:{ID}:{FILTERS}$"),
        CallbackQueryHandler(browse, pattern=rf"^dir:b:{ID}:{FILTERS}:\d{{1,4}}$"),
        CallbackQueryHandler(withdraw, pattern=rf"^dir:wd:{ID}$"),
        CallbackQueryHandler(accept, pattern=rf"^dir:acc:{ID}$"),
    ]
