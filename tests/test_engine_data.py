"""Detection and 1:1 matching rates on the shared data, at the policy's values.

The same measurement as ``python -m liveness calibrate`` (models/README.md
gives its numbers); here the rates are printed and held to floors.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.calibration import (calibrate, choose_threshold, detection_rate, equal_error_rate,
                                  nuaa_sample, rates)
from liveness.config import settings
from liveness.matching import cosine_similarity, enroll_face, shared_embedder
from liveness.media import read_image
from liveness.policy import DEFAULT_POLICY

DATA = settings().data_dir

if not (DATA / "verify").is_dir():
    pytest.skip(f"shared data missing: {DATA / 'verify'}", allow_module_level=True)


@pytest.fixture(scope="module")
def calibration():
    return calibrate(DATA, nuaa_every=0)


def test_faces_found_in_every_verify_photo(calibration):
    found = calibration.detection[0]
    print(f"\nverify photos: faces in {found.found}/{found.images} = {found.rate:.1%} "
          f"at {found.max_side} px; not enrolled: {calibration.enrolment.failures}")
    assert found.images >= 50
    assert found.rate >= 0.98


@pytest.mark.parametrize("label", ["live", "attack"])
def test_faces_found_in_nuaa_frames_at_the_working_width(label):
    frames = [p for p in nuaa_sample(DATA, every=10) if f"/{label}/" in p.as_posix()]
    result = detection_rate(f"NUAA {label}", frames, DEFAULT_POLICY.detection_width)
    print(f"\nNUAA {label}, every 10th frame: faces in {result.found}/{result.images} = {result.rate:.1%} "
          f"at {result.max_side} px; missed {list(result.missed)[:5]}")
    assert result.images >= 150
    assert result.rate >= 0.95


@pytest.mark.parametrize("face_px", [90, 50])
def test_a_small_face_on_a_large_document_is_found_and_matches(face_px):
    """A 4000x2500 'document' scan with the holder's photo ``face_px`` pixels tall."""
    photo = read_image(DATA / "verify" / "obama" / "1.jpg")
    reference = enroll_face(photo)
    scale = face_px / reference.face.box[3]
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    document = np.full((2500, 4000, 3), 200, np.uint8)
    document[300:300 + small.shape[0], 2800:2800 + small.shape[1]] = small
    enrolled = enroll_face(document)
    assert enrolled.ok, enrolled.reason
    similarity = cosine_similarity(enrolled.embedding, reference.embedding)
    print(f"\n{face_px} px face on a 4000 px document: similarity {similarity:.3f} to the original")
    assert similarity >= DEFAULT_POLICY.match_threshold


def test_the_shared_embedder_gives_each_thread_its_own_answer():
    """Sessions share one SFace network: calls from many threads at once must not mix up."""
    from concurrent.futures import ThreadPoolExecutor

    photos = [read_image(path) for path in sorted((DATA / "verify").glob("*/1.jpg"))[:4]]
    faces = [enroll_face(photo).face for photo in photos]
    embedder = shared_embedder()
    alone = [embedder.embed(photo, face) for photo, face in zip(photos, faces)]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda i: embedder.embed(photos[i % 4], faces[i % 4]), range(32)))
    for i, vector in enumerate(together):
        assert np.array_equal(vector, alone[i % 4])
    assert len({round(float(v[0]), 6) for v in alone}) == 4  # four different people


def test_pairs_at_the_policy_threshold(calibration):
    d = calibration.to_dict()
    tar, far = calibration.rates_at(DEFAULT_POLICY.match_threshold)
    print(f"\nthreshold {DEFAULT_POLICY.match_threshold}: same person matched {tar:.1%} of "
          f"{d['genuine_pairs']} pairs, different people matched {far:.2%} of {d['impostor_pairs']} "
          f"pairs; EER {d['eer']:.1%}; chosen {d['chosen_threshold']} ({d['rule']})")
    assert d["genuine_pairs"] >= 90 and d["impostor_pairs"] >= 1000
    assert tar >= 0.90
    assert far <= 0.002


def test_policy_threshold_is_the_calibrated_one(calibration):
    assert DEFAULT_POLICY.match_threshold == calibration.chosen


def test_rates_and_threshold_choice_on_known_scores():
    genuine = np.array([0.2, 0.5, 0.6, 0.7])
    impostor = np.array([-0.1, 0.0, 0.1, 0.3])
    assert rates(genuine, impostor, 0.3) == (0.75, 0.25)
    assert rates(genuine, impostor, 0.31) == (0.75, 0.0)
    eer, at = equal_error_rate(genuine, impostor)
    assert eer == pytest.approx(0.25) and 0.2 <= at <= 0.3
    # FAR 0 with the best TAR for any threshold in (0.3, 0.5]: the published value when inside...
    assert choose_threshold(genuine, impostor, published=0.45)[0] == 0.45
    # ...else the interval's midpoint.
    assert choose_threshold(genuine, impostor, published=0.6)[0] == pytest.approx(0.4)


def test_pad_live_enrolment_rates_name_each_source_and_sample_nuaa(tmp_path):
    """``calibrate --pad-live`` on a small copy: live stills only, NUAA every 10th, a miss named."""
    import os

    from liveness.calibration import PAD_NUAA_EVERY, pad_live_enrolment

    def link(source: str, count: int) -> None:
        for path in sorted((DATA / "pad" / source / "live").rglob("*.jpg"))[:count]:
            target = tmp_path / "pad" / source / path.relative_to(DATA / "pad" / source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target)

    link("alexcamargo", 3)
    link("nuaa", 2 * PAD_NUAA_EVERY)
    attack = tmp_path / "pad" / "alexcamargo" / "attack" / "s01"
    attack.mkdir(parents=True)
    cv2.imwrite(str(attack / "ignored.jpg"), np.zeros((64, 64, 3), np.uint8))  # attacks are not counted
    blank = tmp_path / "pad" / "blank" / "live" / "s01"
    blank.mkdir(parents=True)
    cv2.imwrite(str(blank / "nobody.jpg"), np.full((240, 320, 3), 128, np.uint8))
    rates = {r.name: r for r in pad_live_enrolment(tmp_path)}
    assert list(rates) == ["pad/alexcamargo live stills", "pad/blank live stills", "pad/nuaa live stills"]
    assert (rates["pad/alexcamargo live stills"].images, rates["pad/nuaa live stills"].images) == (3, 2)
    assert rates["pad/alexcamargo live stills"].found == 3 and rates["pad/nuaa live stills"].found == 2
    assert rates["pad/blank live stills"].found == 0
    assert rates["pad/blank live stills"].missed[0].endswith("nobody.jpg (no_face)")
