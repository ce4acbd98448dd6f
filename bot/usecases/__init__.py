"""What people can do, as functions over a session: they check the rules (`bot.domain`),
write through `storage`, and queue what the partner must be told in the outbox, all
in the caller's transaction. They never talk to Telegram.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """The action breaks a rule; `key` is the translation key of the explanation."""

    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
