"""A real app for the command family's tests (Flask), each weak route beside its hardened twin.

The weak routes run a harmless `echo` with the user's value through `/bin/sh`
(`subprocess.run(f"echo {name}", shell=True)`) in a temporary folder of their own, behind a
guard that refuses (and never runs) anything that could write, delete, stop or fetch: a
separator in the value runs whatever follows, and in these tests that is only what the probe
sends (`echo`, `expr`, shell arithmetic, `sleep`). Their twins pass the value as one argument
(`["echo", name]`), where no shell reads it. `/quoted` puts the value inside double quotes
(`echo "Hello {name}"`): `;` separates nothing there, `$((...))` and `$(...)` still expand.

Routes that run no shell at all: `/greet` echoes the value back verbatim (the operands appear,
never their product); `/calc` and `/instant` are search boxes with a calculator ("instant
answers" for `a*b`, with and without the operands); `/dollar` computes only `$((a*b))` (an
evaluator of shell-like arithmetic, no shell); `/jitter` ignores the value and answers after a
random 0 to 3 s; `/slow` always takes 0.6 s; `/picky` takes 0.6 s on any value that is not
letters and digits; `/tarpit` takes 2.5 s on any value with `sleep` in it; `/poll?wait=0`
waits as many seconds as the digits of its value say, up to 10 (a long poll "sanitised" to
digits); `/wait?s=N` waits N seconds (0 to 10), the ideal delay that `prove_delay`'s own tests
ask for.
"""

from __future__ import annotations

import random
import re
import subprocess
import tempfile
import time

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

#: A command that hangs must not hold a test's server thread for long.
COMMAND_TIMEOUT = 30
#: What the guard never lets through to the shell: anything past echo, expr and sleep.
_FORBIDDEN = re.compile(
    r"\b(rm|mv|cp|dd|curl|wget|nc|kill|shutdown|reboot|chmod|mkfs)\b|>", re.IGNORECASE
)
#: Seeded: the jitter route draws the same latencies on every run; among its first six, any
#: three in a row (the baselines) hold one fast enough for time-based payloads to run there.
_JITTER_SEED = 20260113
_MULTIPLY = re.compile(r"(\d+)\s*\*\s*(\d+)")
_SHELL_ARITHMETIC = re.compile(r"\$\(\((\d+)\*(\d+)\)\)")


def _shell(command: str, workdir: str) -> str:
    if _FORBIDDEN.search(command):
        return "refused by the test app's guard"
    done = subprocess.run(
        command,
        shell=True,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        cwd=workdir,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.stdout


def _argument(value: str) -> str:
    done = subprocess.run(["echo", value], capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return done.stdout


def command_app() -> Flask:
    """Routes: /shell and /args (output shown), /shell-blind and /args-blind (a fixed answer),
    /quoted (inside double quotes), POST /ping (JSON `host`, through a shell), /header (header
    `X-Name`, through a shell), then the shell-free /greet, /calc, /instant, /dollar,
    /jitter, /slow, /picky, /tarpit, /poll and /wait."""
    app = Flask(__name__)
    workdir = tempfile.mkdtemp(prefix="probe-command-app-")

    def shell(value: str) -> str:
        return _shell(f"echo {value}", workdir)

    @app.get("/shell")
    def shell_route() -> ResponseReturnValue:
        return jsonify(output=shell(request.args.get("name", "")))

    @app.get("/args")
    def args() -> ResponseReturnValue:
        return jsonify(output=_argument(request.args.get("name", "")))

    @app.get("/shell-blind")
    def shell_blind() -> ResponseReturnValue:
        shell(request.args.get("name", ""))
        return jsonify(status="queued")

    @app.get("/args-blind")
    def args_blind() -> ResponseReturnValue:
        _argument(request.args.get("name", ""))
        return jsonify(status="queued")

    @app.get("/quoted")
    def quoted() -> ResponseReturnValue:
        name = request.args.get("name", "")
        return jsonify(output=_shell(f'echo "Hello {name}"', workdir))

    @app.post("/ping")
    def ping() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        return jsonify(result=shell(str(body.get("host", ""))))

    @app.get("/header")
    def header() -> ResponseReturnValue:
        return jsonify(output=shell(request.headers.get("X-Name", "")))

    _no_shell_routes(app)
    _slow_routes(app)
    return app


def _no_shell_routes(app: Flask) -> None:
    """Routes that compute or echo, never through a shell."""

    @app.get("/greet")
    def greet() -> ResponseReturnValue:
        return jsonify(greeting=f"hello {request.args.get('name', '')}")

    @app.get("/calc")
    def calc() -> ResponseReturnValue:
        query = request.args.get("q", "")
        answer: dict[str, object] = {"results": [query.split(";")[0]]}
        if found := _MULTIPLY.search(query):
            a, b = int(found[1]), int(found[2])
            answer["instant_answer"] = f"{a} * {b} = {a * b}"
        return jsonify(answer)

    @app.get("/instant")
    def instant() -> ResponseReturnValue:
        query = request.args.get("q", "")
        found = _MULTIPLY.search(query)
        return jsonify(results=[], answer=int(found[1]) * int(found[2]) if found else None)

    @app.get("/dollar")
    def dollar() -> ResponseReturnValue:
        query = request.args.get("q", "")
        found = _SHELL_ARITHMETIC.search(query)
        return jsonify(value=int(found[1]) * int(found[2]) if found else query)


def _slow_routes(app: Flask) -> None:
    """Routes whose latency is the point: none of them runs a shell."""
    chance = random.Random(_JITTER_SEED)

    @app.get("/jitter")
    def jitter() -> ResponseReturnValue:
        time.sleep(chance.uniform(0, 3))
        return jsonify(status="ok")

    @app.get("/slow")
    def slow() -> ResponseReturnValue:
        time.sleep(0.6)
        return jsonify(status="ok")

    @app.get("/picky")
    def picky() -> ResponseReturnValue:
        if not request.args.get("name", "").isalnum():
            time.sleep(0.6)
            return jsonify(error="invalid characters"), 400
        return jsonify(status="ok")

    @app.get("/tarpit")
    def tarpit() -> ResponseReturnValue:
        if "sleep" in request.args.get("name", ""):
            time.sleep(2.5)
            return jsonify(error="rejected"), 400
        return jsonify(status="ok")

    @app.get("/poll")
    def poll() -> ResponseReturnValue:
        digits = int("".join(c for c in request.args.get("wait", "") if c.isdigit()) or "0")
        time.sleep(digits if digits <= 10 else 0)
        return jsonify(events=[])

    @app.get("/wait")
    def wait() -> ResponseReturnValue:
        asked = request.args.get("s", "0")
        seconds = int(asked) if asked.isdigit() and int(asked) <= 10 else 0
        time.sleep(seconds)
        return jsonify(waited=seconds)
