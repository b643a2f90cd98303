"""Golden-file comparison; `make golden` (PROBE_REGEN_GOLDEN=1) rewrites the files instead."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

REGENERATE = os.environ.get("PROBE_REGEN_GOLDEN") == "1"


def assert_golden(path: Path, text: str) -> None:
    """Fail with a diff when `text` differs from the file; rewrite it under `make golden`."""
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run `make golden` and review the new file"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), text.splitlines(), str(path), "rendered", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(f"{path} is out of date; review and run `make golden`:\n{shown}")
