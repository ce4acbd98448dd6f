"""What a start costs before the first poll: the key check is one statement, the command
menus go out together, the translations are compiled once per change of their `.po`, and
what start-up makes is left out of later garbage collections.

Counted (statements, requests at once, objects frozen), never timed.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot import cli, i18n
from bot.app import build_application
from bot.clock import Clock
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Settings
from storage import crypto, rotation
from storage.db import Database, upgrade
from tests.conftest import TEST_KEYRING, TOKEN
from tests.test_encryption import write_everything


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement any engine sends while the test runs (check_keys makes its own)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    yield seen
    event.remove(Engine, "before_cursor_execute", note)


def test_checking_the_keys_reads_every_encrypted_column_in_one_statement(
    scratch_database_url: str, statements: list[str]
) -> None:
    upgrade(scratch_database_url, keyring=TEST_KEYRING)
    crypto.configure(TEST_KEYRING)

    async def write() -> None:
        database = Database(scratch_database_url)
        try:
            await write_everything(database, "KEYCHECK")
        finally:
            await database.dispose()

    asyncio.run(write())
    statements.clear()
    checked = asyncio.run(rotation.check_keys(scratch_database_url, TEST_KEYRING))

    # The newest value of each column that holds any was tried (and opened)...
    assert checked.sampled == checked.opened > len(rotation.encrypted_tables())
    # ...by one statement (beside those that read the schema's revision).
    reads = [s for s in statements if "IS NOT NULL" in s]
    assert len(reads) == 1, reads
    other = crypto.KeyRing.from_strings(crypto.KeyRing.generate_key())
    with pytest.raises(rotation.KeysDoNotOpen):
        asyncio.run(rotation.check_keys(scratch_database_url, other))


async def test_the_command_menus_are_set_at_once_before_polling(
    make_settings: Callable[..., Settings],
    db: Database,
    clock: Clock,
    emulator: BotAPIEmulator,
) -> None:
    """One request per language and the default menu, in flight together: start-up waits
    one round trip to Telegram for them, not one per menu."""
    application = build_application(make_settings(), token=TOKEN, database=db, clock=clock)
    emulator.set_delay(0.2, "setMyCommands")
    await application.initialize()
    try:
        emulator.most_in_flight = 0
        assert application.post_init is not None
        await application.post_init(application)
        assert emulator.commands(language_code="sv") and emulator.commands(language_code="en")
        assert emulator.commands()
        assert emulator.most_in_flight >= 3
    finally:
        emulator.reset_faults()
        await application.shutdown()


def test_what_start_up_makes_is_frozen_out_of_later_collections() -> None:
    frozen_before = gc.get_freeze_count()
    try:
        with cli._lasting():
            assert not gc.isenabled(), "no collection while start-up makes what lasts"
            made = [[index] for index in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + len(made)
    finally:
        gc.unfreeze()


def test_a_compiled_catalog_is_reused_until_its_po_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, locales)
    cache = tmp_path / "cache"
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    monkeypatch.setenv("MENTORBOT_CACHE_DIR", str(cache))
    compiled: list[str] = []
    compile_po = i18n._compiled

    def counted(language: str, po_bytes: bytes) -> bytes:
        compiled.append(language)
        return compile_po(language, po_bytes)

    monkeypatch.setattr(i18n, "_compiled", counted)

    def start() -> str:
        """What a fresh process sees: nothing loaded yet in memory."""
        i18n._loaded.cache_clear()
        return i18n.t("sv", "cmd.start")

    try:
        assert start() == "Börja och lär känna boten"
        assert compiled == ["sv"]
        assert start() == "Börja och lär känna boten"
        assert compiled == ["sv"], "the second start reads the compiled catalog"
        # Plural forms come through the cached catalog.
        assert i18n.tn("sv", "contract.value.months", 1) == "1 månad"
        assert i18n.tn("sv", "contract.value.months", 3) == "3 månader"
        assert "contract.value.months" in i18n.plural_keys("sv")

        po = locales / "sv" / "LC_MESSAGES" / "messages.po"
        po.write_text(
            po.read_text(encoding="utf-8").replace(
                'msgstr "Börja och lär känna boten"', 'msgstr "Börja här"'
            ),
            encoding="utf-8",
        )
        assert start() == "Börja här", "an edited .po is compiled again"
        assert compiled == ["sv", "sv"]
        assert len(list((cache / "locales").glob("sv-*.mo"))) == 1, "the stale file is gone"

        # A damaged cached file is compiled afresh, not a failed start.
        (damaged,) = (cache / "locales").glob("sv-*.mo")
        damaged.write_bytes(b"not a catalog")
        assert start() == "Börja här"
        assert compiled == ["sv", "sv", "sv"]
        assert start() == "Börja här"
        assert compiled == ["sv", "sv", "sv"], "and the repaired file serves the next start"
    finally:
        i18n._loaded.cache_clear()


def test_translations_load_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MENTORBOT_CACHE_DIR", str(blocker / "cache"))
    try:
        i18n._loaded.cache_clear()
        assert i18n.t("en", "cmd.start")
        assert i18n.tn("sv", "contract.value.months", 3) == "3 månader"
    finally:
        i18n._loaded.cache_clear()
