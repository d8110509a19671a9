"""The server's log (运行日志): one line format for every process of a running fangpin — gunicorn's arbiter and
workers (their own lines and the access log), the timer scheduler and its waking helpers — each line with its
moment in China Standard Time (with the offset, as the officials' pages show times), the process id, the level and
the logger, so that a county's IT officer reads one log, not three formats in two time zones."""
from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from timers.calendar import CHINA_TZ

SERVER_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
COMMAND_FORMAT = "%(levelname)s %(name)s: %(message)s"  # a command an official types: no moment, no process
LEVEL_SETTING = "FANGPIN_LOG_LEVEL"  # fangpin's own lines at this level (DEBUG: also each sweep); others at INFO
OWN_LOGGERS = ("engine", "timers", "web")
QUIET = {
    "spiff": logging.WARNING,  # SpiffWorkflow's step-by-step log
    "apscheduler.executors": logging.WARNING,  # "Running job …" and "… executed successfully" on every sweep
}


class ServerFormatter(logging.Formatter):
    """:data:`SERVER_FORMAT` with the moment as ISO 8601 in China Standard Time, to the millisecond."""

    def __init__(self, fmt: str = SERVER_FORMAT, datefmt: str | None = None, style: Any = "%", **kwargs: Any) -> None:
        super().__init__(fmt, datefmt, style, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, CHINA_TZ).isoformat(timespec="milliseconds")


def configure_command_logging(verbose: bool) -> None:
    """The log of a ``fangpin`` command: warnings only (everything with ``--verbose``), without moments."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format=COMMAND_FORMAT)
    _quieten()


def configure_server_logging(level: int = logging.INFO) -> None:
    """The log of a long-running process (the web server, the scheduler, a waking helper): :class:`ServerFormatter`
    lines on standard error at ``level``, whatever a command set up before; fangpin's own loggers at
    ``FANGPIN_LOG_LEVEL`` if set (a library's debug lines, SQLAlchemy's statements among them, stay out)."""
    handler = logging.StreamHandler()
    handler.setFormatter(ServerFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    own = own_level()
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own if own is not None else logging.NOTSET)
    _quieten()


def own_level() -> int | None:
    """``FANGPIN_LOG_LEVEL`` as a logging level (None: not set); a name logging does not know is refused."""
    name = os.environ.get(LEVEL_SETTING, "").strip().upper()
    if not name:
        return None
    levels = logging.getLevelNamesMapping()
    if name not in levels:
        raise ValueError(f"{LEVEL_SETTING}={name!r}：应为 DEBUG、INFO、WARNING 或 ERROR")
    return levels[name]


def _quieten() -> None:
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


def gunicorn_logconfig() -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error log (the arbiter's and workers' lines) and its access log in
    :data:`SERVER_FORMAT` on standard error and standard output, as gunicorn's "-" does."""
    formatter = {"()": f"{__name__}.ServerFormatter"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"server": formatter},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "server", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "server", "stream": "ext://sys.stdout"},
        },
        "root": {"level": "INFO", "handlers": ["error"]},  # the application's own lines in a worker
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        },
    }
