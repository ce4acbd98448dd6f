"""Settings: the fixed names, defaults, and one clear line with exit code 2 when wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingError, load_settings


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOT_TOKEN", "DATABASE_URL", "TIMEZONE", "DEFAULT_LANGUAGE", "ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_swedish_stockholm_and_a_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.chdir(str(tmp_path))
    settings = load_settings()
    assert settings.default_language == "sv"
    assert settings.timezone == "Europe/Stockholm"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("data/mentorbot.sqlite3")


def test_admin_ids_accept_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    assert load_settings().admin_ids == [11, 22, 33]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus_Mons"),
        ("DEFAULT_LANGUAGE", "klingon"),
        ("ADMIN_IDS", "alice,bob"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("TELEGRAM_API_URL", "ftp://example"),
    ],
)
def test_a_malformed_setting_names_itself(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as caught:
        load_settings()
    assert caught.value.name == name


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "TIMEZONE"}}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_exits_2_with_one_line(tmp_path: object) -> None:
    result = _cli("run", MENTORBOT_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_bad_time_zone_exits_2_naming_the_setting(tmp_path: object) -> None:
    result = _cli(
        "run", BOT_TOKEN="1:x", TIMEZONE="Nowhere/Atlantis", MENTORBOT_DATA_DIR=str(tmp_path)
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_and_help() -> None:
    version = _cli("--version")
    assert version.returncode == 0 and "mentorbot" in version.stdout
    helptext = _cli("--help")
    assert helptext.returncode == 0
    for command in ("run", "webhook", "db"):
        assert command in helptext.stdout
