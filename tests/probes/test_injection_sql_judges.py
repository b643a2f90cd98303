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
from probe.probes.injection_sql_errors import (
    confirmed_error,
    database_errors,
    error_pairs,
    is_parser_error,
    name_pair,
    new_errors,
    other_error,
    syntax_errors,
)
from probe.probes.injection_sql_judges import (
    ORDER_BY,
    PAIRS,
    SLEEP_ENGINES,
    conditions,
    forms,
    judge_boolean,
    judge_false,
    judge_true,
    order_of,
    plan,
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


def test_a_message_a_baseline_already_shows_is_no_news() -> None:
    help_page = answer(f"<p>{SQLITE['error']}</p>", 200, "text/html")
    assert new_errors(answer(SQLITE, 500), [answer(ROW), help_page]) == []
    # Numbers and tokens are blanked: the same message about another value is no news either.
    other_value = {"error": "sqlite3.OperationalError: unrecognized token: \"'b12'\""}
    page = answer(
        "<p>sqlite3.OperationalError: unrecognized token: \"'a77'\"</p>", kind="text/html"
    )
    assert new_errors(answer(other_value, 500), [page]) == []
    # Another message of the same engine is news (a harmless value's `no such column` beside
    # a quote's `unrecognized token`), and so is another engine's.
    no_column = answer({"error": "sqlite3.OperationalError: no such column: prbab12"}, 500)
    assert [m.signature for m in new_errors(answer(SQLITE, 500), [no_column])] == ["sqlite"]
    assert [m.signature for m in new_errors(answer(ORACLE, 500), [help_page])] == ["oracle"]


SYNTAX = {
    "sqlite": 'sqlite3.OperationalError: near ")": syntax error',
    "postgresql": 'psycopg2.errors.SyntaxError: unterminated quoted string at or near "\'"',
    "mysql": "You have an error in your SQL syntax; check the manual near ''' at line 1",
    "mssql": "Unclosed quotation mark after the character string 'abc'.",
    "oracle": ORACLE,
    "sqlstate-42": "SQLSTATE[42601]: Syntax error: 7 at character 33 (')')",
}


def test_each_engine_syntax_message_counts() -> None:
    for signature, message in SYNTAX.items():
        found = syntax_errors(answer({"error": message}, 500))
        assert signature in {m.signature for m in found}, message
        assert all(m.excerpt == message for m in found)


def test_database_errors_that_place_no_quote_in_sql_syntax_do_not_count() -> None:
    for message in (
        # A connection error, a bare driver class, a type error of a bound value.
        "db: last event: SQLSTATE[08006] connection to replica lost, retrying",
        "sqlalchemy.exc.OperationalError",
        "PDOException",
        'invalid input syntax for type integer: "1prb\'"',
        # Search and JSON-path parsers reading a bound value.
        'sqlite3.OperationalError: fts5: syntax error near "\'"',
        "sqlite3.OperationalError: unterminated string",
        'psycopg2.errors.SyntaxError: syntax error at or near """ of jsonpath input',
        'syntax error in tsquery: "apple\'"',
        # Full-text parsers under SQLSTATE 42000 (MySQL's InnoDB, SQL Server).
        "SQLSTATE[42000]: Syntax error or access violation: 1064 syntax error, unexpected "
        "'\"', expecting FTS_TERM or FTS_NUMB or '*'",
        "SQLSTATE[42000]: [SQL Server]Syntax error near '\"' in the full-text search condition",
    ):
        response = answer({"error": message}, 500)
        assert syntax_errors(response) == [], message
        assert new_errors(response, [answer(ROW)]) == [], message
    assert is_parser_error('fts5: syntax error near "\'"')
    assert is_parser_error('syntax error at or near "\'" of jsonpath input')
    assert not is_parser_error('near "\'": syntax error')


def test_a_syntax_message_counts_only_on_the_line_of_the_breaking_character() -> None:
    # A status panel quoting some old syntax error is not this value's.
    page = answer('<p>Last error: near "FROM": syntax error</p>', 500, "text/html")
    assert syntax_errors(page)
    assert syntax_errors(page, "'", "prbab12") == []
    assert syntax_errors(answer(SQLITE, 500), "'", "prbab12")
    token_line = answer({"error": 'sqlite3.OperationalError: near "prbab12": syntax error'})
    assert syntax_errors(token_line, ")", "prbab12")


def test_other_errors_name_the_first_new_database_error_line() -> None:
    panel = "db: last event: SQLSTATE[08006] connection to replica lost, retrying"
    assert other_error(answer(f"<pre>{panel}</pre>", 500, "text/html"), [answer(ROW)]) == panel
    assert other_error(answer(f"<pre>{panel}</pre>", 500, "text/html"), [answer(panel)]) == ""
    assert other_error(answer(ROW), [answer(ROW)]) == ""


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


def test_a_name_breaks_an_order_by_on_a_bracket_and_its_quote_twins_err_too() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    template = "SELECT * FROM t ORDER BY {}"
    # A quote's doubled twin is no valid name either: no quote pair can be confirmed here.
    for pair in error_pairs("name", "prbab12", 4821):
        with pytest.raises(sqlite3.Error):
            db.execute(template.format(pair.balanced))
    pair = name_pair("name", "prbab12")
    with pytest.raises(sqlite3.OperationalError, match=r'near "\)": syntax error'):
        db.execute(template.format(pair.breaking))
    db.execute(template.format(pair.balanced))
    assert pair.breaking == "name/*prbab12*/)"


# -- boolean ------------------------------------------------------------------------------------


BANNERS = ({**ROW, "banner": "sale"}, {**ROW, "banner": "ship"})
EMPTY = {"error": "no such item"}


def test_true_matches_and_false_differs_through_the_series_proves() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    empty = answer(EMPTY, 404)
    assert judge_true(reference, answer(ROW)).proven
    assert judge_false(reference, empty).proven
    assert judge_boolean([answer(ROW)] * 5, [answer(ROW)] * PAIRS, [empty] * PAIRS).proven


def test_a_refused_true_condition_proves_nothing() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    refused = answer({"error": "invalid characters"}, 400)
    verdict = judge_true(reference, refused)
    assert not verdict.proven
    assert verdict.reason == "the true condition got another answer (HTTP 400)"
    assert not judge_boolean([answer(ROW)] * 2, [refused, answer(ROW)], [refused] * 2).proven


def test_a_false_condition_with_the_unmodified_answer_proves_nothing() -> None:
    reference = Reference.learn(answer(ROW), answer(ROW))
    assert not judge_false(reference, answer(ROW)).proven
    verdict = judge_boolean([answer(ROW)] * 2, [answer(ROW)] * 2, [answer({"x": 1}), answer(ROW)])
    assert not verdict.proven


def test_false_answers_that_disagree_are_noise() -> None:
    falses = [answer({"items": []}), answer({"error": "busy"}, 500)]
    verdict = judge_boolean([answer(ROW)] * 2, [answer(ROW)] * 2, falses)
    assert not verdict.proven
    assert "differ from each other" in verdict.reason


def test_a_random_field_that_varied_anywhere_is_no_difference() -> None:
    sale, ship = (answer(b) for b in BANNERS)
    # Two unmodified answers drew the same banner, a third the other: false answers that
    # differ only by their banner are no false condition's.
    verdict = judge_boolean([sale, sale, ship], [sale] * 3, [ship] * 3)
    assert not verdict.proven
    assert "only where the unmodified or true answers varied" in verdict.reason
    # The same when a true answer drew it.
    assert not judge_boolean([sale] * 3, [sale, ship, sale], [ship] * 3).proven
    # A false answer that lost the row as well differs where everything held still.
    rows = [answer({"item": ROW, "banner": b["banner"]}) for b in BANNERS]
    gone = [answer({"item": None, "banner": b["banner"]}) for b in BANNERS]
    assert judge_boolean(rows, rows, gone).proven


def test_rows_in_another_order_are_a_false_condition_only_for_the_order_by_form() -> None:
    ordered = answer({"items": [1, 2, 3]})
    shuffled = answer({"items": [3, 1, 2]})
    reference = Reference.learn(ordered, ordered)
    # Lists compare in any order...
    assert not judge_false(reference, shuffled).proven
    # ...but an ORDER BY condition is judged on the rows' order.
    assert judge_false(reference, shuffled, order_of(ordered)).proven
    assert not judge_true(reference, shuffled, order_of(ordered)).proven
    assert judge_boolean([ordered] * 2, [ordered] * 2, [shuffled] * 2, ordered=True).proven
    unsteady = judge_boolean([ordered, shuffled], [ordered] * 2, [shuffled] * 2, ordered=True)
    assert not unsteady.proven


def test_every_pair_holds_and_fails_in_a_real_query() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(7, "widget"), (2, "apple"), (5, "pear")])
    templates = {
        "numeric": ("7", "SELECT * FROM t WHERE id = {}"),
        "subquery arithmetic": ("7", "SELECT * FROM t WHERE id = {}"),
        "string": ("widget", "SELECT * FROM t WHERE name = '{}'"),
        "string with a comment": ("widget", "SELECT * FROM t WHERE name = '{}' AND id > 0"),
    }
    numbers = [1000, 4821, 8999, 9998]
    for form, (original, template) in templates.items():
        for condition in plan(form, original, numbers):
            assert db.execute(template.format(condition.true)).fetchall(), condition
            assert not db.execute(template.format(condition.false)).fetchall(), condition
    # A LIMIT takes the subquery arithmetic; an ORDER BY the CASE, rows in another order.
    for condition in plan("subquery arithmetic", "2", numbers):
        limit = "SELECT * FROM t ORDER BY id LIMIT {}"
        assert len(db.execute(limit.format(condition.true)).fetchall()) == 2
        assert len(db.execute(limit.format(condition.false)).fetchall()) == 1
    by_name = db.execute("SELECT * FROM t ORDER BY name").fetchall()
    for condition in plan(ORDER_BY, "name", numbers):
        order = "SELECT * FROM t ORDER BY {}"
        assert db.execute(order.format(condition.true)).fetchall() == by_name
        assert db.execute(order.format(condition.false)).fetchall() != by_name


def test_forms_by_original_and_shapes_alternating_with_fresh_numbers() -> None:
    assert forms("widget") == ["string", "string with a comment"]
    assert forms("name", name_position=True)[0] == ORDER_BY
    assert forms("user 1", name_position=True) == ["string", "string with a comment"]
    assert forms("7") == ["numeric", "subquery arithmetic", "string", "string with a comment"]
    series = plan("numeric", "7", [1234, 5678, 2345])
    assert [c.shape for c in series] == ["=", "<", "="]
    assert [c.true for c in series] == ["7 AND 1234=1234", "7 AND 5678<5679", "7 AND 2345=2345"]
    assert series[1].false == "7 AND 5679<5678"
    assert plan("subquery arithmetic", "7", [1234])[0].true == "(SELECT 1241)-1234"
    assert [c.name for c in conditions("widget", 4821)] == ["string", "string with a comment"]


def test_only_whole_numbers_get_numeric_forms() -> None:
    for text in ("--5", "²", "1.5", "", "-", "1e3"):
        assert [c.name for c in conditions(text, 4821)] == ["string", "string with a comment"]
    assert len(error_pairs("-12", "prbab12", 4821)) == 4


@given(
    original=st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    numbers=st.lists(st.integers(1000, 9998), min_size=PAIRS, max_size=PAIRS, unique=True),
)
def test_a_series_sends_distinct_values_of_equal_length_and_no_write(
    original: str, numbers: list[int]
) -> None:
    for form in [*forms(original), ORDER_BY]:
        series = plan(form, original, numbers)
        sent = [c.true for c in series] + [c.false for c in series]
        # Each value is new: a hash of the value draws anew for each (see the bound below).
        assert len(set(sent)) == 2 * PAIRS
        for condition in series:
            assert len(condition.true) == len(condition.false)
            # What the probe adds to the scenario's value (which may itself read "OR").
            added = (condition.true + condition.false).replace(original, " ")
            assert not WRITES.search(added)


def test_chance_passes_a_series_less_than_once_in_ten_thousand_points() -> None:
    # An answer that depends on the value but not through SQL, with two outcomes of
    # probability p and 1-p: the harmless value must draw the other outcome, the PAIRS true
    # values the unmodified one and the PAIRS false values the other. At most four forms are
    # tried at a point that is no name (the injection_sql docstring's figures).
    worst = max((1 - p) ** (PAIRS + 1) * p**PAIRS for p in (i / 1000 for i in range(1, 1000)))
    assert worst < 7.9e-6
    assert 4 * worst < 1e-4


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
