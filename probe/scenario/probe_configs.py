"""The `probes:` key of a scenario: which probes run, and each probe's options.

A new probe adds its id to `PROBE_IDS`, a config model here and a field on `Probes`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from probe.scenario.values import PositiveFloat, PositiveInt, StrictModel, no_bool

PROBE_IDS = ("headers", "https", "rate_limit", "jwt", "errors", "injection", "access")
#: The injection probe's payload families, in the order they run.
InjectionFamily = Literal["sql", "nosql", "command", "template", "xss", "traversal"]
INJECTION_FAMILIES: tuple[InjectionFamily, ...] = (
    "sql",
    "nosql",
    "command",
    "template",
    "xss",
    "traversal",
)


class HeadersConfig(StrictModel):
    """Options of the headers probe."""

    cors_origin: str = Field(
        "https://probe-cors-check.invalid",
        description="Foreign Origin sent to check CORS reflection (never contacted).",
    )

    @field_validator("cors_origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ValueError(
                f"cors_origin must be an origin such as https://a.example, got {value!r}"
            )
        return value


class HttpsConfig(StrictModel):
    """Options of the https probe."""

    expiring_days: PositiveInt = Field(
        30, description="A certificate that ends within this many days is reported (medium)."
    )
    expiring_high_days: PositiveInt = Field(
        7, description="Within this many days the expiring certificate is reported as high."
    )
    legacy_versions: bool = Field(
        True, description="Try one TLS 1.0 and one TLS 1.1 handshake (false: skipped)."
    )

    @model_validator(mode="after")
    def _days_in_order(self) -> HttpsConfig:
        if self.expiring_high_days > self.expiring_days:
            raise ValueError("expiring_high_days must not be above expiring_days")
        return self


class RateLimitConfig(StrictModel):
    """Options of the rate_limit probe."""

    reset_wait_cap: PositiveFloat = Field(
        60,
        description=(
            "Longest wait for a limit window to reset (seconds); a wait may overrun it by one "
            "request timeout (its last poll), and an endpoint waits at most four times."
        ),
    )
    try_bypass: bool = Field(
        True,
        description=(
            "Send path variants before the burst (as far as the method allows) and, once "
            "limited, try spoofed client-address headers and the variants (up to about 60 "
            "more requests per endpoint)."
        ),
    )
    compare_sequential: bool = Field(
        True,
        description=(
            "Compare the burst with a run of one request at a time (also after a burst that "
            "met no limit), to find limits a burst races past and caps on requests in flight "
            "that are no rate limit (up to two runs of `sequential_max`, a repeat burst and "
            "up to three more waits)."
        ),
    )
    sequential_max: PositiveInt | None = Field(
        default=None,
        description="Requests of a sequential run at most; default: the endpoint's burst.",
    )


class JwtConfig(StrictModel):
    """Options of the jwt probe."""

    identity: str | None = Field(default=None, description="Identity whose token is tested.")
    endpoint: str | None = Field(default=None, description="Endpoint that needs the token.")
    max_lifetime: PositiveInt = Field(3600, description="Seconds a token may live.")
    wait_for_expiry: Annotated[int, Field(ge=0, le=3600), BeforeValidator(no_bool)] = Field(
        120,
        description=(
            "Wait up to this long (at most 3600 s) for a real token to expire, then replay it; "
            "a finding needs it to exceed the token's lifetime by at least 61 s."
        ),
    )
    expired_token: str | None = Field(default=None, description="A token known to be expired.")
    secret: str | None = Field(default=None, description="The test environment's secret.")
    jwks_url: str | None = Field(
        default=None,
        description=(
            "JWKS with the public keys (a path joined to base_url, or an in-scope URL); "
            "default: /.well-known/jwks.json when the token is RS/ES/PS-signed."
        ),
    )
    weak_secrets: bool = Field(
        True, description="Try the bundled list of common secrets offline on HS tokens."
    )


class ErrorsConfig(StrictModel):
    """Options of the errors probe."""

    exposure_paths: bool = Field(True, description="Also request well-known debug paths.")


class InjectionConfig(StrictModel):
    """Options of the injection probe."""

    time_based: bool = Field(
        False, description="Allow time-based payloads (database and shell sleeps)."
    )
    delays: list[Annotated[int, Field(ge=1, le=10), BeforeValidator(no_bool)]] = Field(
        default_factory=lambda: [2, 5],
        min_length=2,
        max_length=3,
        description=(
            "Whole seconds a time-based payload asks the server to wait, two or three "
            "distinct levels (1-10); a finding needs the delay to follow each level."
        ),
    )
    max_wait: Annotated[int, Field(ge=5, le=900), BeforeValidator(no_bool)] = Field(
        120,
        description=(
            "Seconds one endpoint's time-based requests may take in all (their real time, "
            "timeouts included), 5-900."
        ),
    )
    families: list[InjectionFamily] = Field(
        default_factory=lambda: list(INJECTION_FAMILIES),
        min_length=1,
        description="Payload families to try: " + ", ".join(INJECTION_FAMILIES) + ".",
    )

    @field_validator("delays")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("delays must be distinct levels, e.g. [2, 5]")
        return sorted(value)

    @field_validator("families")
    @classmethod
    def _once(cls, value: list[InjectionFamily]) -> list[InjectionFamily]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _affordable(self) -> InjectionConfig:
        # One proof asks for every delay three times (injection_timing.proof_cost).
        cost = 3 * sum(self.delays)
        if self.time_based and self.max_wait < cost:
            raise ValueError(
                f"max_wait ({self.max_wait} s) cannot pay for one time-based proof with "
                f"delays {self.delays} ({cost} s): raise max_wait or lower the delays"
            )
        return self


class AccessConfig(StrictModel):
    """Options of the access probe."""

    user_field: str | None = Field(
        default=None,
        description=(
            "Dotted body field holding the user name on endpoints tagged login; default: the "
            "first of username, email, user, login."
        ),
    )
    password_field: str | None = Field(
        default=None,
        description="Dotted body field holding the password; default: the first naming pass.",
    )
    unknown_user: str | None = Field(
        default=None,
        description="A user name that does not exist; default: one made up per scan.",
    )
    timing_samples: PositiveInt = Field(
        5,
        description=(
            "Timing tries per side after the first two (at most 20; under 5 no timing verdict)."
        ),
    )

    @field_validator("timing_samples")
    @classmethod
    def _samples(cls, value: int) -> int:
        if value > 20:
            raise ValueError("timing_samples must be at most 20")
        return value


class Probes(StrictModel):
    """Which probes run; a probe set to false is off, an absent one runs with defaults."""

    headers: HeadersConfig | Literal[False] = Field(default_factory=HeadersConfig)
    https: HttpsConfig | Literal[False] = Field(default_factory=HttpsConfig)
    rate_limit: RateLimitConfig | Literal[False] = Field(default_factory=RateLimitConfig)
    jwt: JwtConfig | Literal[False] = Field(default_factory=JwtConfig)
    errors: ErrorsConfig | Literal[False] = Field(default_factory=ErrorsConfig)
    injection: InjectionConfig | Literal[False] = Field(default_factory=InjectionConfig)
    access: AccessConfig | Literal[False] = Field(default_factory=AccessConfig)

    @model_validator(mode="before")
    @classmethod
    def _true_and_null_mean_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: ({} if v is True or v is None else v) for k, v in data.items()}
        return data

    def enabled(self) -> dict[str, BaseModel]:
        """Probe id -> its config, for the probes that are on."""
        out: dict[str, BaseModel] = {}
        for probe_id in PROBE_IDS:
            config = getattr(self, probe_id)
            if config is not False:
                out[probe_id] = config
        return out
