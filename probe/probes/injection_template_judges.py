"""Pure judges of the template family: expressions, operands, and where a product shows.

Each expression multiplies two random 5-digit operands (10000 to 46340). Their product (9 or 10
digits) stays below 2^31, so engines that multiply in 32-bit integers (Spring SpEL, which
Thymeleaf uses, and OGNL multiply two int literals as a Java `int`) print it true instead of
wrapped. It counts only as a whole number (no digit right before or after it), plain or with
thousands separators (FreeMarker groups digits): an echo of the operands, with or without the
syntax stripped (`12345*43210`, `1234543210`), never holds it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from probe.compare import excerpt_around
from probe.exchange import ResponseRecord

#: Operands are drawn from this range: large enough that no page holds their product by chance,
#: small enough that the product fits a signed 32-bit integer (46340 * 46340 < 2**31).
LOW, HIGH = 10_000, 46_340


@dataclass(frozen=True)
class Syntax:
    """One engine family's expression syntax.

    Attributes:
        label: The syntax as a report names it (`{{a*b}}`).
        opening: Text before the expression.
        closing: Text after it.
        engines: Which engines evaluate it, for a finding's detail.
    """

    label: str
    opening: str
    closing: str
    engines: str

    def expression(self, a: int, b: int) -> str:
        """The payload multiplying `a` by `b`."""
        return f"{self.opening}{a}*{b}{self.closing}"


SYNTAXES = (
    Syntax("{{a*b}}", "{{", "}}", "a `{{ }}` engine (Jinja2, Twig, Nunjucks, Tornado)"),
    Syntax(
        "${a*b}",
        "${",
        "}",
        "a `${ }` engine (FreeMarker, Mako, Java EL, Spring EL, Groovy, JS templates)",
    ),
    Syntax("<%= a*b %>", "<%= ", " %>", "an ERB-style engine (ERB, EJS, ASP)"),
    Syntax("#{a*b}", "#{", "}", "a `#{ }` engine (Ruby interpolation, Pug, Slim, Java EL)"),
)
#: Single braces: what evaluated when a syntax's outer characters are left around the product.
SINGLE_BRACES = Syntax(
    "{a*b}", "{", "}", "a single-brace engine (Smarty-style, or text evaluated as an f-string)"
)
# For each syntax, what is left around the product when only its inner `{a*b}` evaluated.
_LEFTOVERS = {"{{a*b}}": ("{", "}"), "${a*b}": ("$", ""), "#{a*b}": ("#", "")}


def operands() -> tuple[int, int]:
    """Two fresh random 5-digit operands whose product fits a signed 32-bit integer."""
    span = HIGH - LOW + 1
    return LOW + secrets.randbelow(span), LOW + secrets.randbelow(span)


def _forms(product: int) -> tuple[str, ...]:
    """The product as text: plain, and grouped by thousands the common ways."""
    plain = str(product)
    grouped = f"{product:,}"
    return (plain, *(grouped.replace(",", sep) for sep in (",", ".", " ", "\u00a0", "\u202f")))


def _whole(form: str) -> re.Pattern[str]:
    # No digit right before or after, nor a digit behind a separator: not part of a longer number.
    return re.compile(r"(?<!\d)(?<!\d[.,])" + re.escape(form) + r"(?!\d)(?![.,]\d)")


def product_in(text: str, a: int, b: int) -> str | None:
    """The product of `a` and `b` as it appears in `text` (a whole number), or None."""
    product = a * b
    if str(product) in (f"{a}{b}", f"{b}{a}"):
        return None  # cannot happen with these operands; an echo must never count
    for form in _forms(product):
        # A plain `in` first: the lookbehind pattern cannot skip ahead, and scans every place.
        if form in text and _whole(form).search(text):
            return form
    return None


def answer_text(response: ResponseRecord) -> str:
    """The body and the header values, where a rendered product may show."""
    headers = "\n".join(value for _, value in response.headers)
    return response.text() + "\n" + headers


def product_excerpt(response: ResponseRecord, form: str) -> str:
    """Where the product shows, for a finding: around it in the body, or the header line that
    holds it, named as a header (header values are not body text)."""
    body = response.text()
    if _whole(form).search(body):
        return excerpt_around(body, form)
    for name, value in response.headers:
        if _whole(form).search(value):
            return "header " + excerpt_around(f"{name}: {value}", form)
    return excerpt_around(body, form)


def new_product(
    response: ResponseRecord, a: int, b: int, baselines: list[ResponseRecord]
) -> str | None:
    """The product in `response` when no baseline answer holds it; None otherwise."""
    found = product_in(answer_text(response), a, b)
    if found is None:
        return None
    if any(product_in(answer_text(base), a, b) for base in baselines):
        return None
    return found


def evaluated(syntax: Syntax, text: str, form: str) -> Syntax:
    """Which syntax evaluated: `syntax`, or single braces when its outer characters were
    left around the product (`$80779853376` for `${a*b}`)."""
    before, after = _LEFTOVERS.get(syntax.label, ("", ""))
    if before and re.search(re.escape(before + form + after) + r"(?!\d)", text):
        return SINGLE_BRACES
    return syntax
