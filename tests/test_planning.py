"""The planners in one list: the bot's hourly jobs and the sandbox's time travel run the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot import planning, services
from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.domain.checkins import anniversary
from storage.db import Database
from storage.models import Mentorship
from tests.factories import active_pair
from tests.harness import Person
from tests.test_meetings_e2e import STOCKHOLM, travel_to

People = Callable[..., Person]


async def test_every_planner_runs_as_an_hourly_job_of_the_bot(bot_app: AnyApplication) -> None:
    assert bot_app.job_queue is not None
    settings = services.of_app(bot_app).settings
    for name in planning.planners(settings):
        (job,) = bot_app.job_queue.get_jobs_by_name(name)
        assert job.job.trigger.interval == timedelta(hours=1)
    assert list(planning.planners(settings)) == [
        planning.CHECKINS,
        planning.NUDGES,
        planning.CLOSING,
        planning.RETENTION,
        planning.CHEMISTRY,
    ]


async def test_the_check_in_job_opens_the_check_in_on_the_bots_clock_and_sends_it(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    pair = await active_pair(db, clock, anna, bertil)
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None and mentorship.started_at is not None
    await travel_to(clock, bot_app, anniversary(mentorship.started_at, 1, STOCKHOLM))
    assert bot_app.job_queue is not None
    (job,) = bot_app.job_queue.get_jobs_by_name(planning.CHECKINS)
    await job.run(bot_app)
    # The job woke the dispatcher: the prompts go out without waiting for a tick.
    await anna.expect("Dags för din månadsavstämning")
    await bertil.expect("Dags för din månadsavstämning")
    # Run again in the same hour, it plans nothing twice.
    settings = services.of_app(bot_app).settings
    plan_checkins = planning.planners(settings)[planning.CHECKINS]
    assert await plan_checkins(db, clock.now()) == 0
