"""The headers probe's pure parsers and judges, called directly (no network).

Property tests (hypothesis) check that no parser crashes on any text, that ASCII letter case
never changes a verdict, and that non-ASCII look-alikes (dotted capital I, the Kelvin sign, the
long s) are never folded into ASCII names or tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probe.exchange import Exchange, RequestRecord, ResponseRecord
from probe.findings import Severity
from probe.probes.header_access import (
    judge_cache_control,
    judge_cookie,
    judge_cors,
    parse_cache_control,
    parse_set_cookie,
)
from probe.probes.header_csp import (
    HEAD_LIMIT,
    csp_problems,
    judge_framing,
    meta_csp,
    meta_referrer,
    meta_tags,
    parse_csp,
    parse_policy,
    response_policies,
    script_weaknesses,
)
from probe.probes.header_families import framing, html_document, secondary_cap
from probe.probes.header_judges import (
    Hsts,
    hsts_error,
    judge_hsts,
    judge_json_content_type,
    judge_nosniff,
    judge_referrer_policy,
    parse_hsts,
    referrer_policy,
    version_banner,
    xfo_blocks_framing,
)
from probe.probes.header_values import Problem, ascii_lower, split_quoted, unquote, values_named
from probe.probes.headers import elsewhere_hits, split_own

DOTTED_I = "\u0130"  # İ: str.lower() makes it "i" + a combining dot
KELVIN = "\u212a"  # K: str.lower() makes it "k"
LONG_S = "\u017f"  # ſ: str.upper() makes it "S"
# No per-example deadline: the suite runs beside other work on small machines.
relaxed = settings(deadline=None)


def flip_case(data: st.DataObject, text: str) -> str:
    """The text with each ASCII letter in a random case, everything else untouched."""
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(
        c.swapcase() if flip and c.isascii() and c.isalpha() else c
        for c, flip in zip(text, flips, strict=True)
    )


def problem_names(problems: Iterable[Problem]) -> list[str]:
    return [p.name for p in problems]


# -- ASCII-only folding ------------------------------------------------------------------------


@relaxed
@given(st.text())
def test_ascii_lower_folds_only_ascii_letters(text: str) -> None:
    lowered = ascii_lower(text)
    assert len(lowered) == len(text)
    for before, after in zip(text, lowered, strict=True):
        assert after == (before.lower() if "A" <= before <= "Z" else before)


def test_non_ascii_look_alikes_are_not_header_names() -> None:
    lines = [(f"Set-Coo{KELVIN}ie", "a=1"), (f"X-Frame-Opt{DOTTED_I}ons", "DENY")]
    assert values_named(lines, "set-cookie") == []
    assert values_named(lines, "x-frame-options") == []
    assert values_named([("SET-COOKIE", "a=1")], "set-cookie") == ["a=1"]


def test_non_ascii_look_alikes_are_not_tokens() -> None:
    assert judge_nosniff([f"nosn{DOTTED_I}ff"]).problems
    assert judge_nosniff([f"no{LONG_S}niff"]).problems
    assert not judge_nosniff(["NoSniff"]).problems
    assert xfo_blocks_framing([f"SAMEOR{DOTTED_I}GIN"])[0] is False
    policy = parse_hsts(f"max-age=31536000; {DOTTED_I}ncludeSubDomains")
    assert policy is None or not policy.include_subdomains
    cookie = judge_cookie(f"a=1; Secure; HttpOnly; SameSite=Str{DOTTED_I}ct", https=True)
    assert problem_names(cookie) == ["cookie-no-samesite"]
    assert version_banner(f"X-Powered-By{KELVIN}", "PHP/8.1") is None


@relaxed
@given(st.lists(st.tuples(st.text(), st.text()), max_size=5), st.text(), st.data())
def test_header_lookup_ignores_ascii_case_of_names(
    lines: list[tuple[str, str]], name: str, data: st.DataObject
) -> None:
    flipped = [(flip_case(data, key), value) for key, value in lines]
    assert values_named(flipped, name) == values_named(lines, name)
    assert values_named(lines, flip_case(data, name)) == values_named(lines, name)


@relaxed
@given(st.lists(st.text(), max_size=3), st.data())
def test_token_headers_ignore_ascii_case(values: list[str], data: st.DataObject) -> None:
    flipped = [flip_case(data, v) for v in values]
    assert bool(judge_nosniff(flipped).problems) == bool(judge_nosniff(values).problems)
    assert xfo_blocks_framing(flipped)[0] == xfo_blocks_framing(values)[0]
    assert referrer_policy(flipped) == referrer_policy(values)
    assert problem_names(judge_cache_control(flipped).problems) == problem_names(
        judge_cache_control(values).problems
    )


@relaxed
@given(
    st.sampled_from(["nosniff", "DENY", "SAMEORIGIN", "includeSubDomains"]),
    st.characters(min_codepoint=128),
    st.data(),
)
def test_a_non_ascii_character_never_makes_a_token(
    token: str, char: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(token) - 1))
    for broken in (token[:at] + char + token[at + 1 :], token[:at] + char + token[at:]):
        assert judge_nosniff([broken]).problems
        assert xfo_blocks_framing([broken])[0] is False
        policy = parse_hsts(f"max-age=31536000; {broken}")
        assert policy is None or not policy.include_subdomains


# -- HSTS --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=31536000", Hsts(31536000)),
        ("MAX-AGE=31536000; INCLUDESUBDOMAINS; Preload", Hsts(31536000, True, True)),
        ('max-age="63072000"', Hsts(63072000)),
        ("max-age = 63072000 ;; includeSubDomains;", Hsts(63072000, True)),
        ("max-age=0", Hsts(0)),
        ("max-age=" + "9" * 5000, Hsts(10**18)),
        ("max-age=31536000; unknown=1; other", Hsts(31536000)),
        ('max-age=31536000; x="a;b"', Hsts(31536000)),
    ],
)
def test_valid_hsts_values_parse(value: str, expected: Hsts) -> None:
    assert parse_hsts(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "includeSubDomains",
        "max-age=",
        "max-age",
        "max-age=abc",
        "max-age=-1",
        "max-age=1.5",
        "max-age=\u0663\u0660",  # Arabic-Indic digits are not ASCII digits
        "max-age=1; max-age=1",
        "max-age=1; MAX-AGE=2",
        "max-age=1; includeSubDomains; includesubdomains",
        "max-age=31536000, max-age=0",
        'max-age="1',
        "max age=1",
        "=1; max-age=1",
    ],
)
def test_malformed_hsts_values_are_void(value: str) -> None:
    assert parse_hsts(value) is None
    assert hsts_error(value)


def test_missing_hsts_is_reported() -> None:
    assert problem_names(judge_hsts([], "https").problems) == ["hsts-missing"]


def test_hsts_max_age_zero_is_reported() -> None:
    assert problem_names(judge_hsts(["max-age=0"], "https").problems) == ["hsts-disabled"]


def test_hsts_below_one_year_is_reported() -> None:
    verdict = judge_hsts(["max-age=31535999"], "https")
    assert problem_names(verdict.problems) == ["hsts-short"]
    assert not judge_hsts(["max-age=31536000"], "https").problems


def test_two_hsts_lines_are_low_and_only_the_first_counts() -> None:
    verdict = judge_hsts(["max-age=600", "max-age=63072000"], "https")
    assert problem_names(verdict.problems) == ["hsts-multiple", "hsts-short"]
    assert verdict.problems[0].severity is None  # the rule's default: low


def test_identical_hsts_lines_are_only_info() -> None:
    verdict = judge_hsts(["max-age=63072000", "MAX-AGE=63072000"], "https")
    assert problem_names(verdict.problems) == ["hsts-multiple"]
    assert verdict.problems[0].severity == Severity.info


def test_hsts_over_plain_http_is_not_credited() -> None:
    verdict = judge_hsts(["max-age=63072000"], "http")
    assert verdict.skipped is not None
    assert "ignored" in verdict.skipped
    assert not verdict.passed


@relaxed
@given(st.text(), st.data())
def test_hsts_parsing_ignores_ascii_case_and_never_crashes(text: str, data: st.DataObject) -> None:
    assert parse_hsts(flip_case(data, text)) == parse_hsts(text)


@relaxed
@given(st.lists(st.text(), max_size=3), st.sampled_from(["http", "https", "HTTPS", ""]))
def test_judge_hsts_never_crashes(values: list[str], scheme: str) -> None:
    judge_hsts(values, scheme)


@relaxed
@given(st.text(), st.sampled_from([";", ","]))
def test_splitting_keeps_every_character(text: str, sep: str) -> None:
    assert sep.join(split_quoted(text, sep)) == text
    unquote(text)


# -- framing and CSP ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "blocks"),
    [
        (["DENY"], True),
        (["sameorigin"], True),
        ([" SameOrigin "], True),
        (["ALLOW-FROM https://a.test"], False),
        (["ALLOWALL"], False),
        ([], False),
        ([""], False),
        (["DENY", "SAMEORIGIN"], True),  # conflicting values: browsers block
        (["DENY, DENY"], True),
        (["nonsense", "other"], False),
    ],
)
def test_x_frame_options_as_the_html_standard_checks_it(values: list[str], blocks: bool) -> None:
    assert xfo_blocks_framing(values)[0] is blocks


def _framing(*lines: tuple[str, str]) -> bool:
    return not judge_framing(lines, response_policies(lines)).problems


def test_frame_ancestors_counts_and_overrides_x_frame_options() -> None:
    assert _framing(("Content-Security-Policy", "frame-ancestors 'none'"))
    assert _framing(("Content-Security-Policy", "FRAME-ANCESTORS https://a.test"))
    assert not _framing(
        ("Content-Security-Policy", "frame-ancestors *"), ("X-Frame-Options", "DENY")
    )
    assert not _framing(("Content-Security-Policy", "frame-ancestors https:"))
    assert _framing(("Content-Security-Policy", "frame-ancestors *.a.test"))
    assert _framing(
        ("Content-Security-Policy-Report-Only", "frame-ancestors *"), ("X-Frame-Options", "DENY")
    )


def test_meta_frame_ancestors_is_ignored() -> None:
    page = '<head><meta http-equiv="Content-Security-Policy" content="frame-ancestors \'none\'">'
    policies = response_policies((), meta_csp(page))
    assert judge_framing((), policies).problems


def _weak(*values: str) -> list[str]:
    policies = [p for v in values for p in parse_csp(v)]
    return script_weaknesses(policies)


@pytest.mark.parametrize(
    ("values", "weak"),
    [
        (["default-src 'self'"], False),
        (["script-src 'self' 'unsafe-inline'"], True),
        (["script-src 'self' 'UNSAFE-INLINE' 'nonce-abc'"], False),
        (["script-src 'unsafe-inline' 'sha256-abc='"], False),
        (["script-src 'unsafe-inline' 'strict-dynamic' 'nonce-a'"], False),
        (["script-src 'self' 'unsafe-eval'"], True),
        (["default-src *"], True),
        (["default-src https:"], True),
        (["script-src data:"], True),
        (["script-src https://*"], True),
        (["script-src *.cdn.test"], False),
        (["script-src 'strict-dynamic' 'nonce-a' https:"], False),
        (["img-src *; script-src 'self'"], False),
        (["default-src 'self'; script-src-attr 'unsafe-inline'"], True),
        (["frame-ancestors 'none'"], True),  # scripts unrestricted
        (["script-src 'unsafe-inline'", "script-src 'self'"], False),  # both enforced
        (["script-src 'unsafe-inline', script-src 'self'"], False),  # comma: two policies
        (["script-src 'self'; script-src 'unsafe-inline'"], False),  # first directive wins
        ([f"default-src 'self'; script-src 'unsafe-{DOTTED_I}nline'"], False),
    ],
)
def test_csp_script_weaknesses(values: list[str], weak: bool) -> None:
    assert bool(_weak(*values)) is weak


def test_csp_unsafe_names_what_is_wrong() -> None:
    weak = _weak("script-src 'self' 'unsafe-inline' 'unsafe-eval' *")
    assert len(weak) == 3
    assert "wildcard source *" in weak[2]


def test_report_only_alone_enforces_nothing() -> None:
    lines = (("Content-Security-Policy-Report-Only", "default-src 'self'"),)
    verdict = csp_problems(lines, response_policies(lines))
    assert problem_names(verdict.problems) == ["csp-report-only"]


def test_no_policy_at_all_is_missing() -> None:
    assert problem_names(list(csp_problems((), []).problems)) == ["csp-missing"]


def test_meta_policy_counts_as_a_csp() -> None:
    page = "<html><head><meta http-equiv=content-security-policy content=\"default-src 'self'\">"
    verdict = csp_problems((), response_policies((), meta_csp(page)))
    assert not verdict.problems
    assert "<meta>" in verdict.passed


def test_meta_policy_drops_directives_browsers_ignore_there() -> None:
    policy = parse_policy(
        "default-src 'self'; frame-ancestors 'none'; report-uri /r; sandbox", source="meta"
    )
    assert set(policy.directives) == {"default-src"}


@relaxed
@given(st.text(), st.data())
def test_csp_verdicts_ignore_ascii_case(text: str, data: st.DataObject) -> None:
    assert bool(_weak(flip_case(data, text))) == bool(_weak(text))


# -- <meta> tags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "found"),
    [
        ('<meta http-equiv="Content-Security-Policy" content="a">', ["a"]),
        (
            "<!DOCTYPE html><HTML><HEAD><META HTTP-EQUIV='CONTENT-SECURITY-POLICY' CONTENT='b'>",
            ["b"],
        ),
        ("<meta http-equiv=Content-Security-Policy content=c>", ["c"]),
        ('<meta http-equiv="content-security-policy" content="&#39;self&#39;">', ["'self'"]),
        (
            "<head><title>x</title></head>\n<meta http-equiv=content-security-policy content=d>",
            ["d"],
        ),
        ("<!-- <meta http-equiv=content-security-policy content=x> -->", []),
        ("<script>'<meta http-equiv=content-security-policy content=x>'</script>", []),
        ("<body><meta http-equiv=content-security-policy content=x>", []),
        ("text<meta http-equiv=content-security-policy content=x>", []),
        ('<meta http-equiv="Content-Security-Policy-Report-Only" content="x">', []),
        ('<meta http-equiv="Content-Security-Policy">', []),
        ('<meta http-equiv="Content-Security-Policy" content="unclosed', []),
        ('<meta content="first" content="second" http-equiv=content-security-policy>', ["first"]),
        ("\ufeff<meta http-equiv=content-security-policy content=e>", ["e"]),
    ],
)
def test_meta_csp_is_read_from_the_head_only(page: str, found: list[str]) -> None:
    assert meta_csp(page) == found


def test_meta_referrer_is_read() -> None:
    assert meta_referrer('<meta name="Referrer" content="no-referrer">') == ["no-referrer"]


@relaxed
@given(st.text())
def test_meta_parsing_never_crashes(text: str) -> None:
    meta_tags(text)
    meta_tags("<head>" + text)


@pytest.mark.parametrize(
    "page",
    [
        "<meta " * 200_000,
        "<!--" * 200_000,
        '<meta content="' + "a" * 1_000_000,
        "<" * 1_000_000,
        "<meta a=" * 200_000,
        "<script>" + "</scrip" * 100_000,
        "<meta " + "a " * 500_000,
    ],
)
def test_meta_parsing_stays_linear_on_hostile_pages(page: str) -> None:
    started = time.monotonic()
    meta_tags(page)
    assert time.monotonic() - started < 5.0  # quadratic work on 1 MB would take minutes
    assert HEAD_LIMIT < 1_000_000


# -- Referrer-Policy, Permissions-Policy, nosniff ----------------------------------------------


@pytest.mark.parametrize(
    ("values", "policy"),
    [
        (["no-referrer"], "no-referrer"),
        (["NO-REFERRER"], "no-referrer"),
        (["no-referrer, strict-origin-when-cross-origin"], "strict-origin-when-cross-origin"),
        (["strict-origin", "bogus"], "strict-origin"),
        (["bogus"], None),
        ([], None),
    ],
)
def test_referrer_policy_takes_the_last_recognised_token(
    values: list[str], policy: str | None
) -> None:
    assert referrer_policy(values) == policy


def test_legacy_meta_referrer_keywords_count() -> None:
    assert not judge_referrer_policy([], ["never"]).problems
    assert judge_referrer_policy(["bogus"], []).problems


def test_nosniff_takes_the_first_value() -> None:
    assert not judge_nosniff(["nosniff, other"]).problems
    assert judge_nosniff(["other, nosniff"]).problems
    assert not judge_nosniff([" NOSNIFF ", "other"]).problems


# -- cookies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "https", "names"),
    [
        ("id=1; Secure; HttpOnly; SameSite=Lax", True, []),
        ("id=1; SECURE; HTTPONLY; SAMESITE=STRICT", True, []),
        ("id=1; secure; httponly; samesite=None", True, []),
        ("id=1", True, ["cookie-no-secure", "cookie-no-httponly", "cookie-no-samesite"]),
        ("id=1; HttpOnly; SameSite=Lax", False, []),  # Secure is not judged on plain HTTP
        ("id=1; Secure; HttpOnly; SameSite=Sometimes", True, ["cookie-no-samesite"]),
        ("csrftoken=1; Secure; SameSite=Lax", True, []),
        ("XSRF-TOKEN=1; Secure; SameSite=Lax", True, []),
        ("id=; Path=/", True, []),
        ("id=1; Max-Age=0", True, []),
        ("id=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", True, []),
        (
            "id=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Secure; HttpOnly",
            True,
            ["cookie-no-samesite"],
        ),
        ("id=1;Secure;HttpOnly;SameSite=Lax", True, []),
    ],
)
def test_cookie_attributes(line: str, https: bool, names: list[str]) -> None:
    assert problem_names(judge_cookie(line, https=https)) == names


def test_cookie_names_keep_their_case() -> None:
    cookie = parse_set_cookie("SessionID=abc; Path=/")
    assert cookie.name == "SessionID"
    assert cookie.attributes == {"path": "/"}


@relaxed
@given(st.text(), st.booleans())
def test_cookie_judge_never_crashes(line: str, https: bool) -> None:
    judge_cookie(line, https=https)


@relaxed
@given(st.text(), st.data())
def test_cookie_attributes_ignore_ascii_case(attrs: str, data: st.DataObject) -> None:
    line = "id=1; " + attrs
    flipped = "id=1; " + flip_case(data, attrs)
    assert problem_names(judge_cookie(line, https=True)) == problem_names(
        judge_cookie(flipped, https=True)
    )


# -- version banners ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "versioned"),
    [
        ("Server", "nginx/1.18.0", True),
        ("server", "Apache/2.4.41 (Ubuntu)", True),
        ("Server", "Microsoft-IIS/10.0", True),
        ("Server", "Jetty(9.4.44.v20210927)", True),
        ("Server", "Werkzeug/3.0.1 Python/3.11.2", True),
        ("X-Powered-By", "PHP/8.1.2", True),
        ("X-Powered-By", "Express", False),
        ("X-AspNet-Version", "4.0.30319", True),
        ("X-ASPNETMVC-VERSION", "5.2", True),
    ],
)
def test_version_banners_are_recognised(name: str, value: str, versioned: bool) -> None:
    banner = version_banner(name, value)
    assert banner is not None
    assert banner.versioned is versioned


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Server", "nginx"),
        ("Server", "cloudflare"),
        ("Server", "AmazonS3"),
        ("Server", "ECS (dcb/7F84)"),
        ("Server", "uvicorn"),
        ("X-Request-Id", "v1.2.3"),
        ("X-Powered-By", "   "),
    ],
)
def test_harmless_headers_are_not_banners(name: str, value: str) -> None:
    assert version_banner(name, value) is None


@relaxed
@given(st.text(), st.text())
def test_banner_judge_never_crashes(name: str, value: str) -> None:
    version_banner(name, value)


# -- Cache-Control -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "name", "severity"),
    [
        ([], "cache-missing", None),
        ([""], "cache-missing", None),
        (["public, max-age=60"], "cache-public", None),
        (["S-MAXAGE=60"], "cache-public", None),
        (["private, max-age=600"], "cache-weak", Severity.low),
        (["no-cache"], "cache-weak", Severity.info),
        (["max-age=0, private"], "cache-weak", Severity.info),
        (["must-revalidate"], "cache-weak", Severity.low),
    ],
)
def test_cache_control_on_authenticated_answers(
    values: list[str], name: str, severity: Severity | None
) -> None:
    problems = judge_cache_control(values).problems
    assert problem_names(list(problems)) == [name]
    assert problems[0].severity == severity


@pytest.mark.parametrize(
    "values", [["no-store"], ["NO-STORE, public"], ["private", "no-store"], ['no-store="x"']]
)
def test_no_store_in_any_line_or_case_is_fine(values: list[str]) -> None:
    assert not judge_cache_control(values).problems


def test_quoted_commas_do_not_split_cache_directives() -> None:
    assert set(parse_cache_control(['private="set-cookie, x", max-age=5'])) == {
        "private",
        "max-age",
    }


@relaxed
@given(st.lists(st.text(), max_size=3))
def test_cache_judge_never_crashes(values: list[str]) -> None:
    judge_cache_control(values)


# -- CORS --------------------------------------------------------------------------------------

FOREIGN = "https://probe-cors-check.invalid"


def _cors(sent: str | None, *lines: tuple[str, str]) -> list[str]:
    return problem_names(judge_cors(sent, lines))


def test_reflected_origin_with_credentials_is_reported() -> None:
    lines = (("Access-Control-Allow-Origin", FOREIGN), ("Access-Control-Allow-Credentials", "true"))
    assert _cors(FOREIGN, *lines) == ["cors-reflected-origin"]
    assert _cors(None, *lines) == []  # not ours: a fixed origin as far as we know


def test_null_origin_with_credentials_is_reported() -> None:
    lines = (("access-control-allow-origin", "null"), ("access-control-allow-credentials", "true"))
    assert _cors("null", *lines) == ["cors-null-origin"]
    assert _cors(FOREIGN, *lines) == ["cors-null-origin"]


def test_wildcard_with_credentials_is_low_and_without_is_info() -> None:
    star = ("Access-Control-Allow-Origin", "*")
    assert _cors(FOREIGN, star, ("Access-Control-Allow-Credentials", "true")) == [
        "cors-wildcard-credentials"
    ]
    assert _cors(FOREIGN, star) == ["cors-any-origin"]


def test_fixed_trusted_origin_is_fine() -> None:
    lines = (
        ("Access-Control-Allow-Origin", "https://app.example.test"),
        ("Access-Control-Allow-Credentials", "true"),
    )
    assert _cors(FOREIGN, *lines) == []


def test_cors_headers_are_compared_as_browsers_do() -> None:
    reflected = ("Access-Control-Allow-Origin", FOREIGN)
    # Browsers accept credentials only for exactly `true`, and fail on several ACAO lines.
    assert _cors(FOREIGN, reflected, ("Access-Control-Allow-Credentials", "TRUE")) == [
        "cors-any-origin"
    ]
    assert _cors(FOREIGN, reflected, reflected, ("Access-Control-Allow-Credentials", "true")) == []
    assert _cors(FOREIGN, reflected) == ["cors-any-origin"]
    assert _cors(FOREIGN) == []


@relaxed
@given(st.one_of(st.none(), st.text()), st.lists(st.tuples(st.text(), st.text()), max_size=4))
def test_cors_judge_never_crashes(sent: str | None, lines: list[tuple[str, str]]) -> None:
    judge_cors(sent, lines)


# -- JSON under another Content-Type -----------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "body", "severity"),
    [
        (["text/html; charset=utf-8"], b'{"a": 1}', Severity.medium),
        (["text/plain"], b"[1, 2]", None),
        ([], b' {"a": 1}', None),
    ],
)
def test_json_under_another_type_is_reported(
    types: list[str], body: bytes, severity: Severity | None
) -> None:
    problem = judge_json_content_type(types, body, truncated=False)
    assert problem is not None
    assert problem.severity == severity


@pytest.mark.parametrize(
    ("types", "body", "truncated"),
    [
        (["application/json"], b'{"a": 1}', False),
        (["Application/JSON; charset=utf-8"], b'{"a": 1}', False),
        (["application/problem+json"], b'{"a": 1}', False),
        (["text/json"], b"[]", False),
        (["text/plain"], b"123", False),  # a bare number is not an API document
        (["text/html"], b"{not json}", False),
        (["text/html"], b'{"a": ', True),
    ],
)
def test_json_served_as_json_or_non_json_bodies_are_fine(
    types: list[str], body: bytes, truncated: bool
) -> None:
    assert judge_json_content_type(types, body, truncated) is None


@relaxed
@given(st.lists(st.text(), max_size=2), st.binary(), st.booleans())
def test_json_type_judge_never_crashes(types: list[str], body: bytes, truncated: bool) -> None:
    judge_json_content_type(types, body, truncated)


@relaxed
@given(st.text())
def test_csp_parsing_never_crashes(text: str) -> None:
    policies = [*parse_csp(text), parse_policy(text, source="meta")]
    script_weaknesses(policies)
    csp_problems((), policies)
    judge_framing((("X-Frame-Options", text),), policies)


# -- which answers are an endpoint's own, and which bodies are HTML pages ----------------------

_HTML_PAGE = b"<!doctype html><html><body>hi</body></html>"
_JSON = b'{"status": "ok", "note": "<b>bold</b>"}'


def answer(
    seq: int,
    url: str,
    status: int = 200,
    media: str | None = "text/html",
    body: bytes = _HTML_PAGE,
    *,
    method: str = "GET",
    lines: tuple[tuple[str, str], ...] = (),
) -> Exchange:
    """An exchange of the endpoint labelled "ep" with the given answer."""
    headers = ((("Content-Type", media),) if media else ()) + lines
    response = ResponseRecord(status, "HTTP/1.1", headers, body)
    return Exchange(seq, "errors", "ep", None, "t", RequestRecord(method, url), response)


@pytest.mark.parametrize(
    ("media", "body", "truncated", "page"),
    [
        ("text/html", _HTML_PAGE, False, True),
        ("text/html", _JSON, False, False),
        ("text/html; charset=utf-8", b"  [1, 2, 3]", False, False),
        ("text/html", b'{"cut": "off', True, True),
        ("text/html", b"[if IE]<p>old</p>", False, True),
        (None, _HTML_PAGE, False, True),
        ("application/json", _JSON, False, False),
    ],
)
def test_only_a_body_that_is_not_json_is_an_html_page(
    media: str | None, body: bytes, truncated: bool, page: bool
) -> None:
    headers = (("Content-Type", media),) if media else ()
    response = ResponseRecord(200, "HTTP/1.1", headers, body, truncated)
    assert html_document(response) is page


def test_json_served_as_html_skips_framing_and_caps_errors_at_info() -> None:
    verdict = framing(answer(1, "http://t/api/status", body=_JSON))
    assert verdict.skipped is not None
    assert "the body is JSON" in verdict.skipped
    assert secondary_cap(answer(2, "http://t/api/x", 404, body=_JSON)) == Severity.info
    assert secondary_cap(answer(3, "http://t/api/x", 404)) == Severity.low


def test_only_the_endpoint_method_and_path_are_its_own() -> None:
    base = "http://t/api/account"
    same_query = answer(1, base + "?q=AAAA")
    unknown = answer(2, base + "/prb1234-missing")
    invented = answer(3, base, 405, method="PRBX")
    baseline = answer(4, base, 401, "application/json", _JSON)
    preflight = answer(5, base, 204, method="OPTIONS")
    exchanges = [same_query, unknown, invented, baseline, preflight]
    own, other = split_own(exchanges, ("GET", "/api/account"), [preflight])
    assert own == [same_query, baseline, preflight]
    assert other == [unknown, invented]


def test_banner_elsewhere_is_new_only_and_named_by_its_url() -> None:
    banner = (("X-Powered-By", "PHP/5.6.40"),)
    unknown = answer(1, "http://t/api/a/prb1-missing", lines=banner)
    again = answer(2, "http://t/api/b/prb1-missing?x=1", lines=banner)
    hits = elsewhere_hits([again, unknown], [])
    assert [(h.label, h.problem.name, h.severity) for h in hits] == [
        ("GET /api/a/prb1-missing", "version-banner", Severity.low)
    ]
    assert elsewhere_hits([unknown], hits) == []


@pytest.mark.parametrize(
    "media",
    ["application/x-amz-json-1.1", "application/x-ndjson", "application/jsonl"],
)
def test_vendor_json_types_are_json(media: str) -> None:
    assert judge_json_content_type([media], b'{"a": 1}', False) is None


def test_json_served_as_html_is_still_reported() -> None:
    problem = judge_json_content_type(["text/html"], b'{"a": 1}', False)
    assert problem is not None
    assert problem.severity is Severity.medium


@pytest.mark.parametrize(("status", "body"), [(204, b""), (200, b"")])
def test_an_answer_without_a_body_needs_no_cache_control(status: int, body: bytes) -> None:
    from probe.probes.header_families import cache

    verdict = cache(answer(1, "http://127.0.0.1/api/ep", status=status, body=body))
    assert verdict.skipped is not None
    assert not verdict.problems
