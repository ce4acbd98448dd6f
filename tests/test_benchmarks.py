"""The conversation benchmark runs end to end in its quick mode and prints its table.

Only that it measures, never how fast: timings depend on the machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"(\d+(?:\.\d+)?)"


def run_quick() -> str:
    command = [sys.executable, str(ROOT / "benchmarks" / "conversation.py"), "--quick"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        # The benchmark makes its own databases on that server and drops them.
        command += ["--database-url", url]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_quick_benchmark_prints_both_bots_sql_per_update_kind_and_start_up() -> None:
    out = run_quick()

    # The main table: the echo bot as the yardstick, then ours with encryption on and off,
    # each with its SQL statements and commits per update at the end of the row.
    assert re.search(rf"^bare PTB echo bot\s+{NUMBER}\s+1\.00\s.*—\s+—$", out, re.M), out
    timings = r"\s+".join([NUMBER] * 6)  # upd/s, ×echo, p50, p99, CPU ms, ×echo
    for variant in ("on", "off"):
        row = re.search(
            rf"^mentorbot, encryption {variant}\s+{timings}\s+{NUMBER}\s+{NUMBER}$", out, re.M
        )
        assert row is not None, out
        assert float(row.group(7)) > 0 and float(row.group(8)) > 0, row.group(0)
    assert "encryption on vs off:" in out, out

    # Every kind of the mix was driven through the bot and its SQL counted.
    for kind in ("goal answer", "diary entry", "check-in answer"):
        rows = re.findall(
            rf"^mentorbot.*?{kind}\s+(\d+)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", out, re.M
        )
        assert rows, f"no row for {kind}:\n{out}"
        for updates, statements, commits, _connections in rows:
            assert int(updates) > 0
            assert float(statements) > 0, f"{kind} made no SQL statements:\n{out}"
            assert float(commits) > 0, f"{kind} committed nothing:\n{out}"

    # Both bots start from one byte-compiled cache, as installed programs do.
    compiled = re.search(r"^both bots byte-compiled first \((\d+) sources", out, re.M)
    assert compiled is not None and int(compiled.group(1)) > 100, out
    assert re.search(rf"^bare PTB bot\s+{NUMBER}\s+{NUMBER}$", out, re.M), out
    assert re.search(rf"^mentorbot run\s+{NUMBER}\s+{NUMBER}$", out, re.M), out
    assert re.search(rf"^ratio mentorbot / bare\s+{NUMBER}\s+{NUMBER}$", out, re.M), out
