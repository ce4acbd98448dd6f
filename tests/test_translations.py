"""Every text the code asks for exists in Swedish and English, with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import LANGUAGES, catalog, plural_keys, t

ROOT = Path(__file__).resolve().parent.parent
# `tn(language, key, n, ...)` is our ngettext: its key is the second argument, like `t`'s.
KEYWORDS = {"t": (2,), "tn": (2,), "N_": None, "Refused": None}


def _keys_in_code() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "conversations"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str):
                keys.add(message)
    return keys


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _forms(language: str, key: str) -> list[str]:
    """The texts of `key`: one, or each plural form of it."""
    translations = catalog(language)
    if key in plural_keys(language):
        return [translations.ngettext(key, key, n) for n in (1, 2)]
    return [translations.gettext(key)]


def test_the_code_uses_translated_texts() -> None:
    assert len(_keys_in_code()) > 15


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_lacks_a_text(language: str) -> None:
    missing = sorted(
        k for k in _keys_in_code() if any(form in ("", k) for form in _forms(language, k))
    )
    assert not missing, f"{language} lacks: {missing}"


def test_placeholders_match_between_languages() -> None:
    for key in sorted(_keys_in_code()):
        fields = {
            language: [_fields(form) for form in _forms(language, key)] for language in LANGUAGES
        }
        every = [f for forms in fields.values() for f in forms]
        assert all(f == every[0] for f in every), (key, fields)


def test_no_unused_texts_linger_in_the_catalogs() -> None:
    used = _keys_in_code()
    for language in LANGUAGES:
        keys = {k[0] if isinstance(k, tuple) else k for k in catalog(language)._catalog}
        unused = sorted(k for k in keys if k and k not in used)
        assert not unused, f"{language} has unused texts: {unused}"


def test_values_are_escaped_but_the_template_html_is_kept() -> None:
    text = t("en", "help.coordinator", contact="<script>alert(1)</script> & co")
    assert "&lt;script&gt;" in text and "&amp; co" in text
    assert text.startswith("<b>")


def test_no_text_pastes_a_sentence_from_the_handbook() -> None:
    """Every text is written in our own words: no run of eight words from the
    handbook appears in the Swedish catalog."""
    import re

    handbook_file = ROOT.parent / "shared" / "handbook" / "handbok-i-mentorskap.txt"
    if not handbook_file.exists():
        pytest.skip("the handbook is not beside the project here")
    words = lambda text: re.findall(r"\w+", text.lower())  # noqa: E731
    handbook = " ".join(words(handbook_file.read_text(encoding="utf-8")))
    for key, message in catalog("sv")._catalog.items():
        if not key or not isinstance(message, str):
            continue
        for sentence in re.split(r"[.!?\n]+", re.sub(r"<[^>]+>", " ", message)):
            sentence_words = words(re.sub(r"\{\w+\}", " ", sentence))
            for start in range(len(sentence_words) - 7):
                run = " ".join(sentence_words[start : start + 8])
                assert run not in handbook, (key, run)
