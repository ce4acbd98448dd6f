"""What a restart costs: a database already at the newest schema is checked with one query,
without Alembic, a bot loads only its own database's dialect, and its command menus are
read from the translations compiled by an earlier start, without Babel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from storage.db import _alembic_config, script_heads, upgrade
from tests.conftest import TEST_KEYRING

# What `mentorbot run` does before it polls, in a fresh interpreter: the keys, the
# migrations, the application. It prints the modules it loaded that a restart needs none of.
RESTART = """
import sys
from bot.app import build_application
from bot.keys import prepare_database
from bot.settings import load_settings

settings = load_settings()
prepare_database(settings)
build_application(settings, token=settings.require_token())
other = "sqlite" if settings.resolved_database_url.startswith("postgres") else "postgresql"
# Heavy libraries are imported where they are used: dates as typed, invitations, charts.
heavy = ("alembic", "dateparser", "icalendar", "matplotlib")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or f"dialects.{other}" in m))
"""


def python(code: str, env: dict[str, str]) -> str:
    """What `code` prints, run in a fresh interpreter (a start of its own)."""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_heads_read_from_the_migration_files_are_alembics() -> None:
    alembic_heads = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_heads()
    assert script_heads() == frozenset(alembic_heads)


def test_upgrading_a_database_at_the_newest_schema_does_nothing(
    scratch_database_url: str,
) -> None:
    assert upgrade(scratch_database_url, keyring=TEST_KEYRING) is True
    assert upgrade(scratch_database_url, keyring=TEST_KEYRING) is False


def test_a_restart_at_the_newest_schema_loads_no_alembic_no_heavy_library_no_other_dialect(
    env_for_subprocess: dict[str, str], database_url: str
) -> None:
    assert python(RESTART, env_for_subprocess) == "[]"


# The application and its command menus, as a start builds them; prints the Babel modules loaded.
MENUS = """
import sys
import bot.app
from bot.commands import menus

assert menus()["sv"] and menus()["en"]
print(sorted(m for m in sys.modules if m.split(".")[0] == "babel"))
"""


def test_a_restart_reads_the_compiled_translations_without_babel(
    env_for_subprocess: dict[str, str], tmp_path: Path
) -> None:
    env = dict(env_for_subprocess, MENTORBOT_CACHE_DIR=str(tmp_path / "cache"))

    assert "babel.messages.pofile" in python(MENUS, env), "the first start compiles the .po files"
    assert len(list((tmp_path / "cache" / "locales").glob("*.mo"))) == 2
    assert python(MENUS, env) == "[]"
