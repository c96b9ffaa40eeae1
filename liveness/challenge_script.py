"""Challenge scripts for recorded videos: what to ask and when, issued and signed by the server.

A recording made for the offline path (``verify``, the Replay page, an upload
from the bank's own app) is judged against a script issued before recording:
its steps, each with the time its prompt is shown, in seconds from the start
of the recording. The capturing app shows each prompt at its time; the engine
then applies the same windows as the live check (``challenge.py``). The
script is signed with HMAC-SHA256 so the client cannot choose or edit its
challenge, and it expires, so an old recording cannot be matched to a
freshly issued script. A recording with no script is still analysed but never
accepted on the active layer (``no_challenge_script``).

Format: a signed token (``signed.py``: ``<payload>.<mac>``, url-safe base64); the
payload is compact JSON ``{"v", "id", "steps": [[step, prompt_at_s], ...],
"iat", "exp", "policy"}`` (times since the epoch in seconds).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from .challenge import Step, random_delays, random_steps
from .config import Settings, settings
from .policy import Policy
from .signed import BadSignature, open_payload, sign_payload

SCRIPT_VERSION = 1


class ScriptError(ValueError):
    """A challenge script that cannot be trusted: forged, expired or malformed."""


@dataclass(frozen=True)
class ChallengeScript:
    script_id: str
    steps: tuple[tuple[Step, float], ...]  # (step, prompt_at_s from the recording's start)
    issued_at: float  # seconds since the epoch
    expires_at: float
    policy_version: str

    @property
    def step_list(self) -> list[Step]:
        return [step for step, _ in self.steps]

    @property
    def prompt_times(self) -> list[float]:
        return [at for _, at in self.steps]

    def to_dict(self) -> dict:
        return {"v": SCRIPT_VERSION, "id": self.script_id,
                "steps": [[step.value, at] for step, at in self.steps],
                "iat": self.issued_at, "exp": self.expires_at, "policy": self.policy_version}


def issue_script(policy: Policy, rng: secrets.SystemRandom | None = None,
                 now: float | None = None) -> ChallengeScript:
    """A fresh script: random steps, each prompt a random delay after the previous one's
    window (and the neutral's first second) closed, so an honest customer has finished and
    come back to rest."""
    rng = rng or secrets.SystemRandom()
    steps = random_steps(policy, rng)
    delays = random_delays(policy, len(steps), rng)  # a script's last gesture is not held: it ends the recording
    window = policy.reaction_max_s + policy.prompt_round_trip_s + policy.gesture_complete_s
    at, timed = policy.baseline_s, []
    for step, delay in zip(steps, delays):
        at += delay
        timed.append((step, round(at, 3)))
        at += window
    issued = time.time() if now is None else now
    return ChallengeScript(secrets.token_urlsafe(12), tuple(timed), round(issued, 3),
                           round(issued + policy.challenge_script_ttl_s, 3), policy.version)


def sign(script: ChallengeScript, key: bytes) -> str:
    return sign_payload(script.to_dict(), key)


def load_script(text: str, key: bytes, now: float | None = None) -> ChallengeScript:
    """The script in ``text`` once its signature and expiry are checked; ScriptError otherwise."""
    try:
        data = open_payload(text, key)
    except BadSignature as error:
        raise ScriptError("the challenge script is malformed (expected <payload>.<signature>)"
                          if error.malformed else
                          "the challenge script's signature is not valid (forged, edited or another server's)") from None
    try:
        if data["v"] != SCRIPT_VERSION:
            raise ScriptError(f"unknown challenge script version {data['v']!r}")
        steps = tuple((Step(name), float(at)) for name, at in data["steps"])
        script = ChallengeScript(str(data["id"]), steps, float(data["iat"]), float(data["exp"]),
                                 str(data["policy"]))
    except ScriptError:
        raise
    except (ValueError, KeyError, TypeError):
        raise ScriptError("the challenge script's content is malformed") from None
    if not steps or any(b <= a for (_, a), (_, b) in zip(steps, steps[1:])) or steps[0][1] < 0:
        raise ScriptError("the challenge script's prompt times are not increasing from 0")
    if (time.time() if now is None else now) > script.expires_at:
        raise ScriptError("the challenge script has expired: issue a new one before recording")
    return script


def script_key(config: Settings | None = None) -> bytes:
    """The key that signs scripts: LIVENESS_SCRIPT_KEY, or one derived from the evidence key
    (so a deployment with an evidence key needs nothing more)."""
    config = config or settings()
    if config.script_key:
        return config.script_key.encode()
    from .store.evidence import EvidenceVault

    return EvidenceVault.from_settings(config).derive_key("challenge-script")
