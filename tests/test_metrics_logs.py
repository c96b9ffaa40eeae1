"""Operations: the engine's Prometheus metrics and its JSON logs, on a real live check.

A LiveCheck fed a real clip through its frame callback (the WebRTC path, no browser):
every per-frame stage is timed, the active-check gauge goes up and back down, the verdict
and a recording error are counted, /metrics serves them; every log line of the check is a
JSON object holding no image, embedding or score series.
"""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.request

import pytest

import liveness  # noqa: F401  (native load order)
import av
import numpy as np
from prometheus_client import REGISTRY

from liveness import metrics
from liveness.analysis_pool import AnalysisPool
from liveness.challenge import Step
from liveness.config import settings
from liveness.logs import JsonFormatter
from liveness.matching import enroll_face
from liveness.media import iter_video
from liveness.policy import DEFAULT_POLICY

CLIP = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"
FRAMES = 60
FLOAT_RUN = re.compile(r"(-?\d+\.\d+\s*,\s*){8,}")  # an array of numbers, e.g. an embedding
LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=]{120,}")   # base64 of an image or a vector


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def clip_frames():
    if not CLIP.exists():
        pytest.skip(f"clip missing: {CLIP}")
    return [f.image for f in iter_video(CLIP, max_frames=FRAMES)]


@pytest.fixture
def json_log():
    """Every record of the process at DEBUG, formatted as the app's handler formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_live_check_is_measured_and_logged_without_biometric_data(clip_frames, json_log):
    from liveness.live import LiveCheck

    document = enroll_face(clip_frames[15], DEFAULT_POLICY)
    assert document.ok
    stages = {stage: _value("liveness_stage_seconds_count", stage=stage) for stage in metrics.STAGES}
    errors = _value("liveness_errors_total", where="record")
    active = _value("liveness_active_sessions")

    def refuse(session, verdict):
        raise RuntimeError("database down")

    check = LiveCheck(document, DEFAULT_POLICY, [Step.SMILE], "pt", True, on_verdict=refuse,
                      pool=AnalysisPool(workers=1))
    try:
        for i, image in enumerate(clip_frames):
            check.on_frame(av.VideoFrame.from_ndarray(image, format="bgr24"))
            if i == 5:
                assert _value("liveness_active_sessions") == active + 1
            # Paced so that the pool analyses a share of the frames, as a camera's would be.
            check.wait_recorded(0.02)
        verdict = check.finish()
    finally:
        check.close()
    assert check.wait_recorded(10)
    assert _value("liveness_active_sessions") == active

    for stage in metrics.STAGES:  # identity: the document's embedding and the live samples
        assert _value("liveness_stage_seconds_count", stage=stage) > stages[stage], stage
    assert _value("liveness_errors_total", where="record") == errors + 1
    counted = [_value("liveness_verdicts_total", decision=verdict.decision, reason=r)
               for r in verdict.reasons or ("none",)]
    assert all(c >= 1 for c in counted)

    lines = json_log.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    ours = [e for e in entries if e.get("session_id") == verdict.session_id]
    messages = {e["msg"] for e in ours}
    assert {"live check started", "verdict", "case not recorded"} <= messages
    logged = next(e for e in ours if e["msg"] == "verdict")
    assert logged["decision"] == verdict.decision and logged["reasons"] == list(verdict.reasons)
    text = json_log.getvalue()
    assert not FLOAT_RUN.search(text) and not LONG_TOKEN.search(text)
    for value in document.embedding[:4]:  # not even one component of the embedding
        assert f"{value:.5f}" not in text and repr(float(value)) not in text
    assert max(map(len, lines)) < 5000


def test_the_formatter_drops_arrays_and_bytes_a_caller_passes(json_log):
    logging.getLogger("liveness.test").info(
        "careless call", extra={"embedding": np.random.rand(128).astype(np.float32),
                                "image": b"\xff\xd8\xff\xe0" + bytes(4000), "scores": [0.1] * 50,
                                "frames": 3, "note": "x" * 1000})
    entry = json.loads(json_log.getvalue().splitlines()[-1])
    assert entry["embedding"] == "<omitted ndarray>" and entry["image"] == "<omitted bytes>"
    assert entry["scores"] == "<omitted list>" and entry["frames"] == 3
    assert len(entry["note"]) <= 201


def test_metrics_are_served_over_http(monkeypatch):
    monkeypatch.setenv("LIVENESS_METRICS_PORT", "0")
    port = metrics.serve_from_env()
    assert port and metrics.serve_from_env() == port  # once per process
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for name in ("liveness_stage_seconds_bucket", "liveness_active_sessions", "liveness_verdicts_total",
                 "liveness_errors_total"):
        assert name in body


def test_a_bad_metrics_port_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(metrics, "_served", None)
    monkeypatch.setenv("LIVENESS_METRICS_PORT", "nine")
    with pytest.raises(ValueError, match="LIVENESS_METRICS_PORT"):
        metrics.serve_from_env()


@pytest.mark.parametrize("name, value", [("LIVENESS_LOG_FORMAT", "xml"), ("LIVENESS_LOG_LEVEL", "loud")])
def test_bad_log_settings_are_a_clear_error(monkeypatch, name, value):
    from liveness import logs

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        logs.configure()


def test_no_speed_is_reported_from_the_first_burst_of_frames():
    """The first frames come in a burst: two of them 1 ms apart are no 1000 frames/s."""
    from liveness.live import _RateMeter

    meter = _RateMeter()
    meter.add(0.0, 0.020)
    meter.add(0.001, 0.021)
    assert meter.snapshot() is None
    for i in range(2, 40):  # then 25 frames/s, 20 ms each
        meter.add(i * 0.04, i * 0.04 + 0.020)
    rate = meter.snapshot()
    assert rate is not None  # 1.56 s of frames
    assert rate.fps == pytest.approx(25, abs=1) and rate.mean_ms == pytest.approx(20, abs=0.01)
