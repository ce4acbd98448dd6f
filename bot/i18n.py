"""Translations: gettext catalogs (`bot/locales/<lang>/LC_MESSAGES/messages.po`), compiled
with Babel and cached as `.mo` (see `_translations`).

Message ids are symbolic keys (`start.greeting`), so the English catalog is a
real translation too and a missing text in either language is detectable.
Every value interpolated into a message is HTML-escaped here, because the bot
sends HTML: callers cannot forget to escape what a user typed.
"""

from __future__ import annotations

import gettext
import hashlib
import html
import io
import logging
import os
import struct
import tempfile
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

# Babel is imported where it formats or compiles, not here: its import works out the
# machine's time zone (pytz checks every zone file), and an idle bot formats no date.
Translations = gettext.GNUTranslations

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


log = logging.getLogger("mentorbot")


def cache_dir() -> Path:
    """Where compiled catalogs are kept between starts (`MENTORBOT_CACHE_DIR`, else the
    user's cache directory): the package directory may not be writable once installed."""
    configured = os.environ.get("MENTORBOT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mentorbot"


def _compiled(language: str, po_bytes: bytes) -> bytes:
    """The `.po` source compiled to `.mo` bytes (what GNU gettext reads)."""
    # Babel's catalog parser is imported here only: a start with a warm cache needs none of it.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = read_po(io.BytesIO(po_bytes), locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, po)
    return buffer.getvalue()


def _po_bytes(language: str) -> bytes:
    return (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").read_bytes()


def _store(cached: Path, data: bytes) -> None:
    folder = cached.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(cached.name.rsplit("-", 1)[0] + "-*.mo"):
            stale.unlink(missing_ok=True)
        # Written aside and renamed, so a process starting meanwhile reads a whole file or none.
        fd, aside = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(aside, cached)
    except OSError as error:
        # A read-only cache directory only costs the compilation at each start.
        log.debug("translations not cached in %s: %s", folder, error)


def _translations(language: str) -> Translations:
    """The catalog of `language`, from a cached `.mo` when it was made from this very `.po`.

    Parsing the `.po` files with Babel is most of what the command menus cost at a start,
    so the compiled `.mo` is kept, named by a hash of the `.po` it came from: editing the
    `.po` (which stays the source of truth in git) gives a new name and the stale file goes.
    """
    po_bytes = _po_bytes(language)
    digest = hashlib.sha256(po_bytes).hexdigest()[:20]
    cached = cache_dir() / "locales" / f"{language}-{DOMAIN}-{digest}.mo"
    try:
        return Translations(io.BytesIO(cached.read_bytes()))
    except FileNotFoundError:
        pass
    except (OSError, struct.error, IndexError, UnicodeDecodeError) as error:
        # A cached file damaged outside our control: compiled afresh, not a failed start.
        log.debug("translations cache %s unreadable: %s", cached, error)
    data = _compiled(language, po_bytes)
    _store(cached, data)
    return Translations(io.BytesIO(data))


@cache
def _loaded(language: str) -> tuple[Translations, frozenset[str]]:
    translations = _translations(language)
    # GNU gettext files a plural entry under (msgid, form index) and a singular under its
    # msgid: the keys with plural forms are read back from the catalog itself.
    entries: dict[object, str] = translations._catalog  # type: ignore[attr-defined]
    plural = frozenset(str(key[0]) for key in entries if isinstance(key, tuple))
    return translations, plural


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
        from babel.dates import format_datetime

        return format_datetime(value, MOMENT_FORMAT[language], tzinfo=value.tzinfo, locale=language)
    if isinstance(value, date):
        return format_date(value, DATE_FORMAT[language], locale=language)
    if isinstance(value, float):
        from babel.numbers import format_decimal

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
    from babel.dates import format_datetime

    lang = language if language in LANGUAGES else "en"
    return format_datetime(value, "EEE d MMM HH:mm", tzinfo=value.tzinfo, locale=lang)


def format_date(value: date, format: str, *, locale: str) -> str:
    """Babel's `format_date`, imported when a date is first shown (see the imports above)."""
    from babel.dates import format_date as babel_format_date

    return babel_format_date(value, format, locale=locale)


def N_(key: str) -> str:
    """Mark a key for extraction where it is looked up later with a variable."""
    return key


def escape(text: str) -> Html:
    return Html(html.escape(text, quote=False))
