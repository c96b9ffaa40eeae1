"""Prometheus metrics of the engine, one set per process (each replica exposes its own).

The engine updates them where the work happens: the model wrappers time their stage
(:func:`timed`), :class:`~liveness.session.VerificationSession` the whole frame and its
verdict, :class:`~liveness.live.LiveCheck` the active checks and the errors. Nothing here
carries a face, an embedding or a customer reference: labels are stage names, decisions
and reason codes.

The app serves them with :func:`serve_from_env` (``LIVENESS_METRICS_PORT``; Streamlit cannot
add a route to its own server); an ASGI service can mount ``prometheus_client.make_asgi_app()``
on the same default registry instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram, start_http_server

STAGES = ("detection", "landmarks", "passive", "identity", "frame")
# Per-frame stages take 1-30 ms on a quiet machine; a loaded one shows up in the upper buckets.
_BUCKETS = (0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
            0.2, 0.5, 1.0, 2.5)

STAGE_SECONDS = Histogram("liveness_stage_seconds", "Latency of one call of a per-frame stage",
                          ["stage"], buckets=_BUCKETS)
ACTIVE_CHECKS = Gauge("liveness_active_sessions", "Live checks receiving frames in this process")
VERDICTS = Counter("liveness_verdicts_total",
                   "Verdicts decided, by decision and reason (accepted: reason none; a review "
                   "counts once per reason)", ["decision", "reason"])
ERRORS = Counter("liveness_errors_total", "Errors, by where they happened", ["where"])

F = TypeVar("F", bound=Callable)


def timed(stage: str) -> Callable[[F], F]:
    """Decorator: observe each call's duration in ``liveness_stage_seconds{stage=...}``."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    histogram = STAGE_SECONDS.labels(stage)

    def decorate(function: F) -> F:
        @wraps(function)
        def timed_call(*args, **kwargs):
            with histogram.time():
                return function(*args, **kwargs)
        return timed_call  # type: ignore[return-value]
    return decorate


def count_verdict(decision: str, reasons: tuple[str, ...]) -> None:
    for reason in reasons or ("none",):
        VERDICTS.labels(decision, reason).inc()


def count_error(where: str) -> None:
    ERRORS.labels(where).inc()


_served: int | None = None
_serve_lock = threading.Lock()


def serve_from_env() -> int | None:
    """Start ``/metrics`` on ``LIVENESS_METRICS_PORT`` (address ``LIVENESS_METRICS_ADDR``, default
    127.0.0.1) once per process; returns the port, or None when the variable is unset.
    Port 0 picks a free one (tests)."""
    global _served
    text = os.environ.get("LIVENESS_METRICS_PORT", "").strip()
    if not text:
        return None
    with _serve_lock:
        if _served is None:
            try:
                port = int(text)
            except ValueError:
                raise ValueError(f"LIVENESS_METRICS_PORT must be a port number, not {text!r}") from None
            server, _ = start_http_server(port, addr=os.environ.get("LIVENESS_METRICS_ADDR", "127.0.0.1"))
            _served = server.server_port
        return _served
