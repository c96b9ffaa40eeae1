"""Colour-texture features and their fusion with the CNN, against values worked out by hand."""

import math

import numpy as np
import pytest

import liveness  # noqa: F401  (load order: before TensorFlow)
from liveness.pad.texture import (BINS, FEATURES, LOGIT_LIMIT, UNIFORM_BINS, TextureModel,
                                  fit_texture_model, fuse_mean_logit, lbp_histograms,
                                  texture_features)

# Centre 15; clockwise from the top-left, neighbour k sets bit k when >= 15:
# 10 no, 20 bit1, 30 bit2, 25 bit3, 40 bit4, 15 bit5 (equal counts), 0 no, 5 no.
PATCH = np.array([[10, 20, 30],
                  [5, 15, 25],
                  [0, 15, 40]], np.uint8)
PATCH_CODE = 0b00111110  # 62: one run of ones, 2 transitions: uniform


def test_uniform_bins_number_the_58_uniform_codes_in_order():
    assert BINS == 59 and FEATURES == 6 * 3 * 59 == 1062
    assert UNIFORM_BINS[0] == 0 and UNIFORM_BINS[1] == 1
    # Codes below 62 have bits 6 and 7 clear, so a uniform one is 0 or one run of ones
    # inside bits 0-5: 1 + 21 codes, of which 62 and 63 are the two largest.
    assert UNIFORM_BINS[PATCH_CODE] == 20 and UNIFORM_BINS[63] == 21
    assert UNIFORM_BINS[255] == 57  # the largest uniform code
    assert UNIFORM_BINS[0b01010101] == 58  # 8 transitions: the shared "other" bin


def test_lbp_histogram_of_one_pixel_at_radius_1_and_2():
    hist = lbp_histograms(PATCH[np.newaxis], 1)
    assert hist.shape == (1, BINS)
    assert hist[0, 20] == 1.0 and hist.sum() == 1.0
    # Radius 2: the same neighbours, two pixels away (the square of radius 2).
    wide = np.zeros((5, 5), np.uint8)
    wide[::2, ::2] = PATCH
    assert lbp_histograms(wide, 2)[20] == 1.0


def test_lbp_histogram_counts_every_centre():
    # 4x3: two centres at radius 1. Left centre 15 as above (bin 20); right centre 25
    # sees 20 30 10 / 15 . 70 / 15 40 0: bits 1, 3, 5 -> 0b00101010, 6 transitions.
    plane = np.array([[10, 20, 30, 10],
                      [5, 15, 25, 70],
                      [0, 15, 40, 0]], np.uint8)
    hist = lbp_histograms(plane, 1)
    assert hist[20] == 0.5 and hist[58] == 0.5


def test_features_of_a_flat_image_are_all_code_255():
    # Every neighbour equals the centre: code 255 (bin 57) in all 6 channels x 3 radii,
    # and sqrt(1) = 1 there; the same for a batch.
    flat = np.full((96, 96, 3), (40, 120, 200), np.uint8)
    expected = np.zeros(FEATURES)
    expected[57::BINS] = 1.0
    assert np.array_equal(texture_features(flat), expected)
    batch = np.stack([flat, np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)])
    features = texture_features(batch)
    assert features.shape == (2, FEATURES) and np.array_equal(features[0], expected)
    # Each 59-bin block is sqrt of a histogram: its squares sum to 1.
    assert np.allclose((features[1] ** 2).reshape(18, BINS).sum(axis=1), 1.0)


def test_fusion_is_the_mean_of_the_logits():
    assert fuse_mean_logit(0.5, 0.0) == pytest.approx(0.5)
    assert fuse_mean_logit(0.9, math.log(9)) == pytest.approx(0.9)  # both say 0.9
    assert fuse_mean_logit(0.8, math.log(0.2 / 0.8)) == pytest.approx(0.5)  # 0.8 and 0.2 cancel
    # A saturated CNN is clipped to 1 - 1e-4: the texture's opposite limit cancels it.
    assert fuse_mean_logit(1.0, -LOGIT_LIMIT) == pytest.approx(0.5)


def test_texture_model_fits_round_trips_and_checks_its_recipe():
    rng = np.random.default_rng(0)
    features = rng.random((200, FEATURES))
    labels = (features[:, 3] + features[:, 700] > 1.0).astype(np.float64)
    model = fit_texture_model(features, labels, np.ones(200), l2=1.0)
    assert np.mean((model.logits(features) > 0) == labels) > 0.95
    again = TextureModel.from_dict(model.as_dict())
    assert np.array_equal(again.logits(features), model.logits(features))
    assert np.all(np.abs(model.logits(features * 1e3)) <= LOGIT_LIMIT)  # clipped
    body = model.as_dict()
    body["features"]["radii"] = [1]
    with pytest.raises(ValueError):
        TextureModel.from_dict(body)
