"""What a value under a secret's name is: a secret, or text that only talks about one.

`secret_signatures` asks these pure judges before it calls a value a secret:

- `not_a_value`: empty, masked (`********`, `(hidden)`, `sk_live_…a1b2`), placeholder
  (`changeme`, `YOUR_API_KEY_HERE`, `__CLIENT_SECRET_PLACEHOLDER__`), template (`${DB_PASS}`),
  URL, reference to a secret store (`vault:secret/data/db#password`, `secretsmanager:prod/db`,
  any AWS ARN) or a Windows path;
- `password_shape`: a plain password is one token of letters with digits or symbols, never a
  label word, sentence, path, date, error code (`too_short`, `E1001`), validation rule
  (`required|min:8`), number notation (`8-64`, `12:30`) or regular expression;
- `names_a_key`: a key's name or id (`alias/Prod-Master-2024`, `kid-2024-01-15-rsa256`, a GCP
  KMS resource name) is no key material: material holds a random run (a 10+ character
  segment mixing letters and digits, 16+ letters changing case at random, or a UUID);
- `is_totp_seed`: a base32 TOTP seed, handed to its owner by design during enrolment.
"""

from __future__ import annotations

import re
import unicodedata

_PLACEHOLDERS = frozenset(
    {
        "redacted", "hidden", "masked", "filtered", "removed", "omitted", "protected",
        "sensitive", "private", "encrypted", "obfuscated", "notshown", "none", "null", "nil",
        "undefined", "notset", "unset", "n/a", "na", "empty", "blank", "default", "required",
        "optional", "string", "password", "secret", "changeme", "changeit", "example", "xxx",
        "yourpassword", "yourapikey", "apikey", "token", "value", "todo", "tbd",
    }
)  # fmt: skip
_MASKED = re.compile(
    r"[*•●#]{3}|\[(?:redacted|hidden|filtered|masked)\]|<[^<>]{1,40}>|…|\.\.\.|[xX]{4}", re.I
)
_TEMPLATE = re.compile(
    r"\{\{[^{}\n]{0,80}\}\}|\$\{[^{}\n]{0,80}\}|%\([\w.]{1,40}\)s"
    r"|^\$[A-Z_][A-Z0-9_]{1,60}$|^%[A-Z_][A-Z0-9_]{1,60}%$|^env:"
)
# Words of a placeholder on their own, or a filler word beside a secret's noun
# (`YOUR_API_KEY_HERE`, `insert-token-here`): nobody stores those as a secret.
_PLACEHOLDER_WORDS = frozenset(
    {"placeholder", "changeme", "changeit", "replaceme", "redacted", "dummy", "example", "sample"}
)
_FILLER_WORDS = frozenset({"your", "insert", "enter", "replace", "here", "put"})
_SECRET_NOUNS = frozenset(
    {"key", "api", "apikey", "secret", "token", "password", "pass", "passwd", "pwd", "client"}
)
_WORD_SPLIT = re.compile(r"[a-z]{1,40}|[0-9]{1,40}")
_CAMEL = re.compile(r"([a-z])([A-Z])")
# A reference to a secret kept elsewhere: an AWS ARN, a store's scheme, `name:path` (a URI).
_REFERENCE = re.compile(
    r"arn:aws[a-z-]{0,12}:|(?:vault|secretsmanager|secretmanager|ssm|kms|keyvault|"
    r"akv|gsm|gcpsm|awssm|sops|doppler|infisical|secretref|ref):"
    r"|[a-z][a-z0-9+.-]{1,24}:[^\s:]{0,200}[/#]",
    re.I,
)
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]|\\\\[\w.$-]{1,60}\\")
# Words a password field holds in UI text, settings and error codes, in several languages.
_LABEL_WORDS = frozenset(
    {
        "password", "passwort", "kennwort", "contraseña", "contrasena", "clave", "senha",
        "wachtwoord", "lösenord", "losenord", "salasana", "hasło", "haslo", "parola", "heslo",
        "jelszó", "jelszo", "adgangskode", "passord", "пароль", "密码", "密碼", "パスワード",
        "비밀번호", "şifre", "sifre", "pass", "passphrase", "passcode", "pin", "pwd", "geheim",
        "invalid", "missing", "blank", "empty", "wrong", "incorrect", "expired", "weak",
        "strong", "medium", "ok", "valid", "mismatch", "confirmed", "unconfirmed", "set",
        "unset", "changed", "reset", "true", "false", "yes", "no", "on", "off", "enabled",
        "disabled", "text", "input", "field", "type", "plain", "plaintext", "hashed",
        "encrypted", "sso", "oauth", "oauth2", "ldap", "saml", "local", "totp", "otp", "mfa",
        "2fa", "bcrypt", "scrypt", "argon2", "argon2id", "argon2i", "argon2d", "pbkdf2",
        "pbkdf2_sha256", "pbkdf2_sha512", "sha1", "sha224", "sha256", "sha384", "sha512",
        "sha3_256", "sha3_512", "md5", "ssha", "ssha256", "ssha512", "crypt",
    }
)  # fmt: skip
LOWER_PATH = re.compile(r"(?:\.{1,2}/|~/)?(?:[a-z0-9_.-]{2,40}/){1,12}[a-z0-9_.-]{0,40}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]{2,15}(?:Z|[+-]\d{2}:?\d{2})?)?")
_DATE_INSIDE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_ERROR_CODE = re.compile(r"[A-Z]{1,6}[-_]?\d{1,6}")
# Validation rules: Laravel-style lists (`required|min:8|confirmed`) or one sized rule.
_RULE = r"[a-z][a-z_]{1,24}(?::[\w,.\-]{0,30})?"
_RULE_LIST = re.compile(rf"{_RULE}(?:\|{_RULE}){{1,12}}")
_SIZED_RULE = re.compile(
    r"(?:min|max|size|between|length|minlength|maxlength|min_length|max_length|digits"
    r"|digits_between|gt|gte|lt|lte|regex|same|different):[\w,.\-]{1,40}",
    re.I,
)
_NUMBER_NOTATION = frozenset("0123456789-–:.,/+()~ ")
_REGEX_SYNTAX = re.compile(
    r"\(\?[=!:<]|\\[dwsDWS]|\.[*+]|\.\{\d|\{\d{1,4},\d{0,4}\}|\[\^?[\w-]{1,20}\][*+{]"
)
# Names of keys in a cloud KMS or secret store, not the keys.
_RESOURCE_NAME = re.compile(
    r"/?(?:projects|organizations|folders|subscriptions|locations)/[\w.-]{1,100}/"
    r"|alias/|[\w.-]{0,100}/(?:keyRings|cryptoKeys|cryptoKeyVersions|secrets|vaults)/",
    re.I,
)
_KEY_ID = re.compile(r"(?:kid|keyid|key[-_]id|key[-_]?v\d{1,4})(?:[-_:.]|$)", re.I)
_SEGMENTS = re.compile(r"[-_.:]")
_CAMEL_PIECES = re.compile(r"[A-Z]?[a-z]{1,100}|[A-Z]{1,100}(?![a-z])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_BASE32_SEED = re.compile(r"[A-Z2-7]{16,32}={0,6}")


def _words(text: str) -> list[str]:
    """The lower-case words and digit runs of a value (`YOUR_API_KEY_HERE1` gives your, api,
    key, here, 1)."""
    return _WORD_SPLIT.findall(_CAMEL.sub(r"\1_\2", text[:200]).lower())


def is_placeholder(text: str) -> bool:
    """True for a value that stands for a secret instead of being one (`changeme`,
    `YOUR_API_KEY_HERE123`, `__CLIENT_SECRET_PLACEHOLDER_1__`, `(hidden)`)."""
    bare = text.strip("()[]{}<>*_-. ").lower().replace(" ", "")
    if bare in _PLACEHOLDERS:
        return True
    words = set(_words(text))
    if words & _PLACEHOLDER_WORDS:
        return True
    return bool(words & _FILLER_WORDS) and bool(words & _SECRET_NOUNS)


def is_reference(text: str) -> bool:
    """True for a pointer to a secret kept elsewhere (an ARN, `vault:...`, `ssm:...`) or a
    Windows path."""
    return bool(_REFERENCE.match(text) or _WINDOWS_PATH.match(text))


def not_a_value(text: str) -> bool:
    """True for empty, masked, placeholder, template, URL and reference values."""
    return (
        not text
        or len(text) > 16_384
        or "://" in text
        or len(set(text)) < 3
        or is_placeholder(text)
        or is_reference(text)
        or bool(_MASKED.search(text[:4096]))
        or bool(_TEMPLATE.search(text[:4096]))
    )


def _is_notation(text: str) -> bool:
    """True for rules, numbers, ranges, times, regular expressions and error codes."""
    return (
        all(ch in _NUMBER_NOTATION for ch in text)
        or bool(_RULE_LIST.fullmatch(text) or _SIZED_RULE.fullmatch(text))
        or bool(_ERROR_CODE.fullmatch(text))
        or (text.startswith("^") and text.endswith("$"))
        or bool(_REGEX_SYNTAX.search(text))
    )


def password_shape(text: str) -> str | None:
    """How a value under a password name reads: "plain" (one token of letters with digits or
    symbols), "word" (letters only), "digits", or None (a sentence, label word, path, date,
    error code such as `too_short` or `E1001`, validation rule, range or pattern)."""
    if not 4 <= len(text) <= 128 or any(ch.isspace() for ch in text):
        return None
    if text.casefold().strip("?!.:") in _LABEL_WORDS or _DATE.fullmatch(text):
        return None
    if text.startswith(("/", "#", "?")) or LOWER_PATH.fullmatch(text):
        return None
    if text.isdigit():
        return "digits"
    if text.isalpha():
        return "word"
    if all(ch.isalpha() or ch in "-_." for ch in text) or _is_notation(text):
        return None  # an identifier, code, rule or pattern: too_short, 8-64, min:8
    return "plain"


def has_random_run(text: str) -> bool:
    """True when the value holds key material: a UUID, or a segment (between `-_.:`) of 10+
    characters mixing letters and digits."""
    segments = _SEGMENTS.split(text[:4096])
    return bool(_UUID.search(text)) or any(_random_segment(s) for s in segments)


def _random_segment(segment: str) -> bool:
    """10+ characters mixing letters and digits, or 16+ letters whose case changes like
    chance (`AbCdEfGhIjKl...`), not like the words of a name (`ProdMasterSigningKey`)."""
    if len(segment) >= 10 and _mixes(segment):
        return True
    if len(segment) < 16 or not segment.isalpha():
        return False
    pieces = _CAMEL_PIECES.findall(segment)
    return len(pieces) > 1 and len(segment) / len(pieces) <= 2.5


def _mixes(text: str) -> bool:
    return any(ch.isdigit() for ch in text) and any(ch.isalpha() for ch in text)


def names_a_key(text: str) -> bool:
    """True for a key's name or id rather than the key: a KMS alias or resource name, a key
    id (`kid-2024-01-15-rsa256`), or a value without a random run."""
    return (
        bool(_RESOURCE_NAME.match(text) or _KEY_ID.match(text))
        or bool(_DATE_INSIDE.search(text[:4096]))
        or not has_random_run(text)
    )


def is_totp_seed(text: str) -> bool:
    """True for a base32 TOTP seed of 16 to 32 characters (`JBSWY3DPEHPK3PXP`)."""
    return bool(_BASE32_SEED.fullmatch(text))


def normal_text(text: str) -> str:
    """The text in Unicode NFC, so an echo matches whatever normal form the server used."""
    return unicodedata.normalize("NFC", text)
