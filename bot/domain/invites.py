"""Invitation codes and whether an invitation can still be used."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import StrEnum

from storage.models import Invite

# 24 random bytes = 192 bits, 32 URL-safe characters: well inside Telegram's
# 64-character [A-Za-z0-9_-] limit for a /start payload.
CODE_BYTES = 24
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def looks_like_code(text: str) -> bool:
    return bool(CODE_PATTERN.fullmatch(text))


class InviteProblem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    OWN = "own"
    USED = "used"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


def problem_with(invite: Invite | None, *, user_id: int, now: datetime) -> InviteProblem | None:
    """Why `user_id` cannot answer this invitation now, or None if they can."""
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.revoked_at is not None:
        return InviteProblem.REVOKED
    if invite.used_at is not None:
        return InviteProblem.USED
    if invite.declined_at is not None:
        return InviteProblem.DECLINED
    if invite.created_by_id == user_id:
        return InviteProblem.OWN
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    return None


def is_open(invite: Invite, *, now: datetime) -> bool:
    return (
        invite.revoked_at is None
        and invite.used_at is None
        and invite.declined_at is None
        and invite.expires_at > now
    )
