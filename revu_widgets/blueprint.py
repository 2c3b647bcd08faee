"""The kit's blueprint and what every one of its routes shares.

The blueprint object lives here, with its request hooks (request id, CSP nonce, security and
cache headers, versioned static URLs) and the one place that turns an error into an answer: a
page in the kit's voice, or the JSON error body. The routes join it from :mod:`.views`,
:mod:`.support`, :mod:`.report` and :mod:`.csp`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import secrets
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.security import safe_join

from . import wording
from .csp import policy_with_report_uri, receive_report
from .errors import ConfigurationError, NotSignedInError, RateLimitedError, RevUError

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

log = logging.getLogger("revu_widgets")

R = TypeVar("R", bound="BaseResponse")


def _kit_folder(name: str) -> str:
    """Where the kit's ``templates`` or ``static`` folder is, however the package was installed.

    A wheel carries them inside the package (``revu_widgets/templates``); an editable install
    or a plain checkout has them at the top of the repository, beside the package.
    """
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / name, package_dir.parent / name):
        if (candidate / "revu_widgets").is_dir():
            return str(candidate)
    raise ConfigurationError(
        f"revu-widgets cannot find its {name} folder next to {package_dir}: "
        "reinstall the package (pip install --force-reinstall revu-widgets)."
    )


#: The kit's blueprint (named ``revu_widgets``): pages, JSON routes, support views.
blueprint = Blueprint(
    "revu_widgets",
    __name__,
    template_folder=_kit_folder("templates"),
    static_folder=str(Path(_kit_folder("static")) / "revu_widgets"),
    # Distinct from the host's /static, so registering without a prefix still works.
    static_url_path="/revu-static",
)


@blueprint.before_request
def _start() -> None:
    g.revu_request_id = secrets.token_hex(6)
    g.revu_csp_nonce = secrets.token_urlsafe(16)


@blueprint.after_request
def _secure(response: Response) -> Response:
    if request.endpoint == "revu_widgets.static":
        return _static_cache_headers(response, blueprint.static_folder)
    return add_security_headers(response)


@blueprint.url_defaults
def _versioned_static(endpoint: str, values: dict[str, Any]) -> None:
    # The kit's assets are linked with their content hash (``?v=``), so browsers may keep
    # them for a year and still fetch a changed file at once.
    if endpoint == "revu_widgets.static" and "v" not in values and blueprint.static_folder:
        version = static_version(blueprint.static_folder, values.get("filename"))
        if version is not None:
            values["v"] = version


@blueprint.context_processor
def _page_context() -> dict[str, Any]:
    return {
        "csp_nonce": getattr(g, "revu_csp_nonce", ""),
        "currency": current_app.config["REVU_CURRENCY_NAME"],
        "revu_base_template": current_app.config["REVU_BASE_TEMPLATE"],
        "revu_prefix_url": url_for("revu_widgets.history"),
    }


@blueprint.errorhandler(RevUError)
def _revu_error(exc: RevUError) -> BaseResponse:
    return error_response(exc)


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> BaseResponse:
    # Werkzeug's own errors raised inside the kit's views, in the kit's voice.
    return error_response(exc)


@blueprint.before_app_request
def _api_routing_error() -> BaseResponse | None:
    # A URL under the kit's JSON APIs that matches no route (``/api/nope``,
    # ``/api/offers/abc``, ``POST /api/progress``) never reaches the blueprint, so its
    # error handlers and headers do not apply: answer here, in JSON, not the host's HTML.
    exc = request.routing_exception
    if not isinstance(exc, NotFound | MethodNotAllowed) or not _under_kit_api(request.path):
        return None
    return add_security_headers(error_response(exc, as_json=True))


@blueprint.post("/csp-report")
def csp_report() -> Response:
    """In debug mode, log what the kit's Content-Security-Policy blocked (see :mod:`.csp`)."""
    return receive_report()


#: The ``code`` of JSON errors for plain HTTP errors (others are ``http_error``).
_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}

#: Endpoints that answer in JSON, errors included.
JSON_ENDPOINTS = frozenset(
    {
        "revu_widgets.api_progress",
        "revu_widgets.api_offer",
        "revu_widgets.api_version",
        "revu_widgets.support_api_user",
    }
)


def _wants_json() -> bool:
    return request.endpoint in JSON_ENDPOINTS


def _under_kit_api(path: str) -> bool:
    """Whether ``path`` is under the kit's member or support JSON API, wherever it is mounted."""
    member_api = url_for("revu_widgets.api_progress").removesuffix("progress")
    support_api = url_for("revu_widgets.support_search") + "api/"
    return path.startswith((member_api, support_api))


def error_response(exc: RevUError | HTTPException, *, as_json: bool | None = None) -> BaseResponse:
    """The answer to an error in the kit's routes: the error page, or :func:`json_error`.

    ``as_json`` defaults to whether the route is one of the JSON APIs. A signed-out member is
    sent to ``REVU_LOGIN_URL`` when there is one; a :class:`ConfigurationError` is raised
    again, for the host's own error handling.
    """
    if isinstance(exc, ConfigurationError):
        # The host's mistake, not the visitor's: fail loudly in the host's logs and error page.
        raise exc
    if as_json is None:
        as_json = _wants_json()
    if isinstance(exc, NotSignedInError) and not as_json:
        login_url = current_app.config["REVU_LOGIN_URL"]
        if login_url:
            return redirect(_with_next(str(login_url), request.full_path.rstrip("?")))
    if not g.get("revu_request_id"):
        # A routing error under the kit's API is answered before the blueprint's hooks run.
        g.revu_request_id = secrets.token_hex(6)
    request_id: str = g.revu_request_id
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        title, message = wording.http_error_text(status)
        code = _HTTP_ERROR_CODES.get(status, "http_error")
        reference = request_id
        retry_after = None
    else:
        status = exc.http_status
        title, message = wording.error_text(
            exc, for_staff=str(request.endpoint).startswith("revu_widgets.support")
        )
        code = exc.code
        reference = exc.reference or request_id
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level,
            "revu-widgets answered %s (%s) for %s %s, request %s, reference %s",
            status,
            exc.code,
            request.method,
            _loggable_path(),
            request_id,
            reference,
        )
    if as_json:
        response = json_error(status, code, message, reference=reference, retry_after=retry_after)
    else:
        response = current_app.response_class(
            render_template(
                "revu_widgets/error.html",
                status_code=status,
                error_title=title,
                error_message=message,
                reference=reference,
                retry_after=math.ceil(retry_after) if retry_after else None,
                # Where a refused visitor can still go: the site itself, not the kit's pages.
                site_url=request.script_root + "/",
            ),
            status=status,
        )
        response.headers["X-Request-Id"] = request_id
        if retry_after is not None:
            response.headers["Retry-After"] = str(math.ceil(retry_after))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def json_error(
    status: int,
    code: str,
    message: str,
    *,
    reference: str | None = None,
    retry_after: float | None = None,
) -> Response:
    """The kit's one JSON error answer, for the member and support APIs alike.

    ``{"error": {"code", "message", "reference"[, "retry_after"]}}`` with ``status``; the
    reference is the request's id unless given (RevU's, for an upstream fault), and the
    ``X-Request-Id`` and ``Retry-After`` headers say the same as the body.
    """
    request_id = g.get("revu_request_id") or secrets.token_hex(6)
    body: dict[str, Any] = {"code": code, "message": message, "reference": reference or request_id}
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = jsonify({"error": body})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    response.headers["X-Request-Id"] = request_id
    return response


def _with_next(login_url: str, target: str) -> str:
    """``login_url`` with ``next=target`` in its query, beside any parameters it already has."""
    parts = urlsplit(login_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "next"]
    query.append(("next", target))
    return urlunsplit(parts._replace(query=urlencode(query)))


#: How long a browser may keep a versioned static file (a year: its URL changes with it).
STATIC_MAX_AGE = 365 * 24 * 3600


def static_version(folder: str, filename: object) -> str | None:
    """A short content hash of a file in ``folder``, or ``None`` when there is no such file."""
    if not isinstance(filename, str):
        return None
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return _file_hash(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    # Keyed by modification time and size, so an edited file gets a new hash without a restart.
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def _static_cache_headers(response: R, folder: str | None) -> R:
    """Year-long caching for a static file asked for by its current version, else revalidation.

    Static files are the same for everyone, so they need neither ``no-store`` nor the pages'
    policy; an old or missing ``?v=`` must not pin a stale file for a year.
    """
    version = request.args.get("v")
    current = static_version(folder, (request.view_args or {}).get("filename")) if folder else None
    if version is not None and version == current:
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


#: Characters a path may carry as they are (RFC 3986 ``pchar`` and ``/``); others are encoded.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def _loggable_path() -> str:
    """The request path percent-encoded again, so no newline or escape reaches the log."""
    return quote(request.path, safe=_PATH_SAFE)


def add_security_headers(response: R) -> R:
    headers = response.headers
    headers["Cache-Control"] = "private, no-store"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    policy = current_app.config["REVU_CONTENT_SECURITY_POLICY"]
    if policy and "Content-Security-Policy" not in headers:
        if current_app.debug:
            policy = policy_with_report_uri(policy)
        headers["Content-Security-Policy"] = policy.replace("{nonce}", g.get("revu_csp_nonce", ""))
    return response
