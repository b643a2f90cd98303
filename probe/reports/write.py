"""Writes rendered reports to the output folder.

Each format is written as `<out>/<stem>-<UTC start time>.<ext>` and copied to
`<out>/latest.<ext>`. Files are written to a temporary name and renamed into place, so a
reader never sees half a report, and `latest.*` are real copies (not links) that survive the
folder being zipped or uploaded as a CI artefact.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath

from probe.report import Report
from probe.reports.html_report import render_html
from probe.reports.json_report import render_json

Renderer = Callable[[Report], str]

RENDERERS: dict[str, Renderer] = {"json": render_json, "html": render_html}
FORMATS = tuple(RENDERERS)
LATEST = "latest"
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(raw: str) -> str:
    """`raw` reduced to letters, digits, `.`, `_` and `-`: never a path, never hidden."""
    slug = _UNSAFE.sub("-", raw).strip("-.")
    return slug[:60] or "scan"


def report_stem(report: Report) -> str:
    """The scenario file's stem, or a slug of the scenario name when there is no file."""
    path = report.scenario.path
    return safe_stem(PurePath(path).stem if path else report.scenario.name)


def report_name(report: Report, stem: str | None = None) -> str:
    """`<stem>-<UTC start time>`, e.g. `orders-20240501T120000Z`."""
    base = safe_stem(stem) if stem else report_stem(report)
    return f"{base}-{report.started.strftime(_TIME_FORMAT)}"


def write_reports(
    report: Report,
    out_dir: Path | str,
    formats: Sequence[str] = FORMATS,
    stem: str | None = None,
) -> list[Path]:
    """Write each format and its `latest.<ext>` copy; returns the timestamped files.

    Creates `out_dir` if needed. Raises ValueError for an unknown format (before writing
    anything) and OSError when the folder cannot be written.
    """
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; known: {', '.join(FORMATS)}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = _free_name(folder, report_name(report, stem), formats)
    written = []
    for fmt in dict.fromkeys(formats):
        data = RENDERERS[fmt](report).encode("utf-8")
        path = folder / f"{name}.{fmt}"
        _write_atomically(path, data)
        _write_atomically(folder / f"{LATEST}.{fmt}", data)
        written.append(path)
    return written


def _free_name(folder: Path, name: str, formats: Sequence[str]) -> str:
    """`name`, or `name-2`, `name-3`... so two scans in the same second keep both reports."""
    candidate, number = name, 1
    while any((folder / f"{candidate}.{fmt}").exists() for fmt in formats):
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _write_atomically(path: Path, data: bytes) -> None:
    # A plain exclusive create (not mkstemp) so the file gets the user's umask like any other.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temp.open("xb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
