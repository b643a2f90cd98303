"""A real app for the command family's tests (Flask), each weak route beside its hardened twin.

The weak routes run a harmless `echo` with the user's value through `/bin/sh`
(`subprocess.run(f"echo {name}", shell=True)`): a separator in the value runs whatever follows,
and in these tests that is only what the probe sends (`echo`, `expr`, shell arithmetic,
`sleep`). Their twins pass the value as one argument (`["echo", name]`), where no shell reads
it. `/greet` echoes the value back verbatim (the operands appear, never their product), and
`/jitter` ignores it and answers after a random 0 to 3 s. `/wait?s=N` runs no command at all:
it waits N seconds (0 to 10), the ideal delay that `prove_delay`'s own tests ask for.
"""

from __future__ import annotations

import random
import subprocess
import time

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

#: A command that hangs must not hold a test's server thread for long.
COMMAND_TIMEOUT = 30


def _shell(value: str) -> str:
    done = subprocess.run(
        f"echo {value}", shell=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    return done.stdout


def _argument(value: str) -> str:
    done = subprocess.run(["echo", value], capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return done.stdout


def command_app() -> Flask:
    """Routes: /shell and /args (output shown), /shell-blind and /args-blind (a fixed answer),
    POST /ping (JSON `host`, through a shell), /header (header `X-Name`, through a shell),
    /greet (verbatim echo), /jitter (random delay) and /wait (waits `s` seconds)."""
    app = Flask(__name__)

    @app.get("/shell")
    def shell() -> ResponseReturnValue:
        return jsonify(output=_shell(request.args.get("name", "")))

    @app.get("/args")
    def args() -> ResponseReturnValue:
        return jsonify(output=_argument(request.args.get("name", "")))

    @app.get("/shell-blind")
    def shell_blind() -> ResponseReturnValue:
        _shell(request.args.get("name", ""))
        return jsonify(status="queued")

    @app.get("/args-blind")
    def args_blind() -> ResponseReturnValue:
        _argument(request.args.get("name", ""))
        return jsonify(status="queued")

    @app.post("/ping")
    def ping() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        return jsonify(result=_shell(str(body.get("host", ""))))

    @app.get("/header")
    def header() -> ResponseReturnValue:
        return jsonify(output=_shell(request.headers.get("X-Name", "")))

    @app.get("/greet")
    def greet() -> ResponseReturnValue:
        return jsonify(greeting=f"hello {request.args.get('name', '')}")

    @app.get("/jitter")
    def jitter() -> ResponseReturnValue:
        time.sleep(random.uniform(0, 3))
        return jsonify(status="ok")

    @app.get("/wait")
    def wait() -> ResponseReturnValue:
        asked = request.args.get("s", "0")
        seconds = int(asked) if asked.isdigit() and int(asked) <= 10 else 0
        time.sleep(seconds)
        return jsonify(waited=seconds)

    return app
