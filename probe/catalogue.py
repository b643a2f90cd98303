"""The probe and rule catalogue as Markdown, for `probe probes --markdown` and the README.

`python -m probe.catalogue README.md` rewrites the block between the README's rules markers;
a test checks that the README is current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from probe.probes import REGISTRY

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rules_markdown() -> str:
    """One section per probe: its docstring's first paragraph and a table of its rules."""
    parts: list[str] = []
    for probe in REGISTRY.values():
        parts.append(f"### `{probe.id}`: {probe.title}\n")
        doc = (sys.modules[probe.__module__].__doc__ or probe.__doc__ or "").strip()
        if not probe.implemented:
            parts.append("Not part of this release: its checks are reported as `skipped`.\n")
            continue
        parts.append(doc.split("\n\n")[0].replace("\n", " ") + "\n")
        parts.append("| rule | severity | OWASP | API | CWE | what is sent and how it is judged |")
        parts.append("|---|---|---|---|---|---|")
        for rule in probe.rules:
            parts.append(
                f"| `{rule.id}` | {rule.severity.value} | {rule.owasp} | {rule.owasp_api or ''} "
                f"| {rule.cwe} | {_cell(rule.title)}: {_cell(rule.description)} |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def replace_block(text: str) -> str:
    """`text` with the rules block replaced by the current catalogue."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{rules_markdown()}{END}", text)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    target.write_text(replace_block(target.read_text()))
