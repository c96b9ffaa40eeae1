"""The real engine into the real store: 8 VerificationSessions at once, each filed as its own case.

Checks the contract between ``Verdict.to_dict()`` / ``session.Evidence`` and
``cases.record_case`` as the app uses it, under concurrency: no lost case,
no case holding another session's verdict, series or frames.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import Step
from liveness.config import settings
from liveness.media import read_image
from liveness.registry import ModelUnavailable, fetch
from liveness.store import EvidenceInput, cases, retention, sessions
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)

SESSIONS = 8
NUAA_LIVE = settings().data_dir / "pad" / "nuaa" / "live"


@pytest.fixture(scope="module", autouse=True)
def models():
    try:
        fetch()
    except ModelUnavailable as exc:
        pytest.skip(f"engine models unavailable: {exc}")


def frames_for(index: int) -> list[np.ndarray]:
    """A real face photo when the shared data is there, else a plain frame; one count per session."""
    photos = sorted(NUAA_LIVE.glob("*/*.jpg"))
    base = read_image(photos[index % len(photos)]) if photos else np.full((240, 320, 3), 40 + index, np.uint8)
    return [base.copy() for _ in range(4 + index)]  # the series length tells the sessions apart


def test_engine_sessions_at_once_through_the_store(store):
    from liveness.session import VerificationSession

    barrier = threading.Barrier(SESSIONS)

    def verify(index: int):
        grant = sessions.open_session(store, f"customer-{index}", f"device-{index}")
        with VerificationSession(None, steps=[Step.SMILE, Step.BLINK], passive=None,
                                 session_id=grant.session_id, nonce=grant.nonce) as engine:
            barrier.wait()
            for k, frame in enumerate(frames_for(index)):
                engine.process(frame, k / 15)
            verdict = engine.finish()
            evidence = engine.evidence()
        ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
        case = cases.record_case(store, ticket, verdict.to_dict(), EvidenceInput.of_session(evidence),
                                 evidence.trace.to_dict())
        return index, case, verdict.to_dict(), [label for label, _ in evidence.key_frames]

    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(verify, range(SESSIONS)))

    assert len({case.id for _, case, _, _ in results}) == SESSIONS
    for index, case, verdict, labels in results:
        stored = cases.get_case(store, case.id)
        assert stored.customer_ref == f"customer-{index}" and stored.session_id == verdict["session_id"]
        assert stored.verdict == verdict["verdict"] and stored.reasons == verdict["reasons"]
        assert stored.policy_version == verdict["policy_version"] and stored.model_versions == verdict["model_versions"]
        evidence = cases.load_evidence(store, case.id)
        assert evidence.verdict["session_id"] == verdict["session_id"]
        assert len(evidence.timestamps) == 4 + index and len(evidence.key_frames_jpeg) == len(labels)
        assert evidence.key_frame_labels == labels  # what each frame shows survives the store
        assert all(len(values) == 4 + index for values in evidence.series.values())
    assert retention.check_consistency(store).ok
