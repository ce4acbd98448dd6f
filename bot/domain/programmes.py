"""What a coordinator may type when setting up a programme, and what a join link looks like."""

from __future__ import annotations

import re

from bot.domain.timezones import parse_timezone

NAME_MIN_CHARS, NAME_MAX_CHARS = 3, 80
CONTACT_MAX_CHARS = 200
SUPPORT_TEXT_MAX_CHARS = 1000
# As CODE_OF_CONDUCT_TEXT in the settings.
CONDUCT_MAX_CHARS = 3000
LENGTH_MIN, LENGTH_MAX = 3, 24
LENGTH_CHOICES = (6, 9, 12, 18)
LANGUAGES = ("sv", "en")
AREAS_MAX, AREA_MAX_CHARS = 20, 40

# t.me/<bot>?start=j<code>: invitation codes are exactly 32 characters, so the prefix
# and the length tell the two kinds of deep link apart.
JOIN_PREFIX = "j"
CODE_CHARS = 32
_CODE = re.compile(rf"[A-Za-z0-9_-]{{{CODE_CHARS}}}")
_LINK = re.compile(r"https?://\S+")


class ProgrammeRefused(ValueError):
    """A typed value breaks a rule; `reason` is a translation key suffix, `limit` the rule."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def join_code(payload: str) -> str | None:
    """The programme code in a /start payload, or None when it is not a join link."""
    if not payload.startswith(JOIN_PREFIX):
        return None
    code = payload[len(JOIN_PREFIX) :]
    return code if _CODE.fullmatch(code) else None


def join_payload(code: str) -> str:
    return JOIN_PREFIX + code


def clean_name(text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) < NAME_MIN_CHARS:
        raise ProgrammeRefused("name_too_short", NAME_MIN_CHARS)
    if len(cleaned) > NAME_MAX_CHARS:
        raise ProgrammeRefused("name_too_long", NAME_MAX_CHARS)
    return cleaned


def clean_contact(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise ProgrammeRefused("contact_empty")
    if len(cleaned) > CONTACT_MAX_CHARS:
        raise ProgrammeRefused("too_long", CONTACT_MAX_CHARS)
    return cleaned


def clean_text(text: str, limit: int) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise ProgrammeRefused("text_empty")
    if len(cleaned) > limit:
        raise ProgrammeRefused("too_long", limit)
    return cleaned


def is_link(text: str) -> bool:
    """A code of conduct given as one web address (shown as a link, not as text)."""
    return _LINK.fullmatch(text.strip()) is not None


def parse_length(text: str) -> int:
    """Months from a button or what was typed ("9", "9 månader", "12 months")."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*(m|mån|månad|månader|months?|mo)?\.?\s*", text.lower())
    if not match:
        raise ProgrammeRefused("length_not_a_number")
    months = int(match.group(1))
    if not LENGTH_MIN <= months <= LENGTH_MAX:
        raise ProgrammeRefused("length_out_of_range")
    return months


def check_language(code: str) -> str:
    if code not in LANGUAGES:
        raise ProgrammeRefused("not_a_choice")
    return code


def check_timezone(text: str) -> str:
    zone = parse_timezone(text)
    if zone is None:
        raise ProgrammeRefused("timezone_unknown")
    return zone


def parse_areas(text: str) -> str:
    """The competence areas, one per line as typed (blank lines and repeats dropped)."""
    areas: list[str] = []
    for line in text.splitlines():
        area = " ".join(line.split()).strip("•-* ")
        if area and area.lower() not in (a.lower() for a in areas):
            areas.append(area)
    if not areas:
        raise ProgrammeRefused("text_empty")
    if len(areas) > AREAS_MAX:
        raise ProgrammeRefused("too_many_areas", AREAS_MAX)
    if any(len(area) > AREA_MAX_CHARS for area in areas):
        raise ProgrammeRefused("area_too_long", AREA_MAX_CHARS)
    return "\n".join(areas)


def areas_of(stored: str | None) -> list[str]:
    """A programme's areas as a list (stored one per line)."""
    return [line for line in (stored or "").splitlines() if line.strip()]
