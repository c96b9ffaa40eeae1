"""Every source of ../shared/data/pad discovered on its own, tight crops cropped, and the
leave-one-source-out protocol end to end on a tiny subset (seconds).

Files are linked (not copied) into a temporary layout; crops are cached under a
temporary var dir. Nothing derived from the data is kept.
"""

import json
import os
from dataclasses import replace

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (load order)
from liveness.cli import main
from liveness.config import settings
from liveness.detection import FaceDetector
from liveness.pad.artifact import ModelInfo
from liveness.pad.crops import FOUND_BY, CropSet, CropSpec, face_input, find_face, load_crops
from liveness.pad.data import discover
from liveness.pad.loso import inner_threshold, leave_one_source_out
from liveness.pad.recipes import MULTISCALE, RECIPES
from liveness.pad.synth import SyntheticAttack
from liveness.pad.texture import sigmoid
from liveness.passive import PassiveLiveness

DATA = settings().data_dir / "pad"
pytestmark = pytest.mark.skipif(not (DATA / "alexcamargo").is_dir(), reason="needs ../shared/data/pad")


@pytest.fixture(autouse=True, scope="module")
def _temporary_var(tmp_path_factory):
    """One crop cache for the module: each test reads the crops the first one made."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIVENESS_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        yield


def _link(dest, source, per_folder, folders=None):
    """Up to ``per_folder`` evenly spaced images of each label/subject folder of ``source``."""
    for folder in folders or sorted(p for p in (DATA / source).glob("*/*") if p.is_dir()):
        files = sorted(folder.glob("*.jpg"))
        target = dest / source / folder.relative_to(DATA / source)
        target.mkdir(parents=True)
        for f in files[:: max(1, len(files) // per_folder)][:per_folder]:
            os.symlink(f, target / f.name)
    return dest / source


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("loso")
    sources = [_link(root, "nuaa", 4, [DATA / "nuaa" / label / s for label in ("live", "attack")
                                        for s in ("0001", "0002")]),
               _link(root, "alexcamargo", 8), _link(root, "trickyf0x", 8)]
    clips = root / "replay_videos" / "apfol"
    clips.mkdir(parents=True)
    for clip in (DATA / "replay_videos" / "apfol").iterdir():
        os.symlink(clip, clips / clip.name)
    return [*sources, root / "replay_videos"]


def test_every_source_has_labels_and_mixed_sources_are_one_subject():
    found = {d.name: discover(d) for d in sorted(DATA.iterdir()) if d.is_dir()}
    assert len(found) >= 10
    for name, presentations in found.items():
        assert presentations, name
        labels = {p.label for p in presentations}
        assert labels == ({0} if name == "trainingdata_replay" else {0, 1}), name
    # aksultan and jomariya do not record who is who: each is one subject, split whole.
    assert {p.subject for p in found["aksultan"]} == {"aksultan"}
    assert {p.subject for p in found["jomariya"]} == {"jomariya"}
    assert any(p.is_video and p.label == 1 for p in found["jomariya"])  # real_1/live.mp4
    assert {p.subject for p in found["shubhamlala"]} == {"s01", "s02"}


def test_a_tight_face_crop_gets_a_face_box():
    """An image the face fills: found on the padded canvas or taken whole, never dropped."""
    detector = FaceDetector()
    image = cv2.imread(str(DATA / "aksultan" / "attack" / "dataset_fake" / "249.jpg"))  # 60x78
    assert detector.detect(image) == []  # YuNet alone finds nothing: no context around the face
    face, how = find_face(image, detector, 320)
    assert FOUND_BY[how] == "padded"
    x, y, w, h = face.box
    assert w > 0.3 * image.shape[1] and h > 0.3 * image.shape[0]  # the face, not a speck
    # A face in a full frame is found as it is.
    frame = cv2.imread(str(sorted((DATA / "nuaa" / "live" / "0001").glob("*.jpg"))[0]))
    assert FOUND_BY[find_face(frame, detector, 320)[1]] == "detected"
    # A video frame is searched as it is: a blank frame has no face.
    assert find_face(np.zeros((240, 320, 3), np.uint8), detector, 320, still=False) is None


def test_leave_one_source_out_end_to_end(tiny, tmp_path):
    out = tmp_path / "loso"
    assert main(["train", *map(str, tiny), "--leave-one-source-out", "--recipe", "size_blur", "texture",
                 "--inner-groups", "2", "--frame-step", "30", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert [r["recipe"] for r in report["recipes"]] == ["size_blur", "texture"]
    for recipe in report["recipes"]:
        assert [s["source"] for s in recipe["per_source"]] == ["alexcamargo", "nuaa", "replay_videos", "trickyf0x"]
        for source in recipe["per_source"]:
            assert 0 <= source["threshold"] <= 1
            assert 0 <= source["auc"] <= 1 and 0 <= source["acer"] <= 1
            assert set(source["apcer_per_species"]) == {source["source"]}
        replay = next(s for s in recipe["per_source"] if s["source"] == "replay_videos")
        assert sorted(s["live"] for s in replay["sessions"]) == [False, True]
        assert all(isinstance(s["accepted"], bool) for s in replay["sessions"])
        assert 0 <= recipe["summary"]["mean_acer"] <= 1
        assert set(recipe["at_shipped_threshold"]) == {"alexcamargo", "nuaa", "replay_videos", "trickyf0x"}
        assert (out / recipe["recipe"] / "roc.png").is_file()


def _crops(tiny):
    presentations = [p for d in tiny for p in discover(d)]
    return load_crops(presentations, CropSpec(scales=MULTISCALE), 30, progress=False)


def test_the_threshold_never_sees_the_left_out_source(tiny):
    crops = _crops(tiny)
    recipe = RECIPES["texture"]
    features = recipe.featurize(crops)
    others = ["alexcamargo", "nuaa", "replay_videos"]
    before = inner_threshold(recipe, features, crops, others, 2, None)
    scrambled = features.copy()
    held = crops.sources() == "trickyf0x"
    scrambled[held] = np.random.default_rng(0).permutation(scrambled[held])[:, ::-1]
    assert inner_threshold(recipe, scrambled, crops, others, 2, None) == before


def test_synthetic_crops_are_trained_on_but_never_tested(tiny):
    crops = _crops(tiny)
    # Mark alexcamargo's attacks synthetic: its row then scores live images only.
    crops.presentations[:] = [replace(p, synthetic=True) if p.source == "alexcamargo" and p.label == 0 else p
                              for p in crops.presentations]
    result = leave_one_source_out(RECIPES["size_blur"], crops, inner_groups=2, max_per_group=None, progress=False)
    alex = next(s for s in result.sources if s.source == "alexcamargo")
    assert alex.metrics["attacks_per_species"] == {} and alex.metrics["bona_fide"] > 0
    tested = sum(s.metrics["bona_fide"] + sum(s.metrics["attacks_per_species"].values()) for s in result.sources)
    assert tested == int((~crops.synthetic_mask()).sum())


def test_a_linear_recipe_ships_as_a_json_model_the_engine_loads(tiny, tmp_path):
    out = tmp_path / "linear.json"
    assert main(["train", *map(str, tiny), "--recipe", "multiscale", "--out", str(out), "--frame-step", "30",
                 "--version", "passive-linear-test", "--quiet"]) == 0
    model = PassiveLiveness(out)
    assert model.version == "passive-linear-test" and not model.has_cnn
    assert model.crop.scales == MULTISCALE and model.info.texture.features == "multiscale"
    frame = cv2.imread(str(sorted((DATA / "nuaa" / "live" / "0001").glob("*.jpg"))[0]))
    face = FaceDetector().detect(frame)[0]
    score = model.score(frame, face)
    x = face_input(frame, face, model.crop)
    assert 0 <= score <= 1 and score == pytest.approx(float(sigmoid(model.texture_logit(x))))
    # The evaluation reads it like any model; a .tflite path to it is refused with a clear error.
    assert main(["evaluate", "--data", str(tiny[1]), "--model", str(out), "--no-benchmark",
                 "--out", str(tmp_path / "eval")]) == 0
    assert json.loads((tmp_path / "eval" / "report.json").read_text())["model_version"] == "passive-linear-test"
    with pytest.raises(ValueError, match="linear model alone"):
        ModelInfo.load(out.with_suffix(".tflite"))


def test_synthetic_attacks_leave_with_the_source_of_their_face(tiny):
    """A synthetic attack made from trickyf0x's live faces is trained on in every other fold,
    never in trickyf0x's own (it would carry that source's camera and person)."""
    real = _crops(tiny)
    live = np.flatnonzero((real.sources() == "trickyf0x") & (real.labels == 1))
    items = [SyntheticAttack(real.presentations[real.presentation_index[i]], 0, "screen", 0) for i in live]

    def with_synthetic(meta):
        fake = CropSet(real.inputs[live], np.zeros(len(live), np.int64), np.arange(len(live)), items,
                       np.zeros(len(live), np.int64), meta)
        result = leave_one_source_out(RECIPES["size_blur"], CropSet.concat([real, fake]), inner_groups=2,
                                      max_per_group=None, progress=False)
        return {s.source: s.scores.live + [x for v in s.scores.attacks.values() for x in v] for s in result.sources}

    first = with_synthetic(real.meta[live])
    second = with_synthetic(real.meta[live] * np.float32([1, 3, 3, 3, 3, 9]))
    assert first["trickyf0x"] == second["trickyf0x"]
    assert first["alexcamargo"] != second["alexcamargo"]


def test_the_pretrained_recipe_says_how_to_get_pytorch_when_it_is_missing(tiny, tmp_path, monkeypatch, capsys):
    """lite0 needs PyTorch, which the product does not ship: the command names the install."""
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    code = main(["train", *map(str, tiny), "--leave-one-source-out", "--recipe", "lite0",
                 "--inner-groups", "2", "--frame-step", "30", "--out", str(tmp_path / "loso"), "--quiet"])
    assert code != 0
    assert "pip install --target var/torch-eval/site torch==2.13.0" in capsys.readouterr().err
    assert not (tmp_path / "loso" / "report.json").exists()
