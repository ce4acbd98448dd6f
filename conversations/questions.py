"""/questions: three question suggestions for the mentor, any time, fitted to the adept.

`/questions <words>` steers the choice ("/questions lönesamtal"). The button
under the suggestions (`q:more:<mentorship id>[:<themes>]`) asks again the same way.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain.question_bank import CHALLENGE
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from bot.usecases import questions as usecase
from conversations import choose
from conversations.common import (
    Context,
    answer_button,
    explain,
    now,
    raw_keyboard,
    remember_user,
    run,
    say,
)
from storage.models import User

PURPOSE = "questions"
NONE_TEXT = N_("mentorship.none.questions")
MORE = re.compile(r"^q:more:(\d+)(?::([a-z.]{1,40}))?$")
MAX_WORDS_CHARS = 500


def render(language: str, found: usecase.Suggestions) -> str:
    lines = [t(language, "questions.title", name=pairing.display_name(found.adept))]
    for number, question in enumerate(found.questions, start=1):
        key = (
            N_("questions.line_challenging")
            if question.family == CHALLENGE
            else N_("questions.line")
        )
        lines.append(t(language, key, n=number, text=question.text(language)))
    text = "\n\n".join(lines)
    hints = [t(language, "questions.tip")]
    if any(question.family == CHALLENGE for question in found.questions):
        hints.insert(0, t(language, "questions.challenging_hint"))
    return text + "\n\n" + "\n\n".join(hints)


async def _suggest(
    update: Update, context: Context, user: User, mentorship_id: int, words: str
) -> None:
    try:
        found = await run(
            context,
            lambda s: usecase.for_mentor(
                s, mentorship_id=mentorship_id, user=user, words=words, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    data = f"q:more:{mentorship_id}" + (f":{found.steer}" if found.steer else "")
    await say(
        update,
        render(user.language, found),
        raw_keyboard([[(t(user.language, "questions.button.more"), data)]]),
    )


async def ask(update: Update, context: Context) -> None:
    """/questions [words], or the pick of a mentorship it asked about."""
    user = await remember_user(update, context)
    words = " ".join(context.args or [])[:MAX_WORDS_CHARS]
    seen = await choose.mentorship(update, context, user, purpose=PURPOSE)
    if seen is None:
        return
    assert seen.mentorship.id is not None
    await _suggest(update, context, user, seen.mentorship.id, words)


async def more(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    query = update.callback_query
    assert query is not None and query.data is not None
    matched = MORE.match(query.data)
    assert matched is not None
    # Mentorship and role are checked again in the use case: the button may be old or forged.
    await _suggest(update, context, user, int(matched[1]), (matched[2] or "").replace(".", " "))


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("questions", ask, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(ask, pattern=choose.pick_pattern(PURPOSE)),
        CallbackQueryHandler(more, pattern=MORE),
    ]
