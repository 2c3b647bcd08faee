"""A bare Flask app that renders the kit's templates straight from the checkout.

No extension, client or blueprint routes: tests give the templates the context they want and
see exactly what the macros and pages make of it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from jinja2 import BaseLoader, FileSystemLoader

from revu_widgets import presentation

REPO = Path(__file__).resolve().parents[1]
#: The kit's templates (``revu_widgets/...``) in the checkout.
TEMPLATES = REPO / "templates"
#: The kit's CSS and JavaScript in the checkout.
STATIC = REPO / "static" / "revu_widgets"


def kit_app(loader: BaseLoader | None = None) -> Flask:
    """An app with the kit's filters and globals, and its static files at ``/revu-static``.

    Templates come from ``loader``, by default the kit's own under ``revu_widgets/``.
    """
    app = Flask(__name__)
    app.jinja_loader = loader or FileSystemLoader(TEMPLATES)
    # The templates link their assets with url_for("revu_widgets.static", ...).
    app.register_blueprint(
        Blueprint(
            "revu_widgets", __name__, static_folder=str(STATIC), static_url_path="/revu-static"
        )
    )
    presentation.install(app)
    return app
