"""App-level settings on top of ``liveness.config``: the active policy and test overrides.

``LIVENESS_APP_STEPS`` (e.g. ``smile``) fixes the challenge instead of the
server's random draw, and ``LIVENESS_APP_STEP_TIMEOUT_S`` lengthens each
step's deadline: the end-to-end browser test plays a recorded clip that
smiles at a known moment. Both are refused in production mode, where the
challenge must stay unpredictable.

``LIVENESS_ICE_SERVERS`` is the WebRTC ICE server list as JSON, e.g.
``[{"urls": ["stun:stun.example.com:3478"]}]`` (a TURN server for customers
behind strict NATs). Empty by default: host candidates only, enough on a
LAN or the same machine, and no request to a third party's STUN server.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from liveness.challenge import Step, parse_steps
from liveness.config import settings
from liveness.policy import Policy


@dataclass(frozen=True)
class AppConfig:
    policy: Policy
    fixed_steps: list[Step] | None  # None: random, drawn by the engine per session
    ice_servers: list[dict]


def app_config(policy: Policy | None = None) -> AppConfig:
    """The settings for this run; ``policy`` defaults to the store's current version."""
    if policy is None:
        from .cases import current_policy  # the store is opened lazily, once per process
        policy = current_policy()
    steps_text = os.environ.get("LIVENESS_APP_STEPS", "").strip()
    timeout_text = os.environ.get("LIVENESS_APP_STEP_TIMEOUT_S", "").strip()
    if (steps_text or timeout_text) and settings().production:
        raise RuntimeError("LIVENESS_APP_STEPS / LIVENESS_APP_STEP_TIMEOUT_S are test settings: "
                           "not allowed with LIVENESS_MODE=production")
    if timeout_text:
        step_timeout = float(timeout_text)
        policy = policy.replace(step_timeout_s=step_timeout,
                                session_timeout_s=max(policy.session_timeout_s, 2 * step_timeout))
    return AppConfig(policy=policy, fixed_steps=parse_steps(steps_text) if steps_text else None,
                     ice_servers=json.loads(os.environ.get("LIVENESS_ICE_SERVERS") or "[]"))
