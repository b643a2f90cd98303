"""Offline search for a weak HMAC secret: the signing secrets people leave in place.

`find_secret(token)` recomputes an HS256/384/512 token's signature with every candidate and
compares it with the captured one; nothing is sent. Each candidate is tried as written (its
UTF-8 bytes) and, when it decodes to 16 bytes or more, base64-decoded and hex-decoded too:
Spring services commonly keep a base64 or hex key in their properties and decode it before
signing (`Decoders.BASE64.decode(secret)` in the tutorials). The candidates (`candidates()`)
are the bundled list `probe/data/jwt_secrets.txt`, built by this project with
`build_candidates(SEEDS)`:

- `SEEDS`: secrets written out in the examples that get copied into real services: the
  default of the jwt.io debugger, the READMEs and quickstarts of JWT libraries and web
  frameworks, tutorials, `.env.example` placeholders and the stock weak words;
- variants of each: letter case, the words joined by `-`, `_`, nothing (and camelCase),
  common endings (`123`, `!`, a year from 2024 to 2026), and names an application gives its
  secret (`app`, `api`, `dev`, `test`, `staging`, `local` ... with `secret`, `key`, `jwt`).

The shipped file is exactly `build_candidates(SEEDS)` (a test compares them); rewrite it with
`PROBE_REGEN_GOLDEN=1 .venv/bin/pytest tests/probes/test_jwt_secrets.py`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from probe.probes.jwt_tokens import HMAC_HASHES, Jwt

RESOURCE = "jwt_secrets.txt"
HEADER = """\
# Candidate HMAC secrets for the jwt probe's offline weak-secret search, one per line.
# Built by this project (probe/probes/jwt_secrets.py: build_candidates(SEEDS)); copied from no
# published wordlist. The seeds are secrets written out in examples people copy: the jwt.io
# debugger's default, JWT library and framework READMEs and quickstarts, tutorials,
# .env.example placeholders and stock weak words. Each gets letter-case and separator variants,
# common endings (123, !, years) and application-style names (app, api, dev ... + secret, key).
# Do not edit by hand: PROBE_REGEN_GOLDEN=1 .venv/bin/pytest tests/probes/test_jwt_secrets.py
"""

SEEDS: tuple[str, ...] = (
    # The jwt.io debugger's defaults (older and current), per HMAC size.
    "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
    "a-string-secret-at-least-256-bits-long",
    # Library READMEs and docs: PyJWT, jsonwebtoken, express-jwt, koa-jwt, hapi-auth-jwt2,
    # ruby-jwt, firebase/php-jwt, golang-jwt, gin-jwt, Flask-JWT-Extended, FastAPI Users.
    "secret", "shhhhh", "shhhhhhared-secret", "shared-secret", "NeverShareYourSecret",
    "my$ecretK3y", "example_key", "AllYourBase", "secret key", "super-secret", "SECRET",
    # Framework guides and generated projects: the FastAPI OAuth2/JWT tutorial's key, NestJS's
    # docs, Supabase's local development secret, PostgREST's tutorial, Strapi's .env.example,
    # Flask's tutorial and its old flaskr, express-session, Payload, Superset, Airflow,
    # cookiecutter-django, Grafana's defaults.ini.
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    "DO NOT USE THIS VALUE. INSTEAD, CREATE A COMPLEX SECRET AND KEEP IT SAFE OUTSIDE OF THE "
    "SOURCE CODE.",
    "super-secret-jwt-token-with-at-least-32-characters-long",
    "reallyreallyreallyreallyverysafe", "tobemodified", "dev", "development key",
    "keyboard cat", "YOUR_SECRET_HERE", "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "temporary_key",
    "!!!SET DJANGO_SECRET_KEY!!!", "SW2YcwTIb9zpOOhoPsMm",
    # Blog and course tutorials (Spring Boot, ASP.NET Core, Node, Go, Flask) that many
    # services started from: the Flask Mega-Tutorial's and Flasky's SECRET_KEY fallbacks, and
    # the hex keys of Spring Boot JWT tutorials (used as written, base64- or hex-decoded).
    "you-will-never-guess", "hard to guess string",
    "404E635266556A586E3272357538782F413F4428472B4B6250645367566B5970",
    "5367566B59703373367639792F423F4528482B4D6251655468576D5A71347437",
    "======================BezKoder=Spring===========================",
    "SecretKeyToGenJWTs", "javainuse", "bezKoderSecretKey", "mySecretKey", "ThisIsMySecretKey",
    "this is my custom Secret key for authentication", "MySuperSecretKey",
    "my_secret_key", "my-secret-key", "mysecretkey", "mySecret", "mysecret",
    "secretOrPrivateKey", "your_jwt_secret", "jwt_secret", "jwtSecret", "jwt-secret-key",
    "secret_key", "secretkey", "SECRET_KEY", "JWT_SECRET", "JWT_SECRET_KEY", "TOKEN_SECRET",
    "ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET", "access-token-secret", "refresh-secret",
    "qwertyuiopasdfghjklzxcvbnm123456", "12345678901234567890123456789012",
    "0123456789abcdef0123456789abcdef",
    # Placeholders of .env.example files and config templates.
    "your-secret-key", "your_secret_key", "your-secret", "your_secret", "your-jwt-secret",
    "your_jwt_secret_key", "your-secret-key-here", "your_secret_here", "secret-here",
    "your-super-secret-key", "your-super-secret-jwt-key", "insert-secret-here",
    "replace-me", "replace_with_your_secret", "replace-with-a-secure-secret", "change-me",
    "changeme", "change_this_secret", "change-this-in-production", "please-change-me",
    "changeit", "changethis", "some-secret", "somesecret", "some-secret-key", "random-secret",
    "random_string", "secret-token", "jwt-token-secret", "token-secret", "auth-secret",
    "signing-key", "hmac-secret", "app-secret", "app_key", "session-secret",
    "development-key", "dev-secret", "dev-key", "test-secret", "test-key", "local-secret",
    "default-secret", "defaultsecret", "default", "not-a-secret", "notsosecret", "insecure",
    "django-insecure", "unsafe-secret", "xxx", "xxxx", "xxxxxxxx", "TODO",
    # Stock weak words and keyboard runs, and what an unset variable turns into.
    "supersecret", "supersecretkey", "super_secret_key", "topsecret", "s3cr3t", "s3cret",
    "secr3t", "P@ssw0rd", "p@ssw0rd", "password", "passw0rd", "pass", "admin", "administrator",
    "root", "toor", "test", "testing", "tester", "demo", "example", "sample", "guest", "user",
    "letmein", "welcome", "qwerty", "qwertyuiop", "asdfgh", "zxcvbn", "abc123", "abcdef",
    "abcdefgh", "abcdefghijklmnopqrstuvwxyz", "123", "1234", "12345", "123456", "1234567",
    "12345678", "123456789", "1234567890", "000000", "111111", "654321", "key", "token", "jwt",
    "jwttoken", "auth", "hs256", "hmac", "private", "public", "hidden", "hello", "hello world",
    "helloworld", "foo", "bar", "foobar", "baz", "qwe", "asd", "dummy", "mykey", "thekey",
    "masterkey", "master", "server", "backend", "production", "staging", "development",
    "undefined", "null", "None", "nil", "false", "true", "0", "1",
)  # fmt: skip

# The names an application gives its secret: `{word}{sep}{noun}` for every pair below.
APP_WORDS = (
    "app", "api", "dev", "test", "staging", "stage", "local", "prod", "production",
    "development", "my", "the", "default", "demo", "auth", "server", "backend", "web", "user",
    "admin", "access", "refresh", "jwt", "token", "session", "node", "express", "flask",
    "django", "fastapi", "spring", "laravel", "nest", "rails", "go",
)  # fmt: skip
APP_NOUNS = ("secret", "key", "secret key", "jwt secret", "jwt key", "token secret")
# Endings people add to satisfy a length or "one digit, one symbol" rule.
SUFFIXES = ("1", "123", "1234", "123456", "!", "@123")
YEARS = tuple(str(year) for year in range(2024, 2027))
SEPARATORS = ("-", "_", "")
# A seed gets endings when it is short and plain: long sentences and hex keys are kept whole.
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _-]{1,22}")
_WORDS = re.compile(r"[A-Z]?[a-z]+\d*|[A-Z]+\d*(?![a-z])|\d+")
# A candidate is also tried decoded when it decodes to at least this many bytes (shorter
# keys are not what a tutorial that decodes its key writes out).
MIN_DECODED = 16
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


@dataclass(frozen=True)
class Secret:
    """An HMAC secret that signs the token.

    Attributes:
        text: The secret as written (a candidate, or the scenario's `secret`).
        key: The HMAC key bytes: the text's UTF-8 bytes, or what it decodes to.
        form: "" for the text as written, "base64" or "hex" for a decoded text.
    """

    text: str
    key: bytes
    form: str = ""

    @property
    def shown(self) -> str:
        """The secret for the report: quoted, saying how it was decoded."""
        said = repr(self.text) if self.text else "an empty secret"
        return f"{said} {self.form}-decoded" if self.form else said


def build_candidates(seeds: Iterable[str]) -> list[str]:
    """The candidate list for `seeds`, without duplicates, most likely first: the seeds as
    written, their case and separator forms, application-style names, then the seeds' plain
    forms with common endings."""
    seeds = list(seeds)
    found: dict[str, None] = dict.fromkeys(seeds)
    for seed in seeds:
        found.update(dict.fromkeys(_forms(seed)))
    for word in APP_WORDS:
        for noun in APP_NOUNS:
            found.update(dict.fromkeys(_forms(f"{word} {noun}")[1:]))
    for seed in seeds:
        found.update(dict.fromkeys(_endings(seed)))
    # The list file is line-based with `#` comments: such a candidate could not be read back.
    return [text for text in found if text and "\n" not in text and not text.startswith("#")]


def _words(text: str) -> list[str] | None:
    """The lower-case words of a short seed made of words (`AllYourBase`, `jwt_secret`,
    `hs256`), or None for anything else (sentences, hex keys, `s3cr3t`, `SW2YcwTIb9...`)."""
    if not _PLAIN.fullmatch(text):
        return None
    words = _WORDS.findall(text)
    if any(len(word) < 2 and not word.isdigit() for word in words):
        return None
    return [word.lower() for word in words]


def _forms(text: str) -> list[str]:
    """Letter-case and separator forms: `jwt secret` gives jwt-secret, jwt_secret,
    jwtsecret, JWT_SECRET, jwtSecret, JwtSecret; a single word gives word, WORD, Word."""
    words = _words(text)
    if not words:
        return [text]
    if len(words) == 1:
        return [text, words[0], words[0].upper(), words[0].capitalize()]
    joined = [separator.join(words) for separator in SEPARATORS]
    camel = words[0] + "".join(word.capitalize() for word in words[1:])
    return [text, *joined, "_".join(words).upper(), camel, camel[0].upper() + camel[1:]]


def _endings(seed: str) -> list[str]:
    """A seed made of words, joined in lower case and as written, with common endings and
    years; nothing for other seeds."""
    words = _words(seed)
    if not words:
        return []
    bases = dict.fromkeys(["".join(words), seed])
    endings = [*SUFFIXES, *YEARS, *(f"{sep}{year}" for year in YEARS for sep in "-_")]
    return [f"{base}{ending}" for base in bases for ending in endings]


def read_candidates(text: str) -> list[str]:
    """The candidates in the text of a list file: every line but `#` comments, as written
    (a secret may start or end with a space), without duplicates."""
    lines = (line for line in text.split("\n") if line and not line.startswith("#"))
    return list(dict.fromkeys(lines))


def render_candidates(candidates: Sequence[str]) -> str:
    """The text of the list file: the header comment, then one candidate per line."""
    return HEADER + "".join(f"{candidate}\n" for candidate in candidates)


@cache
def candidates() -> Sequence[str]:
    """The bundled candidates, read once."""
    text = resources.files("probe").joinpath("data", RESOURCE).read_text(encoding="utf-8")
    return tuple(read_candidates(text))


def key_forms(text: str) -> list[Secret]:
    """The keys a secret written as `text` may stand for: its UTF-8 bytes, then what it
    decodes to as base64 (standard or URL-safe alphabet) and as hex, when that is at least
    `MIN_DECODED` bytes."""
    forms = [Secret(text, text.encode("utf-8"))]
    decoded = {"base64": _base64(text), "hex": _hex(text)}
    for form, key in decoded.items():
        if key is not None and len(key) >= MIN_DECODED:
            forms.append(Secret(text, key, form))
    return forms


def _base64(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        if _BASE64.fullmatch(text):
            return base64.b64decode(padded, validate=True)
        if _BASE64URL.fullmatch(text):
            return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    return None


def _hex(text: str) -> bytes | None:
    return bytes.fromhex(text) if _HEX.fullmatch(text) else None


@cache
def _candidate_keys() -> tuple[Secret, ...]:
    """Every candidate's keys (as written, then decoded), encoded once for every token."""
    return tuple(secret for candidate in candidates() for secret in key_forms(candidate))


def find_secret(token: Jwt, extra: Iterable[str] = ()) -> Secret | None:
    """The secret that signed an HS256/384/512 token: `extra` first (secrets the scenario or
    the scan already knows), then the empty secret, then the bundled list, each as written
    and decoded (`key_forms`); None when none fits or the token is not HMAC-signed."""
    digest = HMAC_HASHES.get(token.alg)
    signature = token.signature
    if digest is None or len(signature) != _DIGEST_SIZES[digest]:
        return None
    message = token.signing_input
    first = [form for text in (*extra, "") for form in key_forms(text)]
    for secret in (*first, *_candidate_keys()):
        if hmac.compare_digest(hmac.digest(secret.key, message, digest), signature):
            return secret
    return None
