"""The bot package stands alone: the fake Bot API is a tool for tests and the demo only."""

from __future__ import annotations

import ast
from pathlib import Path

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
