from __future__ import annotations

from bot.textsplit import split_html, split_text, utf16_len


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


def test_html_is_split_into_valid_pieces_with_tags_reopened() -> None:
    from bot.sandbox.emulator import parse_html

    body = "&lt;b&gt; ett &amp; två 🎯 " * 400
    text = f"<b>Rubrik</b>\n\n<i>{body}</i>\n\nslut"
    pieces = split_html(text)
    assert len(pieces) >= 2
    plain = ""
    for piece in pieces:
        parsed, _entities = parse_html(piece)  # raises on invalid HTML
        assert utf16_len(parsed) <= 4096
        plain += parsed
    assert plain.replace(" ", "").replace("\n", "") == parse_html(text)[0].replace(" ", "").replace(
        "\n", ""
    )
    assert pieces[1].startswith("<i>")
