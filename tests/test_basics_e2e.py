"""The bot's basics through the real PTB stack and the emulator."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.app import AnyApplication
from bot.cli import configure_logging
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.models import User
from tests.conftest import COORDINATOR
from tests.harness import Person

People = Callable[..., Person]


async def test_start_greets_in_swedish_for_sv_and_english_otherwise(people: People) -> None:
    anna = people("Anna", "sv-SE")
    john = people("John", "en")
    reply_sv = await anna.ask("/start")
    reply_en = await john.ask("/start")
    assert "Hej Anna" in reply_sv.text and "mentorskap" in reply_sv.text
    assert "Hi John" in reply_en.text and "mentorship" in reply_en.text


async def test_start_without_language_code_uses_the_default(people: People) -> None:
    nils = people("Nils", None)
    assert "Hej Nils" in (await nils.ask("/start")).text


async def test_names_that_look_like_html_are_shown_literally(people: People) -> None:
    odd = people("<b>Eve</b> & 🦄", "en")
    reply = await odd.ask("/start")
    assert "<b>Eve</b> & 🦄" in reply.text  # the plain text the person sees


async def test_help_always_names_the_coordinator_and_emergency_numbers(people: People) -> None:
    for person in (people("Sara", "sv"), people("Sam", "en")):
        text = (await person.ask("/help")).text
        assert COORDINATOR in text
        assert "112" in text and "114 14" in text
        assert "/settings" in text


async def test_command_menus_are_registered_in_both_languages(
    emulator: BotAPIEmulator, bot_app: AnyApplication
) -> None:
    sv = {c["command"]: c["description"] for c in emulator.commands(language_code="sv")}
    en = {c["command"]: c["description"] for c in emulator.commands(language_code="en")}
    assert set(sv) == set(en) >= {"start", "help", "settings", "cancel"}
    assert sv["settings"] != en["settings"]


async def test_settings_change_language_and_time_zone(people: People, db: Database) -> None:
    karin = people("Karin", "sv")
    await karin.ask("/settings")
    await karin.press("English")
    question = await karin.reply()
    edited = karin.messages[-2]
    assert "Language saved" in edited.text
    assert "time zone" in question.text
    await karin.press("Europe/London")
    done = await karin.reply()
    assert "Europe/London" in done.text
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.telegram_id == karin.user_id))).one()
    assert (user.language, user.timezone, user.language_chosen) == ("en", "Europe/London", True)
    # From now on the bot speaks English even though the app says Swedish.
    assert "Hi Karin" in (await karin.ask("/start")).text


async def test_a_typed_time_zone_is_understood_and_nonsense_is_refused(people: People) -> None:
    li = people("Li", "en")
    await li.ask("/settings")
    await li.press("English")
    await li.reply()
    refused = await li.ask("Atlantis <3")
    assert "don't recognise" in refused.text and "Atlantis" not in refused.text
    saved = await li.ask("oslo")
    assert "Europe/Oslo" in saved.text


async def test_typing_instead_of_pressing_gets_a_hint(people: People) -> None:
    per = people("Per", "sv")
    await per.ask("/settings")
    hint = await per.ask("svenska tack")
    assert "knapparna" in hint.text


async def test_cancel_leaves_the_flow_and_keeps_what_was_saved(people: People) -> None:
    eva = people("Eva", "en")
    await eva.ask("/settings")
    await eva.press("Svenska")
    await eva.reply()
    cancelled = await eva.ask("/cancel")
    assert "avbryter" in cancelled.text
    again = await eva.ask("/cancel")
    assert "inget pågående" in again.text
    assert "Hej Eva" in (await eva.ask("/start")).text


async def test_unknown_commands_and_stray_text_get_friendly_answers(people: People) -> None:
    ola = people("Ola", "en")
    assert "/help" in (await ola.ask("/frobnicate")).text
    assert "/help" in (await ola.ask("x" * 5000)).text
    assert "/help" in (await ola.ask("<i>hello</i> 🎉")).text


async def test_stale_and_forged_buttons_are_answered_and_change_nothing(
    people: People, db: Database
) -> None:
    mia = people("Mia", "en")
    await mia.ask("/start")
    forged = await mia.press_data(mia.last.message_id, "set:lang:xx")
    answer = await mia.callback_answer(forged)
    assert "no longer applies" in (answer.get("text") or "")
    garbage = await mia.press_data(mia.last.message_id, "\u202e💥<b>")
    assert "no longer applies" in ((await mia.callback_answer(garbage)).get("text") or "")
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.telegram_id == mia.user_id))).one()
    assert user.language == "en" and not user.language_chosen


async def test_errors_are_apologised_for_and_logged_without_message_text(
    people: People, bot_app: AnyApplication, caplog: pytest.LogCaptureFixture
) -> None:
    from telegram.ext import MessageHandler, filters

    async def explode(update: object, context: object) -> None:
        raise RuntimeError("secret career plans: leave my job")

    bot_app.add_handler(MessageHandler(filters.Regex("^boom"), explode), group=-1)
    ulla = people("Ulla", "en")
    configure_logging("DEBUG")
    with caplog.at_level(logging.DEBUG):
        replies = [await ulla.ask("boom: I want to quit my job")]
        replies += await ulla.replies(1)
    assert any("something went wrong" in r.text for r in replies)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert "quit my job" not in logged and "secret career" not in logged
