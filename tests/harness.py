"""Readable scenario tests: people who type, press buttons and read replies."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.emulator import BotAPIEmulator, SentMessage


@dataclass
class Person:
    emulator: BotAPIEmulator
    user_id: int
    first_name: str
    language_code: str | None = "sv"
    _seen: int = field(default=0, init=False)
    # Each message's text when the person last acted: `expect` also sees edits.
    _baseline: dict[int, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.emulator.add_user(self.user_id, self.first_name, language_code=self.language_code)

    @property
    def messages(self) -> list[SentMessage]:
        return [m for m in self.emulator.chat_messages(self.user_id) if not m.deleted]

    @property
    def last(self) -> SentMessage:
        return self.emulator.chat_messages(self.user_id)[-1]

    def _mark(self) -> None:
        everything = self.emulator.chat_messages(self.user_id)
        self._seen = len(everything)
        self._baseline = {m.message_id: m.text or m.caption or "" for m in everything}

    async def send(self, text: str) -> None:
        self._mark()
        await self.emulator.send_text(self.user_id, text)

    async def replies(self, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:
        """The next `count` messages the bot sent to this person since their last action."""
        everything = await self.emulator.wait_for_messages(
            self.user_id, self._seen + count, timeout=timeout
        )
        new = everything[self._seen : self._seen + count]
        self._seen += count
        return new

    async def reply(self, timeout: float = 5.0) -> SentMessage:
        return (await self.replies(1, timeout=timeout))[0]

    async def ask(self, text: str, timeout: float = 5.0) -> SentMessage:
        await self.send(text)
        return await self.reply(timeout=timeout)

    async def press(self, button_text: str, message_id: int | None = None) -> str:
        self._mark()
        return await self.emulator.press(self.user_id, button_text, message_id=message_id)

    async def press_data(self, message_id: int, data: str) -> str:
        self._mark()
        return await self.emulator.press_button(self.user_id, message_id, data)

    async def callback_answer(self, query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while query_id not in self.emulator.callback_answers:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"callback {query_id} was never answered")
            await asyncio.sleep(0.01)
        return self.emulator.callback_answers[query_id]

    async def expect(self, fragment: str, timeout: float = 5.0) -> SentMessage:
        """The first message since this person's last action whose text contains `fragment`.

        Replies and messages queued through the outbox may arrive in either
        order, so scenario tests look for what they expect instead of counting.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.emulator.chat_messages(self.user_id):
                shown = message.text or message.caption or ""
                changed = self._baseline.get(message.message_id) != shown
                if changed and fragment in shown:
                    return message
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                texts = [m.text[:80] for m in self.emulator.chat_messages(self.user_id)]
                raise TimeoutError(f"{self.first_name} never got {fragment!r}; got {texts}")
            # Short waits: a message may land between the scan and the wait.
            with contextlib.suppress(TimeoutError):
                await self.emulator.wait_for_change(self.user_id, timeout=min(remaining, 0.05))

    def mark_read(self) -> None:
        """Later `expect` calls only look at messages that arrive or change after now."""
        self._mark()

    async def quiet(self, seconds: float = 0.3) -> list[SentMessage]:
        """Wait a little and return whatever arrived (expected: nothing)."""
        await asyncio.sleep(seconds)
        return self.emulator.chat_messages(self.user_id)[self._seen :]
