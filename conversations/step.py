"""One shape for every step of a flow: parse, call one use case, reply.

A step callback receives a `Step` (the update, the person already loaded by the
unit of work, and a few verbs) and returns the flow's next state:

    @step(FLOW)
    async def typed_agenda(s: Step) -> State:
        found = await s.do(usecase.save_agenda, user=s.person, text=s.text)
        return await s.reply("meetings.agenda_saved", next=END, name=found.mentor_name)

The ceremony lives here once: loading the person, running the use case in the
update's unit of work, explaining a `Refused` kindly, and recording the next
step before the reply leaves. Whether a refusal keeps the person at the step is
the use case's call (`Refused(..., stay=True)`), never the handler's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ConversationHandler

from bot.i18n import t
from bot.usecases import Refused
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    now,
    remember_step,
    remember_user,
    run,
    say,
    today_for,
)
from storage.models import User

T = TypeVar("T")
# A flow's next state: a named state, END, or None ("stay where you are").
State = str | int | None
END = ConversationHandler.END
Explainer = Callable[[str, Refused], Refused]
# What PTB calls: a step callback wrapped by `step`.
Callback = Callable[[Update, Context], Coroutine[Any, Any, Any]]


class Step:
    """One update as a flow step sees it."""

    def __init__(self, update: Update, context: Context, flow: str | None, person: User) -> None:
        self.update = update
        self.context = context
        self.flow = flow
        self.person = person

    @property
    def language(self) -> str:
        return self.person.language

    @property
    def text(self) -> str:
        message = self.update.effective_message
        return (message.text or "") if message is not None else ""

    @property
    def now(self) -> datetime:
        return now(self.context)

    @property
    def today(self) -> date:
        return today_for(self.person, self.context)

    def parts(self, expected: int) -> list[str]:
        """The ':'-separated fields of the pressed button's data."""
        return callback_parts(self.update, expected)

    def t(self, key: str, **values: Any) -> str:
        return t(self.language, key, **values)

    async def do(self, action: Callable[..., Awaitable[T]], /, **arguments: Any) -> T:
        """Run one use case (`action(session, **arguments)`) in the update's unit of work."""
        return await run(self.context, lambda session: action(session, **arguments))

    async def goto(self, state: State) -> State:
        """Record the next step (written before the reply leaves) and return it."""
        if self.flow is not None and state is not None:
            await remember_step(
                self.update, self.context, self.flow, None if state == END else state
            )
        return state

    async def say(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        """Send already translated HTML (and acknowledge a pressed button)."""
        await answer_button(self.update)
        return await say(self.update, text, markup)

    async def reply(
        self,
        key: str,
        *,
        next: State,
        markup: InlineKeyboardMarkup | None = None,
        **values: Any,
    ) -> State:
        """Record `next`, then say the translated `key`; returns `next` for PTB."""
        await self.goto(next)
        await self.say(self.t(key, **values), markup)
        return next


def step(
    flow: str | None = None, *, explained: Explainer | None = None
) -> Callable[[Callable[[Step], Awaitable[State]]], Callback]:
    """Turn `async def callback(s: Step) -> State` into a PTB callback.

    A `Refused` is explained; with `stay` the person remains at the step they
    were at, otherwise the flow ends. `explained` may rewrite a refusal's values
    for the person's language (dates, for instance) before it is shown.
    """

    def decorate(callback: Callable[[Step], Awaitable[State]]) -> Callback:
        @functools.wraps(callback)
        async def handle(update: Update, context: Context) -> State:
            person = await remember_user(update, context)
            current = Step(update, context, flow, person)
            try:
                return await callback(current)
            except Refused as refusal:
                shown = explained(person.language, refusal) if explained else refusal
                if refusal.stay or flow is None:
                    await explain(update, person, shown)
                    return None
                await remember_step(update, context, flow, None)
                await explain(update, person, shown)
                return END

        return handle

    return decorate
