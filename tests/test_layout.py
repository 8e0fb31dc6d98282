"""The bot package stands alone: the fake Bot API is a tool for tests and the demo only."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from bot.i18n import LOCALES_DIR
from bot.storage.migrations import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_demo_entry_point_of_the_bot_imports_the_fake_bot_api() -> None:
    importers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "bot").rglob("*.py")
        if any(name.split(".")[0] == "fakebotapi" for name in imported_modules(path))
    )
    assert importers == ["bot/demo.py"]


def test_the_fake_bot_api_knows_nothing_of_the_bot() -> None:
    for path in (ROOT / "fakebotapi").rglob("*.py"):
        assert not any(name.split(".")[0] == "bot" for name in imported_modules(path)), path
    for path in (ROOT / "fakebotapi").rglob("*"):
        if path.is_file():
            assert "pyeonji" not in path.read_text(encoding="utf-8").lower(), path


def test_the_wheel_carries_the_catalogs_and_every_migration() -> None:
    """An installed wheel (the Docker image) finds them next to the code, as a checkout does."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["bot"]
    shipped = {
        path.relative_to(ROOT / "bot").as_posix()
        for pattern in package_data
        for path in (ROOT / "bot").glob(pattern)
    }
    migrations = {p.relative_to(ROOT / "bot").as_posix() for p in MIGRATIONS_DIR.glob("*.sql")}
    assert migrations and migrations <= shipped
    assert {f"locales/{lang}/LC_MESSAGES/bot.mo" for lang in ("ko", "en")} <= shipped
    assert LOCALES_DIR.parent == MIGRATIONS_DIR.parent == ROOT / "bot"


def test_the_image_copies_only_what_the_bot_runs() -> None:
    copies = [
        line.split()[1:-1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY") and "--from=" not in line
    ]
    assert sorted(source for sources in copies for source in sources) == [
        "README.md",
        "bot",
        "pyproject.toml",
    ]
    assert "bot/demo.py" in (ROOT / ".dockerignore").read_text().splitlines()
