"""Library logging: the ``nolead`` logger, ``LogLevel`` and ``configure_logging``.

The library itself only attaches a ``NullHandler``: nothing is printed unless the
application configures logging (with the standard ``logging`` module or with
:func:`configure_logging`).  The engine checks ``logger.isEnabledFor`` once per run
rather than formatting messages per task, so logging that is off costs nothing.
"""

from __future__ import annotations

import logging
import sys
from enum import Enum

__all__ = ["LogLevel", "configure_logging", "logger"]

logger = logging.getLogger("nolead")
logger.addHandler(logging.NullHandler())

_DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
# Handlers added by configure_logging(), replaced when it is called again.
_installed: list[logging.Handler] = []


class LogLevel(Enum):
    """Log levels accepted by :func:`configure_logging` (the ``logging`` module's values)."""

    CRITICAL = logging.CRITICAL
    ERROR = logging.ERROR
    WARNING = logging.WARNING
    INFO = logging.INFO
    DEBUG = logging.DEBUG


def configure_logging(
    level: LogLevel | int = LogLevel.INFO,
    log_file: str | None = None,
    format_str: str | None = None,
) -> None:
    """Send nolead's log messages to standard output (and optionally a file).

    Calling it again replaces the handlers it added before, and nolead's messages stop
    propagating to the root logger, so each message is printed once even when the
    application also configured logging.

    Args:
        level: The lowest level to show (a :class:`LogLevel` or a ``logging`` level).
        log_file: A file to append the messages to as well.
        format_str: A ``logging.Formatter`` format string.
    """
    value = level.value if isinstance(level, LogLevel) else int(level)
    formatter = logging.Formatter(format_str or _DEFAULT_FORMAT)
    for handler in _installed:
        logger.removeHandler(handler)
        handler.close()
    _installed.clear()
    stream = logging.StreamHandler(sys.stdout)
    _installed.append(stream)
    if log_file:
        _installed.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in _installed:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(value)
    logger.propagate = False
