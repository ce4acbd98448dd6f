"""Button labels fit a phone: no row's labels together are wider than ROW_WIDTH.

Telegram gives the buttons of a row equal shares of its width, so in a row of
k buttons each label has ROW_WIDTH / k columns. ROW_WIDTH is 40: about what a
phone some 360 px wide shows of a full-width inline button before it cuts the
label off. Emoji count as two columns, a variation selector as none.

The rows are found without running the bot: every row written out in
`conversations/` and `bot/usecases/` whose buttons are translation keys, the
rows the code builds from label tables (contract and goal edits in pairs, the
suggested meeting times, meeting lengths, extension months, the choice lists),
and every other `*.button.*` key as a row of its own. Placeholders get long but
ordinary values: a twelve-letter name and the widest short date of a week.
"""

from __future__ import annotations

import ast
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import checkins as checkin_rules
from bot.domain import closing as closing_rules
from bot.domain import contract as contract_rules
from bot.domain import goals as goal_rules
from bot.domain import meetings as meeting_rules
from bot.i18n import LANGUAGES, catalog, plural_keys, short_moment, t
from bot.usecases import closing as closing_usecase
from conversations import checkins, closing, contract, goals

ROOT = Path(__file__).resolve().parent.parent
ROW_WIDTH = 40
NAME = "Maria-Louise"


def width(label: str) -> int:
    columns = 0
    for char in label:
        if char == "\ufe0f" or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        wide = unicodedata.category(char) == "So" or unicodedata.east_asian_width(char) in "WF"
        columns += 2 if wide else 1
    return columns


def widest_short_date(language: str) -> str:
    start = datetime(2026, 12, 7, 23, 59, tzinfo=ZoneInfo("Europe/Stockholm"))
    return max((short_moment(start + timedelta(days=d), language) for d in range(7)), key=width)


def label(language: str, key: str) -> str:
    values = {"name": NAME, "when": widest_short_date(language), "n": 12}
    if key in plural_keys(language):
        values["n"] = 12
    return t(language, key, **values)


# -- rows written out in the code -----------------------------------------------------------


def _key_of(node: ast.expr) -> str | None:
    """The translation key a button's label expression names, if it names one literally."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if "." in node.value and " " not in node.value else None
    if isinstance(node, ast.Call):
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name == "N_" and node.args:
            return _key_of(node.args[0])
        if name == "t" and node.args:
            return _key_of(node.args[-1])
    return None


def written_rows() -> Iterator[tuple[str, list[str]]]:
    for folder in ("conversations", "bot/usecases"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.List | ast.Tuple) or not node.elts:
                    continue
                if not all(isinstance(e, ast.Tuple) and len(e.elts) == 2 for e in node.elts):
                    continue
                keys = [_key_of(e.elts[0]) for e in node.elts if isinstance(e, ast.Tuple)]
                if all(keys):
                    yield f"{path.name}:{node.lineno}", [k for k in keys if k]


def table_rows() -> Iterator[tuple[str, list[str]]]:
    """Rows the code builds from its label tables."""
    for group in ("smart", "situation"):
        kind = goal_rules.GoalKind.ADEPT if group == "smart" else goal_rules.GoalKind.SITUATION
        edits = [goals.EDIT_BUTTON[(group, field)] for field in goal_rules.steps(kind)]
        for i in range(0, len(edits), 2):
            yield f"goal edits ({group})", edits[i : i + 2]
    edits = [contract.EDIT_BUTTON[term] for term in contract_rules.STEPS]
    for i in range(0, len(edits), 2):
        yield "contract edits", edits[i : i + 2]
    for term, choices in contract_rules.CHOICES.items():
        for choice in choices:
            key = contract.NUMBER_LABEL.get(term) or contract.LABEL[(term, str(choice))]
            yield f"contract choice {term}", [key]
    for key in (*closing_usecase.REASON_TEXTS, *(k for _, k in closing.OUTCOME_BUTTONS)):
        yield "closing choices", [key]
    for key in checkins.SHARE_LABELS.values():
        yield "check-in sharing", [key]


def all_rows() -> list[tuple[str, list[str]]]:
    rows = [*written_rows(), *table_rows()]
    in_rows = {key for _, keys in rows for key in keys}
    for language in LANGUAGES:
        for key in catalog(language)._catalog:
            key = key[0] if isinstance(key, tuple) else key
            if ".button." in key and key not in in_rows:
                rows.append(("button key", [key]))
                in_rows.add(key)
    return rows


def test_the_scan_finds_the_rows_of_two() -> None:
    pairs = [keys for _, keys in all_rows() if len(keys) == 2]
    assert ["goal.button.achieved", "goal.button.drop"] in pairs
    assert ["closing.button.agree_extension", "closing.button.keep_end"] in pairs
    assert ["intro.button.continue", "intro.button.stop"] in pairs


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_row_of_buttons_is_wider_than_a_phone(language: str) -> None:
    too_wide = []
    for where, keys in all_rows():
        share = ROW_WIDTH // len(keys)
        for key in keys:
            text = label(language, key)
            if width(text) > share:
                too_wide.append((where, key, text, width(text), share))
    assert not too_wide, too_wide


@pytest.mark.parametrize("language", LANGUAGES)
def test_built_rows_of_times_and_numbers_fit(language: str) -> None:
    when = widest_short_date(language)
    assert 2 * width(when) <= ROW_WIDTH  # two suggested meeting times a row
    lengths = [t(language, "meetings.minutes", n=m) for m in meeting_rules.DURATIONS]
    assert max(map(width, lengths)) <= ROW_WIDTH // 3  # three lengths a row
    months = [t(language, "contract.value.months", n=n) for n in closing_rules.EXTEND_MONTHS]
    assert max(map(width, months)) <= ROW_WIDTH // len(months)
    assert len(checkin_rules.RATINGS) * 2 <= ROW_WIDTH
