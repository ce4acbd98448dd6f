"""Encryption keys at start-up and `mentorbot keys`: settings in, a configured key ring out.

Every problem becomes a `SettingError`, which `bot.cli` prints as one line
with exit code 2: a missing key where none may be generated, a malformed key
or key file, and keys that open none of the data already stored.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.settings import SettingError, Settings
from storage import crypto, rotation
from storage.db import upgrade

KEY_FILE = "encryption.key"
WRONG_KEY = (
    "does not open the data already in the database: set the key it was written with"
    " (during a rotation, the old one in ENCRYPTION_OLD_KEYS); nothing was changed"
)


def _is_sqlite(database_url: str) -> bool:
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    return url.get_backend_name() == "sqlite"


def load_keyring(settings: Settings, *, database_url: str | None = None) -> crypto.KeyRing:
    """The ring for `database_url` (default: the configured database).

    Without ENCRYPTION_KEY, SQLite (the embedded default and the sandbox) uses a
    key generated once into the data directory; a server database needs the
    key from the environment, since a key file beside the bot would not be
    backed up with the database.
    """
    url = database_url or settings.resolved_database_url
    current = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    old = [key.get_secret_value() for key in settings.encryption_old_keys]
    key_file = settings.data_dir / KEY_FILE if _is_sqlite(url) else None
    try:
        return crypto.KeyRing.from_settings(current=current, old=old, key_file=key_file)
    except crypto.MissingKey:
        raise SettingError(
            "ENCRYPTION_KEY",
            "is required with a PostgreSQL DATABASE_URL: create one with"
            " `mentorbot keys generate` and keep a copy safe",
        ) from None
    except crypto.MalformedKey as exc:
        raise SettingError("ENCRYPTION_KEY", f"is not set and {exc}") from None
    except OSError as exc:
        raise SettingError(
            "MENTORBOT_DATA_DIR", f"cannot hold the encryption key: {exc.strerror or exc}"
        ) from None


def check(database_url: str, ring: crypto.KeyRing) -> None:
    """Refuse keys that open none of the stored data (outside any event loop)."""
    try:
        asyncio.run(rotation.check_keys(database_url, ring))
    except rotation.KeysDoNotOpen:
        raise SettingError("ENCRYPTION_KEY", WRONG_KEY) from None


def prepare_database(settings: Settings) -> crypto.KeyRing:
    """Configure the keys, check them against the data, migrate, check again.

    Checked before migrating so no migration runs with the wrong key, and
    after, for a database the migrations just encrypted or created (a restart
    finds nothing to migrate and checks once).
    """
    url = settings.resolved_database_url
    ring = load_keyring(settings)
    crypto.configure(ring)
    check(url, ring)
    if upgrade(url, keyring=ring):
        check(url, ring)
    return ring


class ProgressBar:
    """`keys rotate  [#######.............]  35% 3500/10000 rows (goal_revisions)` on one line."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, progress: rotation.Progress) -> None:
        share = progress.done / progress.total if progress.total else 1.0
        filled = round(share * self.WIDTH)
        where = f" ({progress.table})" if progress.table else ""
        self.stream.write(
            f"\rkeys rotate  [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}"
            f" {progress.done}/{progress.total} rows{where}\x1b[K"
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def rotate(settings: Settings, *, batch_size: int) -> int:
    """`mentorbot keys rotate`: everything under ENCRYPTION_KEY, resumable; the exit code."""
    prepare_database(settings)
    ring = crypto.active()
    bar = ProgressBar()
    try:
        report = asyncio.run(
            rotation.rotate(
                settings.resolved_database_url, ring, batch_size=batch_size, progress=bar
            )
        )
    finally:
        bar.finish()
    print(
        f"re-encrypted {report.rotated} values in {report.rows} rows"
        f" ({report.already_current} were already under the current key)",
        file=sys.stderr,
    )
    if report.changed_meanwhile:
        print(
            f"{report.changed_meanwhile} values changed while rotating: run `mentorbot keys"
            " rotate` again",
            file=sys.stderr,
        )
        return 1
    if report.unreadable:
        where = ", ".join(
            f"{label} ({count})" for label, count in sorted(report.unreadable.items())
        )
        print(
            f"left as they are, since no configured key opens them: {where}; if an old key is"
            " missing from ENCRYPTION_OLD_KEYS, add it and run `mentorbot keys rotate` again",
            file=sys.stderr,
        )
        return 0
    print("done: the old keys may now be removed from ENCRYPTION_OLD_KEYS", file=sys.stderr)
    return 0
