"""Pure material of the rate_limit probe's bypass attempts: the spoofed client-address
headers with documentation-range addresses, and the path variants a method may be sent to.

Path variants are limited by method: every variant for GET, HEAD and OPTIONS (they change
nothing, so another resource a variant may reach, `/api/Items` being another item, is only
read); for POST only the trailing slash and an added query parameter, which cannot name
another resource; none for PUT, PATCH and DELETE.
"""

from __future__ import annotations

#: Headers that carry a client's address; a limiter keyed on one trusts the client.
SPOOF_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP", "X-Client-IP")
# Documentation ranges (RFC 5737): never a real client.
_DOC_NETS = ("192.0.2", "198.51.100", "203.0.113")


def spoof_value(header: str, address: str) -> str:
    """The header value that claims `address` as the client."""
    return f"for={address}" if header.lower() == "forwarded" else address


def doc_address(pick: int, host: int) -> str:
    """A documentation-range address from two numbers (any ints; the host stays in 1..254)."""
    return f"{_DOC_NETS[pick % len(_DOC_NETS)]}.{host % 254 + 1}"


#: The variant that adds a query parameter to the endpoint's request.
QUERY_VARIANT = "added query parameter"
# Methods that take every variant: they change nothing, so another resource that a variant
# may reach (`/api/Items` can be another item) is only read.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST takes only the variants that cannot name another resource; PUT, PATCH and DELETE none.
_POST_VARIANTS = frozenset({"trailing slash", QUERY_VARIANT})


def variant_allowed(method: str, name: str) -> bool:
    """Whether a variant (`path_variants` name, or QUERY_VARIANT) may be sent with `method`:
    every one for GET, HEAD and OPTIONS; the trailing slash and the added query parameter for
    POST; none for other methods (an unsafe request never goes to another URL's resource)."""
    method = method.upper()
    return method in _SAFE_METHODS or (method == "POST" and name in _POST_VARIANTS)


def path_variants(path: str, method: str = "GET") -> list[tuple[str, str]]:
    """Variants of a request path that many servers route to the same handler, as far as
    `variant_allowed` lets `method` have them: (name, path) for the trailing slash, the
    letter case and a doubled slash."""
    variants: list[tuple[str, str]] = []
    if path not in ("", "/"):
        slash = path[:-1] if path.endswith("/") else path + "/"
        variants.append(("trailing slash", slash))
    cased = _other_case(path)
    if cased is not None:
        variants.append(("letter case", cased))
    head, _, tail = path.rpartition("/")
    variants.append(("doubled slash", f"{head}//{tail}"))
    variants = [(name, v) for name, v in variants if variant_allowed(method, name)]
    seen = {path}
    unique: list[tuple[str, str]] = []
    for name, variant in variants:
        if variant not in seen:
            seen.add(variant)
            unique.append((name, variant))
    return unique


def _other_case(path: str) -> str | None:
    """The path with its last segment that has ASCII letters in the other case, or None."""
    segments = path.split("/")
    for index in range(len(segments) - 1, -1, -1):
        segment = segments[index]
        if any("a" <= c.lower() <= "z" for c in segment if c.isascii()) and "%" not in segment:
            upper = segment.upper()
            segments[index] = segment.lower() if upper == segment else upper
            return "/".join(segments)
    return None
