"""Authenticated encryption of the free texts and names the bot stores.

AES-256-GCM from `cryptography`. A stored value is text:

    enc1:<base64url( key id (4 bytes) | nonce (12 bytes) | ciphertext and tag )>

The key id (a hash of the key, not the key) tells which key of the ring opens
a value without trying them all, and lets `mentorbot keys rotate` skip values
already under the current key. The associated data is "<table>.<column>", so a
value copied into another column fails authentication instead of being shown
there.

The ring is process-wide (`configure` at start-up, `active` from the column
type): the SQLAlchemy type has no other way to reach it, and every entry point
configures it from the settings before the first query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger("mentorbot.crypto")

PREFIX = "enc1:"
KEY_BYTES = 32
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
# What a value that cannot be opened is shown as: one item unreadable, the rest working.
UNREADABLE = "⚠ [unreadable]"


class CryptoError(Exception):
    """Base of the errors below; messages never contain keys or contents."""


class NotConfigured(CryptoError):
    """No key ring was configured before the first encrypted value was read or written."""


class MalformedKey(CryptoError, ValueError):
    """A key that is not the urlsafe base64 of 32 bytes."""


class MissingKey(CryptoError):
    """No key was given and none may be generated here."""


class Undecryptable(CryptoError):
    """A stored value none of the ring's keys opens; `reason` says why, without content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def parse_key(text: str) -> bytes:
    """The 32 key bytes from their urlsafe base64 form (padding optional)."""
    # Standard base64 (+ and /) is accepted too: the bytes are what matter.
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    try:
        raw = _b64decode(cleaned)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise MalformedKey(
            "is not urlsafe base64 (create one with `mentorbot keys generate`)"
        ) from None
    if len(raw) != KEY_BYTES or _b64encode(raw) != cleaned.rstrip("="):
        raise MalformedKey(
            f"must be {KEY_BYTES} random bytes in urlsafe base64"
            " (create one with `mentorbot keys generate`)"
        )
    return raw


def key_id(key: bytes) -> bytes:
    # Domain-separated so the id is never the hash of the key used anywhere else.
    return hashlib.sha256(b"mentorbot key id\x00" + key).digest()[:KEY_ID_BYTES]


class KeyRing:
    """The current key (encrypts and decrypts) and old keys (decrypt only)."""

    __slots__ = ("_ciphers", "current_id", "ids")

    def __init__(self, current: bytes, old: Iterable[bytes] = ()) -> None:
        keys = [current, *[k for k in old if k != current]]
        for key in keys:
            if len(key) != KEY_BYTES:
                raise MalformedKey(f"must be {KEY_BYTES} bytes")
        self._ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            ident = key_id(key)
            if ident in self._ciphers:
                continue  # the same old key listed twice
            self._ciphers[ident] = AESGCM(key)
        self.current_id = key_id(current)
        self.ids = frozenset(self._ciphers)

    def __repr__(self) -> str:  # never the keys themselves
        return f"KeyRing(current={self.current_id.hex()}, keys={len(self.ids)})"

    @staticmethod
    def generate_key() -> str:
        """A new random key in the form ENCRYPTION_KEY takes."""
        return _b64encode(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_strings(cls, current: str, old: Iterable[str] = ()) -> KeyRing:
        return cls(parse_key(current), [parse_key(k) for k in old if k.strip()])

    @classmethod
    def from_settings(
        cls, *, current: str | None, old: Sequence[str] = (), key_file: Path | None = None
    ) -> KeyRing:
        """The ring from the configured keys, else from (or into) `key_file`.

        Without a configured key and without a key file allowed, `MissingKey`.
        """
        if current is not None and current.strip():
            return cls.from_strings(current, old)
        if key_file is None:
            raise MissingKey("no encryption key configured")
        return cls.from_strings(read_or_create_key_file(key_file), old)

    def encrypt(self, plaintext: str, label: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(
            nonce, plaintext.encode("utf-8"), label.encode("ascii")
        )
        return PREFIX + _b64encode(self.current_id + nonce + sealed)

    def decrypt(self, token: str, label: str) -> str:
        raw = _unpack(token)
        cipher = self._ciphers.get(raw[:KEY_ID_BYTES])
        if cipher is None:
            raise Undecryptable("under a key not in the ring")
        nonce = raw[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES]
        try:
            plain = cipher.decrypt(nonce, raw[KEY_ID_BYTES + NONCE_BYTES :], label.encode("ascii"))
        except InvalidTag:
            raise Undecryptable(
                "failed authentication (altered, or moved from another column)"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:  # authenticated, so only a writer's bug gets here
            raise Undecryptable("not UTF-8 text") from None

    def opens(self, token: str) -> bool:
        """Whether the value is under one of the ring's keys (by its key id, no decryption)."""
        try:
            return _unpack(token)[:KEY_ID_BYTES] in self.ids
        except Undecryptable:
            return False

    def is_current(self, token: str) -> bool:
        """Whether the value is already under the current key (so rotation may skip it)."""
        try:
            return _unpack(token)[:KEY_ID_BYTES] == self.current_id
        except Undecryptable:
            return False


def _unpack(token: str) -> bytes:
    if not token.startswith(PREFIX):
        raise Undecryptable("not an encrypted value")
    try:
        raw = _b64decode(token[len(PREFIX) :])
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise Undecryptable("not valid base64") from None
    if len(raw) < KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES:
        raise Undecryptable("too short")
    return raw


def read_or_create_key_file(path: Path) -> str:
    """The key stored in `path`, generating it (owner-only, atomically) on first use.

    Written to a private temporary file first and then linked into place, so a
    crash never leaves half a key and two processes starting together agree on
    one key (the loser of the race reads the winner's).
    """
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(KeyRing.generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    log.warning(
        "generated a new encryption key in %s; back it up with the database:"
        " without it the stored texts cannot be read",
        path.resolve(),
    )
    return _read_key_file(path)


def _read_key_file(path: Path) -> str:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        parse_key(text)
    except MalformedKey as exc:
        raise MalformedKey(f"the key file {path} {exc}") from None
    return text


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


_active: KeyRing | None = None


def configure(keyring: KeyRing) -> None:
    """Make `keyring` the one every encrypted column uses from now on."""
    global _active
    _active = keyring


def active() -> KeyRing:
    if _active is None:
        raise NotConfigured(
            "no encryption keys configured: call storage.crypto.configure() at start-up"
        )
    return _active


def is_configured() -> bool:
    return _active is not None
