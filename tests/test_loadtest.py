"""``python -m liveness loadtest``: the table's fields for a tiny run, and bad input in one line.

Speeds are the command's output, not asserted here (they depend on the machine).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from liveness.config import PROJECT_ROOT, settings

CLIP = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"


def _loadtest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "liveness", "loadtest", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_a_short_run_reports_every_session():
    if not CLIP.exists():
        pytest.skip(f"clip missing: {CLIP}")
    run = _loadtest(str(CLIP), "--sessions", "1,2", "--seconds", "1", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert [s["sessions"] for s in report["steps"]] == [1, 2]
    for step in report["steps"]:
        assert len(step["analysed_fps"]) == step["sessions"]  # every session accounted for, none dropped
        assert step["returned_fps_min"] > 0 and step["rss_mb"] > report["idle_rss_mb"] * 0.5
        assert step["accepted_below_min_rate"] == 0
    assert report["capacity_sessions"] in (0, 1, 2)
    assert report["target_analysed_fps"] == 15.0 and report["cpus"] >= 1


@pytest.mark.parametrize("args, message", [
    (["--sessions", "0"], "--sessions needs counts of at least 1"),
    (["--sessions", "two"], "comma-separated"),
    (["--seconds", "0"], "--seconds must be between"),
    (["/nonexistent/clip.mjpeg", "--sessions", "1"], "error:"),
])
def test_bad_input_is_one_line(args, message):
    run = _loadtest(*args)
    assert run.returncode != 0
    assert message in run.stderr and "Traceback" not in run.stderr
