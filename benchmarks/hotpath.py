"""CPU per update on a fixed workload, and where it goes: the profiler's view of
`conversation.py`'s mix, for deciding what to make cheaper on a shared machine.

    python benchmarks/hotpath.py [--pairs 5] [--cycles 2] [--rounds 3]
                                 [--database-url URL] [--profile FILE]

Our bot and the bare echo bot each answer the same number of updates, closed loop,
after a warm-up cycle; each measurement is repeated `--rounds` times and the
smallest CPU time is shown (the least disturbed by other jobs: CPU time is what a
loaded machine inflates least, and the minimum is its least inflated sample).
With `--profile`, one more round of our bot runs under cProfile and its stats are
written to FILE (`python -m pstats FILE`, or snakeviz).

Instructions are steadier than CPU time on a shared machine. Under callgrind, with
`--callgrind`, instrumentation is switched on for the measured rounds only and one
dump is written per bot (echo first, then ours); their `totals:` lines divided by
the updates of a round are instructions per update (PYTHONHASHSEED=0 for repeatable
counts; expect about 1 % from run to run):

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file=/tmp/cg.%p python benchmarks/hotpath.py --pairs 2 \
        --cycles 1 --rounds 1 --callgrind
    grep totals /tmp/cg.*.1 /tmp/cg.*.2
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from common import seed_pairs, start, stop
from conversation import (
    KEYRING,
    STOCKHOLM,
    TOKEN,
    UPDATES_PER_CYCLE,
    Databases,
    Mailbox,
    Person,
    _ids,
    closed_loop,
    echo_app,
    echo_script,
    open_checkins,
    our_script,
    rewinder,
    settings_for,
)

from bot.app import build_application
from bot.clock import SystemClock
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database

# Set by `--callgrind` (see the module docstring).
CALLGRIND = False


class GcTally:
    """Collections and the time spent in them, by generation."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.counts[info["generation"]] += 1
            self.seconds[info["generation"]] += time.perf_counter() - self._started

    def take(self) -> tuple[list[int], list[float]]:
        taken = self.counts, self.seconds
        self.counts, self.seconds = [0, 0, 0], [0.0, 0.0, 0.0]
        return taken


GC = GcTally()


def gc_report(updates: int) -> str:
    counts, seconds = GC.take()
    return ", ".join(
        f"gen{g} {counts[g]} ({seconds[g] * 1e6 / updates:.0f} µs/update)" for g in range(3)
    )


def calls_per_update(emulator: BotAPIEmulator, since: int, updates: int) -> str:
    counts = Counter(method for method, _ in emulator.calls[since:])
    return ", ".join(f"{method} {n / updates:.2f}" for method, n in counts.most_common())


def _callgrind(*arguments: str) -> None:
    # Blocking on purpose: nothing of the loop may run while counting is switched.
    subprocess.run(["callgrind_control", *arguments, str(os.getpid())], check=True)


async def rounds_of(
    people: Sequence[Person], steps: int, rounds: int, profile: cProfile.Profile | None
) -> float:
    """The smallest CPU ms per update over `rounds` closed loops (then one profiled)."""
    best, since, updates = float("inf"), 0, 1
    gc.collect()  # the same garbage to collect at the start of every measurement
    GC.take()
    if CALLGRIND:
        # Under `valgrind --tool=callgrind --instr-atstart=no`: count these rounds only.
        _callgrind("-i", "on")
    for _ in range(rounds):
        since = len(people[0].emulator.calls)
        updates, _, cpu = await closed_loop(people, steps)
        best = min(best, cpu / updates * 1000)
    if CALLGRIND:
        _callgrind("-i", "off")
        _callgrind("-d")
    print("Bot API calls per update:", calls_per_update(people[0].emulator, since, updates))
    print("garbage collections:", gc_report(updates))
    if profile is not None:
        profile.enable()
        await closed_loop(people, steps)
        profile.disable()
    return best


async def run(args: argparse.Namespace) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    mailbox = Mailbox(emulator)
    steps = args.cycles * UPDATES_PER_CYCLE
    try:
        with tempfile.TemporaryDirectory() as workdir:
            databases = Databases(args.database_url, Path(workdir))
            try:
                ids = _ids(100_000, args.pairs)
                people_ids = [uid for pair in ids for uid in pair]
                for uid in people_ids:
                    emulator.add_user(uid, f"Person{uid}", language_code="sv")
                echo = echo_app(emulator)
                echo_people = [
                    Person(mailbox, uid, echo_script(i, date.today()), {})
                    for i, uid in enumerate(people_ids)
                ]
                await start(echo)
                try:
                    await closed_loop(echo_people, UPDATES_PER_CYCLE)
                    echo_ms = await rounds_of(echo_people, steps, args.rounds, None)
                finally:
                    await stop(echo)

                url = await databases.fresh()
                driver_db, bot_db = Database(url), Database(url)
                profile = cProfile.Profile() if args.profile else None
                try:
                    now = SystemClock().now()
                    await seed_pairs(driver_db, ids, now=now)
                    rewind = rewinder(driver_db, await open_checkins(driver_db, now=now))
                    today = now.astimezone(STOCKHOLM).date()
                    people = [
                        Person(mailbox, uid, our_script(i, today), {}, rewind)
                        for i, uid in enumerate(people_ids)
                    ]
                    with tempfile.TemporaryDirectory() as data_dir:
                        app = build_application(
                            settings_for(emulator, url, data_dir),
                            token=TOKEN,
                            database=bot_db,
                            rate_limit=False,
                            keyring=KEYRING,
                        )
                        await start(app)
                        try:
                            await closed_loop(people, UPDATES_PER_CYCLE)
                            ours_ms = await rounds_of(people, steps, args.rounds, profile)
                        finally:
                            await stop(app)
                finally:
                    await driver_db.dispose()
                    await bot_db.dispose()
            finally:
                await databases.drop_all()
    finally:
        await mailbox.close()
        await emulator.stop()
    updates = len(people_ids) * steps
    print(
        f"{databases.label}: {updates} updates a round, best of {args.rounds}: "
        f"echo {echo_ms:.2f} CPU ms/update, mentorbot {ours_ms:.2f} "
        f"({ours_ms / echo_ms:.2f}× echo)"
    )
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile of one more round of mentorbot written to {args.profile}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--profile", help="write a cProfile of one more round here")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="run under valgrind --tool=callgrind --instr-atstart=no: instructions are"
        " counted for the measured rounds only, one dump per bot",
    )
    args = parser.parse_args(argv)
    global CALLGRIND
    CALLGRIND = args.callgrind
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
