"""Translations: gettext catalogs (`bot/locales/<lang>/LC_MESSAGES/messages.po`) read with Babel.

Message ids are symbolic keys (`start.greeting`), so the English catalog is a
real translation too and a missing text in either language is detectable.
Every value interpolated into a message is HTML-escaped here, because the bot
sends HTML: callers cannot forget to escape what a user typed.
"""

from __future__ import annotations

import html
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("sv", "en")
DOMAIN = "messages"


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


class Phrase(str):
    """A translated phrase used as a value (an erased person's "former participant").

    Put into a text with `t`, it reads in that text's language; used as a plain
    string (a button label), it reads as the text it was made with.
    """

    key: str

    def __new__(cls, key: str, text: str) -> Phrase:
        made = super().__new__(cls, text)
        made.key = key
        return made


@cache
def _loaded(language: str) -> tuple[Translations, frozenset[str]]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=language, domain=DOMAIN)
    plural = frozenset(m.id[0] for m in po if m.id and isinstance(m.id, tuple))
    buffer = io.BytesIO()
    write_mo(buffer, po)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN), plural


def catalog(language: str) -> Translations:
    return _loaded(language)[0]


def plural_keys(language: str) -> frozenset[str]:
    """The keys whose entry has plural forms (`msgid_plural`): they count their `{n}`."""
    return _loaded(language)[1]


def normalise_language(code: str | None, default: str) -> str:
    """Swedish for any `sv*` Telegram language code, English for anything else."""
    if not code:
        return default
    return "sv" if code.lower().startswith("sv") else "en"


# How a moment is shown: the weekday and date people plan by, in the moment's own zone.
MOMENT_FORMAT = {"sv": "EEEE d MMMM y 'kl.' HH:mm", "en": "EEEE d MMMM y, HH:mm"}
DATE_FORMAT = {"sv": "d MMMM y", "en": "d MMMM y"}
# Decimals (hours, average ratings) with at most one digit after the person's decimal sign.
NUMBER_FORMAT = "#,##0.#"


def _shown(value: Any, language: str) -> Any:
    """Escape text and render dates the way `language` writes them."""
    if isinstance(value, Html):
        return value
    if isinstance(value, Phrase):
        return html.escape(t(language, value.key), quote=False)
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, datetime):
        return format_datetime(value, MOMENT_FORMAT[language], tzinfo=value.tzinfo, locale=language)
    if isinstance(value, date):
        return format_date(value, DATE_FORMAT[language], locale=language)
    if isinstance(value, float):
        # "1,5" in Swedish, "1.5" in English, and a whole number without ".0".
        return format_decimal(value, format=NUMBER_FORMAT, locale=language)
    return value


def _template(language: str, key: str, values: dict[str, Any]) -> str:
    translations, plural = _loaded(language)
    if key in plural:
        # Plural texts count their {n}; gettext picks the form the language needs for it.
        return translations.ngettext(key, key, int(values["n"]))
    return translations.gettext(key)


def t(language: str, key: str, /, **values: Any) -> str:
    """The text for `key` in `language`, with `values` escaped and filled in.

    A text with plural forms ("1 månad", "3 månader") takes the form for `values["n"]`.
    """
    lang = language if language in LANGUAGES else "en"
    text = _template(lang, key, values)
    if text == key and lang != "en":
        text = _template("en", key, values)
    if values:
        text = text.format(**{name: _shown(v, lang) for name, v in values.items()})
    return text


def tn(language: str, key: str, n: int, /, **values: Any) -> str:
    """`ngettext` for our keys: the text for `key` in the plural form `n` asks for."""
    return t(language, key, n=n, **values)


def short_moment(value: datetime, language: str) -> str:
    """A compact "Thu 3 Dec 09:00" for buttons, where the long form does not fit."""
    lang = language if language in LANGUAGES else "en"
    return format_datetime(value, "EEE d MMM HH:mm", tzinfo=value.tzinfo, locale=lang)


def N_(key: str) -> str:
    """Mark a key for extraction where it is looked up later with a variable."""
    return key


def escape(text: str) -> Html:
    return Html(html.escape(text, quote=False))
