"""Structured logs: one JSON object per line, with no biometric data.

What the engine logs are events with pseudonymous ids, decisions and reason codes
(:func:`verdict_fields`); faces, embeddings, scores series, evidence and customer
references are never passed to a logger. The formatter enforces it for the fields a
record carries: only short scalars pass, anything else (an array, bytes, a list) is
replaced by its type name, and messages are cut at ``MAX_MESSAGE``.

``configure()`` is called once per process by the app and the CLI: JSON with
``LIVENESS_LOG_FORMAT=json`` (the app's default), plain text otherwise (the CLI's); the
level from ``LIVENESS_LOG_LEVEL`` (the app: INFO, the CLI: WARNING).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone

MAX_MESSAGE = 500
MAX_FIELD = 200
# The attributes every LogRecord has: not extra fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _safe(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_FIELD else value[:MAX_FIELD] + "…"
    if isinstance(value, tuple) and len(value) <= 20 and all(isinstance(v, str) and len(v) <= 64 for v in value):
        return list(value)  # reason codes, step names
    return f"<omitted {type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…",
        }
        entry.update({key: _safe(value) for key, value in vars(record).items()
                      if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["traceback"] = self.formatException(record.exc_info)[-4000:]
        return json.dumps(entry, ensure_ascii=False, default=str)


def verdict_fields(verdict) -> dict:
    """What a log line may say about a verdict: ids, decision, reason codes, counts, versions."""
    return {"session_id": verdict.session_id, "decision": verdict.decision, "reasons": tuple(verdict.reasons),
            "frames": verdict.scores.get("frames"), "duration_s": verdict.scores.get("duration_s"),
            "policy_version": verdict.policy_version}


_HANDLER_NAME = "liveness"
# Chatty at INFO: one line per ICE candidate pair of every peer connection.
_QUIET = ("aioice", "aiortc")


def configure(default_format: str = "json", default_level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (again: replaced, not added)."""
    fmt = os.environ.get("LIVENESS_LOG_FORMAT", default_format).strip().lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"LIVENESS_LOG_FORMAT must be 'json' or 'text', not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = os.environ.get("LIVENESS_LOG_LEVEL", default_level).strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"LIVENESS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
