"""How fast, and in how much memory, the injection probe's pure judges read large and hostile
answer bodies.

Each case is one judge, called the way the injection probe calls it, on one kind of body built
to a given size (in KiB of text): realistic bodies (an HTML order table with the marker, a
database error or a passwd file near its end, a JSON list) and hostile ones (long runs of `<`,
unclosed `<!--`, `root:x:0:0:` without newlines, digit runs around the template product,
quotes, one very long line). Judges that take baselines get one small HTML page, unless the
body says "three baselines". Per case and size:

- **median**: the judge's time, median over repeats, and the same per MiB of body;
- **pass**: one `re.search` of `PASS` over the same text, timed in the same repeat. The
  engine cannot skip ahead in it (it starts with a lookbehind), so it visits every position,
  as most of the judges' patterns do; **ratio** is the median of the per-repeat ratios, so it
  holds on a busy machine where absolute times do not;
- **growth**: `b` in time ~ size^b between a quarter of the size and the size (1: linear;
  2: quadratic; below 1: the judge reads a bounded part of the body);
- **peak**: tracemalloc's peak during one call (the body itself excluded), and that peak
  relative to the body's size in bytes.

Before measuring a size, one call per doubling size walks up from `--start`. Once a call takes
over a quarter of `--budget` seconds and the growth so far predicts more than `--budget` for
the next, larger sizes are not run: their time is extrapolated from the walk (marked "est.").
Nothing is sent anywhere.

Run: `python -m benchmarks injection_judges` (`--repeats`, `--sizes`, `--budget`, `--only`).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.error_signatures import find_sql_errors
from probe.probes.injection_nosql_errors import new_operator_error
from probe.probes.injection_sql_errors import new_errors
from probe.probes.injection_template_judges import new_product
from probe.probes.injection_timing import judge_delay
from probe.probes.injection_traversal_judges import file_content
from probe.probes.injection_xss_judges import payload, reflection

KIB = 1024
MIB = 1024 * KIB
#: One regex pass that tries, and fails, at every position of the text.
PASS = re.compile(r"(?<=\x00)\x01")
HTML = "text/html"
JSON = "application/json"
PLAIN = "text/plain"
TOKEN = "prb1a2b3c4d5e6f7a8b"
MARK = payload(TOKEN)
#: Template operands (the probe draws 5-digit (10000-46340) ones) and their product as text.
A, B = 123_457, 654_323
PRODUCT = str(A * B)
# The xss judge parses the first 512 KiB of a body: a marker just inside that is the most work
# a realistic page can ask of it.
PARSED = 512 * KIB
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
MYSQL = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL"

Call = Callable[[], object]
Judge = Callable[[str, str], Call]

# -- bodies -------------------------------------------------------------------------------------


def repeat(unit: str, size: int) -> str:
    """`unit` repeated to about `size` characters."""
    return unit * max(1, size // len(unit))


def _row(i: int) -> str:
    return (
        f'<tr><td><a href="/orders/{i}">Order {i}</a></td><td class="amount">'
        f"{i * 7 % 1000}.{i % 100:02d} EUR</td><td>2026-12-{i % 28 + 1:02d}</td></tr>\n"
    )


def html_page(size: int, inner: str = "", at: int | None = None) -> str:
    """An HTML order table of about `size` characters, `inner` on its own line about 2 KiB
    before character `at` (default: the end)."""
    head = "<!doctype html><html><head><title>Orders</title></head><body><table>\n"
    foot = "</table></body></html>\n"
    rows: list[str] = []
    total = len(head) + len(foot) + len(inner)
    while total < size:
        rows.append(_row(len(rows)))
        total += len(rows[-1])
    body = "".join(rows)
    place = max(0, (size if at is None else at) - 2 * KIB - len(head))
    place = body.find("\n", min(place, len(body))) + 1
    return head + body[:place] + inner + "\n" + body[place:] + foot


def json_list(size: int, inner: str = "") -> str:
    """A JSON list of order objects of about `size` characters; `inner` in the last one."""
    items: list[str] = []
    total = 2
    while total < size:
        i = len(items)
        item = {"id": i, "name": f"Order {i}", "total": f"{i * 7 % 1000}.{i % 100:02d}"}
        items.append(json.dumps({**item, "tags": ["paid", "eu"], "note": ""}))
        total += len(items[-1]) + 2
    items[-1] = json.dumps({"id": len(items), "note": inner})
    return "[" + ",\n".join(items) + "]"


def nested(size: int) -> str:
    """`<div>` opened again and again, the marker in the middle of what the xss judge parses."""
    half = min(size, PARSED) // 2
    return repeat("<div>", half) + MARK + repeat("<div>", size - half)


def huge_passwd(size: int) -> str:
    """A passwd file of about `size` characters: root, then thousands of distinct users."""
    lines = [PASSWD]
    total = len(PASSWD)
    while total < size:
        n = len(lines)
        lines.append(f"user{n}:x:{1000 + n}:{1000 + n}:User {n}:/home/user{n}:/bin/sh\n")
        total += len(lines[-1])
    return "".join(lines)


# -- judges, called the way the probe calls them ------------------------------------------------


def answer(text: str, content_type: str) -> ResponseRecord:
    """A 200 answer with this body."""
    return ResponseRecord(200, "HTTP/1.1", (("Content-Type", content_type),), text.encode())


BASELINE = answer(html_page(4 * KIB), HTML)


def on_text(judge: Callable[[str], object]) -> Judge:
    """A judge of the body's text."""
    return lambda text, _content_type: lambda: judge(text)


def on_answer(judge: Callable[[ResponseRecord], object]) -> Judge:
    """A judge of the answer (decoding its body is part of the judge's work)."""

    def prepared(text: str, content_type: str) -> Call:
        response = answer(text, content_type)
        return lambda: judge(response)

    return prepared


XSS = on_text(lambda text: reflection(text, TOKEN))
SQL_TEXT = on_text(find_sql_errors)
PASSWD_FILE = on_answer(lambda r: file_content("passwd", r, [BASELINE]))
WININI_FILE = on_answer(lambda r: file_content("win.ini", r, [BASELINE]))
SQL = on_answer(lambda r: new_errors(r, [BASELINE]))
NOSQL = on_answer(lambda r: new_operator_error(r, [BASELINE], ("$ne", "$gt", "$regex")))
TEMPLATE = on_answer(lambda r: new_product(r, A, B, [BASELINE]))


def sql_three(text: str, content_type: str) -> Call:
    """`new_errors` against three baselines as large as the answer (the probe's three)."""
    response = answer(text, content_type)
    baselines = [answer(text.replace(MYSQL, "ok"), content_type) for _ in range(3)]
    return lambda: new_errors(response, baselines)


def learn(text: str, content_type: str) -> Call:
    """`Reference.learn` from two identical samples (a stable endpoint's baselines)."""
    first, second = answer(text, content_type), answer(text, content_type)
    return lambda: Reference.learn(first, second)


def matches(text: str, content_type: str) -> Call:
    """`matches` of an answer with one more line, against a reference whose samples differ
    in one line (so the reference allows some change and compares element by element)."""
    first = answer("<p>request 1</p>\n" + text, content_type)
    second = answer("<p>request 2</p>\n" + text, content_type)
    reference = Reference.learn(first, second)
    other = answer("<p>error</p>\n<p>request 3</p>\n" + text, content_type)
    return lambda: reference.matches(other)


@dataclass(frozen=True)
class Case:
    """One judge on one kind of body.

    Attributes:
        judge: The judge as the tables name it.
        body: The body, in words.
        build: The body's text at a size in characters.
        call: Prepares the judge's inputs once and returns the timed call.
        content_type: The answer's content type.
        reads: Characters of the body the judge reads at most (for extrapolating).
    """

    judge: str
    body: str
    build: Callable[[int], str]
    call: Judge
    content_type: str = HTML
    reads: int = 1 << 40


def marked_page(size: int) -> str:
    """An HTML page with the marker just inside the part the xss judge parses."""
    return html_page(size, MARK, min(size, PARSED))


def after_mark(unit: str) -> Callable[[int], str]:
    """The marker, then `unit` again and again."""
    return lambda size: MARK + repeat(unit, size)


def before_mark(unit: str) -> Callable[[int], str]:
    """`unit` again and again, then the marker (within the part the xss judge parses), then
    letters up to `size`."""

    def build(size: int) -> str:
        head = repeat(unit, min(size, PARSED) - KIB) + MARK
        return head + "x" * (size - len(head))

    return build


def runs(unit: str) -> Callable[[int], str]:
    """`unit` again and again."""
    return lambda size: repeat(unit, size)


def page_with(inner: str) -> Callable[[int], str]:
    """An HTML page with `inner` near its end."""
    return lambda size: html_page(size, inner)


def _xss(body: str, build: Callable[[int], str]) -> Case:
    return Case("xss reflection", body, build, XSS, reads=PARSED)


_NESTED_PRODUCT = f"{'9' * 999}{PRODUCT}{'9' * 999} "
_PRE = f"<pre>{PASSWD}</pre>"

CASES = (
    _xss("HTML page, marker near 512 KiB", marked_page),
    _xss("JSON list, marker in the last item", lambda s: json_list(s, MARK)),
    _xss("nested `<div>` x N, marker inside", nested),
    _xss("marker, then `<` x N", after_mark("<")),
    _xss("marker, then unclosed `<!--` x N", after_mark("<!--")),
    _xss("marker, then unclosed `<a '` x N", after_mark("<a '")),
    _xss('marker, then `"` x N', after_mark('"')),
    _xss("`<a ` x N, then the marker", before_mark("<a ")),
    Case("traversal passwd", "passwd file in an HTML page", page_with(_PRE), PASSWD_FILE),
    Case("traversal passwd", "JSON list", json_list, PASSWD_FILE, JSON),
    Case("traversal passwd", "`root:x:0:0:` x N, no newline", runs("root:x:0:0:"), PASSWD_FILE),
    Case("traversal passwd", "a huge passwd file (N lines)", huge_passwd, PASSWD_FILE, PLAIN),
    Case("traversal passwd", "`<p>&amp;</p>` x N", runs("<p>&amp;</p>"), PASSWD_FILE),
    Case("traversal win.ini", "`[fonts]` lines x N", runs("[fonts]\r\n"), WININI_FILE, PLAIN),
    Case("sql new_errors", "HTML page, MySQL error near the end", page_with(MYSQL), SQL),
    Case("sql new_errors", "the same, three baselines that size", page_with(MYSQL), sql_three),
    Case("sql new_errors", "JSON list", json_list, SQL, JSON),
    Case("sql new_errors", '`near "` x N (needle, no error)', runs('near "'), SQL),
    Case("sql new_errors", "`'` x N", runs("'"), SQL),
    Case("sql find_sql_errors", "one line of N words", runs("select from where "), SQL_TEXT),
    Case("nosql new_operator_error", "JSON list", json_list, NOSQL, JSON),
    Case("nosql new_operator_error", "`unknown operator ` x N", runs("unknown operator "), NOSQL),
    Case("nosql new_operator_error", "`$` x N", runs("$"), NOSQL),
    Case("template new_product", "HTML page, product near the end", page_with(PRODUCT), TEMPLATE),
    Case("template new_product", "JSON list", json_list, TEMPLATE, JSON),
    Case("template new_product", "digit runs holding the product", runs(_NESTED_PRODUCT), TEMPLATE),
    Case("compare learn", "HTML page", html_page, learn),
    Case("compare learn", "JSON list", json_list, learn, JSON),
    Case("compare learn", "the same `<li>` row x N", runs("<li>item</li>\n"), learn),
    Case("compare matches", "HTML page, one more line", html_page, matches),
    Case("compare matches", "the same `<li>` row x N, one more", runs("<li>item</li>\n"), matches),
)

# -- measuring ----------------------------------------------------------------------------------


def timed(call: Call) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def prepare(case: Case, size: int) -> tuple[Call, Call, int]:
    """The judge's call, the pass over the same text, and the body's size in bytes."""
    text = case.build(size)
    return case.call(text, case.content_type), lambda: PASS.search(text), len(text.encode())


def exponent(times: dict[int, float], low: int, high: int) -> float:
    """`b` in time ~ size^b between two sizes measured."""
    return math.log(max(times[high], 1e-9) / max(times[low], 1e-9)) / math.log(high / low)


def growth(times: dict[int, float], size: int) -> float | None:
    """`b` between a quarter of `size` (or the nearest smaller size measured) and `size`."""
    smaller = [s for s in times if s <= size // 4] or [s for s in times if s < size]
    return exponent(times, max(smaller), size) if smaller else None


def walk(case: Case, sizes: list[int], start: int, budget: float) -> dict[int, float]:
    """One call per size, doubling from `start` through every size asked, while the next call
    should stay within `budget` seconds: the last took at most a quarter of it (quadratic
    growth stays within), or the growth seen so far predicts so."""
    steps = sorted({*sizes, *(start << k for k in range(64) if start << k < max(sizes))})
    prepare(case, KIB)[0]()  # compiles the judge's patterns, as a scan's first call does
    times: dict[int, float] = {}
    for size in steps:
        if times:
            last = max(times)
            predicted = times[last] * (size / last) ** _slope(times)
            if times[last] > budget / 4 and predicted > budget:
                break
        times[size] = timed(prepare(case, size)[0])
    return times


def _slope(times: dict[int, float]) -> float:
    """The growth between the two largest sizes walked, within 0 and 3 (2 with one size)."""
    if len(times) < 2:
        return 2.0
    low, high = sorted(times)[-2:]
    return min(max(exponent(times, low, high), 0.0), 3.0)


def peak_memory(call: Call) -> int:
    """tracemalloc's peak, in bytes, during one call."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@dataclass(frozen=True)
class Row:
    """One case at one size, as measured (or extrapolated when over the budget).

    Attributes:
        seconds: Median time of the judge.
        base: Median time of the pass.
        ratio: Median of the per-repeat ratios judge / pass.
        growth: `b` in time ~ size^b up to this size, or None.
        peak: Peak memory in bytes, or None when not measured.
        body: The body's size in bytes.
        estimated: True when the size was over the budget: the times are extrapolated.
    """

    seconds: float
    base: float
    ratio: float
    growth: float | None
    peak: int | None
    body: int
    estimated: bool = False


def measure(case: Case, size: int, repeats: int, walked: dict[int, float]) -> Row:
    """Median times, ratio and peak memory of `case` at `size` (extrapolated past the walk)."""
    run, base, body = prepare(case, size)
    if size not in walked:
        last = max(walked)
        slope = _slope(walked)
        seconds = walked[last] * (min(size, case.reads) / min(last, case.reads)) ** slope
        plain = statistics.median(timed(base) for _ in range(repeats))
        return Row(seconds, plain, seconds / plain, slope, None, body, estimated=True)
    times, bases, ratios = [], [], []
    for _ in range(repeats):
        judge, plain = timed(run), timed(base)
        times.append(judge)
        bases.append(plain)
        ratios.append(judge / max(plain, 1e-9))
    seconds = statistics.median(times)
    return Row(
        seconds, statistics.median(bases), statistics.median(ratios),
        growth({**walked, size: seconds}, size), peak_memory(run), body,
    )  # fmt: skip


# -- output -------------------------------------------------------------------------------------

HEADER = (
    "| judge | body | size (KiB) | median (ms) | per MiB (ms) | pass (ms) | ratio | growth "
    "| peak (KiB) | peak / body |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def line(case: Case, size: int, row: Row) -> str:
    """One Markdown table line."""
    est = " est." if row.estimated else ""
    per_mib = row.seconds / (row.body / MIB)
    grown = "-" if row.growth is None else f"{row.growth:.2f}"
    peak = "-" if row.peak is None else f"{row.peak / KIB:,.0f}"
    share = "-" if row.peak is None else f"x{row.peak / row.body:.2f}"
    return (
        f"| {case.judge} | {case.body} | {size // KIB:,} | {row.seconds * 1e3:,.1f}{est} "
        f"| {per_mib * 1e3:,.1f}{est} | {row.base * 1e3:.2f} | x{row.ratio:,.1f}{est} "
        f"| {grown} | {peak} | {share} |"
    )


def timing_table(repeats: int) -> str:
    """`judge_delay` on a proof, a tentative and a none, in microseconds per call."""
    controls = [0.1, 0.12, 0.09, 0.11]
    series = {
        "proven": {2: [2.1, 2.2, 2.1], 5: [5.1, 5.2, 5.15]},
        "tentative": {2: [4.1, 4.2, 4.1], 5: [7.1, 7.2, 7.15]},
        "none": {2: [2.1, 0.3, 2.1], 5: [5.1, 5.2, 0.2]},
    }
    lines = ["| judge_delay | µs per call |", "|---|---:|"]
    for name, samples in series.items():

        def thousand(samples: dict[int, list[float]] = samples) -> None:
            for _ in range(1000):
                judge_delay(samples, controls)

        per = statistics.median(timed(thousand) for _ in range(repeats))
        lines.append(f"| {name} | {per * 1e3:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure every case at every size and print the figures as Markdown."""
    p = argparse.ArgumentParser(prog="python -m benchmarks injection_judges")
    p.add_argument("--repeats", type=int, default=5, help="runs per case and size")
    p.add_argument("--sizes", default="256,1024", help="comma list of body sizes in KiB")
    p.add_argument("--start", type=int, default=4, help="KiB where the walk starts")
    p.add_argument("--budget", type=float, default=10.0, help="seconds one call may take")
    p.add_argument("--only", default="", help="cases whose judge contains this text")
    args = p.parse_args(argv)
    sizes = sorted(int(s) * KIB for s in args.sizes.split(",") if s.strip())
    if not sizes or min(sizes) < 1 or args.repeats < 1:
        p.error("sizes and repeats are at least 1")
    start = min(args.start * KIB, sizes[0])
    mib = "x" * MIB
    print(
        f"{args.repeats} repeats, medians; pass = `PASS.search` over the same text, "
        f"{timed(lambda: PASS.search(mib)) * 1e3:.1f} ms per MiB here "
        f"(a literal `str.find`: {timed(lambda: mib.find('zq')) * 1e3:.2f} ms)\n"
    )
    print(HEADER)
    for case in (c for c in CASES if args.only in c.judge):
        walked = walk(case, sizes, start, args.budget)
        for size in sizes:
            print(line(case, size, measure(case, size, args.repeats, walked)), flush=True)
    print()
    print(timing_table(args.repeats))


if __name__ == "__main__":
    main()
