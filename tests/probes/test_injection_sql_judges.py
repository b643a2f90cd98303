"""The SQL family's payloads and judges, called directly."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probe.compare import Reference
from probe.exchange import ResponseRecord
from probe.probes.injection_sql_judges import (
    SLEEP_ENGINES,
    conditions,
    confirmed_error,
    database_errors,
    error_pairs,
    judge_boolean,
    judge_false,
    judge_true,
    new_errors,
    sleepers,
)

WRITES = re.compile(r"\b(?:DROP|DELETE|UPDATE|INSERT|ALTER|TRUNCATE|CREATE|OR)\b", re.I)


def answer(body: str | Mapping[str, object], status: int = 200, kind: str = "") -> ResponseRecord:
    """A response with a text or JSON body."""
    if not isinstance(body, str):
        return ResponseRecord(
            status,
            "HTTP/1.1",
            (("Content-Type", "application/json"),),
            json.dumps(dict(body)).encode(),
        )
    headers = (("Content-Type", kind),) if kind else ()
    return ResponseRecord(status, "HTTP/1.1", headers, body.encode())


ROW = {"id": 1, "name": "widget"}
SQLITE = {"error": "sqlite3.OperationalError: unrecognized token: \"'a'\""}
MYSQL = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL"
ORACLE = "ORA-01756: quoted string not properly terminated"
PG_TYPE = {"error": 'invalid input syntax for type integer: "1prb\'"'}


# -- error-based --------------------------------------------------------------------------------


def test_each_engine_error_is_read_by_its_signature() -> None:
    assert set(database_errors(answer(SQLITE))) == {"sqlite"}
    assert set(database_errors(answer(f"<p>{MYSQL} server version</p>", 500, "text/html"))) == {
        "mysql"
    }
    assert set(database_errors(answer(ORACLE, 500))) == {"oracle"}
    assert database_errors(answer("SQL syntax error near the quote", 500)) == {}
    assert database_errors(answer(ORACLE, 500, "image/png")) == {}


def test_an_engine_a_baseline_already_shows_is_no_news() -> None:
    help_page = answer('<p>sqlite3.OperationalError: near "x": syntax error</p>', 200, "text/html")
    assert new_errors(answer(SQLITE, 500), [answer(ROW), help_page]) == []
    # Another engine's error is still news beside it.
    assert [m.signature for m in new_errors(answer(ORACLE, 500), [help_page])] == ["oracle"]


def test_an_error_repeated_with_a_clean_balanced_twin_is_confirmed() -> None:
    baselines = [answer(ROW), answer(ROW)]
    match = confirmed_error(answer(SQLITE, 500), answer(SQLITE, 500), answer(ROW), baselines)
    assert match is not None
    assert match.signature == "sqlite"


def test_an_error_the_balanced_twin_shares_is_not_confirmed() -> None:
    # A bound parameter of the wrong type: the doubled quote fails the same way.
    baselines = [answer(ROW)]
    assert set(database_errors(answer(PG_TYPE, 500))) == {"postgresql"}
    assert (
        confirmed_error(answer(PG_TYPE, 500), answer(PG_TYPE, 500), answer(PG_TYPE, 500), baselines)
        is None
    )


def test_an_error_that_does_not_come_back_is_not_confirmed() -> None:
    assert confirmed_error(answer(SQLITE, 500), answer(ROW), answer(ROW), [answer(ROW)]) is None


def test_error_pairs_break_a_real_query_and_their_twins_do_not() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    templates = {
        "1": "SELECT * FROM t WHERE id = {}",
        "widget": "SELECT * FROM t WHERE name = '{}'",
    }
    for original, template in templates.items():
        pairs = error_pairs(original, "prbab12", 4821)
        first = pairs[0]
        with pytest.raises(sqlite3.Error):
            db.execute(template.format(first.breaking))
        db.execute(template.format(first.balanced))
    assert error_pairs("1", "prbab12", 4821)[0].breaking == "1-4821+4821)"
    assert error_pairs("widget", "prbab12", 4821)[0].balanced == "widgetprbab12''"


# -- boolean ------------------------------------------------------------------------------------


def test_true_matches_and_false_differs_twice_proves() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    empty = answer({"error": "no such item"}, 404)
    assert judge_true(reference, answer(ROW)).proven
    assert judge_false(reference, empty).proven
    assert judge_boolean(reference, [answer(ROW)] * 2, [empty, empty]).proven


def test_a_refused_true_condition_proves_nothing() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    refused = answer({"error": "invalid characters"}, 400)
    verdict = judge_true(reference, refused)
    assert not verdict.proven
    assert verdict.reason == "the true condition got another answer (HTTP 400)"
    assert not judge_boolean(reference, [refused, answer(ROW)], [refused, refused]).proven


def test_a_false_condition_with_the_unmodified_answer_proves_nothing() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    assert not judge_false(reference, answer(ROW)).proven
    verdict = judge_boolean(reference, [answer(ROW)] * 2, [answer({"x": 1}), answer(ROW)])
    assert verdict.reason == "the false condition got the unmodified answer too when repeated"


def test_false_answers_that_disagree_are_noise() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    falses = [answer({"items": []}), answer({"error": "busy"}, 500)]
    verdict = judge_boolean(reference, [answer(ROW)] * 2, falses)
    assert not verdict.proven
    assert "differ from each other" in verdict.reason


def test_conditions_hold_and_fail_in_a_real_query() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    db.execute("INSERT INTO t VALUES (7, 'widget')")
    templates = {
        "7": "SELECT * FROM t WHERE id = {}",
        "widget": "SELECT * FROM t WHERE name = '{}'",
    }
    for original, template in templates.items():
        forms = conditions(original, 4821)
        fitting = (
            [c for c in forms if not c.name.startswith("string")] if original == "7" else forms
        )
        for condition in fitting:
            assert db.execute(template.format(condition.true)).fetchall(), condition
            assert not db.execute(template.format(condition.false)).fetchall(), condition
    assert [c.name for c in conditions("widget", 4821)] == ["string", "string with a comment"]
    assert [c.name for c in conditions("7", 4821)][:2] == ["numeric", "arithmetic"]


def test_only_whole_numbers_get_numeric_forms() -> None:
    for text in ("--5", "²", "1.5", "", "-", "1e3"):
        assert [c.name for c in conditions(text, 4821)] == ["string", "string with a comment"]
    assert len(error_pairs("-12", "prbab12", 4821)) == 4


@given(original=st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), n=st.integers(1000, 9998))
def test_true_and_false_values_have_the_same_length_and_no_write(original: str, n: int) -> None:
    for condition in conditions(original, n):
        assert len(condition.true) == len(condition.false)
        assert condition.true != condition.false
        # What the probe adds to the scenario's value (which may itself read "OR").
        added = (condition.true + condition.false).replace(original, " ")
        assert not WRITES.search(added)


# -- time-based ---------------------------------------------------------------------------------


def test_every_engine_sleeps_in_string_form_and_numeric_only_for_numbers() -> None:
    named = [(s.engine, s.form) for s in sleepers("widget", "prbab12", 4821)]
    assert named == [(engine, "string") for engine in SLEEP_ENGINES]
    numeric = [(s.engine, s.form) for s in sleepers("7", "prbab12", 4821)]
    assert numeric[:2] == [("PostgreSQL", "numeric"), ("PostgreSQL", "string")]
    assert len(numeric) == 2 * len(SLEEP_ENGINES)


def test_sleep_payloads_ask_for_the_seconds_and_never_write() -> None:
    payloads = {s.label: (s.payload(0), s.payload(5)) for s in sleepers("7", "prbab12", 4821)}
    assert payloads["PostgreSQL sleep, string form"][1] == "7'||(SELECT pg_sleep(5))||'"
    assert payloads["SQL Server sleep, numeric form"][0] == "7; WAITFOR DELAY '0:0:0'--prbab12"
    assert "SLEEP(5)" in payloads["MySQL/MariaDB sleep, numeric form"][1]
    assert "RECEIVE_MESSAGE('prbab12',5)" in payloads["Oracle sleep, string form"][1]
    for control, slow in payloads.values():
        assert not WRITES.search(control + slow)
        assert not re.search(r"sleep \d+s", slow, re.I)


def test_the_postgresql_string_sleep_runs_in_a_real_query_once() -> None:
    db = sqlite3.connect(":memory:")
    calls: list[float] = []

    def pg_sleep(seconds: float) -> int:
        calls.append(seconds)
        return 0

    db.create_function("pg_sleep", 1, pg_sleep)
    db.execute("CREATE TABLE t (name TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("a",), ("b",), ("c",)])
    sleeper = sleepers("a", "prbab12", 4821)[0]
    db.execute(f"SELECT * FROM t WHERE name = '{sleeper.payload(3)}'").fetchall()
    # An uncorrelated subquery: one sleep per query, not one per row.
    assert calls == [3]
