"""Configuration from the environment, with defaults for a checkout of the repository."""
from __future__ import annotations

import gc
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def project_dir(name: str) -> Path:
    """Folder of diagrams (``processes``), forms (``forms``) or policy data (``policy``).

    ``FANGPIN_<NAME>_DIR`` overrides the default folder of the repository.
    """
    override = os.environ.get(f"FANGPIN_{name.upper()}_DIR")
    return Path(override) if override else REPO_ROOT / name


POSTGRES_DRIVER = "psycopg2"  # psycopg2-binary, installed with fangpin (setup.cfg install_requires)


def database_url(instance_dir: Path) -> str:
    """``DATABASE_URL`` (PostgreSQL in production) or an SQLite file in the instance folder.

    A plain ``postgresql://`` (or Heroku-style ``postgres://``) URL names no driver, and SQLAlchemy 2.1 then
    picks psycopg 3, which is not installed: such a URL uses the installed psycopg2. A URL naming its driver
    (``postgresql+psycopg://``) is kept as it is."""
    url = (os.environ.get("DATABASE_URL") or "").strip()
    if url:
        for plain in ("postgres://", "postgresql://"):
            if url.startswith(plain):
                return f"postgresql+{POSTGRES_DRIVER}://" + url[len(plain):]
        return url
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_dir / 'fangpin.db'}"


def env_count(variable: str, default: int, minimum: int = 0) -> int:
    """A whole number from the environment (``default`` if unset); a clear refusal of anything else."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise SystemExit(f"{variable} 应为不小于 {minimum} 的整数，不是 {raw!r}")
    return int(raw)


GC_THRESHOLDS = (50_000, 20, 100)  # Python's defaults are (700, 10, 10)


def tune_garbage_collector() -> None:
    """For a long-running web or scheduler process: workflow instances are trees of many small objects that point
    at each other, so Python's cyclic collector, run every 700 allocations by default, takes about a quarter of
    the time of waking a thousand cases. Everything loaded at start-up is frozen out of its reach and it runs
    less often (bench/bench_engine.py measures with the same setting)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
