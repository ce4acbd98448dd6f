"""Cutting long texts into pieces Telegram accepts.

Telegram's 4,096 limit counts UTF-16 units of the text after HTML parsing, so a
raw HTML piece under the limit is always accepted. Cuts are made at paragraph,
line or word boundaries, never inside a tag or an entity, and tags left open
at a cut are closed and reopened in the next piece.
"""

from __future__ import annotations

import re

LIMIT = 4000  # a margin under 4,096 for what a caller adds around a piece

_TOKEN = re.compile(r"<[^>]*>|&[#\w]+;|[^<&]+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _best_cut(text: str, limit: int) -> int:
    """The longest prefix under `limit`, pulled back to a natural boundary."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_len(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    cut = low
    for separator in ("\n\n", "\n", " "):
        position = text.rfind(separator, 0, cut)
        if position > cut // 2:
            return position + len(separator)
    return cut


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Plain text into pieces under `limit` (joined back, they equal `text`)."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _best_cut(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return [piece for piece in pieces if piece]


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Telegram HTML into valid HTML pieces under `limit` each."""
    if utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    open_tags: list[tuple[str, str]] = []  # (name, full opening tag)

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def flush() -> None:
        nonlocal current
        if current.strip():
            pieces.append(current + closing())
        current = "".join(tag for _, tag in open_tags)

    budget = limit - 64  # room for the closing tags of a cut
    for token in _TOKEN.findall(text):
        tag = _TAG.fullmatch(token)
        if tag or (token.startswith("&") and len(token) > 1):
            if utf16_len(current) + utf16_len(token) > budget:
                flush()
            current += token
            if tag:
                name = tag.group(2).lower()
                if tag.group(1):
                    for index in range(len(open_tags) - 1, -1, -1):
                        if open_tags[index][0] == name:
                            del open_tags[index]
                            break
                else:
                    open_tags.append((name, token))
            continue
        rest = token
        while utf16_len(current) + utf16_len(rest) > budget:
            room = budget - utf16_len(current)
            if room < budget // 2:
                flush()
                continue
            cut = _best_cut(rest, room)
            current += rest[:cut]
            rest = rest[cut:]
            flush()
        current += rest
    if current.strip() and current != "".join(tag for _, tag in open_tags):
        pieces.append(current + closing())
    return pieces
