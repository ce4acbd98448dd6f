"""The webhook is served by our own aiohttp server (bot/webhook.py), so PTB's tornado-based
one is neither a dependency nor loaded at start: a bot that polls carries none of it."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_bot_loads_no_tornado() -> None:
    code = "import sys, bot.app, bot.cli, bot.webhook; print('tornado' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
