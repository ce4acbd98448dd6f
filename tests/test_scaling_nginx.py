"""The nginx configuration in docs/scaling.md, run as written (ports aside): it spreads
updates over two workers and passes a dead worker's update on to the other."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
from pathlib import Path

import pytest

from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from tests.conftest import TOKEN
from tests.harness import Person
from tests.test_startup_and_webhook import free_port, until
from tests.test_workers_e2e import WAIT, webhook_workers
from tests.test_workers_e2e import pytestmark as needs_postgresql

DOC = Path(__file__).resolve().parent.parent / "docs" / "scaling.md"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)

pytestmark = [
    needs_postgresql,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package: nginx)"),
]


def documented_config() -> str:
    match = re.search(r"```nginx\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/scaling.md shows an nginx configuration"
    return match.group(1)


async def test_the_documented_nginx_config_spreads_updates_and_skips_a_dead_worker(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    assert NGINX is not None
    listen = free_port()
    public = f"http://127.0.0.1:{listen}/{TOKEN.split(':', 1)[0]}"
    async with webhook_workers(env_for_subprocess, emulator, tmp_path) as workers:
        # The workers registered themselves; from now on Telegram knows only nginx.
        emulator.round_robin = False
        emulator.webhook_urls = [public]
        ports = [re.search(r":(\d+)/", w.url).group(1) for w in workers]  # type: ignore[union-attr]
        access = tmp_path / "access.log"
        config = (
            documented_config()
            .replace("127.0.0.1:8441", f"127.0.0.1:{ports[0]}")
            .replace("127.0.0.1:8442", f"127.0.0.1:{ports[1]}")
            .replace("listen 127.0.0.1:8443", f"listen 127.0.0.1:{listen}")
            .replace("/var/log/nginx/mentorbot.log", str(access))
        )
        (tmp_path / "nginx.conf").write_text(config)
        nginx = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
            "-e", str(tmp_path / "nginx-error.log"),
            "-g", f"daemon off; pid {tmp_path / 'nginx.pid'};",
        )  # fmt: skip
        try:
            await until(lambda: access.exists() or nginx.returncode is not None)
            assert nginx.returncode is None, (tmp_path / "nginx-error.log").read_text()
            people = [Person(emulator, 6401 + n, f"P{n}", "sv") for n in range(4)]
            for person in people:
                assert "Hej" in (await person.ask("/start", timeout=WAIT)).text
            taken = re.findall(r"upstream=127\.0\.0\.1:(\d+)", access.read_text())
            assert set(taken) == set(ports), taken

            workers[0].process.send_signal(signal.SIGKILL)
            await workers[0].process.wait()
            for person in people:
                assert "/goal" in (await person.ask("/help", timeout=WAIT)).text
        finally:
            nginx.send_signal(signal.SIGQUIT)
            await asyncio.wait_for(nginx.wait(), 20)
