"""Reviewers' decisions as training data: the decided cases of the store as one source.

Every case a reviewer approved (a genuine customer: live) or rejected (an
attack) holds encrypted key frames. :func:`case_crops` decrypts them with
the store's evidence key, finds the face in each as the engine does, and
returns their crops labelled by the reviewer's decision, as the source
:data:`CASES_SOURCE` (one subject per case). Each case read is audited
(``evidence.read_for_training``, with the actor), as every view of biometric
evidence is; the frames stay in memory and are never written out. Cases
whose evidence was purged (retention) are skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..detection import FaceDetector
from ..policy import DEFAULT_POLICY
from ..store import audit
from ..store.cases import load_evidence
from ..store.evidence import EvidenceError
from ..store.reviews import labelled_cases
from ..store.store import Store
from .crops import META_COLUMNS, CropSet, CropSpec, face_input, find_face, sharpness
from .data import ATTACK, LIVE, Presentation

CASES_SOURCE = "review_cases"


@dataclass(frozen=True)
class CaseCrops:
    crops: CropSet
    cases: int  # decided cases whose evidence was read
    purged: int  # decided cases without evidence any more (skipped)


def case_crops(store: Store, spec: CropSpec, actor: str) -> CaseCrops:
    """Crops of every decided case's key frames, labelled by the reviewer (see module doc)."""
    detector = FaceDetector()
    presentations, inputs, labels, owners, metas, missing = [], [], [], [], [], []
    purged = 0
    for case in labelled_cases(store):
        try:
            evidence = load_evidence(store, case.case_id)
        except EvidenceError:
            purged += 1
            continue
        with store.write() as session:
            audit.append(session, store.now(), actor, "evidence.read_for_training", f"case:{case.case_id}",
                         {"frames": len(evidence.key_frames_jpeg), "label": "live" if case.genuine else "attack"})
        index = len(presentations)
        label = LIVE if case.genuine else ATTACK
        presentations.append(Presentation(path=Path("case") / case.case_id, label=label,
                                          subject=case.case_id, source=CASES_SOURCE))
        without = 0
        for frame in evidence.key_frame_images():
            found = find_face(frame, detector, DEFAULT_POLICY.detection_width, still=False)
            if found is None:
                without += 1
                continue
            face, how = found
            inputs.append(face_input(frame, face, spec))
            labels.append(label)
            owners.append(index)
            metas.append((how, frame.shape[1], frame.shape[0], face.box[2], face.box[3], sharpness(frame, face)))
        missing.append(without)
    crops = CropSet(
        inputs=np.stack(inputs) if inputs else np.zeros((0, spec.size, spec.size, spec.channels), np.uint8),
        labels=np.array(labels, np.int64), presentation_index=np.array(owners, np.int64),
        presentations=presentations, frames_without_face=np.array(missing, np.int64),
        meta=np.array(metas, np.float32).reshape(-1, len(META_COLUMNS)))
    return CaseCrops(crops, len(presentations), purged)
