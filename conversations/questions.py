"""/questions: three question suggestions for the mentor, any time, fitted to the adept.

`/questions <words>` steers the choice ("/questions lönesamtal"). The button
under the suggestions (`q:more:<mentorship id>[:<themes>]`) asks again the same way.
"""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain.question_bank import CHALLENGE
from bot.i18n import N_, t
from bot.usecases import pairing
from bot.usecases import questions as usecase
from conversations import choose
from conversations.common import Context, raw_keyboard
from conversations.step import State, Step, step

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


async def _suggest(s: Step, mentorship_id: int, words: str) -> State:
    found = await s.do(
        usecase.for_mentor, mentorship_id=mentorship_id, user=s.person, words=words, now=s.now
    )
    data = f"q:more:{mentorship_id}" + (f":{found.steer}" if found.steer else "")
    more_button = raw_keyboard([[(s.t(N_("questions.button.more")), data)]])
    await s.say(render(s.language, found), more_button)
    return None


@step()
async def ask(s: Step) -> State:
    """/questions [words], or the pick of a mentorship it asked about."""
    words = " ".join(s.context.args or [])[:MAX_WORDS_CHARS]
    seen = await choose.mentorship(s.update, s.context, s.person, purpose=PURPOSE)
    if seen is None:
        return None
    assert seen.mentorship.id is not None
    return await _suggest(s, seen.mentorship.id, words)


@step()
async def more(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None and query.data is not None
    matched = MORE.match(query.data)
    assert matched is not None
    # Mentorship and role are checked again in the use case: the button may be old or forged.
    return await _suggest(s, int(matched[1]), (matched[2] or "").replace(".", " "))


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("questions", ask, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(ask, pattern=choose.pick_pattern(PURPOSE)),
        CallbackQueryHandler(more, pattern=MORE),
    ]
