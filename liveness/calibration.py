"""Calibration of the 1:1 match threshold, and detection rates, on the shared data.

Every photo of ``verify/<identity>/`` is embedded once (:func:`enroll_face`,
as a document would be); every pair of photos of one identity is a genuine
pair, every pair across identities an impostor pair. TAR (genuine pairs
accepted) and FAR (impostor pairs accepted) are swept over thresholds, with
the equal-error point, and one threshold is chosen by :func:`choose_threshold`.

The set is small (13 identities, ~100 genuine and ~1400 impostor pairs), so
a FAR of 0 here only bounds the true FAR at about 3/impostor_pairs (95 %,
rule of three): the published SFace value is kept when this set confirms it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .detection import Face, FaceDetector
from .documents import render_document
from .matching import FaceEmbedder, enroll_face, match_reason
from .media import MediaError, read_image
from .pad import metrics
from .policy import DEFAULT_POLICY, Policy

# opencv_zoo's cosine threshold for SFace (LFW, fp32 model).
SFACE_PUBLISHED_THRESHOLD = 0.363
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
DEFAULT_SWEEP = tuple(round(t, 3) for t in np.arange(0.20, 0.601, 0.025))

Progress = Callable[[Iterable], Iterable]


def _no_progress(items: Iterable) -> Iterable:
    return items


def image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def verify_photos(data_dir: Path) -> dict[str, list[Path]]:
    """``verify/<identity>/`` photos by identity."""
    root = Path(data_dir) / "verify"
    if not root.is_dir():
        raise ValueError(f"no verify/ folder in {data_dir}")
    photos = {d.name: image_files(d) for d in sorted(root.iterdir()) if d.is_dir()}
    return {name: paths for name, paths in photos.items() if paths}


def nuaa_sample(data_dir: Path, every: int = 10) -> list[Path]:
    """Every ``every``-th NUAA frame (live and attack, all subjects), in a fixed order."""
    root = Path(data_dir) / "pad" / "nuaa"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return files[::every]


@dataclass(frozen=True)
class DetectionRate:
    """How many images had at least one face (YuNet at ``max_side``, policy score), or, for
    an enrolment rate, were enrolled (``enroll_face``: its retries and the main-face rule)."""

    name: str
    max_side: int
    images: int
    found: int
    missed: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.found / self.images if self.images else 0.0

    def to_dict(self) -> dict:
        return {"name": self.name, "max_side": self.max_side, "images": self.images,
                "found": self.found, "rate": round(self.rate, 4), "missed": list(self.missed)}


def detection_rate(name: str, paths: list[Path], max_side: int, policy: Policy = DEFAULT_POLICY,
                   progress: Progress = _no_progress) -> DetectionRate:
    detector = FaceDetector(score_threshold=policy.detection_score)
    missed = [str(p) for p in progress(paths) if not detector.detect(read_image(p), max_side=max_side)]
    return DetectionRate(name, max_side, len(paths), len(paths) - len(missed), tuple(missed))


PAD_NUAA_EVERY = 10  # NUAA's live stills are 1,807 frames of nine sessions: every 10th is enough


def pad_live_enrolment(data_dir: Path, policy: Policy = DEFAULT_POLICY,
                       progress: Progress = _no_progress) -> list[DetectionRate]:
    """The enrolment rate of every PAD source's live still images (NUAA every
    :data:`PAD_NUAA_EVERY`-th): faces of other cameras and people than ``verify/``'s, some
    sideways, tight crops, bystanders. A miss is named with its reason."""
    from .pad.data import IMAGE_SUFFIXES, LIVE, discover

    rates = []
    for folder in sorted(p for p in (data_dir / "pad").iterdir() if p.is_dir()):
        stills = [p.path for p in discover(folder) if p.label == LIVE and p.path.suffix.lower() in IMAGE_SUFFIXES]
        stills = stills[::PAD_NUAA_EVERY] if folder.name == "nuaa" else stills
        if not stills:
            continue
        enrolled = _enroll_images(((folder.name, str(p), functools.partial(read_image, p)) for p in progress(stills)),
                                  policy)
        rates.append(DetectionRate(f"pad/{folder.name} live stills", policy.document_max_side, enrolled.photos,
                                   len(enrolled.paths), tuple(f"{p} ({r})" for p, r in enrolled.failures)))
    return rates


@dataclass(frozen=True)
class Enrolment:
    """Embeddings of the verify photos (or of documents rendered from them): one row per
    enrolled image. A rendering's path is its source photo's path plus ``#document-<seed>``."""

    identities: tuple[str, ...]  # per row
    paths: tuple[str, ...]       # per row
    embeddings: np.ndarray       # rows x 128, L2-normalised
    failures: tuple[tuple[str, str], ...]  # (path, reason) of images with no usable face
    faces: tuple[Face, ...] = ()  # per row, in the image's pixels

    @property
    def photos(self) -> int:
        return len(self.paths) + len(self.failures)


def _enroll_images(images: Iterable[tuple[str, str, Callable[[], np.ndarray]]],
                   policy: Policy) -> Enrolment:
    """Enrol (identity, path, load) images; ``load`` raising MediaError is a failure."""
    detector = FaceDetector(score_threshold=policy.detection_score)
    embedder = FaceEmbedder()
    identities, paths, rows, failures, faces = [], [], [], [], []
    for identity, path, load in images:
        try:
            enrolled = enroll_face(load(), policy, detector, embedder)
        except MediaError as exc:
            failures.append((path, str(exc)))
            continue
        if not enrolled.ok:
            failures.append((path, enrolled.reason))
            continue
        identities.append(identity)
        paths.append(path)
        rows.append(enrolled.embedding)
        faces.append(enrolled.face)
    embeddings = np.stack(rows) if rows else np.zeros((0, 128), np.float32)
    return Enrolment(tuple(identities), tuple(paths), embeddings, tuple(failures), tuple(faces))


def enroll_photos(photos: dict[str, list[Path]], policy: Policy = DEFAULT_POLICY,
                  progress: Progress = _no_progress) -> Enrolment:
    return _enroll_images(((i, str(p), functools.partial(read_image, p))
                           for i, p in progress([(i, p) for i, ps in photos.items() for p in ps])), policy)


DOCUMENT_TAG = "#document-"


def document_seed(index: int, copy: int) -> int:
    """The rendering seed of a photo's ``copy``-th document: fixed, so reports reproduce."""
    return 1000 * copy + index


def enroll_documents(photos: Enrolment, policy: Policy = DEFAULT_POLICY, copies: int = 1,
                     progress: Progress = _no_progress) -> Enrolment:
    """Render ``copies`` ID-card captures of every enrolled photo (its enrolled face as the
    printed portrait, :func:`documents.render_document`) and enrol them as documents."""
    def rendering(path: str, face: Face, seed: int) -> np.ndarray:
        return render_document(read_image(path), face, seed)

    jobs = [(identity, f"{path}{DOCUMENT_TAG}{document_seed(i, c)}",
             functools.partial(rendering, path, face, document_seed(i, c)))
            for c in range(copies)
            for i, (identity, path, face) in enumerate(zip(photos.identities, photos.paths, photos.faces))]
    return _enroll_images(progress(jobs), policy)


def source_photo(path: str) -> str:
    """The photo a rendering was made from (the path itself for a photo)."""
    return path.split(DOCUMENT_TAG)[0]


@dataclass(frozen=True)
class Pair:
    similarity: float
    a: str
    b: str


def pair_indices(a: Enrolment, b: Enrolment | None = None) -> list[tuple[int, int]]:
    """Rows (i of ``a``, j of ``b``) compared: every pair of photos once (``b`` None), or
    every document of ``a`` against every photo of ``b`` except the one it was made from."""
    if b is None:
        return list(zip(*(idx.tolist() for idx in np.triu_indices(len(a.paths), k=1))))
    return [(i, j) for i in range(len(a.paths)) for j in range(len(b.paths))
            if source_photo(a.paths[i]) != b.paths[j]]


def pair_scores(a: Enrolment, b: Enrolment | None = None) -> tuple[list[Pair], list[Pair]]:
    """(genuine, impostor) pairs of :func:`pair_indices` with their cosine similarity, each
    sorted ascending."""
    other = a if b is None else b
    similarity = a.embeddings @ other.embeddings.T  # rows are unit vectors
    genuine, impostor = [], []
    for i, j in pair_indices(a, b):
        pair = Pair(float(similarity[i, j]), a.paths[i], other.paths[j])
        (genuine if a.identities[i] == other.identities[j] else impostor).append(pair)
    return sorted(genuine, key=lambda p: p.similarity), sorted(impostor, key=lambda p: p.similarity)


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(TAR, FAR) when a pair matches at ``similarity >= threshold``: the PAD
    error rates in verification terms (genuine pairs as bona fide, impostors as attacks)."""
    return 1.0 - metrics.bpcer_at(genuine, threshold), metrics.apcer_at(impostor, threshold)


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold) where FRR = 1 - TAR and FAR cross."""
    return metrics.equal_error_rate(metrics.error_curve(genuine, impostor))


def choose_threshold(genuine: np.ndarray, impostor: np.ndarray,
                     published: float = SFACE_PUBLISHED_THRESHOLD) -> tuple[float, str]:
    """The threshold for the policy, and why.

    A bank's first error to avoid is accepting an impostor, so: FAR = 0 on this
    set with the best TAR. Every threshold in (highest impostor, lowest genuine
    above it] gives those same rates; the published value is kept when it lies
    in that interval (it was fitted on far more pairs than we have), else the
    interval's midpoint (the largest margin on both sides).
    """
    low = float(impostor.max()) if impostor.size else 0.0
    above = genuine[genuine > low]
    high = float(above.min()) if above.size else low
    interval = f"FAR = 0 with the best TAR for any threshold in ({low:.3f}, {high:.3f}]"
    if low < published <= high:
        return published, f"{interval}; keeps SFace's published {published}, which lies inside it"
    return round((low + high) / 2, 3), f"{interval}; its midpoint (published {published} lies outside)"


def rule_of_three(errors: int, trials: int) -> float | None:
    """The 95 % upper bound of a rate measured as 0 in ``trials`` (3/n); None otherwise."""
    return 3 / trials if errors == 0 and trials else None


@dataclass(frozen=True)
class PairSet:
    """The genuine and impostor pairs of one kind: photo vs photo, or document vs photo."""

    name: str
    genuine: list[Pair]
    impostor: list[Pair]

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        return _scores(self.genuine), _scores(self.impostor)

    def rates_at(self, threshold: float) -> tuple[float, float]:
        return rates(*self.scores(), threshold)

    def outcomes(self, policy: Policy) -> dict:
        """Pairs accepted, sent to review as ``match_uncertain`` and called a mismatch under
        ``policy`` (:func:`matching.match_reason`); FAR = impostors accepted, FRR = genuine
        pairs called a mismatch, each with its rule-of-three bound when it is 0."""
        def tally(pairs: list[Pair]) -> dict:
            reasons = [match_reason(p.similarity, policy) for p in pairs]
            return {"accepted": reasons.count(None), "uncertain": reasons.count("match_uncertain"),
                    "mismatch": reasons.count("document_mismatch")}

        genuine, impostor = tally(self.genuine), tally(self.impostor)
        n_g, n_i = len(self.genuine), len(self.impostor)
        return {
            "genuine": genuine, "impostor": impostor,
            "far": impostor["accepted"] / n_i if n_i else None,
            "far_bound": rule_of_three(impostor["accepted"], n_i),
            "frr": genuine["mismatch"] / n_g if n_g else None,
            "frr_bound": rule_of_three(genuine["mismatch"], n_g),
            "not_accepted": (n_g - genuine["accepted"]) / n_g if n_g else None,
        }

    def to_dict(self, policy: Policy, sweep=DEFAULT_SWEEP) -> dict:
        g, i = self.scores()
        eer, eer_threshold = equal_error_rate(g, i)
        tar, far = self.rates_at(policy.match_threshold)
        return {
            "name": self.name,
            "genuine_pairs": len(self.genuine),
            "impostor_pairs": len(self.impostor),
            "sweep": [{"threshold": float(t), "tar": round(a, 4), "far": round(f, 4)}
                      for t in sweep for a, f in [rates(g, i, t)]],
            "eer": round(eer, 4),
            "eer_threshold": round(eer_threshold, 4),
            "policy_tar": round(tar, 4),
            "policy_far": round(far, 4),
            "at_policy": self.outcomes(policy),
            "lowest_genuine": [vars(p) for p in self.genuine[:5]],
            "highest_impostor": [vars(p) for p in self.impostor[::-1][:5]],
        }


@dataclass(frozen=True)
class Calibration:
    identities: int
    enrolment: Enrolment
    genuine: list[Pair]
    impostor: list[Pair]
    sweep: list[tuple[float, float, float]]  # (threshold, TAR, FAR)
    eer: float
    eer_threshold: float
    chosen: float
    rule: str
    policy_threshold: float
    detection: list[DetectionRate]
    policy: Policy = DEFAULT_POLICY
    documents: Enrolment | None = None  # renderings of the photos, when asked for
    document_pairs: PairSet | None = None
    pad_enrolment: list[DetectionRate] = field(default_factory=list)  # when asked for

    def rates_at(self, threshold: float) -> tuple[float, float]:
        return self.photo_pairs.rates_at(threshold)

    @property
    def photo_pairs(self) -> PairSet:
        return PairSet("photo vs photo", self.genuine, self.impostor)

    def to_dict(self) -> dict:
        tar, far = self.rates_at(self.chosen)
        policy_tar, policy_far = self.rates_at(self.policy_threshold)
        report = {
            "identities": self.identities,
            "photos": self.enrolment.photos,
            "enrolled": len(self.enrolment.paths),
            "enrol_failures": [{"path": p, "reason": r} for p, r in self.enrolment.failures],
            "genuine_pairs": len(self.genuine),
            "impostor_pairs": len(self.impostor),
            "sweep": [{"threshold": t, "tar": round(a, 4), "far": round(f, 4)} for t, a, f in self.sweep],
            "eer": round(self.eer, 4),
            "eer_threshold": round(self.eer_threshold, 4),
            "chosen_threshold": self.chosen,
            "chosen_tar": round(tar, 4),
            "chosen_far": round(far, 4),
            "rule": self.rule,
            "policy_threshold": self.policy_threshold,
            "policy_uncertain_margin": self.policy.match_uncertain_margin,
            "policy_tar": round(policy_tar, 4),
            "policy_far": round(policy_far, 4),
            "photos_at_policy": self.photo_pairs.outcomes(self.policy),
            "lowest_genuine": [vars(p) for p in self.genuine[:5]],
            "highest_impostor": [vars(p) for p in self.impostor[::-1][:5]],
            "detection": [d.to_dict() for d in self.detection],
            "pad_enrolment": [d.to_dict() for d in self.pad_enrolment],
        }
        if self.documents is not None:
            report["documents"] = {
                "rendered": self.documents.photos,
                "enrolled": len(self.documents.paths),
                "enrol_failures": [{"path": p, "reason": r} for p, r in self.documents.failures],
                **self.document_pairs.to_dict(self.policy),
            }
        return report


def _scores(pairs: list[Pair]) -> np.ndarray:
    return np.array([p.similarity for p in pairs], dtype=np.float64)


def calibrate(data_dir: Path, policy: Policy = DEFAULT_POLICY, sweep=DEFAULT_SWEEP,
              nuaa_every: int = 10, documents: int = 0, pad_live: bool = False,
              progress: Progress = _no_progress) -> Calibration:
    """Embed every verify photo once, score all pairs, sweep, choose a threshold.

    With ``documents`` > 0, also renders that many ID-card captures of every photo
    (:func:`enroll_documents`) and scores each against every other photo, and checks
    that the policy's accept edge (threshold + uncertain margin) lies above every
    impostor of both kinds. Also measures detection rates:
    on the verify photos (from the enrolment, at the policy's document size) and, unless
    ``nuaa_every`` is 0, on every ``nuaa_every``-th NUAA frame at the policy's working
    width and at 640. With ``pad_live``, the enrolment rate of the PAD sources' live stills
    (:func:`pad_live_enrolment`).
    """
    photos = verify_photos(data_dir)
    enrolment = enroll_photos(photos, policy, progress)
    missed = tuple(path for path, reason in enrolment.failures if reason != "multiple_faces")
    detection = [DetectionRate("verify photos", policy.document_max_side, enrolment.photos,
                               enrolment.photos - len(missed), missed)]
    if nuaa_every:
        frames = nuaa_sample(data_dir, nuaa_every)
        detection += [detection_rate(f"NUAA every {nuaa_every}th frame", frames, side, policy, progress)
                      for side in (policy.detection_width, 640)]
    genuine, impostor = pair_scores(enrolment)
    g, i = _scores(genuine), _scores(impostor)
    chosen, rule = choose_threshold(g, i)
    rendered, document_pairs = None, None
    if documents:
        rendered = enroll_documents(enrolment, policy, documents, progress)
        document_pairs = PairSet("document vs photo", *pair_scores(rendered, enrolment))
        highest = max(float(i.max()), float(document_pairs.scores()[1].max()))
        accept_from = policy.match_threshold + policy.match_uncertain_margin
        rule += (f"; on photo and document pairs together the highest impostor scores {highest:.3f}: "
                 f"the policy accepts from {accept_from:.3f} (threshold + uncertain margin), "
                 + ("above it" if accept_from > highest else "NOT above it: raise the threshold or the margin"))
    eer, eer_threshold = equal_error_rate(g, i)
    return Calibration(
        identities=len(photos), enrolment=enrolment, genuine=genuine, impostor=impostor,
        sweep=[(float(t), *rates(g, i, t)) for t in sweep],
        eer=eer, eer_threshold=eer_threshold, chosen=chosen, rule=rule,
        policy_threshold=policy.match_threshold, detection=detection, policy=policy,
        documents=rendered, document_pairs=document_pairs,
        pad_enrolment=pad_live_enrolment(data_dir, policy, progress) if pad_live else [],
    )


def _short(path: str) -> str:
    return "/".join(Path(path).parts[-2:])


def _outcome_lines(name: str, at: dict, threshold: float, margin: float) -> list[str]:
    def rate(value: float, bound: float | None) -> str:
        return f"{value:.2%}" + (f" (95 % bound {bound:.2%}, rule of three)" if bound is not None else "")

    g, i = at["genuine"], at["impostor"]
    return [
        f"{name} at the policy (accept >= {threshold + margin:.3f}, review as match_uncertain "
        f"in ({threshold - margin:.3f}, {threshold + margin:.3f}), mismatch below):",
        f"  genuine  {sum(g.values()):>5}: accepted {g['accepted']}, uncertain {g['uncertain']}, "
        f"mismatch {g['mismatch']}",
        f"  impostor {sum(i.values()):>5}: accepted {i['accepted']}, uncertain {i['uncertain']}, "
        f"mismatch {i['mismatch']}",
        f"  FAR {rate(at['far'], at['far_bound'])}; FRR (called a mismatch) {rate(at['frr'], at['frr_bound'])}; "
        f"genuine not accepted automatically {at['not_accepted']:.2%}",
    ]


def _pair_lines(pairs: list[dict]) -> list[str]:
    return [f"  {p['similarity']:.3f}  {_short(p['a'])} ~ {_short(p['b'])}" for p in pairs]


def format_report(cal: Calibration) -> str:
    d = cal.to_dict()
    margin = d["policy_uncertain_margin"]
    lines = [
        f"verify/: {d['identities']} identities, {d['photos']} photos, {d['enrolled']} enrolled "
        f"(one face found and embedded)",
        *(f"  not enrolled: {_short(f['path'])}: {f['reason']}" for f in d["enrol_failures"]),
        f"pairs: {d['genuine_pairs']} genuine, {d['impostor_pairs']} impostor",
        "",
        f"{'threshold':>9}  {'TAR':>7}  {'FAR':>7}",
        *(f"{row['threshold']:>9.3f}  {row['tar']:>7.2%}  {row['far']:>7.2%}" for row in d["sweep"]),
        "",
        f"EER {d['eer']:.2%} at threshold {d['eer_threshold']:.3f}",
        f"chosen threshold {d['chosen_threshold']}: TAR {d['chosen_tar']:.2%}, FAR {d['chosen_far']:.2%} (photo pairs)",
        f"  rule: {d['rule']}",
        f"policy match_threshold {d['policy_threshold']}: TAR {d['policy_tar']:.2%}, FAR {d['policy_far']:.2%}",
        *_outcome_lines("photo pairs", d["photos_at_policy"], d["policy_threshold"], margin),
        "lowest genuine pairs:", *_pair_lines(d["lowest_genuine"]),
        "highest impostor pairs:", *_pair_lines(d["highest_impostor"]),
    ]
    if "documents" in d:
        doc = d["documents"]
        lines += [
            "",
            f"documents (ID-card renderings of the enrolled photos, liveness/documents.py): "
            f"{doc['rendered']} rendered, {doc['enrolled']} enrolled",
            *(f"  not enrolled: {_short(f['path'])}: {f['reason']}" for f in doc["enrol_failures"]),
            f"document vs photo pairs (never against its own source photo): {doc['genuine_pairs']} genuine, "
            f"{doc['impostor_pairs']} impostor",
            f"{'threshold':>9}  {'TAR':>7}  {'FAR':>7}",
            *(f"{row['threshold']:>9.3f}  {row['tar']:>7.2%}  {row['far']:>7.2%}" for row in doc["sweep"]),
            f"EER {doc['eer']:.2%} at threshold {doc['eer_threshold']:.3f}",
            *_outcome_lines("document pairs", doc["at_policy"], d["policy_threshold"], margin),
            "lowest genuine pairs:", *_pair_lines(doc["lowest_genuine"]),
            "highest impostor pairs:", *_pair_lines(doc["highest_impostor"]),
        ]
    if cal.detection:
        lines += ["", "detection (YuNet, at least one face per image):"]
        lines += [f"  {r.name} at {r.max_side} px: {r.found}/{r.images} = {r.rate:.2%}"
                  for r in cal.detection]
        lines += [f"    missed: {_short(m)}" for r in cal.detection for m in r.missed[:10]]
    if cal.pad_enrolment:
        total = sum(r.images for r in cal.pad_enrolment)
        lines += ["", "enrolment of the PAD sources' live stills (enroll_face: retries, main-face rule):"]
        lines += [f"  {r.name}: {r.found}/{r.images} = {r.rate:.2%}" for r in cal.pad_enrolment]
        lines += [f"  all: {sum(r.found for r in cal.pad_enrolment)}/{total}"]
        lines += [f"    not enrolled: {_short(m)}" for r in cal.pad_enrolment for m in r.missed[:10]]
    return "\n".join(lines)
