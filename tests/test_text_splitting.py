from __future__ import annotations

from conversations.common import split_text, utf16_len


def test_short_text_stays_whole() -> None:
    assert split_text("hej") == ["hej"]


def test_five_thousand_characters_split_under_the_limit_without_loss() -> None:
    text = ("Ett stycke om mål. " * 40 + "\n\n") * 7
    pieces = split_text(text)
    assert len(pieces) >= 2
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= 4000 for p in pieces)


def test_emoji_count_as_telegram_counts_them() -> None:
    text = "🎯" * 3000  # 6000 UTF-16 units
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= 4000 for p in pieces)
