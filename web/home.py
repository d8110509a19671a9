"""Home: officials go to their inbox; the public to the self-application page."""
from __future__ import annotations

from flask import Blueprint, g, redirect, url_for
from werkzeug.wrappers import Response

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("tasks.inbox" if g.user else "auth.login"))
