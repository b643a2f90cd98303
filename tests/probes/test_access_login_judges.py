"""The access probe's login judges on server-rendered pages and redirects: words read from the
text a user sees, the page's own text set aside, redirect targets compared, excerpts past a
nonce (built answers, no network)."""

from __future__ import annotations

from probe.compare import differing_excerpt
from probe.exchange import ResponseRecord
from probe.probes.access_login_judges import (
    judge_answers,
    locking,
    redirect_target,
    static_words,
    stop_reason,
    visible_lines,
    without_echo,
    without_nonces,
)

HINT = "<p class='hint'>For your security, accounts are locked after 10 failed attempts.</p>"


def page(message: str, extra: str = "", nonce: str = "m4OF3Ev+2ewDKrEob0SwKg==") -> ResponseRecord:
    body = (
        f"<html><head><script nonce='{nonce}' src='/app.js'></script></head><body>"
        f"<p class='error'>{message}</p><form><button type='submit' disabled>Sign in</button>"
        f"</form>{extra}</body></html>"
    )
    headers = (("Content-Type", "text/html; charset=utf-8"),)
    return ResponseRecord(200, "HTTP/1.1", headers, body.encode(), False, 0.0)


def redirect(location: str, status: int = 302) -> ResponseRecord:
    return ResponseRecord(status, "HTTP/1.1", (("Location", location),), b"", False, 0.0)


# -- words a user sees --------------------------------------------------------------------------


def test_markup_and_attributes_are_not_read() -> None:
    answer = page("Incorrect password.")
    assert "Incorrect password." in visible_lines(answer)
    assert not any("disabled" in line for line in visible_lines(answer))
    assert stop_reason(answer) is None


def test_a_lockout_message_between_tags_still_stops() -> None:
    sign = stop_reason(page("Your account is locked."))
    assert sign is not None
    assert sign.reason == "200 saying 'locked'"


def test_a_redirect_to_a_locked_page_stops() -> None:
    sign = stop_reason(redirect("/login?error=account_locked"))
    assert sign is not None
    assert "locked" in sign.reason


def test_a_hint_every_answer_holds_is_the_pages_own_text() -> None:
    known = page("Incorrect password.", HINT)
    unknown = page("No account with that email.", HINT)
    static = static_words([known, unknown, known])
    assert len(static) == 1
    assert stop_reason(known) is not None  # alone, the hint would stop
    assert stop_reason(known, static) is None
    assert stop_reason(unknown, static) is None


def test_a_lockout_on_the_known_side_only_still_stops() -> None:
    known = page("Your account is locked.", HINT)
    unknown = page("No account with that email.", HINT)
    static = static_words([known, unknown])
    sign = stop_reason(known, static)
    assert sign is not None
    assert "locked" in sign.reason


def test_a_lockout_on_both_sides_mid_run_still_stops() -> None:
    first = page("Invalid credentials.")
    later = page("Too many attempts, try again later.")
    static = static_words([first, first, later, later])
    assert stop_reason(later, static) is not None


def test_words_of_attempts_left_are_never_set_aside() -> None:
    said = page("Invalid credentials. 4 attempts remaining")
    sign = stop_reason(said, static_words([said, said]))
    assert sign is not None
    assert sign.attempts


def test_json_is_read_key_by_key() -> None:
    answer = ResponseRecord(
        401, "HTTP/1.1", (), b'{"error": "invalid", "account": {"locked": true}}', False, 0.0
    )
    assert "account.locked: True" in visible_lines(answer)
    assert stop_reason(answer) is not None


# -- redirects ----------------------------------------------------------------------------------


def test_a_redirect_target_is_its_path_and_query() -> None:
    assert redirect_target(redirect("https://shop.test/login?error=bad")) == "/login?error=bad"
    assert redirect_target(redirect("", 303)) == ""
    assert redirect_target(page("x")) is None


def test_redirects_elsewhere_per_user_are_a_difference() -> None:
    known = [redirect("/login?error=bad_password")] * 2
    unknown = [redirect("/login?error=unknown_email")] * 2
    verdict = judge_answers(known, unknown)
    assert verdict.differs == "redirect target"
    assert "'/login?error=bad_password' for the known user" in verdict.detail


def test_the_same_redirect_with_the_user_echoed_is_no_difference() -> None:
    known = [without_echo(redirect("/login?email=alice%40x.test"), "alice@x.test")] * 2
    unknown = [without_echo(redirect("/login?email=qwzkr%40x.test"), "qwzkr@x.test")] * 2
    verdict = judge_answers(known, unknown)
    assert verdict.differs is None
    assert "to '/login?email=<user>'" in verdict.detail


def test_a_known_users_redirect_that_changes_is_locking() -> None:
    known = [redirect("/login?error=bad")] * 2 + [redirect("/login?error=e4031")]
    unknown = [redirect("/login?error=bad")] * 3
    changed = locking(known, unknown)
    assert changed is not None
    assert "'/login?error=e4031'" in changed


# -- excerpts -----------------------------------------------------------------------------------


def test_an_excerpt_shows_the_message_that_differs_not_a_nonce() -> None:
    known = page("Incorrect password.", nonce="m4OF3Ev+2ewDKrEob0SwKg==")
    unknown = page("Unknown e-mail address.", nonce="ZniHTRfcBtl+Q6SV3UrW+Q==")
    excerpt = differing_excerpt(known, unknown)
    assert "Incorrect password." in excerpt
    assert "Unknown e-mail address." in excerpt
    assert "m4OF3" not in excerpt
    assert "\n" not in excerpt


def test_a_nonce_without_digits_is_blanked_but_words_are_not() -> None:
    known = without_nonces(page("Incorrect password.", nonce="AbCdEfGhIjKlMnOpQrStUv=="))
    assert b"AbCdEfGh" not in known.body
    kept = without_nonces(page("See ThisIsAnOrdinaryIdentifierName for help"))
    assert b"ThisIsAnOrdinaryIdentifierName" in kept.body
