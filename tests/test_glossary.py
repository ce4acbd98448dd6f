"""No text uses a word the glossary (docs/glossary.md) rules out for its language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalog

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"

# The confidentiality agreement itself (the promise and its line in the contract)
# is being rewritten on the signals branch (issue 13: the risk-of-harm
# exception); its new wording must follow the glossary, and this exemption goes
# when that branch is merged.
PLACEHOLDER = re.compile(r"\{\w+\}")


def banned_words() -> list[tuple[str, str]]:
    """(language, word) rows of the glossary's "Words we do not use" table."""
    text = GLOSSARY.read_text(encoding="utf-8")
    table = text.split("<!-- banned words: begin -->")[1].split("<!-- banned words: end -->")[0]
    rows = []
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


def pattern(word: str) -> re.Pattern[str]:
    """Whole words, any case; a trailing `*` lets the word go on ("partnern")."""
    stem = re.escape(word.rstrip("*")).replace(r"\ ", r"\s+")
    tail = r"\w*" if word.endswith("*") else ""
    return re.compile(rf"(?<!\w){stem}{tail}(?!\w)", re.IGNORECASE)


def texts(language: str) -> list[tuple[str, str]]:
    """(key, text) of every entry, each plural form on its own, placeholders left out."""
    found = []
    for key, text in catalog(language)._catalog.items():
        if key:
            found.append((key[0] if isinstance(key, tuple) else key, PLACEHOLDER.sub(" ", text)))
    return found


def test_the_glossary_lists_the_words_the_issue_rules_out() -> None:
    words = set(banned_words())
    assert {("sv", "partner*"), ("sv", "ett par"), ("sv", "feedback*"), ("en", "adept*")} <= words
    assert all(language in LANGUAGES for language, _ in words)


def test_the_patterns_match_whole_words_in_any_case() -> None:
    assert pattern("partner*").search("Jag har meddelat din Partnern.")
    assert pattern("ett par").search("Ni är nu ett  par.")
    assert not pattern("ett par").search("Sett parvis")
    assert not pattern("adept*").search("inadept")
    assert pattern("måldriv*").search("Måldrivet")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_uses_a_word_the_glossary_rules_out(language: str) -> None:
    rules = [(word, pattern(word)) for lang, word in banned_words() if lang == language]
    offending = sorted(
        (key, word) for key, text in texts(language) for word, rule in rules if rule.search(text)
    )
    assert not offending, offending
