"""The injection judges benchmark's claims, as tests (benchmarks/injection_judges.py).

The command runs and stops by itself, and no judge's time grows faster than the body it reads.
Only ratios measured in this process: a judge against one regex pass over the same body
(`PASS`, which visits every position), a judge against itself on a smaller body, or tracemalloc's
peak against the body's size; never absolute times (benchmarks/RESULTS.md has the figures).
Bounds are several times the measured figures, so a busy machine passes them while a quadratic
loop (x16 time for x4 body) does not.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.injection_judges import CASES, KIB, Case, peak_memory, prepare, timed

ROOT = Path(__file__).resolve().parents[1]
#: Regex passes a regex-based judge may cost (measured x0.4-x27 at 256 KiB-1 MiB).
REGEX_PASSES = 100
#: Regex passes the xss judge may cost on a page (measured x18-x42; its parser is Python).
PARSER_PASSES = 400
#: Time on a body four times larger: x4 when linear, x16 when quadratic.
FOUR_TIMES = 8.0


def _case(judge: str, body: str) -> Case:
    return next(c for c in CASES if c.judge == judge and c.body == body)


def _passes(case: Case, size: int, rounds: int = 3) -> float:
    """Median over rounds of the judge's time over the pass's time on the same body."""
    run, scan, _ = prepare(case, size)
    run()
    return statistics.median(timed(run) / max(timed(scan), 1e-9) for _ in range(rounds))


def _growth(case: Case, small: int, large: int, rounds: int = 3) -> float:
    """Best time on the large body over best time on the small one."""
    runs = [prepare(case, size)[0] for size in (small, large)]
    runs[0]()
    best = [min(timed(run) for _ in range(rounds)) for run in runs]
    return best[1] / max(best[0], 1e-9)


# -- the command --------------------------------------------------------------------------------


def test_injection_judges_command_prints_tables_and_stops_by_itself() -> None:
    command = [sys.executable, "-m", "benchmarks", "injection_judges", "--repeats", "1"]
    command += ["--sizes", "4"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "| xss reflection | HTML page, marker near 512 KiB | 4 |" in done.stdout
    assert "| compare learn | JSON list | 4 |" in done.stdout
    assert "| judge_delay | µs per call |" in done.stdout
    assert time.monotonic() - started < 60


# -- regex judges: a few passes over the body ---------------------------------------------------

REGEX_CASES = [
    ("traversal passwd", "passwd file in an HTML page"),
    ("traversal passwd", "JSON list"),
    ("traversal passwd", "`root:x:0:0:` x N, no newline"),
    ("traversal passwd", "a huge passwd file (N lines)"),
    ("traversal passwd", "`<p>&amp;</p>` x N"),
    ("traversal win.ini", "`[fonts]` lines x N"),
    ("sql new_errors", "HTML page, MySQL error near the end"),
    ("sql new_errors", '`near "` x N (needle, no error)'),
    ("sql find_sql_errors", "one line of N words"),
    ("nosql new_operator_error", "`$` x N"),
    ("template new_product", "JSON list"),
    ("template new_product", "digit runs holding the product"),
]


@pytest.mark.parametrize(("judge", "body"), REGEX_CASES)
def test_regex_judge_on_half_a_mebibyte_costs_a_few_passes(judge: str, body: str) -> None:
    assert _passes(_case(judge, body), 512 * KIB) <= REGEX_PASSES


@pytest.mark.parametrize(
    ("judge", "body"),
    [("traversal passwd", "`<p>&amp;</p>` x N"), ("sql new_errors", "JSON list")],
)
def test_regex_judge_peak_memory_is_a_few_bodies(judge: str, body: str) -> None:
    # tracemalloc counts allocations, not time: this ratio does not move with the load.
    run, _, size = prepare(_case(judge, body), 256 * KIB)
    assert peak_memory(run) <= 16 * size


# -- the xss judge's HTML parser ----------------------------------------------------------------


def test_xss_judge_on_a_page_costs_a_bounded_number_of_passes() -> None:
    case = _case("xss reflection", "HTML page, marker near 512 KiB")
    assert _passes(case, 256 * KIB) <= PARSER_PASSES


@pytest.mark.parametrize(
    "body",
    [
        "HTML page, marker near 512 KiB",
        "nested `<div>` x N, marker inside",
        "marker, then `<` x N",
        "`<a ` x N, then the marker",
    ],
)
def test_xss_judge_grows_linearly_with_the_parsed_body(body: str) -> None:
    assert _growth(_case("xss reflection", body), 32 * KIB, 128 * KIB) <= FOUR_TIMES


# The standard library's HTMLParser rescans the rest of the body for every unclosed construct
# once `close()` forces the end of input (x52 time for x8 body on Python 3.11.7): `reflection`
# never calls it, and reads nothing past the last raw tag's element.
def test_xss_judge_on_unclosed_comments_costs_a_bounded_number_of_passes() -> None:
    case = _case("xss reflection", "marker, then unclosed `<!--` x N")
    assert _passes(case, 32 * KIB, rounds=1) <= PARSER_PASSES


# -- compare.Reference --------------------------------------------------------------------------


def test_reference_learnt_from_json_grows_linearly() -> None:
    assert _growth(_case("compare learn", "JSON list"), 32 * KIB, 128 * KIB) <= FOUR_TIMES


# difflib.SequenceMatcher(autojunk=False) pairs every repeated element with every copy of it
# (`<tr>`, `<td>`, `</li>`): x11-x16 time for x4 elements. `learn` diffs only what lies between
# the samples' common start and end, and `matches` checks the kept elements in one pass.
@pytest.mark.parametrize(
    ("judge", "body", "small"),
    [
        ("compare learn", "HTML page", 8 * KIB),
        ("compare learn", "the same `<li>` row x N", 3584),
        ("compare matches", "HTML page, one more line", 8 * KIB),
        ("compare matches", "the same `<li>` row x N, one more", 3584),
    ],
)
def test_reference_on_repeated_markup_grows_linearly(judge: str, body: str, small: int) -> None:
    assert _growth(_case(judge, body), small, 4 * small) <= FOUR_TIMES
