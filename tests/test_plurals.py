"""Counts read right in both languages: plural forms from the catalogs, decimals per language."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest

from bot.i18n import LANGUAGES, catalog, plural_keys, t, tn

EXPECTED = {
    ("sv", "contract.value.months"): ("1 månad", "2 månader"),
    ("en", "contract.value.months"): ("1 month", "2 months"),
    ("sv", "contract.value.hours"): ("Cirka 1 timme i månaden", "Cirka 2 timmar i månaden"),
    ("en", "contract.value.hours"): ("About 1 hour a month", "About 2 hours a month"),
    ("sv", "contract.value.minutes"): ("1 minut", "2 minuter"),
    ("en", "contract.value.minutes"): ("1 minute", "2 minutes"),
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _filled(language: str, key: str, n: int) -> str:
    forms = [catalog(language).ngettext(key, key, count) for count in (1, 2)]
    values = {name: "X" for form in forms for name in _fields(form)}
    values["n"] = n
    if "end" in values:
        values["end"] = date(2027, 6, 30)
    return t(language, key, **values)


def test_both_catalogs_have_the_same_plural_texts() -> None:
    assert plural_keys("sv") == plural_keys("en")
    assert {"closing.extension_proposed", "contract.value.months"} <= plural_keys("sv")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plural_text_has_both_forms_and_counts_its_n(language: str) -> None:
    translations = catalog(language)
    for key in sorted(plural_keys(language)):
        one, many = (translations.ngettext(key, key, n) for n in (1, 2))
        assert one not in ("", key) and many not in ("", key), key
        assert one != many, key
        assert "n" in _fields(one) and _fields(one) == _fields(many), key
        assert re.search(r"(?<!\d)1(?!\d)", _filled(language, key, 1)), key
        assert _filled(language, key, 1) != _filled(language, key, 2).replace("2", "1"), key


@pytest.mark.parametrize(("language", "key"), sorted(EXPECTED))
def test_one_and_two_take_their_own_form(language: str, key: str) -> None:
    assert (tn(language, key, 1), tn(language, key, 2)) == EXPECTED[(language, key)]


def test_an_extension_by_one_month_says_month() -> None:
    end = date(2027, 6, 30)
    sv = t("sv", "closing.extension_proposed", name="Astrid", n=1, end=end)
    en = t("en", "closing.extension_proposed", name="Astrid", n=3, end=end)
    assert "med 1 månad," in sv and "by 3 months," in en


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_writes_a_plural_by_hand(language: str) -> None:
    by_hand = re.compile(r"\w\((s|er|ar|or|na)\)")
    offending = [
        key for key, text in catalog(language)._catalog.items() if key and by_hand.search(text)
    ]
    assert not offending


def test_decimals_are_written_the_persons_way() -> None:
    assert "1,5" in t("sv", "lookback.meetings", count=2, hours=1.5)
    assert "1.5" in t("en", "lookback.meetings", count=2, hours=1.5)
    # A whole number of hours or an average of exactly 4 has no ".0" tail.
    assert t("sv", "stats.checkins", n=3, average=4.0).endswith("(medelbetyg 4)")
    assert "1.0" not in t("en", "meetings.budget", hours=1.0, budget=4)
