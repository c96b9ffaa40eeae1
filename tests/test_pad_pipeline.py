"""Training pipeline end to end on a small subset of ../shared/data (a minute or two).

Images and clips are linked (not copied) into a temporary layout; crops are
cached under a temporary var dir. Nothing derived from the data is kept.
"""

import json
import os

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (load order: before TensorFlow)
from liveness.cli import main
from liveness.config import settings
from liveness.pad.data import discover, subject_folds
from liveness.passive import PassiveLiveness

DATA = settings().data_dir / "pad"
pytestmark = pytest.mark.skipif(not (DATA / "nuaa").is_dir(), reason="needs ../shared/data/pad")


def _link_images(dest, subjects, per_class):
    for label in ("live", "attack"):
        for subject in subjects:
            files = sorted((DATA / "nuaa" / label / subject).glob("*.jpg"))
            target = dest / label / subject
            target.mkdir(parents=True)
            for f in files[:: max(1, len(files) // per_class)][:per_class]:
                os.symlink(f, target / f.name)
    return dest


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("pad")
    images = _link_images(root / "nuaa", ["0001", "0002"], per_class=12)
    clips = root / "replay" / "apfol"
    clips.mkdir(parents=True)
    for clip in (DATA / "replay_videos" / "apfol").iterdir():
        os.symlink(clip, clips / clip.name)
    return root, images, root / "replay"


@pytest.fixture(autouse=True)
def _temporary_var(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVENESS_VAR_DIR", str(tmp_path / "var"))


def _train(small_data, out, *extra):
    _, images, clips = small_data
    return main(["train", str(images), str(clips), "--out", str(out), "--epochs", "2",
                 "--frame-step", "30", "--seed", "7", "--quiet", "--version", "passive-cnn-test", *extra])


def test_layouts_give_labels_and_subjects(small_data):
    _, images, clips = small_data
    nuaa = discover(images)
    assert {(p.label, p.subject) for p in nuaa} == {(1, "0001"), (1, "0002"), (0, "0001"), (0, "0002")}
    assert len(nuaa) == 48
    replay = discover(clips)
    assert sorted((p.label, p.subject, p.is_video) for p in replay) == [(0, "apfol", True), (1, "apfol", True)]
    assert subject_folds(nuaa + replay, 2) == [["0001", "apfol"], ["0002"]]


def test_train_exports_a_loadable_reproducible_fused_model(small_data, tmp_path):
    first, second = tmp_path / "a.tflite", tmp_path / "b.tflite"
    assert _train(small_data, first) == 0
    assert _train(small_data, second) == 0
    info = json.loads(first.with_suffix(".json").read_text())
    assert info["version"] == "passive-cnn-test" and info["training"]["seed"] == 7
    assert info["training"]["samples"]["replay/attack"] > 0  # video frames were sampled
    # The texture model is fused with the CNN and, by default, saw the NUAA folder only.
    assert info["fusion"] == "mean_logit"
    assert info["texture"]["training"]["sources"] == ["nuaa"]
    assert set(info["texture"]["training"]["samples"]) == {"nuaa/live", "nuaa/attack"}
    assert len(info["texture"]["weights"]) == 1062

    a, b = PassiveLiveness(first), PassiveLiveness(second)
    assert a.info.texture is not None
    inputs = np.random.default_rng(0).integers(0, 256, (5, a.crop.size, a.crop.size, a.crop.channels),
                                              dtype=np.uint8)
    scores = [a.score_input(x) for x in inputs]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == pytest.approx([b.score_input(x) for x in inputs], abs=1e-6)  # same seed, same model


def test_ensemble_is_one_network_averaging_its_members_logits():
    from liveness.pad.model import build_model, ensemble_model

    import keras
    keras.utils.set_random_seed(3)
    members = [build_model(32, 3, name=f"member{i}") for i in range(3)]
    x = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    p = np.stack([np.clip(m.predict(x, verbose=0).ravel(), 1e-4, 1 - 1e-4) for m in members])
    expected = 1 / (1 + np.exp(-np.mean(np.log(p / (1 - p)), axis=0)))
    assert ensemble_model(members).predict(x, verbose=0).ravel() == pytest.approx(expected, abs=1e-5)
    assert ensemble_model(members[:1]) is members[0]


def test_train_ensemble_records_its_seeds(small_data, tmp_path, capsys):
    out = tmp_path / "ensemble.tflite"
    assert _train(small_data, out, "--max-per-group", "10", "--ensemble", "2") == 0
    training = json.loads(out.with_suffix(".json").read_text())["training"]
    assert training["ensemble"] == 2 and training["seeds"] == [7, 8]
    model = PassiveLiveness(out)
    x = np.full((model.crop.size, model.crop.size, model.crop.channels), 128, np.uint8)
    assert 0.0 <= model.score_input(x) <= 1.0
    assert _train(small_data, tmp_path / "none.tflite", "--ensemble", "0") == 1
    assert "at least 1" in capsys.readouterr().err


def test_texture_sources_choose_or_drop_the_texture_model(small_data, tmp_path, capsys):
    cnn_only = tmp_path / "cnn.tflite"
    assert _train(small_data, cnn_only, "--max-per-group", "10", "--texture-sources") == 0
    assert "texture" not in json.loads(cnn_only.with_suffix(".json").read_text())
    model = PassiveLiveness(cnn_only)
    x = np.zeros((model.crop.size, model.crop.size, model.crop.channels), np.uint8)
    assert model.texture_logit(x) is None and model.score_input(x) == model.cnn_probability(x)
    # A source name that matches no data folder fails before the CNN is trained.
    assert _train(small_data, tmp_path / "none.tflite", "--texture-sources", "no_such_folder") == 1
    assert "texture model needs" in capsys.readouterr().err
    assert not (tmp_path / "none.tflite").exists()


def test_evaluate_json_scores_a_still_without_a_detected_face_whole(small_data, tmp_path, capsys):
    """A still image where YuNet finds no face is taken whole as the face box (tight face
    crops, liveness/pad/crops.py: find_face; it was counted as rejected before): it is
    scored, not dropped. A video frame is searched as it is (tests/test_pad_loso.py), and
    frames without a face still score 0."""
    model = tmp_path / "m.tflite"
    assert _train(small_data, model, "--max-per-group", "10") == 0
    data = _link_images(tmp_path / "eval", ["0003"], per_class=4)
    cv2.imwrite(str(data / "live" / "0003" / "blank.png"), np.full((240, 320, 3), 128, np.uint8))
    capsys.readouterr()
    assert main(["evaluate", "--data", str(data), "--model", str(model), "--json",
                 "--out", str(tmp_path / "report")]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("apcer", "bpcer", "acer", "eer", "auc", "threshold"):
        assert 0.0 <= report[key] <= 1.0, key
    assert report["live_without_face"] == 0 and report["attacks_without_face"] == 0
    assert report["frames"]["bona_fide"] == 5  # the blank image too, cropped whole
    assert report["ms_per_face_median"] > 0
    assert {p.name for p in (tmp_path / "report").iterdir()} == {
        "report.json", "roc.png", "det.png", "histogram.png"}

    # Live clips with no attacks (unseen webcam footage): BPCER and sessions, no EER or AUC.
    clip = DATA / "replay_videos" / "apfol" / "live.webm"
    capsys.readouterr()
    assert main(["evaluate", "--data", str(clip), "--label", "live", "--model", str(model), "--json",
                 "--frame-step", "10", "--no-benchmark", "--out", str(tmp_path / "live_only")]) == 0
    live_only = json.loads(capsys.readouterr().out)
    assert live_only["apcer"] is None and live_only["eer"] is None and live_only["auc"] is None
    assert 0.0 <= live_only["bpcer"] <= 1.0 and live_only["frames"]["bona_fide"] > 10
    [session] = live_only["sessions"]
    assert session["live"] and session["subject"] == "live" and session["correct"] == session["accepted"]
    assert {p.name for p in (tmp_path / "live_only").iterdir()} == {"report.json", "histogram.png"}


def test_cross_validation_scores_only_held_out_subjects(small_data, tmp_path, capsys):
    _, images, clips = small_data
    out = tmp_path / "cv"
    small = ["--epochs", "1", "--frame-step", "30", "--max-per-group", "10", "--quiet"]
    assert main(["train", str(images), str(clips), "--cross-validate", "2", "--jobs", "2",
                 "--out", str(out), *small]) == 0
    folds = json.loads((out / "folds.json").read_text())
    assert [f["held_out"] for f in folds] == [["0001", "apfol"], ["0002"]]
    assert [json.loads((out / f"fold{i}.json").read_text())["training"]["subjects"]
            for i in range(2)] == [["0002"], ["0001", "apfol"]]
    pooled = json.loads((out / "in_domain" / "report.json").read_text())
    live_clip_frames = sum(s["frames"] for s in pooled["sessions"] if s["live"])
    assert pooled["frames"]["bona_fide"] == 24 + live_clip_frames  # 12 images x 2 subjects
    assert len(pooled["sessions"]) == 2  # the apfol clips, scored by the fold that held them out
    nested = json.loads((out / "nested.json").read_text())
    assert len(nested["all"]["thresholds"]) == 2 and 0.0 <= nested["all"]["acer"] <= 1.0
    assert len(nested["nuaa"]["thresholds"]) == 2  # NUAA is in both folds; replay in one only
    assert "replay" not in nested
    parts = json.loads((out / "parts.json").read_text())  # each part of the fused models alone
    assert set(parts) == {"cnn", "texture"}
    assert parts["texture"]["pooled"]["bona_fide"] == pooled["frames"]["bona_fide"]
    # A fold model trained in a worker process is the model the same command trains alone.
    alone = tmp_path / "fold0_alone.tflite"
    assert main(["train", str(images), str(clips), "--exclude-subjects", "0001", "apfol",
                 "--out", str(alone), *small]) == 0
    a, b = PassiveLiveness(out / "fold0.tflite"), PassiveLiveness(alone)
    inputs = np.random.default_rng(2).integers(0, 256, (4, a.crop.size, a.crop.size, a.crop.channels),
                                              dtype=np.uint8)
    assert [a.cnn_probability(x) for x in inputs] == pytest.approx([b.cnn_probability(x) for x in inputs],
                                                                   abs=1e-6)
