"""Home page: what is deployed and how many cases and tasks are open (the full UI is a later issue)."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from engine.db import db
from engine.models import Case, HumanTask, ProcessVersion

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    counts = {
        "running_cases": db.session.scalar(select(func.count(Case.id)).filter_by(status="running")),
        "ready_tasks": db.session.scalar(select(func.count(HumanTask.id)).filter_by(state="READY")),
    }
    versions = db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.version))
    return render_template("index.html", counts=counts, versions=list(versions))
