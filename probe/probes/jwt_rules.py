"""The rules of the jwt probe: what each one judges, how bad it is, and how to fix it.

Severities: any forged token the server accepts (a changed payload or no signature, `alg`
none, a guessable secret, a public key used as an HMAC secret, a key the token names itself)
is critical: whoever holds one token, or none, becomes any user. A token still accepted more
than five minutes past `exp` is high, one to five minutes is low (an unusually long leeway); a
refresh token that works twice is high. What the token itself shows (no expiry, a long life,
sensitive claims, the token in a URL) is low or medium.
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "jwt"

_AUTH = {"owasp": "A07:2021", "owasp_api": "API2:2023"}
_FORGED = {**_AUTH, "cwe": 347}
_EXPIRY = {**_AUTH, "cwe": 613}
# The full rule of "accepted" is stated once, in the probe's docstring (the README shows it).
_ACCEPTED = " Accepted means: the answer matches the valid token's and neither negative baseline's."
_VERIFY_FIX = (
    "Verify every token with a maintained JWT library, passing the one algorithm and the key "
    "the service issues tokens with (e.g. PyJWT `jwt.decode(token, key, algorithms=['RS256'])`); "
    "never take the algorithm or the key from the token's header."
)


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


FORGERY_RULES = (
    _rule(
        "signature-not-verified",
        title="Token accepted without a valid signature",
        severity=Severity.critical,
        description=(
            "The identity's token is sent with its payload changed under the original "
            "signature (`exp` one day later, another `sub`), with its signature removed (the "
            "header and final dot kept), as two parts only, and (as a negative baseline) with "
            "one signature bit flipped. Any of them accepted means the server does not check "
            "the signature: anyone can write a token for any user. The token with another "
            "`sub` answered 2xx with other data (not a refusal, neither negative's answer) is "
            "another user's answer and counts as accepted. One finding lists every variant "
            "accepted, the one that replays as shown (a stripped signature) first." + _ACCEPTED
        ),
        remediation=_VERIFY_FIX,
        **_FORGED,
    ),
    _rule(
        "alg-none-accepted",
        title="Unsigned token accepted (alg none)",
        severity=Severity.critical,
        description=(
            "The token's header with `alg` set to `none`, `None`, `NONE` and `nOnE`, the "
            "payload unchanged and no signature, each with and without the final dot (8 "
            "tokens). Any accepted means the server lets the token choose to be unsigned. Not "
            "sent when the server accepts a token with a wrong signature anyway (then "
            "signature-not-verified says it all)." + _ACCEPTED
        ),
        remediation=_VERIFY_FIX,
        **_FORGED,
    ),
    _rule(
        "weak-secret",
        title="Token signed with a guessable secret",
        severity=Severity.critical,
        description=(
            "For HS256/384/512 tokens, a bundled list of a few thousand secrets that examples, "
            "library READMEs, framework tutorials and .env templates write out (and the empty "
            "secret) is tried offline against the captured token, each as written and, when it "
            "decodes to 16 bytes or more, base64- and hex-decoded: no request. A secret that "
            "reproduces the signature is confirmed by one request: a token minted with it, "
            "`exp` an hour later, must be accepted. Only then is it reported, naming the "
            "secret (it is published), with a shell line that mints and sends such a token. "
            "A `secret` given in the scenario is used for minting and is never reported "
            "unless it is on the list." + _ACCEPTED
        ),
        remediation=(
            "Sign with a random secret of at least 32 bytes from a secret store (never a "
            "value from an example), rotate it now, and prefer an asymmetric algorithm when "
            "other services verify the tokens."
        ),
        owasp="A07:2021",
        owasp_api="API2:2023",
        cwe=1391,
    ),
    _rule(
        "key-confusion",
        title="Public key accepted as an HMAC secret (algorithm confusion)",
        severity=Severity.critical,
        description=(
            "For an RS/ES/PS-signed token, the service's public keys are read from `jwks_url` "
            "(default: /.well-known/jwks.json at base_url's origin, through the scope guard). "
            "The token is re-signed HS256 with each key's bytes as the HMAC secret (PEM with "
            "and without its final newline, PKCS#1 PEM, DER). Any accepted means anyone who "
            "reads the public key can sign tokens; the reproduction fetches the JWKS and signs "
            "a token with the key in the form accepted. Skipped, never passed, when no public "
            "key is found." + _ACCEPTED
        ),
        remediation=_VERIFY_FIX,
        **_FORGED,
    ),
    _rule(
        "header-key-injection",
        title="Token verified with a key its own header names",
        severity=Severity.critical,
        description=(
            "The token re-signed RS256 with a key the scan made, its public key embedded in a "
            "`jwk` header; and re-signed HS256 with an empty key, `kid` naming /dev/null (by "
            "path traversal and absolute). Any accepted means the token chooses the key it is "
            "checked with; a `jwk` finding's reproduction signs a token with a fresh key of "
            "its own. No `jku` or `x5u` token is sent: it would need a host outside the scope "
            "serving the scan's key." + _ACCEPTED
        ),
        remediation=(
            "Look keys up only in the service's own key set by `kid` (a map, never a file "
            "path or URL) and ignore `jwk`, `jku` and `x5u` headers."
        ),
        **_FORGED,
    ),
)

EXPIRY_RULES = (
    _rule(
        "expired-accepted",
        title="Expired token accepted",
        severity=Severity.high,
        description=(
            "Three ways, each its own check: the scenario's `expired_token` replayed; the "
            "identity's token waited out when it expires within `wait_for_expiry` seconds (two "
            "fresh logins, one used while valid and one never used, since some servers cache "
            "a token's verdict from its first use), then replayed 1, 2, 4, 8, 16, 32, 61, 121, "
            "181, 241 and 301 s past `exp` until refused or the wait is spent; and, when the "
            "signing secret is known (`secret`, or a weak one found), a token minted with an "
            "`exp` three hours ago. Past `exp` is counted by the server's clock: its Date "
            "header, or without one a fresh token's `iat`, whose uncertainty is allowed for. "
            "Accepted more than 5 minutes past `exp` is high; up to 60 s is clock leeway (the "
            "check passes, with the figure). A replay answered 2xx with other data (another "
            "user's) is no verdict: the check is error." + _ACCEPTED
        ),
        remediation=(
            "Check `exp` on every request (PyJWT does unless `verify_exp` is off) with a "
            "leeway of at most a minute."
        ),
        **_EXPIRY,
    ),
    _rule(
        "long-expiry-leeway",
        title="Expired token accepted for minutes (long leeway)",
        severity=Severity.low,
        description=(
            "As expired-accepted, but the token was accepted between 60 s and 5 minutes past "
            "`exp` (refused later, or the wait ended): a leeway far beyond clock skew. When "
            "the wait ended while the token was still accepted, the detail says the server "
            "may not check `exp` at all (a `secret` or an `expired_token` tells)."
        ),
        remediation="Lower the leeway on `exp` to a minute or less.",
        **_EXPIRY,
    ),
    _rule(
        "refresh-not-rotated",
        title="Refresh token accepted twice (no rotation)",
        severity=Severity.high,
        description=(
            "For an identity whose login has `refresh_path` and `refresh`, after every token "
            "check: a fresh login (never the identity's own tokens), its refresh token used "
            "once (it must work), then the same refresh token again a second later. A second "
            "answer with a new access token, or a new refresh token, means a stolen refresh "
            "token stays usable for its whole life, even after its owner refreshed. The first "
            "answer's tokens again (a reuse grace period) are no new token: the check passes, "
            "saying so."
        ),
        remediation=(
            "Rotate refresh tokens: issue a new one on every use and revoke the old one "
            "(and, on reuse of a revoked one, the whole family)."
        ),
        **_EXPIRY,
    ),
)

HYGIENE_RULES = (
    _rule(
        "no-expiry",
        title="Token without expiry",
        severity=Severity.medium,
        description=(
            "The identity's token has no `exp` claim, or one that is no usable time (not a "
            "number, NaN, infinite, beyond year 9999): read from the token, nothing sent. A "
            "stolen token works forever unless the server keeps its own expiry."
        ),
        remediation="Give every access token an `exp`, minutes to hours after `iat`.",
        **_EXPIRY,
    ),
    _rule(
        "long-lifetime",
        title="Token lives longer than max_lifetime",
        severity=Severity.low,
        description=(
            "The token's lifetime (`exp - iat`) is above `max_lifetime` (default one hour): "
            "low, medium above a day. Read from the token, nothing sent; without `iat` it is "
            "not judged."
        ),
        remediation=(
            "Issue short-lived access tokens (minutes) and renew them with a rotated refresh token."
        ),
        **_EXPIRY,
    ),
    _rule(
        "sensitive-claims",
        title="Sensitive data in the token's claims",
        severity=Severity.medium,
        description=(
            "A claim holds a password or its hash, a secret, an API or private key, a card "
            "number (Luhn and brand ranges), a US SSN or an IBAN (mod-97). A JWT payload is "
            "only base64: every holder of the token, and every log that keeps it, reads it. "
            "The value is never shown; the finding names the claim."
        ),
        remediation="Keep only identifiers in tokens; look sensitive data up on the server.",
        owasp="A04:2021",
        owasp_api="API2:2023",
        cwe=312,
    ),
    _rule(
        "token-in-url",
        title="Token sent or accepted in the URL",
        severity=Severity.medium,
        description=(
            "A JWT that is a credential (an identity's token, or one whose claims name a user "
            "or carry `exp` beside `iat`, `iss` or `aud`; a signed cursor is none) in the URL "
            "of any request of the scan (the scenario's own endpoints, redirects), or the "
            "identity's token accepted as an `access_token` or `token` query parameter "
            "without the header (one request each). URLs end up in server, proxy and browser "
            "logs and in Referer headers." + _ACCEPTED
        ),
        remediation=(
            "Accept tokens only in the Authorization header (or a Secure, HttpOnly cookie), "
            "never from the query string."
        ),
        owasp="A04:2021",
        owasp_api="API2:2023",
        cwe=598,
    ),
)

RULES = FORGERY_RULES + EXPIRY_RULES + HYGIENE_RULES

#: The checks the probe records, in the order it runs them; each endpoint-bound but the
#: target-wide `token` and `token-in-url`.
CHECKS = (
    "token",
    "baselines",
    "signature",
    "alg-none",
    "header-key-injection",
    "key-confusion",
    "weak-secret",
    "expiry-replay",
    "expiry-wait",
    "expiry-minted",
    "token-in-query",
    "no-expiry",
    "lifetime",
    "sensitive-claims",
    "refresh-rotation",
    "token-in-url",
)
