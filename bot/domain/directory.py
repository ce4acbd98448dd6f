"""The mentor directory's rules: what a profile holds, who is full, filters and paging.

Plain functions over plain values: the use cases (`bot.usecases.directory`) load
the rows and ask these.

Full, kept simple on purpose: a mentor is full in a programme when the mentorships
still open (intro, active, closing) where they are the mentor in that programme
number at least the capacity they gave. Pending requests do not count: a mentor
may have more requests than places and choose among them; accepting one is what
re-checks fullness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CAREER_MAX = 600
OTHER_AREAS_MAX = 200
ORGANISATION_MAX = 120
NOTE_MAX = 500
DECLINE_REASON_MAX = 500
CAPACITIES = (1, 2, 3, 4, 5)
# The languages a profile may offer; the toggles in the wizard and the directory's filter.
LANGUAGES = ("sv", "en")
ANY = "-"


def area_list(text: str | None) -> list[str]:
    """A programme's areas (or a profile's chosen ones), one per line, blanks dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def toggled(chosen: Sequence[str], item: str) -> list[str]:
    """`chosen` with `item` added, or removed if it was there (order kept)."""
    return [c for c in chosen if c != item] if item in chosen else [*chosen, item]


def language_list(text: str | None) -> list[str]:
    return [code for code in (text or "").split(",") if code in LANGUAGES]


def is_full(*, open_as_mentor: int, capacity: int) -> bool:
    return open_as_mentor >= capacity


def same_organisation(a: str | None, b: str | None) -> bool:
    """As people type them: case and spacing do not make two organisations differ."""
    if not a or not b:
        return False
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


@dataclass(frozen=True, slots=True)
class Filters:
    """What the adept narrows the directory to; carried in the buttons' data, so a
    press anywhere later still means what it showed.

    `area` is an index into the programme's list (None: any), `language` a code or None.
    """

    area: int | None = None
    language: str | None = None
    not_my_organisation: bool = False

    def encoded(self) -> str:
        area = ANY if self.area is None else str(self.area)
        return f"{area}:{self.language or ANY}:{int(self.not_my_organisation)}"

    @classmethod
    def decoded(cls, area: str, language: str, not_mine: str) -> Filters:
        return cls(
            area=None if area == ANY else int(area),
            language=language if language in LANGUAGES else None,
            not_my_organisation=not_mine == "1",
        )


@dataclass(frozen=True, slots=True)
class Listed:
    """What the filters look at in one profile (already decrypted)."""

    areas: list[str]
    languages: list[str]
    organisation: str | None


def matches(
    listed: Listed, filters: Filters, *, programme_areas: Sequence[str], my_organisation: str | None
) -> bool:
    if filters.area is not None:
        if not 0 <= filters.area < len(programme_areas):
            return False
        if programme_areas[filters.area] not in listed.areas:
            return False
    if filters.language is not None and filters.language not in listed.languages:
        return False
    return not (
        filters.not_my_organisation and same_organisation(listed.organisation, my_organisation)
    )


def page_index(index: int, count: int) -> int:
    """The profile to show: `index` kept inside 0..count-1 (a list shrinks between presses)."""
    if count <= 0:
        return 0
    return min(max(index, 0), count - 1)
