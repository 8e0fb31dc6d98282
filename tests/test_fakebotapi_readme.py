"""fakebotapi/README.md's example for other bots' tests runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "fakebotapi" / "README.md"


async def test_the_readme_example_runs_against_the_fake_bot_api() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1 and len(blocks[0].splitlines()) <= 30
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # our own README, not input
    example = namespace["test_start_says_hello"]
    assert callable(example)
    await example()
