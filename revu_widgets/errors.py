"""Exceptions raised by revu-widgets.

Every exception the package raises on purpose derives from :class:`RevUError`, so a host
application can catch the whole family in one place. Each subclass says what happened and what
to do about it; none ever carries the API key or a raw upstream body.

The upstream-facing errors carry ``http_status`` (the status the kit's own pages answer with)
and ``reference`` (RevU's ``support_id`` when the upstream sent one, else ``None``; the views add
their own request id).
"""

from __future__ import annotations


class RevUError(Exception):
    """Root of every error raised by revu-widgets."""

    #: HTTP status the kit's pages and JSON routes answer with for this error.
    http_status: int = 500
    #: Stable machine-readable code, used in JSON error bodies.
    code: str = "revu_error"

    def __init__(self, message: str, *, reference: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reference = reference

    def __str__(self) -> str:
        return self.message


class ConfigurationError(RevUError, RuntimeError):
    """The host application configured the kit wrongly (raised at ``init_app`` or first use)."""

    code = "configuration_error"


class InvalidRequestError(RevUError, ValueError):
    """An argument was refused before any request was sent (bad user id, limit, offset ...)."""

    http_status = 400
    code = "invalid_request"


class UpstreamError(RevUError):
    """Base for every failure talking to RevU's Get Progress API."""

    http_status = 502
    code = "upstream_error"


class AuthenticationError(UpstreamError):
    """RevU refused the API key (401/403): the key is missing, wrong, or for another wall."""

    http_status = 502
    code = "upstream_auth"


class ForbiddenError(UpstreamError):
    """RevU refused the request (403) without saying the key is wrong or the member banned."""

    http_status = 502
    code = "upstream_forbidden"


class BannedError(UpstreamError):
    """RevU says the user or their IP address is banned from the offerwall (403).

    Raised as :class:`UserBannedError` or :class:`IpBannedError`, which members are told about
    in different words.
    """

    http_status = 403
    code = "banned"

    def __init__(
        self, message: str, *, reason: str = "USER_BANNED", reference: str | None = None
    ) -> None:
        super().__init__(message, reference=reference)
        #: ``"USER_BANNED"`` or ``"IP_BANNED"``.
        self.reason = reason


class UserBannedError(BannedError):
    """RevU's ``USER_BANNED``: this member's account may not use the offerwall."""

    code = "user_banned"


class IpBannedError(BannedError):
    """RevU's ``IP_BANNED``: the member's network address may not use the offerwall."""

    code = "ip_banned"


class RateLimitedError(UpstreamError):
    """RevU throttled us (429) for longer than the client is willing to wait."""

    http_status = 429
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: float | None = None, reference: str | None = None
    ) -> None:
        super().__init__(message, reference=reference)
        #: Seconds RevU asked us to wait, when it said.
        self.retry_after = retry_after


class UpstreamUnavailableError(UpstreamError):
    """RevU could not be reached or answered with a server error (5xx, refused, dropped)."""

    http_status = 503
    code = "upstream_unavailable"


class UpstreamTimeoutError(UpstreamUnavailableError):
    """RevU did not answer within the configured timeout or the call's deadline."""

    http_status = 504
    code = "upstream_timeout"


class BadPayloadError(UpstreamError):
    """RevU answered, but not with the Get Progress shape (not JSON, wrong envelope, too large)."""

    http_status = 502
    code = "bad_payload"

    def __init__(
        self,
        message: str,
        *,
        field_paths: tuple[str, ...] = (),
        reference: str | None = None,
    ) -> None:
        super().__init__(message, reference=reference)
        #: Dotted paths of the fields that failed validation; never their values.
        self.field_paths = field_paths


class UpstreamBadRequestError(UpstreamError):
    """RevU rejected the request's parameters (400); usually a bug in how we called it."""

    http_status = 502
    code = "upstream_bad_request"


class OfferNotFoundError(RevUError, LookupError):
    """The user has no progress on the requested offer."""

    http_status = 404
    code = "offer_not_found"


class NotSignedInError(RevUError):
    """The ``user_id_loader`` returned ``None``: nobody is signed in."""

    http_status = 401
    code = "not_signed_in"


__all__ = [
    "AuthenticationError",
    "BadPayloadError",
    "BannedError",
    "ConfigurationError",
    "ForbiddenError",
    "InvalidRequestError",
    "IpBannedError",
    "NotSignedInError",
    "OfferNotFoundError",
    "RateLimitedError",
    "RevUError",
    "UpstreamBadRequestError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "UserBannedError",
]
