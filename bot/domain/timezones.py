"""Understanding the time zone a person types."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Offered as buttons; anything else can be typed.
COMMON = ("Europe/Stockholm", "Europe/Helsinki", "Europe/London", "Europe/Berlin", "UTC")


@cache
def _by_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> str | None:
    """The IANA name for what was typed ("europe/oslo", "Oslo", "UTC"), or None."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned or len(cleaned) > 64:
        return None
    names = _by_lower()
    exact = names.get(cleaned.lower())
    if exact:
        return exact
    # A bare city is the common way to answer: match it against the last part.
    matches = sorted(n for n in names.values() if n.lower().rsplit("/", 1)[-1] == cleaned.lower())
    if len(matches) >= 1:
        return matches[0]
    return None


def is_valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return True
