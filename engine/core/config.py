"""Configuration from the environment, with defaults for a checkout of the repository."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def project_dir(name: str) -> Path:
    """Folder of diagrams (``processes``), forms (``forms``) or policy data (``policy``).

    ``FANGPIN_<NAME>_DIR`` overrides the default folder of the repository.
    """
    override = os.environ.get(f"FANGPIN_{name.upper()}_DIR")
    return Path(override) if override else REPO_ROOT / name


def database_url(instance_dir: Path) -> str:
    """``DATABASE_URL`` (PostgreSQL in production) or an SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgres://", "postgresql://", 1)
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_dir / 'fangpin.db'}"
