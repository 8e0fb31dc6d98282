"""Configuration: environment over .env over defaults; one clear sentence for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

TOKEN = "123456:" + "A" * 35


def test_defaults_apply_when_only_the_token_is_set(tmp_path: Path) -> None:
    config = load_config({"BOT_TOKEN": TOKEN}, tmp_path / "absent.env")
    assert config.default_language == "ko"
    assert config.default_timezone == "Asia/Seoul"
    assert config.send_rate == 30.0
    assert config.database_path == Path("data/pyeonji.sqlite3")
    assert config.admin_ids == frozenset()


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'BOT_TOKEN="{TOKEN}"\nADMIN_IDS=1, 2\nSEND_RATE=10\n# comment\n')
    config = load_config({"SEND_RATE": "20"}, dotenv)
    assert config.bot_token == TOKEN
    assert config.admin_ids == frozenset({1, 2})
    assert config.send_rate == 20.0


def test_missing_token_is_one_sentence_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({}, tmp_path / "absent.env")
    assert "BOT_TOKEN" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_malformed_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    secret = "999:secret token with spaces!"
    with pytest.raises(ConfigError) as raised:
        load_config({"BOT_TOKEN": secret}, tmp_path / "absent.env")
    assert "BOT_TOKEN" in str(raised.value)
    assert secret not in str(raised.value)
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "12,@someone"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("SEND_RATE", "fast"),
        ("SEND_RATE", "5000"),
        ("LETTER_RETENTION_DAYS", "0"),
        ("BROADCAST_APPROVALS", "3"),
        ("BUNDLE_FONT", "/no/such/font.ttf"),
        ("LOG_LEVEL", "LOUD"),
        ("WEBHOOK_URL", "http://insecure.example"),
        ("WEBHOOK_LISTEN", "everywhere"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"BOT_TOKEN": TOKEN, name: value}, tmp_path / "absent.env")
    assert str(raised.value).startswith(name)


def test_webhook_mode_needs_a_strong_secret(tmp_path: Path) -> None:
    environ = {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.org/telegram"}
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_config({**environ, "WEBHOOK_SECRET": "short"}, tmp_path / "absent.env")
    config = load_config({**environ, "WEBHOOK_SECRET": "s" * 32}, tmp_path / "absent.env")
    assert config.webhook_url == "https://bot.example.org/telegram"
    assert "s" * 32 not in repr(config)
    assert TOKEN not in repr(config)


def test_a_comment_after_an_unquoted_value_is_not_part_of_it(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"BOT_TOKEN={TOKEN}  # from BotFather\nDEFAULT_TIMEZONE=Europe/Kyiv # where we are\n"
        'LOG_LEVEL="WARNING"\n'
    )
    config = load_config({}, dotenv)
    assert config.bot_token == TOKEN
    assert config.default_timezone == "Europe/Kyiv"
    assert config.log_level == "WARNING"
