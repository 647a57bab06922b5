"""Structured logs: one JSON object per line, carrying the request id.

The request id is kept in a context variable: set by
:class:`invoiceportal.common.observability.RequestIdMiddleware` for a web request, and
in a worker for the duration of a task that was queued while handling one (the
django-q2 signals in ``observability``). :class:`JsonFormatter` writes it into every
record; :class:`RequestIdFilter` gives text formats a ``%(request_id)s``.

``LOGGING`` in settings picks the format with ``LOG_FORMAT`` (``json`` or ``text``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=""
)
_task: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "task", default=None
)

# What an incoming X-Request-ID may be to be kept: short, printable, no spaces or
# quotes (ids from proxies and clients: UUIDs, hex, "abc-123.4"). Anything else is
# replaced by a fresh id, so a header can never forge or break a log line.
NO_REQUEST_ID = "-"  # what a text log line shows outside a request
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it is usable as a request id, else ``None``."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The request id of the work in progress ("" outside a request or task)."""
    return _request_id.get()


def bind_request_id(value: str) -> contextvars.Token[str]:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


def bind_task(task_id: str, name: str) -> contextvars.Token[dict[str, str] | None]:
    return _task.set({"task_id": task_id, "task_name": name})


def unbind_task(token: contextvars.Token[dict[str, str] | None]) -> None:
    _task.reset(token)


# The attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName", "request_id"}
)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...}`` per line.

    Fields passed with ``extra=`` are included (values that JSON cannot hold are
    written as strings); a traceback goes to ``exc``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id and request_id != NO_REQUEST_ID:
            entry["request_id"] = request_id
        task = _task.get()
        if task:
            entry.update(task)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``NO_REQUEST_ID`` when there is none) for text
    formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or NO_REQUEST_ID
        return True
