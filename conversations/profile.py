"""/profile: a mentor's profile in a programme's directory, as a short wizard.

Competence areas (toggles from the programme's list, and the mentor's own words
typed), a career summary, languages (toggles), organisation (or skip), how many
adepts they can take, then a preview exactly as adepts see it and Publish. Later
/profile shows it with Edit, Pause/Resume and Unpublish.

Buttons: `prof:prog:<programme>`, `prof:area:<profile>:<i>`, `prof:next:<profile>:<step>`,
`prof:lang:<profile>:<code>`, `prof:skip:<profile>`, `prof:cap:<profile>:<n>`,
`prof:(pub|pause|resume|unpub|edit):<profile>`; every profile id is re-checked in
`bot.usecases.directory`. Typed answers go to the profile of the mentor's
`current_programme_id`.
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
from bot.i18n import N_, t
from bot.usecases import directory as usecase
from bot.usecases import pairing, profiles
from bot.usecases.programmes import name_of
from conversations.common import Context, answer_button, raw_keyboard, use_buttons
from conversations.step import END, State, Step, step
from storage.models import MentorProfile, Programme, Role, User

FLOW = "profile"
AREAS, CAREER, LANGUAGES, ORGANISATION, CAPACITY = (
    "areas",
    "career",
    "languages",
    "organisation",
    "capacity",
)
LANGUAGE_NAMES = {"sv": N_("directory.language.sv"), "en": N_("directory.language.en")}
CHOSEN = "✅ "


def card(language: str, profile: MentorProfile, mentor: User) -> str:
    """A profile as adepts see it (the mentor's preview is this same text)."""
    areas = rules.area_list(profile.areas) + ([profile.other_areas] if profile.other_areas else [])
    lines = [
        t(language, "directory.card.name", name=pairing.display_name(mentor)),
        t(language, "directory.card.areas", areas=", ".join(areas)),
        t(language, "directory.card.languages", languages=languages_of(language, profile)),
    ]
    if profile.organisation:
        lines.append(t(language, "directory.card.organisation", organisation=profile.organisation))
    # The career summary stands apart from the facts above it.
    lines.extend(("", t(language, "directory.card.career", career=profile.career or "")))
    return "\n".join(lines)


def languages_of(language: str, profile: MentorProfile) -> str:
    return ", ".join(
        t(language, LANGUAGE_NAMES[code]) for code in rules.language_list(profile.languages)
    )


async def _edit(s: Step, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(text, reply_markup=markup)


def _areas_screen(s: Step, found: profiles.Editing) -> tuple[str, InlineKeyboardMarkup]:
    profile, offered = found.profile, rules.area_list(found.programme.areas)
    chosen = rules.area_list(profile.areas)
    key = N_("directory.profile.ask_areas") if offered else N_("directory.profile.ask_own_areas")
    text = s.t(key, programme=name_of(found.programme, s.language))
    if profile.other_areas:
        text += "\n\n" + s.t(N_("directory.profile.own_areas"), areas=profile.other_areas)
    rows = [
        [(CHOSEN + area if area in chosen else area, f"prof:area:{profile.id}:{index}")]
        for index, area in enumerate(offered)
    ]
    rows.append([(s.t(N_("directory.button.next")), f"prof:next:{profile.id}:areas")])
    return text, raw_keyboard(rows)


def _languages_screen(s: Step, profile: MentorProfile) -> tuple[str, InlineKeyboardMarkup]:
    chosen = rules.language_list(profile.languages)
    rows = [
        [
            (
                (CHOSEN if code in chosen else "") + s.t(LANGUAGE_NAMES[code]),
                f"prof:lang:{profile.id}:{code}",
            )
            for code in rules.LANGUAGES
        ],
        [(s.t(N_("directory.button.next")), f"prof:next:{profile.id}:langs")],
    ]
    return s.t(N_("directory.profile.ask_languages")), raw_keyboard(rows)


def _overview(
    s: Step, profile: MentorProfile, mentor: User, programme: Programme
) -> tuple[str, InlineKeyboardMarkup]:
    """The profile with what the mentor can do with it now."""
    if profile.published_at is None:
        status = N_("directory.profile.status.unpublished")
    elif profile.paused_at is not None:
        status = N_("directory.profile.status.paused")
    else:
        status = N_("directory.profile.status.published")
    text = "\n\n".join(
        [
            s.t(status, programme=name_of(programme, s.language), n=profile.capacity),
            card(s.language, profile, mentor),
        ]
    )
    pid = profile.id
    rows = [[(s.t(N_("directory.button.edit")), f"prof:edit:{pid}")]]
    if profile.published_at is None:
        rows.append([(s.t(N_("directory.button.publish")), f"prof:pub:{pid}")])
    else:
        if profile.paused_at is None:
            rows.append([(s.t(N_("directory.button.pause")), f"prof:pause:{pid}")])
        else:
            rows.append([(s.t(N_("directory.button.resume")), f"prof:resume:{pid}")])
        rows.append([(s.t(N_("directory.button.unpublish")), f"prof:unpub:{pid}")])
    return text, raw_keyboard(rows)


async def _open(s: Step, programme_id: int) -> State:
    """The profile if there is one, else the wizard's first step."""
    shown = await s.do(profiles.my_profile, user=s.person, programme_id=programme_id)
    if shown is not None:
        found = await s.do(profiles.editing, user=s.person, profile_id=shown.id)
        text, markup = _overview(s, found.profile, s.person, found.programme)
        await s.goto(END)
        await s.say(text, markup)
        return END
    found = await s.do(profiles.start_profile, user=s.person, programme_id=programme_id, now=s.now)
    text, markup = _areas_screen(s, found)
    await s.goto(AREAS)
    await s.say(text, markup)
    return AREAS


@step(FLOW)
async def profile_command(s: Step) -> State:
    choice = await s.do(usecase.programme_for, user=s.person, role=Role.MENTOR)
    if choice.chosen is not None:
        assert choice.chosen.id is not None
        return await _open(s, choice.chosen.id)
    if not choice.options:
        return await s.reply(N_("directory.not_mentor"), next=END)
    rows = [[(name_of(p, s.language), f"prof:prog:{p.id}")] for p in choice.options]
    return await s.reply(N_("directory.which_programme"), next=END, markup=raw_keyboard(rows))


@step(FLOW)
async def programme_picked(s: Step) -> State:
    programme_id = int(s.parts(3)[2])
    await s.do(usecase.choose_programme, user=s.person, programme_id=programme_id, role="mentor")
    return await _open(s, programme_id)


@step(FLOW)
async def edit(s: Step) -> State:
    found = await s.do(profiles.editing, user=s.person, profile_id=int(s.parts(3)[2]))
    assert found.programme.id is not None
    started = await s.do(
        profiles.start_profile, user=s.person, programme_id=found.programme.id, now=s.now
    )
    text, markup = _areas_screen(s, started)
    await s.goto(AREAS)
    await s.say(text, markup)
    return AREAS


@step(FLOW)
async def area_toggled(s: Step) -> State:
    _, _, profile_id, index = s.parts(4)
    found = await s.do(
        profiles.toggle_area, user=s.person, profile_id=int(profile_id), index=int(index), now=s.now
    )
    await _edit(s, *_areas_screen(s, found))
    return AREAS


@step(FLOW)
async def typed_other_areas(s: Step) -> State:
    found = await s.do(profiles.set_other_areas, user=s.person, text=s.text, now=s.now)
    text, markup = _areas_screen(s, found)
    await s.goto(AREAS)
    await s.say(text, markup)
    return AREAS


@step(FLOW)
async def areas_done(s: Step) -> State:
    await s.do(profiles.areas_done, user=s.person, profile_id=int(s.parts(4)[2]))
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    return await s.reply(N_("directory.profile.ask_career"), next=CAREER, limit=rules.CAREER_MAX)


@step(FLOW)
async def typed_career(s: Step) -> State:
    found = await s.do(profiles.set_career, user=s.person, text=s.text, now=s.now)
    text, markup = _languages_screen(s, found.profile)
    await s.goto(LANGUAGES)
    await s.say(text, markup)
    return LANGUAGES


@step(FLOW)
async def language_toggled(s: Step) -> State:
    _, _, profile_id, code = s.parts(4)
    found = await s.do(
        profiles.toggle_language, user=s.person, profile_id=int(profile_id), code=code, now=s.now
    )
    await _edit(s, *_languages_screen(s, found.profile))
    return LANGUAGES


@step(FLOW)
async def languages_done(s: Step) -> State:
    found = await s.do(profiles.languages_done, user=s.person, profile_id=int(s.parts(4)[2]))
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    skip = raw_keyboard([[(s.t(N_("directory.button.skip")), f"prof:skip:{found.profile.id}")]])
    return await s.reply(N_("directory.profile.ask_organisation"), next=ORGANISATION, markup=skip)


async def _ask_capacity(s: Step, profile: MentorProfile) -> State:
    rows = [[(str(n), f"prof:cap:{profile.id}:{n}") for n in rules.CAPACITIES]]
    return await s.reply(
        N_("directory.profile.ask_capacity"), next=CAPACITY, markup=raw_keyboard(rows)
    )


@step(FLOW)
async def typed_organisation(s: Step) -> State:
    found = await s.do(profiles.set_organisation, user=s.person, text=s.text, now=s.now)
    return await _ask_capacity(s, found.profile)


@step(FLOW)
async def skip_organisation(s: Step) -> State:
    found = await s.do(profiles.set_organisation, user=s.person, text=None, now=s.now)
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    return await _ask_capacity(s, found.profile)


@step(FLOW)
async def capacity_chosen(s: Step) -> State:
    _, _, profile_id, n = s.parts(4)
    found = await s.do(
        profiles.set_capacity, user=s.person, profile_id=int(profile_id), capacity=int(n), now=s.now
    )
    await _edit(s, s.t(N_("directory.profile.capacity_set"), n=int(n)))
    text = "\n\n".join(
        [s.t(N_("directory.profile.preview")), card(s.language, found.profile, s.person)]
    )
    rows = [
        [(s.t(N_("directory.button.publish")), f"prof:pub:{found.profile.id}")],
        [(s.t(N_("directory.button.edit")), f"prof:edit:{found.profile.id}")],
    ]
    await s.goto(END)
    await s.say(text, raw_keyboard(rows))
    return END


ACTIONS = {
    "pub": (profiles.publish, N_("directory.profile.published")),
    "pause": (profiles.pause, N_("directory.profile.paused")),
    "resume": (profiles.resume, N_("directory.profile.resumed")),
    "unpub": (profiles.unpublish, N_("directory.profile.unpublished")),
}


@step()
async def profile_action(s: Step) -> State:
    _, action, profile_id = s.parts(3)
    change, said = ACTIONS[action]
    found = await s.do(change, user=s.person, profile_id=int(profile_id), now=s.now)
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    text, markup = _overview(s, found.profile, s.person, found.programme)
    await s.say(s.t(said) + "\n\n" + text, markup)
    return None


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("directory.profile.cancelled"), next=END)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("profile", profile_command, filters=private),
            CallbackQueryHandler(programme_picked, pattern=r"^prof:prog:\d{1,18}$"),
            CallbackQueryHandler(edit, pattern=r"^prof:edit:\d{1,18}$"),
        ],
        states={
            AREAS: [
                CallbackQueryHandler(area_toggled, pattern=r"^prof:area:\d{1,18}:\d{1,3}$"),
                CallbackQueryHandler(areas_done, pattern=r"^prof:next:\d{1,18}:areas$"),
                MessageHandler(text, typed_other_areas),
            ],
            CAREER: [MessageHandler(text, typed_career)],
            LANGUAGES: [
                CallbackQueryHandler(language_toggled, pattern=r"^prof:lang:\d{1,18}:(sv|en)$"),
                CallbackQueryHandler(languages_done, pattern=r"^prof:next:\d{1,18}:langs$"),
                MessageHandler(text, use_buttons),
            ],
            ORGANISATION: [
                CallbackQueryHandler(skip_organisation, pattern=r"^prof:skip:\d{1,18}$"),
                MessageHandler(text, typed_organisation),
            ],
            CAPACITY: [
                CallbackQueryHandler(capacity_chosen, pattern=r"^prof:cap:\d{1,18}:[1-5]$"),
                MessageHandler(text, use_buttons),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CallbackQueryHandler(profile_action, pattern=r"^prof:(pub|pause|resume|unpub):\d{1,18}$")
    ]
