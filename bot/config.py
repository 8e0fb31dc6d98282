"""Configuration read from the environment, then a `.env` file, then defaults; fails loudly."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")

SUPPORTED_LANGUAGES = ("ko", "en")
_TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,80}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one sentence naming the variable."""


@dataclass(frozen=True)
class Config:
    """Every setting the bot reads, already validated."""

    bot_token: str = field(repr=False)
    bot_api_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str = "https://api.telegram.org/file/bot"
    database_path: Path = Path("data/pyeonji.sqlite3")
    admin_ids: frozenset[int] = frozenset()
    default_language: str = "ko"
    default_timezone: str = "Asia/Seoul"
    send_rate: float = 30.0
    paid_broadcast: bool = False
    letter_retention_days: int = 30
    letters_per_day: int = 3
    inactive_member_days: int = 365
    draft_expiry_hours: int = 24
    broadcast_approvals: int = 1
    # Sites a broadcast may link to without a second coordinator's approval (and subdomains).
    link_domains: frozenset[str] = frozenset()
    bundle_font: Path | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    port: int = 8443
    # Loopback: a TLS proxy on the same host forwards to it. The Docker image sets 0.0.0.0,
    # since there the proxy reaches the bot through the container's network.
    webhook_listen: str = "127.0.0.1"
    log_level: str = "INFO"
    # News watch. Hosts (or host:port) exempt from the private-address check: only for tests
    # and a feed served on the same machine on purpose.
    news_allow_hosts: frozenset[str] = frozenset()
    news_interval_minutes: int = 15
    news_timeout: float = 20.0
    news_max_bytes: int = 4 * 1024 * 1024
    news_concurrency: int = 8

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: WEBHOOK_URL's, e.g. `telegram`."""
        return urlsplit(self.webhook_url or "").path.strip("/")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a simple `.env` file: KEY=VALUE lines, optional quotes, # comments."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            # As Docker Compose reads it: " # ..." after an unquoted value is a comment.
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def load_config(
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path = Path(".env"),
    *,
    require_token: bool = True,
) -> Config:
    """Build the configuration; raise ConfigError naming the first bad variable.

    Without `require_token` (migrate, health, backup: commands that never reach Telegram)
    BOT_TOKEN and the webhook settings are neither needed nor checked, nor kept.
    """
    source: dict[str, str] = read_dotenv(dotenv_path)
    source.update(os.environ if environ is None else environ)
    reader = _Reader(source)
    token = reader.text("BOT_TOKEN", "")
    if require_token and not token:
        raise ConfigError("BOT_TOKEN is not set: get a token from @BotFather and set BOT_TOKEN.")
    if require_token and not _TOKEN_PATTERN.match(token):
        # Never echo the value: a half-pasted token is still a secret.
        raise ConfigError("BOT_TOKEN does not look like a Telegram bot token (digits:letters).")
    webhook_url = reader.text("WEBHOOK_URL", "") or None
    webhook_secret = reader.text("WEBHOOK_SECRET", "") or None
    if not require_token:
        webhook_url = webhook_secret = None
    if webhook_url is not None:
        if not webhook_url.startswith("https://"):
            raise ConfigError("WEBHOOK_URL must start with https://.")
        if webhook_secret is None or not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
            raise ConfigError(
                "WEBHOOK_SECRET must be set to 16-256 letters, digits, _ or - in webhook mode."
            )
    return Config(
        bot_token=token if require_token else "",
        bot_api_url=reader.text("BOT_API_URL", Config.bot_api_url),
        bot_api_file_url=reader.text("BOT_API_FILE_URL", Config.bot_api_file_url),
        database_path=Path(reader.text("DATABASE_PATH", str(Config.database_path))),
        admin_ids=reader.parse("ADMIN_IDS", _parse_ids, frozenset()),
        default_language=reader.parse("DEFAULT_LANGUAGE", _parse_language, "ko"),
        default_timezone=reader.parse("DEFAULT_TIMEZONE", _parse_timezone, "Asia/Seoul"),
        send_rate=reader.parse("SEND_RATE", _bounded_float(0.1, 1000.0), 30.0),
        paid_broadcast=reader.parse("PAID_BROADCAST", _parse_bool, False),
        letter_retention_days=reader.parse("LETTER_RETENTION_DAYS", _bounded_int(1, 3650), 30),
        letters_per_day=reader.parse("LETTERS_PER_DAY", _bounded_int(1, 100), 3),
        inactive_member_days=reader.parse("INACTIVE_MEMBER_DAYS", _bounded_int(30, 36500), 365),
        draft_expiry_hours=reader.parse("DRAFT_EXPIRY_HOURS", _bounded_int(1, 720), 24),
        broadcast_approvals=reader.parse("BROADCAST_APPROVALS", _bounded_int(1, 2), 1),
        link_domains=reader.parse("LINK_DOMAINS", _parse_domains, frozenset()),
        bundle_font=reader.parse("BUNDLE_FONT", _parse_existing_file, None),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        port=reader.parse("PORT", _bounded_int(1, 65535), 8443),
        webhook_listen=reader.parse("WEBHOOK_LISTEN", _parse_address, "127.0.0.1"),
        log_level=reader.parse("LOG_LEVEL", _parse_log_level, "INFO"),
        news_allow_hosts=reader.parse("NEWS_ALLOW_HOSTS", _parse_hosts, frozenset()),
        news_interval_minutes=reader.parse("NEWS_INTERVAL_MINUTES", _bounded_int(5, 1440), 15),
        news_timeout=reader.parse("NEWS_TIMEOUT", _bounded_float(0.1, 120.0), 20.0),
        news_max_bytes=reader.parse(
            "NEWS_MAX_BYTES", _bounded_int(64 * 1024, 64 * 1024 * 1024), 4 * 1024 * 1024
        ),
        news_concurrency=reader.parse("NEWS_CONCURRENCY", _bounded_int(1, 64), 8),
    )


class _Reader:
    """Reads one variable at a time and turns parse failures into ConfigError."""

    def __init__(self, source: Mapping[str, str]) -> None:
        self._source = source

    def text(self, name: str, default: str) -> str:
        return self._source.get(name, "").strip() or default

    def parse(self, name: str, parser: Callable[[str], T], default: T) -> T:
        raw = self._source.get(name, "").strip()
        if not raw:
            return default
        try:
            return parser(raw)
        except ValueError as error:
            raise ConfigError(f"{name} is invalid: {error}.") from None


def _parse_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError("expected comma-separated numeric Telegram user ids")
        ids.add(int(part))
    return frozenset(ids)


_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}")


def _parse_domains(raw: str) -> frozenset[str]:
    domains = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        try:
            domain = part.lower().rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        if not _DOMAIN.fullmatch(domain):
            raise ValueError(f"expected site names such as example.org, not {part!r}")
        domains.add(domain)
    return frozenset(domains)


def _parse_language(raw: str) -> str:
    if raw not in SUPPORTED_LANGUAGES:
        raise ValueError(f"expected one of {', '.join(SUPPORTED_LANGUAGES)}")
    return raw


def _parse_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone name such as Asia/Seoul") from None
    return raw


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise ValueError("no such file")
    return path


def _parse_address(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ValueError("expected an IP address such as 127.0.0.1 or 0.0.0.0") from None


def _parse_hosts(raw: str) -> frozenset[str]:
    hosts = set()
    for part in raw.replace(" ", "").lower().split(","):
        if not part:
            continue
        if not re.fullmatch(r"[a-z0-9.\-]+(:\d{1,5})?|\[[0-9a-f:]+\](:\d{1,5})?", part):
            raise ValueError("expected comma-separated host names or host:port pairs")
        hosts.add(part)
    return frozenset(hosts)


def _parse_log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return parse


def _bounded_float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected a number from {low:g} to {high:g}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low:g} to {high:g}")
        return value

    return parse
