"""One TLS context for every HTTP client that talks to the Bot API."""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def context() -> ssl.SSLContext:
    """httpx would load the CA bundle for each client it makes (tens of milliseconds
    each, four clients at start); one context verifies the same way for all of them."""
    return httpx.create_ssl_context()
