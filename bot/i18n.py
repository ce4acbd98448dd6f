"""Translations: gettext catalogs (`bot/locales/<lang>/LC_MESSAGES/messages.po`) read with Babel.

Message ids are symbolic keys (`start.greeting`), so the English catalog is a
real translation too and a missing text in either language is detectable.
Every value interpolated into a message is HTML-escaped here, because the bot
sends HTML: callers cannot forget to escape what a user typed.
"""

from __future__ import annotations

import html
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("sv", "en")
DOMAIN = "messages"


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


@cache
def catalog(language: str) -> Translations:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, po)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def normalise_language(code: str | None, default: str) -> str:
    """Swedish for any `sv*` Telegram language code, English for anything else."""
    if not code:
        return default
    return "sv" if code.lower().startswith("sv") else "en"


def _escape(value: Any) -> Any:
    if isinstance(value, Html):
        return value
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def t(language: str, key: str, /, **values: Any) -> str:
    """The text for `key` in `language`, with `values` escaped and filled in."""
    lang = language if language in LANGUAGES else "en"
    text = catalog(lang).gettext(key)
    if text == key and lang != "en":
        text = catalog("en").gettext(key)
    if values:
        text = text.format(**{name: _escape(v) for name, v in values.items()})
    return text


def N_(key: str) -> str:
    """Mark a key for extraction where it is looked up later with a variable."""
    return key


def escape(text: str) -> Html:
    return Html(html.escape(text, quote=False))
