"""What every handler needs, reachable from PTB's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.clock import Clock
from bot.settings import Settings
from storage.db import Database

_KEY = "services"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock


def attach(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    # bot_data is never persisted (the app has no PTB persistence), so live objects are safe here.
    application.bot_data[_KEY] = services


def of_app(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = application.bot_data[_KEY]
    assert isinstance(found, Services)
    return found


def of(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return of_app(context.application)
