"""The exact counts behind /stats (storage.health), before any masking: the thresholds
the issue names, and only the programme's own pairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.clock import TravellingClock
from bot.domain import health as rules
from storage import health as counts
from storage import programmes
from storage.db import Database
from tests.factories import active_pair, busy_programme
from tests.harness import Person

People = Callable[..., Person]


async def test_intro_decisions_and_idle_pairs_are_counted_from_the_thresholds(
    people: People, db: Database, clock: TravellingClock
) -> None:
    busy = await busy_programme(db, clock, people("Koordinator"), marker="QZXW")
    other = await busy_programme(
        db, clock, people("Samordnare"), marker="VKJY", first_telegram_id=800_000
    )
    # A pair of the default programme, active since yesterday and never met.
    await active_pair(db, clock, people("Anna"), people("Bertil"))
    now = clock.now()
    scope = counts.Scope(busy.programme_id, with_unassigned=False)
    async with db.session() as session:
        # The intro pairs entered the intro phase 30 days ago.
        assert (
            await counts.intro_pending_since(session, scope=scope, before=now - rules.INTRO_OVERDUE)
            == 3
        )
        assert (
            await counts.intro_pending_since(session, scope=scope, before=now - timedelta(days=31))
            == 0
        )
        # Active pairs 5 and 6 last met 60 days ago; 0-4 a week ago.
        assert (
            await counts.active_without_meeting(
                session, scope=scope, since=now - rules.NO_MEETING_FOR, now=now
            )
            == 2
        )
        assert (
            await counts.active_without_meeting(
                session, scope=scope, since=now - timedelta(days=3), now=now
            )
            == 7
        )
        assert await counts.pairs_by_state(session, scope=scope) == busy.pairs_by_state
        assert await counts.checkins_due(session, scope=scope, now=now) == (98, 14)
        assert await counts.early_endings(session, scope=scope) == {
            "chemistry": 1,
            "confidentiality": 1,
        }
        assert await counts.sent_to_coordinators(session, scope=scope) == {"report": 2}
        assert (
            len(
                await counts.held_meetings_since(
                    session, scope=scope, since=now - timedelta(days=30), now=now
                )
            )
            == 5
        )
        # Another programme's counts are its own; the default programme has the pair
        # from before programmes (no programme_id), active for a day: not idle yet.
        theirs = counts.Scope(other.programme_id, with_unassigned=False)
        assert (await counts.pairs_by_state(session, scope=theirs))["active"] == 7
        default = await programmes.default(session, now=now)
        assert default.id is not None
        legacy = counts.Scope(default.id, with_unassigned=True)
        assert await counts.pairs_by_state(session, scope=legacy) == {"active": 1}
        assert (
            await counts.active_without_meeting(
                session, scope=legacy, since=now - rules.NO_MEETING_FOR, now=now
            )
            == 0
        )
