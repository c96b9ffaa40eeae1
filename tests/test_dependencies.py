"""The installed dependencies: every requirement pinned, and pip finds no conflict between them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
# mediapipe 0.10.30's wheel says "Tag: cp39-cp39-linux_x86_64" in its WHEEL file although it is
# the py3 wheel PyPI serves for every CPython: pip check reports the tag, not a conflict.
KNOWN_TAG_QUIRK = "mediapipe 0.10.30 is not supported on this platform"


def test_every_requirement_is_pinned():
    lines = [line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    requirements = [line for line in lines if line]
    assert requirements
    unpinned = [line for line in requirements if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line)]
    assert not unpinned, unpinned


def test_pip_finds_no_conflict_between_the_installed_packages():
    result = subprocess.run([sys.executable, "-m", "pip", "check", "--disable-pip-version-check"],
                            capture_output=True, text=True, timeout=300)
    problems = [line for line in result.stdout.splitlines()
                if line.strip() not in ("", KNOWN_TAG_QUIRK, "No broken requirements found.")]
    assert not problems, result.stdout + result.stderr
