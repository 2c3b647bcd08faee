"""The Flask extension: configuration, the blueprint, and the hooks a host application sets.

``init_app`` checks the configuration, builds the client, the snapshot store and the limiter,
and keeps them in a :class:`~revu_widgets.state.KitState`; the routes and commands read them
through :mod:`revu_widgets.state`, never through this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask
from limits import parse as parse_limit

from . import templating

# Imported for their routes, which join the blueprint as the modules load.
from . import report, support, views  # noqa: F401  # isort: skip
from .blueprint import blueprint
from .claims import Claim, ClaimPolicy
from .cli import revu_cli
from .client import RevUClient
from .errors import ConfigurationError, NotSignedInError
from .fake import FAKE_API_KEY, FakeRevU, serve_in_thread
from .fake.app import IMAGES_PREFIX
from .fake.server import FakeServer
from .limiter import RateLimiter
from .listing import parse_status_word
from .models import Member, ProgressSummary, RewardStatus, UserProgress
from .state import KitState, full_progress, kit_state, member_progress
from .store import MemoryStore, SnapshotStore

try:
    from .redis_store import RedisStore
except ImportError:  # redis-py is an extra: pip install 'revu-widgets[redis]'
    RedisStore = None  # type: ignore[assignment,misc]

#: Every config key the kit reads, with its default. Applied with ``setdefault`` in ``init_app``.
DEFAULT_CONFIG: dict[str, Any] = {
    "REVU_API_KEY": None,
    "REVU_BASE_URL": "https://publishers.revenueuniverse.com",
    "REVU_URL_PREFIX": "/rewards",
    "REVU_BASE_TEMPLATE": "revu_widgets/layout.html",
    "REVU_PAGE_SIZE": 25,
    "REVU_CURRENCY_NAME": "coins",
    "REVU_TIMEOUT": (3.05, 8),
    "REVU_MAX_RETRIES": 2,
    "REVU_SUPPORT_TOKEN": None,
    # Extra upstream names for the kit's fields, e.g. {"offer.name": ["title"]}.
    "REVU_FIELD_ALIASES": None,
    "REVU_CACHE_URL": "memory://",
    "REVU_CACHE_SECONDS": 5,
    # Most upstream pages one walk reads (of up to 500 offers each): a member's history is
    # shown up to 10,000 offers; beyond, pages say it is cut short and offers are asked singly.
    "REVU_MAX_PAGES": 20,
    # Upstream requests one process sends at once; walks take turns for free places.
    "REVU_MAX_CONCURRENT_REQUESTS": 8,
    # Failed support-token attempts allowed per client address (``limits`` notation).
    "REVU_SUPPORT_TOKEN_LIMIT": "10/10 minutes",
    # Where members find offers (the offerwall): empty lists link there. None: no link.
    "REVU_OFFERWALL_URL": None,
    # Beyond the core table: the hard deadline for all upstream work behind one page, in seconds.
    "REVU_DEADLINE": 10.0,
    # Start the in-package fake RevU on loopback and use it (demo, local development).
    "REVU_USE_FAKE": False,
    # Where to send signed-out visitors (``?next=`` is added); None answers 401 instead.
    "REVU_LOGIN_URL": None,
    # How often the offer page refreshes itself, in seconds (0 turns live refresh off).
    "REVU_REFRESH_SECONDS": 10,
    # How often an open offer page asks whether the member's data changed (a postback), in
    # seconds: a cheap check that never calls RevU. 0 leaves only the REVU_REFRESH_SECONDS poll.
    "REVU_LIVE_CHECK_SECONDS": 1.5,
    # The Content-Security-Policy of the kit's pages; ``{nonce}`` is replaced per request.
    # Only scripts carrying the page's nonce run (not any script the site serves); a host
    # layout's inline <style> runs with the nonce too; offer images load over https only.
    # Set to None when the host application sends its own policy.
    "REVU_CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'self'; form-action 'self'"
    ),
    # "Report a problem": the site's help desk (https URL or mailto:) when no claim_handler is set.
    "REVU_SUPPORT_URL": None,
    # The claim clock: hours after the last recorded activity before a missing step can be
    # claimed; days after finishing before a pending credit without an expected date can be;
    # days a claim stays open once it opened.
    "REVU_CLAIM_STEP_WAIT_HOURS": 24,
    "REVU_CLAIM_PENDING_WAIT_DAYS": 30,
    "REVU_CLAIM_WINDOW_DAYS": 60,
    # Images a claim may carry (only with a claim_handler): how many, and bytes each.
    "REVU_CLAIM_MAX_FILES": 3,
    "REVU_CLAIM_MAX_FILE_BYTES": 5 * 1024 * 1024,
    # Reports one member may send (``limits`` notation), counted in the shared limiter.
    "REVU_CLAIM_LIMIT": "5/hour",
}

F = TypeVar("F", bound=Callable[..., Any])


class RevUWidgets:
    """RevU offer progress inside a Flask site.

    ``RevUWidgets(app)`` configures the kit and mounts its pages at ``REVU_URL_PREFIX``;
    ``RevUWidgets(app, register_blueprint=False)`` leaves ``revu.blueprint`` for the host to
    register itself. The application is never stored: one instance can serve several apps.
    """

    def __init__(self, app: Flask | None = None, *, register_blueprint: bool = True) -> None:
        self._user_id_loader: Callable[[], str | None] | None = None
        self._support_access_loader: Callable[[], bool] | None = None
        self._claim_handler: Callable[[Claim], str | None] | None = None
        self._ledger_loader: Callable[[str, int], Decimal | int | float | None] | None = None
        self._member_resolver: Callable[[str], Member | None] | None = None
        self._register_blueprint = register_blueprint
        #: The kit's blueprint (named ``revu_widgets``): pages, JSON routes, support views.
        # One blueprint for every instance: its views find the instance through the app's
        # KitState, so nothing is bound to this object.
        self.blueprint: Blueprint = blueprint
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Apply config defaults, check the configuration, and set the kit up on ``app``."""
        for key, value in DEFAULT_CONFIG.items():
            app.config.setdefault(key, value)
        app.config["REVU_USE_FAKE"] = _use_fake(app.config)
        _check_support_token(app.config.get("REVU_SUPPORT_TOKEN"))
        _check_claim_config(app.config)
        fake, fake_server = _start_fake_if_asked(app)
        client = _client_from_config(app.config)
        app.extensions["revu_widgets"] = KitState(
            widgets=self,
            client=client,
            store=_store_from_config(app.config, client),
            limiter=RateLimiter(
                str(app.config["REVU_CACHE_URL"] or ""), key_secret=str(app.config["REVU_API_KEY"])
            ),
            fake=fake,
            fake_server=fake_server,
        )
        templating.install(app)
        if "revu" not in app.cli.commands:
            app.cli.add_command(revu_cli)
        if self._register_blueprint:
            app.register_blueprint(self.blueprint, url_prefix=app.config["REVU_URL_PREFIX"])

    def user_id_loader(self, callback: F) -> F:
        """Register the function that returns the signed-in user's id, or ``None``.

        It is the only source of the user's id: never a query string or a form.
        """
        self._user_id_loader = callback
        return callback

    def support_access_loader(self, callback: F) -> F:
        """Register the function that says whether the current person may use the support views.

        Without one, the support views answer 404.
        """
        self._support_access_loader = callback
        return callback

    def claim_handler(self, callback: F) -> F:
        """Register the function that files a member's claim and returns its ticket reference.

        It receives a :class:`~revu_widgets.claims.Claim` (the evidence bundle, attachments
        included) and returns the reference shown to the member (or ``None``). Without one,
        "Report a problem" links to ``REVU_SUPPORT_URL`` or shows the bundle to copy.
        """
        self._claim_handler = callback
        return callback

    def ledger_loader(self, callback: F) -> F:
        """Register the function that says what the site itself credited for a member's offer.

        It is called as ``callback(user_id, offer_id)`` and returns the amount the site's own
        postback ledger credited for that offer (``0`` or ``None`` for nothing). When RevU
        credited more, a claim is the site's own problem, not RevU's.
        """
        self._ledger_loader = callback
        return callback

    def member_resolver(self, callback: F) -> F:
        """Register the function that says who a user id is, for support staff.

        It is called as ``callback(user_id)`` and returns a :class:`~revu_widgets.Member`
        (name and/or e-mail) or ``None`` when the site has no such member; the support lookup
        shows the answer at the top, so a mistyped id is caught before anyone reads the wrong
        history.
        """
        self._member_resolver = callback
        return callback

    @property
    def has_member_resolver(self) -> bool:
        """Whether the host registered a ``member_resolver``."""
        return self._member_resolver is not None

    def resolve_member(self, user_id: str) -> Member | None:
        """Who ``user_id`` is, from the ``member_resolver`` (``None``: no such member)."""
        if self._member_resolver is None:
            raise ConfigurationError("No @revu.member_resolver is registered.")
        member = self._member_resolver(user_id)
        if member is not None and not isinstance(member, Member):
            raise ConfigurationError(
                "@revu.member_resolver must return a revu_widgets.Member (name and/or e-mail) "
                f"or None for no such member, not {type(member).__name__}."
            )
        return member

    @property
    def has_claim_handler(self) -> bool:
        """Whether the host registered a ``claim_handler``."""
        return self._claim_handler is not None

    def send_claim(self, claim: Claim) -> str | None:
        """Hand ``claim`` to the host's ``claim_handler``; its ticket reference, if any."""
        if self._claim_handler is None:
            raise ConfigurationError("No @revu.claim_handler is registered.")
        return self._claim_handler(claim)

    def site_credited(self, user_id: str, offer_id: int) -> Decimal | None:
        """What the ``ledger_loader`` says the site credited (``None`` without a loader)."""
        if self._ledger_loader is None:
            return None
        value = self._ledger_loader(user_id, offer_id)
        if value is None:
            return Decimal(0)
        if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
            raise ConfigurationError(
                "@revu.ledger_loader must return a number (the amount the site credited for "
                f"the offer) or None, not {type(value).__name__}."
            )
        return Decimal(str(value))

    @property
    def client(self) -> RevUClient:
        """The current application's configured :class:`RevUClient`."""
        return kit_state().client

    @property
    def fake(self) -> FakeRevU | None:
        """The embedded fake RevU when ``REVU_USE_FAKE`` is on, else ``None``."""
        return kit_state().fake

    def current_user_id(self) -> str:
        """The signed-in user's id from ``user_id_loader``; raises :class:`NotSignedInError`."""
        if self._user_id_loader is None:
            raise ConfigurationError(
                "revu-widgets needs to know who is signed in: decorate a function with "
                "@revu.user_id_loader that returns the current user's id (or None)."
            )
        user_id: object = self._user_id_loader()
        # False too: ``user.is_authenticated and user.id`` is how many loaders say "nobody".
        if user_id is None or user_id is False or user_id == "":
            raise NotSignedInError("Sign in to see your offers.")
        if user_id is True:
            raise ConfigurationError(
                "The @revu.user_id_loader function returned True: return the signed-in "
                "user's id (or None when nobody is signed in), not whether someone is."
            )
        return str(user_id)

    def has_support_access(self) -> bool | None:
        """``None`` when no support loader is registered, else what the loader says."""
        if self._support_access_loader is None:
            return None
        return bool(self._support_access_loader())

    def progress(self, status: RewardStatus | str | None = None) -> UserProgress:
        """The signed-in user's offers across all pages, validated (for host views).

        ``status`` narrows to one :class:`RewardStatus` (or its word, e.g. ``"pending"``, as
        in the history's ``?status=``; ``"all"`` or ``None`` is every status).
        """
        if isinstance(status, str):
            status = parse_status_word(status)
        progress = full_progress(member_progress(self.current_user_id()))
        if status is None:
            return progress
        offers = progress.filtered(status)
        return replace(progress, offers=offers, summary=ProgressSummary.from_offers(offers))

    def refresh(self, user_id: str) -> None:
        """Tell the kit that a member's progress changed (call it from the RevU postback handler).

        The member's snapshot is dropped on every worker and host sharing ``REVU_CACHE_URL``,
        and their open offer pages fetch the change on their next check (about a second).
        """
        kit_state().store.refresh(str(user_id))


def _client_from_config(config: Any) -> RevUClient:
    key = config.get("REVU_API_KEY")
    if not key:
        raise ConfigurationError(
            "REVU_API_KEY is not set: add your wall's Get Progress key to app.config "
            '(app.config["REVU_API_KEY"] = os.environ["REVU_API_KEY"]), or set '
            "REVU_USE_FAKE = True to try the kit against the built-in fake RevU."
        )
    max_pages = config["REVU_MAX_PAGES"]
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ConfigurationError("REVU_MAX_PAGES must be a whole number of pages, 1 or more.")
    base_url = str(config.get("REVU_BASE_URL") or "")
    timeout = config["REVU_TIMEOUT"]
    if isinstance(timeout, list):
        timeout = tuple(timeout)
    try:
        return RevUClient(
            api_key=str(key),
            base_url=base_url,
            timeout=timeout,
            max_retries=int(config["REVU_MAX_RETRIES"]),
            deadline=float(config["REVU_DEADLINE"]),
            field_aliases=config["REVU_FIELD_ALIASES"],
            max_concurrent_requests=config["REVU_MAX_CONCURRENT_REQUESTS"],
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"revu-widgets configuration is not valid: {exc}") from None


def _check_claim_config(config: Any) -> None:
    try:
        ClaimPolicy.from_config(config)
    except ValueError as exc:
        raise ConfigurationError(f"revu-widgets configuration is not valid: {exc}") from None
    url = config.get("REVU_SUPPORT_URL")
    if url is not None and not support_url_is_valid(url):
        raise ConfigurationError(
            "REVU_SUPPORT_URL must be an https:// URL of your help desk or a mailto: address "
            "(e.g. 'https://help.example.com/new-ticket' or 'mailto:support@example.com')."
        )
    try:
        parse_limit(str(config["REVU_CLAIM_LIMIT"]))
    except ValueError:
        raise ConfigurationError(
            f"REVU_CLAIM_LIMIT {config['REVU_CLAIM_LIMIT']!r} is not a rate limit: write it like "
            "'5/hour' or '10 per day'."
        ) from None
    for key in ("REVU_CLAIM_MAX_FILES", "REVU_CLAIM_MAX_FILE_BYTES"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"{key} must be a whole number of at least 0.")


def support_url_is_valid(url: object) -> bool:
    """``REVU_SUPPORT_URL`` is an https URL with a host, or a ``mailto:`` address."""
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    parts = urlsplit(url)
    if parts.scheme.lower() == "mailto":
        return bool(parts.path)
    return parts.scheme.lower() == "https" and bool(parts.hostname) and not parts.username


def _store_from_config(config: Any, client: RevUClient) -> SnapshotStore:
    """The snapshot store ``REVU_CACHE_URL`` names."""
    seconds = config["REVU_CACHE_SECONDS"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ConfigurationError(
            "REVU_CACHE_SECONDS must be a number of seconds, 0 or more (0 = no reuse)."
        )
    url = str(config["REVU_CACHE_URL"] or "")
    # A reader never waits for another's walk longer than a page may take.
    wait_limit = client.deadline
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStore(seconds=seconds, wait_limit=wait_limit)
    if scheme in ("redis", "rediss"):
        if RedisStore is None:
            raise ConfigurationError(
                "REVU_CACHE_URL names Redis, but redis-py is not installed: "
                "pip install 'revu-widgets[redis]'."
            )
        # The API key keys the hash that stands for members' ids in the shared store.
        key_secret = str(config["REVU_API_KEY"])
        return RedisStore(url, seconds=seconds, wait_limit=wait_limit, key_secret=key_secret)
    raise ConfigurationError(
        "REVU_CACHE_URL must be memory:// (one process) or redis://host:6379/0 / "
        "rediss://... (shared by every worker and host)."
    )


#: The words ``REVU_USE_FAKE`` accepts (any case), as an environment variable would carry them.
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
#: Shortest accepted ``REVU_SUPPORT_TOKEN``: 32 random characters cannot be guessed online.
MIN_SUPPORT_TOKEN_LENGTH = 32


def _use_fake(config: Any) -> bool:
    """``REVU_USE_FAKE`` as a bool; anything but a boolean or a usual word is refused.

    A plain truth test would read the string ``"false"`` from an environment variable as on,
    and the fake would silently replace the real RevU.
    """
    value = config["REVU_USE_FAKE"]
    if isinstance(value, bool):
        use_fake = value
    elif isinstance(value, int) and value in (0, 1):
        use_fake = bool(value)
    elif isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        use_fake = value.strip().lower() in _TRUE_WORDS
    else:
        raise ConfigurationError(
            f"REVU_USE_FAKE must be True or False (or one of the words true/false, yes/no, "
            f"on/off, 1/0), not {value!r}."
        )
    if use_fake:
        key = config.get("REVU_API_KEY")
        base_url = config.get("REVU_BASE_URL")
        if (key and key != FAKE_API_KEY) or base_url != DEFAULT_CONFIG["REVU_BASE_URL"]:
            raise ConfigurationError(
                "REVU_USE_FAKE is on, so the built-in fake RevU would replace the configured "
                "REVU_API_KEY and REVU_BASE_URL: turn REVU_USE_FAKE off to use the real RevU, "
                "or remove REVU_API_KEY and REVU_BASE_URL to use the fake."
            )
    return use_fake


def _check_support_token(token: object) -> None:
    if token is None or token == "":
        return
    if not isinstance(token, str) or len(token.strip()) < MIN_SUPPORT_TOKEN_LENGTH:
        raise ConfigurationError(
            f"REVU_SUPPORT_TOKEN must be a string of at least {MIN_SUPPORT_TOKEN_LENGTH} "
            "characters: generate one with "
            'python -c "import secrets; print(secrets.token_urlsafe(32))", '
            "or leave it unset to turn the support API off."
        )


def _start_fake_if_asked(app: Flask) -> tuple[FakeRevU | None, FakeServer | None]:
    """With ``REVU_USE_FAKE``, serve a fake RevU for this app on loopback and point it there."""
    if not app.config["REVU_USE_FAKE"]:
        return None, None
    fake = FakeRevU(api_key=FAKE_API_KEY)
    server = serve_in_thread(fake)
    app.config["REVU_BASE_URL"] = server.url
    app.config["REVU_API_KEY"] = FAKE_API_KEY
    policy_key = "REVU_CONTENT_SECURITY_POLICY"
    if app.config[policy_key] == DEFAULT_CONFIG[policy_key]:
        # The fake draws its offers' images itself, over plain http on loopback: let the
        # default policy load exactly those (a host's own policy is left as it is).
        app.config[policy_key] = DEFAULT_CONFIG[policy_key].replace(
            "img-src 'self' https:", f"img-src 'self' https: {server.url}{IMAGES_PREFIX}"
        )
    return fake, server
