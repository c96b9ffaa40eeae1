"""Signed challenge scripts for recorded videos: issue, sign, load (forgery, expiry, malformed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import DELIBERATE, Step
from liveness.challenge_script import ScriptError, issue_script, load_script, script_key, sign
from liveness.config import settings
from liveness.policy import DEFAULT_POLICY

P = DEFAULT_POLICY
KEY = b"k" * 32
NOW = 1_800_000_000.0


def test_a_signed_script_loads_back_as_issued():
    script = issue_script(P, now=NOW)
    assert load_script(sign(script, KEY), KEY, now=NOW + 60) == script
    assert script.expires_at - script.issued_at == P.challenge_script_ttl_s
    assert script.policy_version == P.version and len(script.script_id) >= 16


def test_scripts_follow_the_composition_and_leave_each_answer_its_window():
    rng = secrets.SystemRandom()
    window = P.reaction_max_s + P.prompt_round_trip_s + P.gesture_complete_s
    seen = set()
    for _ in range(200):
        script = issue_script(P, rng, now=NOW)
        steps, times = script.step_list, script.prompt_times
        assert P.challenge_steps_min <= len(steps) <= P.challenge_steps_max and set(steps) & set(DELIBERATE)
        assert times[0] >= P.baseline_s + P.prompt_delay_min_s
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(window + P.prompt_delay_min_s - 1e-3 <= g <= window + P.prompt_delay_max_s + 1e-3 for g in gaps)
        seen.add((tuple(steps), tuple(times)))
    assert len(seen) == 200, "steps and times are drawn afresh"


def test_an_edited_script_is_refused():
    script = issue_script(P, now=NOW)
    payload, mac = sign(script, KEY).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["steps"] = [[Step.SMILE.value, 2.0]]  # the client picks its own challenge
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(ScriptError, match="signature"):
        load_script(f"{forged}.{mac}", KEY, now=NOW)
    with pytest.raises(ScriptError, match="signature"):
        load_script(sign(script, KEY), b"another server's key", now=NOW)


def test_an_expired_script_is_refused():
    script = issue_script(P, now=NOW)
    with pytest.raises(ScriptError, match="expired"):
        load_script(sign(script, KEY), KEY, now=NOW + P.challenge_script_ttl_s + 1)


@pytest.mark.parametrize("text", ["", "no dot here", "a.b.c", "!!!.???"])
def test_a_malformed_script_is_refused(text):
    with pytest.raises(ScriptError, match="malformed"):
        load_script(text, KEY, now=NOW)


@pytest.mark.parametrize("steps", [[], [["wink", 2.0]], [["smile", 3.0], ["blink", 2.0]], [["smile", -1.0]]])
def test_a_signed_script_with_bad_content_is_refused(steps):
    body = {"v": 1, "id": "x", "steps": steps, "iat": NOW, "exp": NOW + 60, "policy": P.version}
    raw = json.dumps(body).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(hmac.new(KEY, raw, hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(ScriptError):
        load_script(f"{payload}.{mac}", KEY, now=NOW)


def test_the_key_comes_from_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVENESS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("LIVENESS_SCRIPT_KEY", "a script key")
    assert script_key() == b"a script key"
    monkeypatch.delenv("LIVENESS_SCRIPT_KEY")
    evidence = base64.urlsafe_b64encode(b"e" * 32).decode()
    monkeypatch.setenv("LIVENESS_EVIDENCE_KEY", evidence)
    derived = script_key()
    assert len(derived) == 32 and derived != b"e" * 32  # derived, not the evidence key itself
    assert script_key(settings()) == derived
    monkeypatch.setenv("LIVENESS_EVIDENCE_KEY", base64.urlsafe_b64encode(b"f" * 32).decode())
    assert script_key() != derived
