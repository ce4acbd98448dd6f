"""PTB persistence that keeps conversation states in our database.

Only conversations are persisted: everything a person tells the bot is stored
as domain data by the handlers themselves, so user/chat/bot data dictionaries
would be a second, weaker copy.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database
from storage.models import ConversationState
from storage.types import utcnow


def _encode_key(key: ConversationKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def _decode_key(raw: str) -> ConversationKey:
    return tuple(json.loads(raw))


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, database: Database, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database = database

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self.database.session() as session:
            rows = await session.exec(
                select(ConversationState).where(ConversationState.name == name)
            )
            return {_decode_key(row.key): json.loads(row.state) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded = _encode_key(key)
        async with self.database.session() as session:
            existing = (
                await session.exec(
                    select(ConversationState).where(
                        ConversationState.name == name, ConversationState.key == encoded
                    )
                )
            ).first()
            if new_state is None:
                if existing is not None:
                    await session.delete(existing)
                return
            state = json.dumps(new_state)
            if existing is None:
                session.add(ConversationState(name=name, key=encoded, state=state))
            else:
                existing.state = state
                existing.updated_at = utcnow()
                session.add(existing)

    async def drop_conversations(self, *, name: str | None = None) -> None:
        async with self.database.session() as session:
            statement = delete(ConversationState)
            if name is not None:
                statement = statement.where(ConversationState.name == name)  # type: ignore[arg-type]
            await session.exec(statement)

    # The data dictionaries are switched off in store_data; PTB still calls these.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None
