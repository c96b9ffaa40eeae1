"""The recapture simulator: synthetic print and screen attacks made from live faces."""

from pathlib import Path

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (load order: before TensorFlow)
from liveness.config import settings
from liveness.pad.data import ATTACK, LIVE, Presentation
from liveness.pad.evaluation import Scores, score_presentations
from liveness.pad.metrics import pad_metrics
from liveness.pad.synth import (SPECIES, SYNTHETIC_SOURCE, SyntheticAttack, _layout, _plane_coordinates,
                                _print_surface, _screen_surface, is_synthetic, live_presentations, origin_sources,
                                recapture, synthetic_attacks, synthetic_crops)
from liveness.pad.crops import CropSet, CropSpec, load_crops

DATA = settings().data_dir
FRAMES = [DATA / "pad" / "nuaa" / "live" / "0001" / "0001_00_00_01_0.jpg",
          DATA / "pad" / "wolfhuo" / "live" / "s01" / "106.jpg",
          DATA / "pad" / "shubhamlala" / "live" / "s01" / "1.jpg"]


def _natural_image(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A smooth, textured colour image (noise at several scales): a stand-in scene."""
    rng = np.random.default_rng(seed)
    image = sum(cv2.resize(rng.normal(0, 1, (h // s + 1, w // s + 1, 3)).astype(np.float32), (w, h),
                           interpolation=cv2.INTER_CUBIC) / np.sqrt(s) for s in (2, 8, 32))
    return np.clip(128 + 40 * image, 0, 255).astype(np.uint8)


def _frames() -> list[np.ndarray]:
    found = [cv2.imread(str(p)) for p in FRAMES if p.is_file()]
    return found or [_natural_image()]


def _grid_peak(image: np.ndarray) -> float:
    """Largest over median FFT magnitude of the high-pass luma between 0.08 and 0.45
    cycles per pixel: a regular pattern (a pixel grid, its moiré) makes a sharp peak."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey -= cv2.GaussianBlur(grey, (0, 0), 2)
    window = np.outer(np.hanning(grey.shape[0]), np.hanning(grey.shape[1]))
    spectrum = np.abs(np.fft.fft2(grey * window))
    fy, fx = np.fft.fftfreq(grey.shape[0])[:, None], np.fft.fftfreq(grey.shape[1])[None, :]
    band = (np.hypot(fx, fy) > 0.08) & (np.hypot(fx, fy) < 0.45)
    return float(spectrum[band].max() / np.median(spectrum[band]))


@pytest.mark.parametrize("species", SPECIES)
def test_recapture_keeps_size_and_dtype_and_is_deterministic_by_seed(species):
    image = _natural_image(123, 157)
    first = recapture(image, species, np.random.default_rng(7))
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, recapture(image, species, np.random.default_rng(7)))
    assert not np.array_equal(first, recapture(image, species, np.random.default_rng(8)))
    assert np.array_equal(image, _natural_image(123, 157))  # the input is not modified


def test_recapture_refuses_bad_input():
    with pytest.raises(ValueError, match="species"):
        recapture(_natural_image(), "mask", np.random.default_rng(0))
    with pytest.raises(ValueError, match="uint8"):
        recapture(np.zeros((40, 40), np.uint8), "print", np.random.default_rng(0))


@pytest.mark.parametrize("species", SPECIES)
def test_attacks_differ_measurably_from_their_live_source(species):
    for frame in _frames():
        for seed in range(3):
            attack = recapture(frame, species, np.random.default_rng(seed))
            assert np.abs(attack.astype(np.float64) - frame).mean() > 10


def test_screen_attacks_show_the_pixel_grid_as_a_peak_in_the_spectrum():
    """Real faces have a smooth spectrum; the display's sub-pixel grid and its moiré make a
    sharp peak, unless the camera blurs it away (as it often does: not every seed)."""
    for frame in _frames():
        live = _grid_peak(frame)
        peaks = [_grid_peak(recapture(frame, "screen", np.random.default_rng(seed))) for seed in range(8)]
        assert sum(p > 4 * live for p in peaks) >= 3, (live, peaks)


@pytest.mark.parametrize("seed", range(4))
def test_print_dithers_a_flat_grey_into_dots_of_the_same_mean_tone(seed):
    """Halftone or stochastic screening: a flat grey becomes ink dots on paper. Before the
    camera, the sheet's reflectance varies strongly from sample to sample, while its mean
    stays the grey's (relative to bare paper)."""
    flat = np.full((96, 128, 3), 128, np.uint8)
    rng = np.random.default_rng(seed)
    layout = _layout(96, 128, "print", False, 3, rng)
    u, v = _plane_coordinates(layout.inverse, 96 * 3, 128 * 3)
    sheet = _print_surface(flat, layout, u, v, rng)
    rng = np.random.default_rng(seed)  # the same draws (they do not depend on the picture)
    paper = _print_surface(np.full_like(flat, 255), _layout(96, 128, "print", False, 3, rng), u, v, rng)
    tone = sheet.mean() / paper.mean()
    assert 0.12 < tone < 0.45  # mid-grey (0.22 in linear light) ink on paper, not bare paper nor black
    local = sheet - cv2.GaussianBlur(sheet, (0, 0), 4)
    assert local.std() > 0.02 * sheet.mean()  # dots, not a flat tone


def test_screen_draws_rgb_subpixels_on_a_flat_white():
    """On a white picture the display lights each colour in its own stripe: where red is
    bright, blue and green are dark, so the three channels anti-correlate."""
    white = np.full((96, 128, 3), 255, np.uint8)
    rng = np.random.default_rng(3)
    layout = _layout(96, 128, "screen", False, 3, rng)
    u, v = _plane_coordinates(layout.inverse, 96 * 3, 128 * 3)
    room = np.zeros((96 * 3, 128 * 3, 3), np.float32)
    panel = _screen_surface(white, layout, u, v, room, rng)
    blue, red = panel[..., 0].ravel(), panel[..., 2].ravel()
    assert np.corrcoef(blue, red)[0, 1] < -0.2
    assert panel.std(axis=(0, 1)).min() > 0.1 * panel.mean()


def _live_presentations(tmp_path: Path) -> list[Presentation]:
    folder = tmp_path / "src" / "live" / "anna"
    folder.mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), _natural_image(seed=i))
    attack = tmp_path / "src" / "attack" / "anna"
    attack.mkdir(parents=True)
    cv2.imwrite(str(attack / "0.png"), _natural_image(seed=9))
    return [Presentation(folder / f"{i}.png", LIVE, "anna", "src") for i in range(2)] + [
        Presentation(attack / "0.png", ATTACK, "anna", "src")]


def test_items_are_tagged_synthetic_with_origin_and_species(tmp_path):
    presentations = _live_presentations(tmp_path)
    made = list(synthetic_attacks(presentations))
    assert len(made) == 2 * len(SPECIES)  # every live frame, every species; the attack is skipped
    for item, image in made:
        assert item.synthetic and is_synthetic(item) and item.label == ATTACK
        assert item.source == SYNTHETIC_SOURCE and item.origin in presentations[:2]
        assert item.subject == "anna" and item.species in SPECIES
        assert image.shape == _natural_image().shape and image.dtype == np.uint8
    again = list(synthetic_attacks(presentations[1:2]))  # the same item whatever else is made
    assert np.array_equal(again[0][1], made[2][1]) and again[0][0] == made[2][0]
    assert not is_synthetic(presentations[0])


def test_synthetic_crops_are_attacks_of_the_synthetic_source(tmp_path):
    frame = next((cv2.imread(str(p)) for p in FRAMES if p.is_file()), None)
    if frame is None:
        pytest.skip("shared data missing: a face is needed")
    folder = tmp_path / "faces" / "live" / "p1"
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "0.jpg"), frame)
    live = [Presentation(folder / "0.jpg", LIVE, "p1", "faces")]
    spec = CropSpec()
    crops = synthetic_crops(live, spec, cache_dir=tmp_path / "cache", progress=False)
    assert len(crops.presentations) == len(SPECIES) and len(crops.inputs) >= 1
    assert set(crops.sources()) == {SYNTHETIC_SOURCE} and (crops.labels == ATTACK).all()
    assert len(crops.inputs) + crops.frames_without_face.sum() == len(SPECIES)
    cached = synthetic_crops(live, spec, cache_dir=tmp_path / "cache", progress=False)
    assert np.array_equal(cached.inputs, crops.inputs) and cached.presentations == crops.presentations
    real = load_crops(live, spec, cache_dir=tmp_path / "cache", progress=False)
    joined = CropSet.concat([real, crops])
    assert len(joined.presentations) == 1 + len(SPECIES)
    assert joined.synthetic_mask().tolist() == [False] * len(real.inputs) + [True] * len(crops.inputs)
    assert set(origin_sources(joined)) == {"faces"} and set(joined.sources()) == {"faces", SYNTHETIC_SOURCE}


def test_evaluation_refuses_synthetic_items(tmp_path):
    origin = _live_presentations(tmp_path)[0]
    item = SyntheticAttack(origin, 0, "print", 1)
    with pytest.raises(ValueError, match="synthetic"):
        Scores().add(item, [0.1])
    with pytest.raises(ValueError, match="synthetic"):
        score_presentations(None, [origin, item], progress=False)
    with pytest.raises(ValueError, match="synthetic"):
        pad_metrics([0.9, 0.8], {"nuaa": [0.1], SYNTHETIC_SOURCE: [0.2]}, 0.5)
    scores = Scores()
    scores.add(origin, [0.9])  # real data still scores
    assert scores.live == [0.9]


@pytest.mark.skipif(not (DATA / "pad").is_dir(), reason="shared data missing")
def test_live_presentations_cover_pad_verify_and_video():
    found = live_presentations(DATA)
    assert all(p.label == LIVE for p in found)
    sources = {p.source for p in found}
    assert {"nuaa", "verify", "video"} <= sources
    assert any(p.is_video for p in found)


@pytest.mark.skipif(not (DATA / "pad").is_dir(), reason="shared data missing")
def test_synth_command_writes_examples_and_a_contact_sheet(tmp_path, capsys):
    from liveness.cli import main

    assert main(["synth", "--limit", "2", "--out", str(tmp_path), "--species", "screen"]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "contact_sheet.png" in written and len(written) == 3
    assert all(name.endswith("_screen.png") for name in written if name != "contact_sheet.png")
    assert cv2.imread(str(tmp_path / "contact_sheet.png")).shape[0] > 0
    assert main(["synth", "--limit", "0", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == "error: --limit must be at least 1"
