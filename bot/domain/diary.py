"""Rules of the diary: who may read an entry, how long it may be, how pages are cut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Visibility

PAGE_SIZE = 5
# Generous: a diary is for thinking at length, and the bot shows long entries split.
MAX_CHARS = 20_000
# Telegram apps cut a long pasted text into several messages that arrive within
# seconds; pieces arriving this soon after an entry was written belong to it.
CONTINUES_WITHIN = timedelta(minutes=2)


def may_read(
    *, author_id: int, visibility: str, reader_id: int, reader_in_mentorship: bool
) -> bool:
    """Private entries are the author's alone; shared ones are for the pair only."""
    if reader_id == author_id:
        return True
    return visibility == Visibility.SHARED and reader_in_mentorship


def continues(entry_created_at: datetime, now: datetime) -> bool:
    """Whether a text arriving `now` is the rest of the entry written at `entry_created_at`."""
    return timedelta(0) <= now - entry_created_at <= CONTINUES_WITHIN


@dataclass(frozen=True, slots=True)
class PageBounds:
    page: int  # 0 is the newest page
    pages: int
    offset: int

    @property
    def has_newer(self) -> bool:
        return self.page > 0

    @property
    def has_older(self) -> bool:
        return self.page < self.pages - 1


def page_bounds(total: int, page: int, size: int = PAGE_SIZE) -> PageBounds:
    """The page asked for, kept within the pages there are (an old button may point beyond)."""
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    return PageBounds(page=page, pages=pages, offset=page * size)
