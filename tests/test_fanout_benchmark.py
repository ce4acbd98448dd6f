"""The fan-out benchmark runs end to end in its quick mode: every row delivered once.

Counts only, never how fast: timings depend on the machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(
    r"^(?P<label>.+?\))\s+(?P<rows>\d+)\s+(?P<rate>\d+\.\d+)\s+(?P<ratio>\d+\.\d+)\s+"
    r"(?P<lost>\d+)\s+(?P<duplicated>\d+)\s+(?P<answered_429>\d+)\s+(?P<share>\d+\.\d+)\s+"
    r"(?P<peak>\d+)\s+(?P<seconds>\d+\.\d+)$",
    re.M,
)


def run_quick() -> str:
    command = [sys.executable, str(ROOT / "benchmarks" / "fanout.py"), "--quick"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        # The benchmark makes its own database on that server and drops it.
        command += ["--database-url", url]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_quick_fan_out_delivers_every_row_once_through_a_real_bot_and_prints_the_baseline() -> None:
    out = run_quick()
    rows = {match["label"]: match for match in ROW.finditer(out)}
    ours = next((row for label, row in rows.items() if label.startswith("mentorbot outbox")), None)
    assert ours is not None, out
    assert int(ours["rows"]) == 300, out
    assert (int(ours["lost"]), int(ours["duplicated"])) == (0, 0), out
    assert int(ours["peak"]) > 0 and float(ours["rate"]) > 0, out
    assert re.search(r"^  mentorbot outbox .*: .*\b300 sent$", out, re.M), out

    baseline = next((row for label, row in rows.items() if "AIORateLimiter" in label), None)
    assert baseline is not None, out
    assert int(baseline["rows"]) == 100, out
    assert re.search(r"^ratio outbox / AIORateLimiter: msg/s \d+\.\d+x$", out, re.M), out
    # The target is judged on the full 10,000 rows only.
    assert re.search(r"^target \(.*\): judged on 10000 rows, not on 300$", out, re.M), out
