"""What people can do, as functions over a session: they check the rules (`bot.domain`),
write through `storage`, and queue what the partner must be told in the outbox, all
in the caller's transaction. They never talk to Telegram.
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """The action breaks a rule; `key` is the translation key of the explanation.

    `stay` says whether the person remains at the step they are answering (a
    typed answer that can be corrected) or the flow ends (what it was about is
    gone or no longer theirs). The use case decides; handlers never inspect keys.
    """

    def __init__(self, key: str, /, *, stay: bool = False, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.stay = stay
        self.values = values

    def with_values(self, **values: Any) -> Refused:
        """The same refusal with some values replaced (e.g. dates written out)."""
        return Refused(self.key, stay=self.stay, **{**self.values, **values})
