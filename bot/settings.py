"""Configuration read from the environment and an optional `.env` file.

The variable names are a contract with deployments, so every field maps to one
fixed upper-case name. A bad value must end the program with one clear line
(see `bot.cli`), which is why validation errors are turned into `SettingError`.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.crypto import MalformedKey, parse_key

Language = Literal["sv", "en"]


class SettingError(Exception):
    """A setting is missing or malformed; `name` is the environment variable."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("data"), alias="MENTORBOT_DATA_DIR")
    default_language: Language = Field(default="sv", alias="DEFAULT_LANGUAGE")
    timezone: str = Field(default="Europe/Stockholm", alias="TIMEZONE")
    coordinator_contact: str = Field(default="", alias="COORDINATOR_CONTACT")
    # The programme's code of conduct: a link to it, or its text; unset, the bot shows its own.
    code_of_conduct_url: str = Field(default="", alias="CODE_OF_CONDUCT_URL")
    code_of_conduct_text: str = Field(default="", max_length=3000, alias="CODE_OF_CONDUCT_TEXT")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="ADMIN_IDS")
    invite_ttl_days: int = Field(default=14, ge=1, le=365, alias="INVITE_TTL_DAYS")
    quiet_hours_start: time = Field(default=time(21, 0), alias="QUIET_HOURS_START")
    quiet_hours_end: time = Field(default=time(8, 0), alias="QUIET_HOURS_END")
    reminder_hours: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [24.0, 1.0], alias="REMINDER_HOURS"
    )
    # Just under Telegram's 30 messages per second (see bot.scheduler).
    outbox_rate: float = Field(default=29.0, gt=0, le=1000, alias="OUTBOX_RATE")
    # Sends in flight at once, and the most a crash can repeat (1: at most one message).
    outbox_concurrency: int = Field(default=8, ge=1, le=32, alias="OUTBOX_CONCURRENCY")
    # A row claimed longer ago than this is taken to be lost with a crashed sender.
    outbox_stale_seconds: float = Field(default=60, ge=1, alias="OUTBOX_STALE_SECONDS")
    # Texts of a closed mentorship are erased this many months after it closed.
    retention_months: int = Field(default=12, ge=1, le=120, alias="RETENTION_MONTHS")
    # The first hourly planner pass comes this long after a start, the others ten minutes
    # apart (bot.app): a restart is not a reason to plan, and start-up is busy enough.
    planning_delay_seconds: float = Field(
        default=600, ge=0, le=3600, alias="PLANNING_DELAY_SECONDS"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LOG_LEVEL"
    )
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1", alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    # Encrypts every stored text and name (storage.crypto); old keys only decrypt, for rotation.
    encryption_key: SecretStr | None = Field(default=None, alias="ENCRYPTION_KEY")
    encryption_old_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, alias="ENCRYPTION_OLD_KEYS"
    )

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language", mode="before")
    @classmethod
    def _lang(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            try:
                return [int(p) for p in parts]
            except ValueError as exc:
                raise ValueError("must be Telegram user ids separated by commas") from exc
        return value

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                hours = [float(p) for p in value.replace(";", ",").split(",") if p.strip()]
            except ValueError as exc:
                raise ValueError("must be hours before a meeting, e.g. 24,1") from exc
            if any(h <= 0 or h > 24 * 14 for h in hours):
                raise ValueError("must be hours between 0 and 336")
            return hours
        return value

    @field_validator("encryption_key", mode="before")
    @classmethod
    def _key(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                parse_key(value)
            except MalformedKey as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("encryption_old_keys", mode="before")
    @classmethod
    def _old_keys(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for number, key in enumerate(value, start=1):
                text = key.get_secret_value() if isinstance(key, SecretStr) else str(key)
                try:
                    parse_key(text)
                except MalformedKey as exc:
                    raise ValueError(f"key {number} {exc}") from None
            return [k.strip() if isinstance(k, str) else k for k in value]
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @property
    def telegram_file_url(self) -> str:
        """Where PTB downloads files: the Bot API's `/file/bot` twin of `/bot`."""
        return self.telegram_api_url.replace("/bot", "/file/bot")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'mentorbot.sqlite3').resolve()}"

    def require_token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingError("BOT_TOKEN", "is required; get one from @BotFather")
        token = self.bot_token.get_secret_value().strip()
        if ":" not in token:
            raise SettingError("BOT_TOKEN", "does not look like a bot token (<id>:<secret>)")
        return token


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's multi-line report into one `SettingError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        alias = Settings.model_fields[field].alias if field in Settings.model_fields else None
        name = alias or field.upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingError(name, message) from None
