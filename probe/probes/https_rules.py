"""The https probe's rules: ids, severities, OWASP and CWE mappings, what is judged, remedies.

OWASP Top 10 2021: traffic in cleartext and weak or broken TLS are A02 (Cryptographic
Failures), whose CWE list names cleartext transmission (319) and certificate validation
(295-298); redirect set-ups that work but are not what clients should rely on are A05
(Security Misconfiguration); a redirect to another host that the server chose itself sends
cleartext users where the scan cannot follow (A02, CWE-319), while one whose host comes from
the request is an open redirect (A01, the home of CWE-601). The API Top 10 2023 files
transport set-up under API8 (Security Misconfiguration) and credentials that travel
unprotected under API2 (Broken Authentication).
"""

from __future__ import annotations

from typing import Any

from probe.findings import Rule, Severity
from probe.probes.base import make_rule

PROBE_ID = "https"
_CLEARTEXT = {"owasp": "A02:2021", "owasp_api": "API8:2023", "cwe": 319}
_TLS = {"owasp": "A02:2021", "owasp_api": "API8:2023"}
_PLAIN = (
    " The request is an anonymous GET on the plain-HTTP twin (`target.http_url`, default "
    "base_url over http on port 80) of the path of the first GET endpoint without an identity "
    "(else the first GET endpoint; else the first endpoint), never its query: one query "
    "parameter carrying the scan marker shows a lost query. A path that holds a scenario "
    "secret is replaced by base_url's own path. The redirect chain is followed by hand, at "
    "most 10 hops, and every Location is judged before it is requested, as a browser reads it."
)
_REDIRECT_FIX = (
    "Answer every plain-HTTP request with one `301 Moved Permanently` (or 308) straight to the "
    "same host over https://, keeping the path and query; then send HSTS on the HTTPS answers."
)
_CERT_FIX = (
    "Serve a certificate from a CA the API's clients trust, issued for the API's host name, "
    "with the full chain (leaf and intermediates) configured on the server."
)


def _rule(name: str, **fields: Any) -> Rule:
    return make_rule(PROBE_ID, name, **fields)


PLAIN_RULES = (
    _rule(
        "no-tls",
        title="API served without TLS",
        severity=Severity.high,
        description=(
            "base_url itself is plain http://: every request, credentials and tokens included, "
            "crosses the network readable and changeable by anyone on the path. The TLS checks "
            "are skipped with this reason."
        ),
        remediation=(
            "Serve the API over HTTPS only and give clients an https:// base URL; redirect or "
            "refuse plain HTTP."
        ),
        **_CLEARTEXT,
    ),
    _rule(
        "cleartext-served",
        title="API answers over plain HTTP",
        severity=Severity.high,
        description=(
            "The plain-HTTP twin answers the endpoint's request with 2xx, at once or at the end "
            "of a redirect chain that stays on http://: a client configured with an http:// URL "
            "works, so nobody notices its traffic is in cleartext." + _PLAIN
        ),
        remediation=_REDIRECT_FIX,
        **_CLEARTEXT,
    ),
    _rule(
        "temporary-redirect",
        title="Plain HTTP redirected with a temporary redirect",
        severity=Severity.info,
        description=(
            "A plain-HTTP hop answers 302, 303 or 307 instead of 301 or 308. It works, but "
            "clients and caches do not remember it, so every visit starts in cleartext again, "
            "and HSTS preload lists require a permanent redirect." + _PLAIN
        ),
        remediation=_REDIRECT_FIX,
        owasp="A05:2021",
        owasp_api="API8:2023",
        cwe=319,
    ),
    _rule(
        "http-hops",
        title="Redirect chain makes several plain-HTTP hops before HTTPS",
        severity=Severity.low,
        description=(
            "The chain visits more than one http:// URL before the first https:// one: each "
            "extra hop is another cleartext request an attacker on the path can answer "
            "instead (and send the client anywhere)." + _PLAIN
        ),
        remediation=_REDIRECT_FIX,
        **_CLEARTEXT,
    ),
    _rule(
        "offsite-redirect",
        title="Plain HTTP redirected to another host",
        severity=Severity.low,
        description=(
            "A hop's Location names a host that is neither base_url's, the twin's nor one in "
            "the scenario's scope (a trailing dot aside: `api.example.com.` is the same host). "
            "It is judged from the Location alone and never requested. The server chose that "
            "host itself (nothing of the request is in it), so this is no open redirect: "
            "clients that start on plain HTTP are sent to a host the scan cannot check, often "
            "a sibling name (`www.`, `localhost` for `127.0.0.1`)." + _PLAIN
        ),
        remediation=(
            "Redirect to the API's own host; if another host is intended, add it to the "
            "scenario's scope so the chain is followed and judged."
        ),
        **_CLEARTEXT,
    ),
    _rule(
        "open-redirect",
        title="Plain HTTP redirected to a host taken from the request",
        severity=Severity.medium,
        description=(
            "A hop's Location names another host (not the API's, not in scope) that is a "
            "piece of the request itself: a path segment or query value equal to the host, or "
            "the scan marker inside it. Whoever writes a link chooses where the API sends "
            "clients. Judged from the Location alone, never requested." + _PLAIN
        ),
        remediation=(
            "Build redirects from a fixed host name, never from the request's path, query or "
            "headers."
        ),
        owasp="A01:2021",
        owasp_api="API8:2023",
        cwe=601,
    ),
    _rule(
        "downgrade-hop",
        title="Redirect chain goes from HTTPS back to plain HTTP",
        severity=Severity.medium,
        description=(
            "Somewhere in the chain an https:// URL redirects to an http:// one: the scheme is "
            "checked at every hop, not only at the end. The request leaves TLS again, and the "
            "hop is open to anyone on the path." + _PLAIN
        ),
        remediation=(
            "Make every HTTPS answer redirect to https:// URLs only (check proxies and "
            "framework settings that build absolute URLs from a plain-HTTP upstream)."
        ),
        **_CLEARTEXT,
    ),
    _rule(
        "redirect-drops-path",
        title="Redirect to HTTPS loses the path or query",
        severity=Severity.low,
        description=(
            "The first https:// URL of the chain (on the API's hosts) does not carry the "
            "requested path (a trailing slash aside) or every query parameter, the scan "
            "marker included. Clients that followed the redirect land elsewhere, so people "
            "keep http:// URLs that work." + _PLAIN
        ),
        remediation=_REDIRECT_FIX,
        **_CLEARTEXT,
    ),
    _rule(
        "credentials-over-http",
        title="Credentials accepted over plain HTTP",
        severity=Severity.high,
        description=(
            "The `auth` tag marks an endpoint that takes credentials in its own request (a "
            "login or token endpoint: a password or secret in its body, query or headers). "
            "That request, as the scenario describes it and never with an identity's token, is "
            "sent once to the plain-HTTP twin, not following redirects. Answered with 2xx, or "
            "with a token-like value in the body, it was processed: the password crossed the "
            "network in cleartext and the client was told it worked. A redirect or a refusal "
            "passes. An `auth` endpoint whose own request carries no credentials (no body, "
            "query or credential header), and every DELETE endpoint, is skipped, saying so."
        ),
        remediation=(
            "Refuse or redirect plain HTTP on every endpoint that takes credentials, before "
            "the application reads the body; clients must only ever be given https:// URLs."
        ),
        owasp="A02:2021",
        owasp_api="API2:2023",
        cwe=523,
    ),
)

TLS_RULES = (
    _rule(
        "tls-untrusted",
        title="TLS certificate not trusted",
        severity=Severity.high,
        description=(
            "A handshake with base_url's host (SNI set to its name) is verified against the "
            "system store, or the CA bundle given in `verify_tls`. It fails for a reason other "
            "than the dates or the host name: self-signed, an unknown issuer, a bad signature, "
            "a key or digest too weak. Skipped when `verify_tls` is false."
        ),
        remediation=_CERT_FIX,
        cwe=295,
        **_TLS,
    ),
    _rule(
        "tls-hostname-mismatch",
        title="TLS certificate does not name the host",
        severity=Severity.high,
        description=(
            "The certificate's subjectAltName entries do not cover base_url's host (OpenSSL's "
            "check when the chain is trusted; RFC 6125 matching of the names, a wildcard for "
            "one left-most label, when it is not). SNI always carries the host name, so a "
            "server's default certificate is not mistaken for a mismatch. Skipped when "
            "`verify_tls` is false."
        ),
        remediation=_CERT_FIX,
        cwe=297,
        **_TLS,
    ),
    _rule(
        "tls-chain-incomplete",
        title="TLS server does not send its intermediate certificate",
        severity=Severity.medium,
        description=(
            "Verification fails because the issuer of the leaf is unknown, the server sent "
            "the leaf alone (when Python can see what was sent) and the leaf names where its "
            "issuer can be fetched (Authority Information Access): the usual sign of a public "
            "CA's intermediate missing from the server's configuration. Browsers often fetch "
            "or cache it; other clients (curl, SDKs, mobile apps) fail. Without that pointer "
            "the failure is reported as untrusted, saying it may be this."
        ),
        remediation=(
            "Configure the full chain on the server (the leaf followed by the CA's "
            "intermediates, as the CA delivers it: fullchain.pem)."
        ),
        cwe=296,
        **_TLS,
    ),
    _rule(
        "tls-expired",
        title="TLS certificate expired or not yet valid",
        severity=Severity.critical,
        description=(
            "The leaf certificate's notAfter date is past (or its notBefore date is still to "
            "come): every client refuses the connection. Judged from the certificate's dates, "
            "also when `verify_tls` is false."
        ),
        remediation="Renew the certificate, and automate renewal (ACME) with monitoring.",
        cwe=298,
        **_TLS,
    ),
    _rule(
        "tls-expiring",
        title="TLS certificate expires soon",
        severity=Severity.medium,
        description=(
            "The leaf certificate ends within `expiring_days` (30 by default); high within "
            "`expiring_high_days` (7). A launch date close to it means an outage."
        ),
        remediation="Renew the certificate now, and automate renewal (ACME) with monitoring.",
        cwe=298,
        **_TLS,
    ),
    _rule(
        "tls-legacy-version",
        title="TLS 1.0 or 1.1 accepted",
        severity=Severity.medium,
        description=(
            "One handshake offering only TLS 1.0, and one offering only TLS 1.1 (with the old "
            "ciphers they need), each counted only when the server completes it in that "
            "version. These versions are deprecated (RFC 8996) and fail current compliance "
            "baselines. Skipped, saying so, when the local OpenSSL cannot offer the version."
        ),
        remediation=(
            "Set the server's minimum protocol version to TLS 1.2 (e.g. nginx "
            "`ssl_protocols TLSv1.2 TLSv1.3;`)."
        ),
        cwe=327,
        **_TLS,
    ),
)

RULES = PLAIN_RULES + TLS_RULES
