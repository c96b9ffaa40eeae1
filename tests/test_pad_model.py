"""The shipped passive-liveness model (CNN fused with the colour-texture model):
loads on LiteRT, scores in [0, 1], and tells live from printed-photo frames of
NUAA subjects it was never trained on (0010 and 0016 are held out of both
parts; see models/passive/MODEL_CARD.md).
"""

import json

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (load order)
from liveness.config import settings
from liveness.detection import Face, detect_faces
from liveness.pad.crops import face_input
from liveness.pad.texture import fuse_mean_logit
from liveness.passive import PASSIVE_MODEL_PATH, PassiveLiveness, aggregate, load_passive_model
from liveness.policy import DEFAULT_POLICY

NUAA = settings().data_dir / "pad" / "nuaa"
HELD_OUT = {"0010", "0016"}


def _frames(label: str, subject: str, count: int) -> list[np.ndarray]:
    files = sorted((NUAA / label / subject).glob("*.jpg"))
    return [cv2.imread(str(f)) for f in files[:: len(files) // count][:count]]


def _scores(model: PassiveLiveness, frames: list[np.ndarray]) -> list[float]:
    out = []
    for frame in frames:
        faces = detect_faces(frame, DEFAULT_POLICY.detection_width)
        assert faces, "the detector should find these faces"
        out.append(model.score(frame, faces[0]))
    return out


@pytest.fixture(scope="module")
def model() -> PassiveLiveness:
    loaded = load_passive_model()
    assert loaded is not None, f"{PASSIVE_MODEL_PATH} is missing"
    return loaded


def test_shipped_model_is_versioned_small_and_fused(model):
    assert model.version.startswith("passive-fusion-")
    assert PASSIVE_MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    body = json.loads(PASSIVE_MODEL_PATH.with_suffix(".json").read_text())
    assert HELD_OUT.isdisjoint(body["training"]["subjects"])  # the frames below were never trained on
    assert body["fusion"] == "mean_logit" and model.info.texture is not None
    texture = body["texture"]["training"]
    assert texture["sources"] == ["nuaa"] and HELD_OUT.isdisjoint(texture["subjects"])


def test_scores_are_probabilities_even_on_odd_inputs(model):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    # A face box hanging over the frame's corner: the crop is zero-padded.
    corner = Face(box=(-40.0, -30.0, 120.0, 150.0), landmarks=np.zeros((5, 2), np.float32), score=0.9)
    for image in (frame, np.zeros_like(frame), np.full_like(frame, 255)):
        assert 0.0 <= model.score(image, corner) <= 1.0
    x = face_input(frame, corner, model.crop)
    assert model.score(frame, corner) == pytest.approx(model.score_input(x))
    # The score is the mean-logit fusion of the two parts.
    assert model.score_input(x) == pytest.approx(fuse_mean_logit(model.cnn_probability(x),
                                                                 model.texture_logit(x)))


@pytest.mark.skipif(not NUAA.is_dir(), reason="needs ../shared/data/pad/nuaa")
def test_separates_live_and_printed_photos_of_held_out_subjects(model):
    live = _frames("live", "0010", 5)
    attacks = _frames("attack", "0010", 4) + _frames("attack", "0016", 4)
    live_scores, attack_scores = _scores(model, live), _scores(model, attacks)
    assert min(live_scores) > max(attack_scores), (live_scores, attack_scores)
    # The engine decides on the session aggregate against the policy threshold.
    threshold = DEFAULT_POLICY.passive_threshold
    assert aggregate(live_scores, DEFAULT_POLICY.passive_aggregate) >= threshold, live_scores
    assert aggregate(attack_scores, DEFAULT_POLICY.passive_aggregate) < threshold, attack_scores
