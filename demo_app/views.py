"""PointPanda's own pages: home, sign-in, the dashboard and the "Simulate progress" button.

The kit's pages (under ``REVU_URL_PREFIX``) are not here: the kit serves them, inside this
site's layout because the app sets ``REVU_BASE_TEMPLATE = "demo/layout.html"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from revu_widgets import RevUWidgets, RewardStatus
from revu_widgets.errors import InvalidRequestError, OfferNotFoundError, RevUError

from .accounts import (
    CSRF_FIELD,
    DEMO_USERS,
    DemoUser,
    csrf_token,
    current_user,
    find_user,
    require_csrf,
    sign_in,
    sign_out,
)
from .shared import SharedProgress

if TYPE_CHECKING:
    from revu_widgets.fake import FakeRevU

    from .claims_desk import ClaimsDesk

bp = Blueprint("demo", __name__)

#: How many in-progress offers the dashboard shows before pointing at the full history.
DASHBOARD_OFFERS = 6

# The host's own pages get this policy; the kit's pages already carry a stricter, nonce-based one.
_HOST_CSP = (
    "default-src 'self'; img-src 'self' https: http: data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class Upstream:
    """Which RevU the site is talking to, for the banner on every page."""

    is_fake: bool
    url: str

    @property
    def label(self) -> str:
        """Plain words for the banner."""
        if self.is_fake:
            return "Offers come from the built-in fake RevU: offline, nothing leaves this machine."
        return "Offers come from the real RevU Get Progress API."


def claims_desk() -> ClaimsDesk:
    """This app's claims desk (where the kit's claim handler files members' reports)."""
    desk: ClaimsDesk = current_app.extensions["demo_claims"]
    return desk


def _revu() -> RevUWidgets:
    kit: RevUWidgets = current_app.extensions["demo_revu"]
    return kit


def _fake() -> FakeRevU | None:
    """The embedded fake RevU when this app uses it, else ``None``."""
    return _revu().fake


def _upstream() -> Upstream:
    if _fake() is not None:
        # The fake's loopback address is nobody's business: its control endpoints live there.
        return Upstream(is_fake=True, url="")
    return Upstream(is_fake=False, url=str(current_app.config["REVU_BASE_URL"]))


def staff_sign_in_allowed() -> bool:
    """Staff accounts exist only on the built-in fake.

    With a real key, a free "be staff" button would let anyone look up real members' offers.
    """
    return _fake() is not None


def _people() -> tuple[DemoUser, ...]:
    """The people a visitor may pick on this site."""
    if staff_sign_in_allowed():
        return DEMO_USERS
    return tuple(user for user in DEMO_USERS if not user.is_staff)


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, so a crafted link cannot bounce users away."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _offer_in_view() -> int | None:
    """On the kit's offer page, that offer's id, so the nav button advances what is on screen."""
    if request.blueprint != "revu_widgets" or not request.view_args:
        return None
    offer_id = request.view_args.get("offer_id")
    return offer_id if isinstance(offer_id, int) else None


def install_site(app: Flask, revu: RevUWidgets) -> None:
    """Hook the site-wide pieces into ``app``: template context, form checks, headers."""
    app.extensions["demo_revu"] = revu

    @app.context_processor
    def demo_context() -> dict[str, Any]:
        return {
            "demo_user": current_user(),
            "demo_users": _people(),
            "demo_csrf_token": csrf_token,
            "demo_csrf_field": CSRF_FIELD,
            "demo_upstream": _upstream(),
            "demo_offer_in_view": _offer_in_view(),
            "demo_prefix": app.config["REVU_URL_PREFIX"].rstrip("/"),
        }

    @app.before_request
    def catch_up_with_other_workers() -> None:
        shared: SharedProgress | None = app.extensions.get("demo_shared_progress")
        fake = revu.fake
        if shared is not None and fake is not None:
            shared.catch_up(fake, revu)

    @app.after_request
    def host_headers(response: BaseResponse) -> BaseResponse:
        # setdefault: the kit's pages set their own, stricter headers and keep them.
        response.headers.setdefault("Content-Security-Policy", _HOST_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Every page says who is signed in (the dashboard shows their offers and earnings,
            # the home page a staff member's token): never kept by a shared cache.
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


@bp.get("/")
def home() -> str:
    """What PointPanda is and what to try."""
    return render_template("demo/home.html")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> str | BaseResponse:
    """Pick a person to be; no passwords."""
    if request.method == "POST":
        require_csrf()
        user = find_user(request.form.get("user_id"))
        if user is None:
            abort(400, description="Pick one of the people on the sign-in page.")
        if user.is_staff and not staff_sign_in_allowed():
            abort(403, description="Staff sign-in is only there on the built-in fake RevU.")
        sign_in(user)
        flash(f"Signed in as {user.name}.", "success")
        return redirect(_safe_next(request.form.get("next")) or url_for("demo.dashboard"))
    return render_template("demo/sign_in.html", next_url=_safe_next(request.args.get("next")))


@bp.post("/sign-out")
def sign_out_page() -> BaseResponse:
    """End the session."""
    require_csrf()
    sign_out()
    flash("Signed out. Pick someone else to try another side of the kit.", "success")
    return redirect(url_for("demo.home"))


@bp.get("/dashboard")
def dashboard() -> tuple[str, int] | str:
    """The host's own page, built from the kit's macros and ``revu.progress()``."""
    user = current_user()
    if user is None:
        return render_template("demo/dashboard.html", progress=None, error=None)
    try:
        progress = _revu().progress()
    except RevUError as error:
        return render_template("demo/dashboard.html", progress=None, error=error), (
            error.http_status
        )
    in_progress = progress.filtered(RewardStatus.IN_PROGRESS)
    return render_template(
        "demo/dashboard.html",
        progress=progress,
        error=None,
        # The kit's macros fill "{offer_id}" in for each offer they link.
        offer_url_pattern=url_for("revu_widgets.offer_detail", offer_id=0).removesuffix("0")
        + "{offer_id}",
        in_progress=in_progress[:DASHBOARD_OFFERS],
        more_in_progress=max(0, len(in_progress) - DASHBOARD_OFFERS),
    )


@bp.post("/simulate-progress")
def simulate_progress() -> BaseResponse:
    """Move the signed-in member's offers one step on, in the fake RevU only."""
    require_csrf()
    fake = _fake()
    if fake is None:
        abort(404)
    user = current_user()
    if user is None:
        abort(401, description="Sign in first, then simulate progress.")
    offer_id: int | None = None
    raw_offer = request.form.get("offer_id", "").strip()
    if raw_offer:
        if not (raw_offer.isascii() and raw_offer.isdigit()):
            abort(400, description="That offer id is not a number.")
        offer_id = int(raw_offer)
    try:
        moved = fake.advance(user.user_id, offer_id=offer_id)
    except OfferNotFoundError:
        return _simulated("Nothing to move on: no offer of yours is in progress or pending credit.")
    except InvalidRequestError:
        return _simulated(
            "This offer is already finished; only offers in progress or pending credit move on."
        )
    revu_postback(user.user_id, moved)
    name = moved.get("name")
    what = f"“{name}”" if isinstance(name, str) and name else "One of your offers"
    return _simulated(
        f"{what} moved one step on.", hint=" Its page updates by itself within a few seconds."
    )


def revu_postback(user_id: str, offer: dict[str, Any]) -> None:
    """What the site does when RevU's postback arrives: here, after simulated progress.

    A real site credits the member in its own ledger first; then ``revu.refresh`` drops the
    member's snapshot and their open offer pages show the change within a second or two.
    Under several workers the progress is written down for the other workers' fakes too.
    """
    shared: SharedProgress | None = current_app.extensions.get("demo_shared_progress")
    if shared is not None:
        shared.record(user_id, offer)
    _revu().refresh(user_id)


def _simulated(message: str, *, hint: str = "") -> BaseResponse:
    """Answer the button: JSON for the page's script, else back to where it was pressed."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify(message=message)
    flash(message + hint, "success")
    return redirect(_safe_next(request.form.get("next")) or url_for("demo.dashboard"))


def _require_staff() -> None:
    user = current_user()
    if user is None:
        abort(401, description="Sign in as staff to read the claims desk.")
    if not user.is_staff:
        abort(403, description="Only staff can read the claims desk.")


@bp.get("/staff/claims")
def staff_claims() -> str:
    """Every report members filed through "Report a problem", newest first (staff only)."""
    _require_staff()
    return render_template("demo/claims.html", tickets=claims_desk().tickets())


@bp.get("/staff/claims/<reference>/images/<int:number>")
def staff_claim_image(reference: str, number: int) -> BaseResponse:
    """One image a member attached (staff only); its type was checked on its content."""
    _require_staff()
    ticket = claims_desk().find(reference)
    if ticket is None or not 0 <= number < len(ticket.claim.attachments):
        abort(404)
    image = ticket.claim.attachments[number]
    response = current_app.response_class(image.data, mimetype=image.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
