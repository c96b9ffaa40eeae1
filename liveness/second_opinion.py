"""A second face recognizer, evaluated against SFace alone and fused with it.

The candidate is dlib's ResNet-34 (``dlib_face_recognition_resnet_model_v1``,
128-d, aligned on dlib's 5-point landmarks), from the pinned sdist
``face-recognition-models==0.3.0`` (models released to the public domain by
dlib's author; package MIT), run by ``dlib-bin==20.0.1.post1`` (Boost licence).
Both files are checked by SHA-256 through ``models/third_party.toml`` as
``optional`` entries. dlib is **not** a dependency of the product: the
evaluation needs it installed by hand (``pip install dlib-bin==20.0.1.post1``)
and says so when it is missing.

Same faces, same pairs as :mod:`liveness.calibration` (YuNet's box of every
enrolled photo and rendered document); scores: SFace cosine, dlib cosine, their
z-scored mean (each model standardised by its photo-impostor scores) and a
two-feature logistic fusion fitted on the photo pairs only and scored on the
document pairs. Cost: each recognizer's embedding of the same faces, timed in
the same run, as a ratio to SFace.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .calibration import (DOCUMENT_TAG, Enrolment, Progress, _no_progress, enroll_documents,
                          enroll_photos, equal_error_rate, pair_indices, verify_photos)
from .detection import Face
from .documents import render_document
from .matching import FaceEmbedder
from .media import read_image
from .pad import metrics
from .pad.texture import fit_logistic
from .policy import DEFAULT_POLICY, Policy
from .registry import model_path

INSTALL_HINT = "pip install dlib-bin==20.0.1.post1 (for this evaluation only: dlib is not shipped)"


class DlibEmbedder:
    """dlib's ResNet on a YuNet face: dlib's 5 landmarks inside YuNet's box, then its own alignment."""

    def __init__(self):
        try:
            import dlib
        except ImportError:
            raise ValueError(f"dlib is not installed: {INSTALL_HINT}") from None
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(model_path("dlib_shape5")))
        self._net = dlib.face_recognition_model_v1(str(model_path("dlib_resnet")))

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        x, y, w, h = face.box
        box = self._dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
        vector = np.asarray(self._net.compute_face_descriptor(rgb, self._shape(rgb, box)), np.float32)
        return vector / (np.linalg.norm(vector) + 1e-12)


def images_and_faces(photos: Enrolment, documents: Enrolment | None) -> list[tuple[np.ndarray, Face]]:
    """The image and the enrolled face of every row: photos first, then documents."""
    faces_of_photo = dict(zip(photos.paths, photos.faces))
    rows = [(read_image(p), f) for p, f in zip(photos.paths, photos.faces)]
    for path, face in zip(documents.paths if documents else (), documents.faces if documents else ()):
        source, seed = path.split(DOCUMENT_TAG)
        rows.append((render_document(read_image(source), faces_of_photo[source], int(seed)), face))
    return rows


@dataclass(frozen=True)
class ScorerResult:
    """One scorer on one pair set: EER, and the genuine pairs lost when no impostor may pass."""

    scorer: str
    pairs: str
    genuine: int
    impostor: int
    eer: float
    frr_at_far0: float  # genuine pairs at or below the highest impostor
    auc: float

    def to_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in vars(self).items()}


def _result(scorer: str, pairs: str, genuine: np.ndarray, impostor: np.ndarray) -> ScorerResult:
    eer, _ = equal_error_rate(genuine, impostor)
    return ScorerResult(scorer, pairs, len(genuine), len(impostor), eer,
                        float(np.mean(genuine <= impostor.max())), metrics.area_under_roc(genuine, impostor))


def _median_ms(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(CPU, wall) median milliseconds of ``call``."""
    cpu, wall = [], []
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        call()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


@dataclass(frozen=True)
class SecondOpinion:
    results: list[ScorerResult]
    cost: dict  # per embedding: SFace and dlib CPU/wall medians and the ratios
    logistic_weights: list[float]

    def to_dict(self) -> dict:
        return {"results": [r.to_dict() for r in self.results], "cost": self.cost,
                "logistic_weights": [round(w, 4) for w in self.logistic_weights]}


def evaluate(data_dir: Path, policy: Policy = DEFAULT_POLICY, documents: int = 1,
             timing_faces: int = 20, progress: Progress = _no_progress) -> SecondOpinion:
    dlib_net, sface = DlibEmbedder(), FaceEmbedder()
    photos = enroll_photos(verify_photos(data_dir), policy, progress)
    rendered = enroll_documents(photos, policy, documents, progress) if documents else None
    rows = images_and_faces(photos, rendered)
    n_photos = len(photos.paths)
    identities = photos.identities + (rendered.identities if rendered else ())
    by_model = {"SFace": np.vstack([photos.embeddings] + ([rendered.embeddings] if rendered else [])),
                "dlib": np.stack([dlib_net.embed(image, face) for image, face in progress(rows)])}

    sets = {"photo vs photo": [(i, j) for i, j in pair_indices(photos)]}
    if rendered:
        sets["document vs photo"] = [(n_photos + i, j) for i, j in pair_indices(rendered, photos)]
    scores = {name: {} for name in sets}
    for set_name, pairs in sets.items():
        a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        same = np.array([identities[i] == identities[j] for i, j in pairs])
        for model, emb in by_model.items():
            scores[set_name][model] = (np.sum(emb[a] * emb[b], axis=1), same)

    # z-scores from the photo impostor pairs; the logistic fusion fitted on photo pairs only.
    photo = scores["photo vs photo"]
    stats = {m: (s[~same].mean(), s[~same].std()) for m, (s, same) in photo.items()}
    photo_features = np.stack([photo[m][0] for m in by_model], 1)
    # The photo pairs are separable: without its ridge (the PAD recipes' default) the weights would diverge.
    weights, bias = fit_logistic(photo_features, photo["SFace"][1].astype(float), np.ones(len(photo_features)))
    results = []
    for set_name, per_model in scores.items():
        same = per_model["SFace"][1]
        z = np.mean([(per_model[m][0] - stats[m][0]) / stats[m][1] for m in by_model], axis=0)
        features = np.stack([per_model[m][0] for m in by_model], 1)
        candidates = {**{m: s for m, (s, _) in per_model.items()}, "z-mean fusion": z,
                      "logistic fusion" + (" (fitted here: in-sample)" if set_name == "photo vs photo" else ""):
                          features @ weights + bias}
        results += [_result(name, set_name, s[same], s[~same]) for name, s in candidates.items()]

    sample = rows[:timing_faces]
    sface_ms = _median_ms(lambda: [sface.embed(i, f) for i, f in sample], 5)
    dlib_ms = _median_ms(lambda: [dlib_net.embed(i, f) for i, f in sample], 5)
    per_face = len(sample)
    cost = {"faces_per_run": per_face,
            "sface_cpu_ms": round(sface_ms[0] / per_face, 2), "sface_wall_ms": round(sface_ms[1] / per_face, 2),
            "dlib_cpu_ms": round(dlib_ms[0] / per_face, 2), "dlib_wall_ms": round(dlib_ms[1] / per_face, 2),
            "dlib_over_sface_cpu": round(dlib_ms[0] / sface_ms[0], 2),
            "dlib_over_sface_wall": round(dlib_ms[1] / sface_ms[1], 2)}
    return SecondOpinion(results, cost, [bias, *map(float, weights)])


def format_report(result: SecondOpinion) -> str:
    lines = [f"{'pairs':<18} {'scorer':<38} {'genuine':>7} {'impostor':>8} {'EER':>7} "
             f"{'FRR@FAR=0':>9} {'AUC':>6}"]
    lines += [f"{r.pairs:<18} {r.scorer:<38} {r.genuine:>7} {r.impostor:>8} {r.eer:>7.2%} "
              f"{r.frr_at_far0:>9.2%} {r.auc:>6.3f}" for r in result.results]
    c = result.cost
    lines += ["", f"cost per embedding, median over {c['faces_per_run']} faces x 5 runs, same process: "
              f"SFace {c['sface_cpu_ms']} ms CPU / {c['sface_wall_ms']} ms wall, "
              f"dlib {c['dlib_cpu_ms']} ms CPU / {c['dlib_wall_ms']} ms wall: "
              f"dlib = {c['dlib_over_sface_cpu']}x SFace (CPU), {c['dlib_over_sface_wall']}x (wall)",
              f"logistic fusion weights (bias, SFace, dlib): {result.logistic_weights}"]
    return "\n".join(lines)
