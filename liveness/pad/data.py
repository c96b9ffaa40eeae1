"""Presentations on disk: live/attack folders of images or videos, by subject.

A data directory holds a ``live`` and an ``attack`` part anywhere in each
file's relative path, as a folder or a file stem:

* NUAA: ``nuaa/live/<subject>/*.jpg`` and ``nuaa/attack/<subject>/*.jpg``;
* replay clips: ``replay_videos/<person>/live.webm`` and ``.../attack.mp4``;
* the other sources of ``../shared/data/pad`` follow one of the two
  (``<source>/{live,attack}/<subject>/*.jpg``, ``<source>/<subject>/{live,attack}.mp4``).

The subject is the folder right after the label (NUAA), else the folder
right before it (replay clips), else the file itself. Splits are always made
on subjects, never on frames: consecutive frames of one person are nearly
identical and would leak between train and test.

Some sources did not record who is who: their folders (``dataset_real``,
``dataset_fake``, ``images_reals``, ``images_fakes`` in ``aksultan`` and
``jomariya``) mix several people, and the same people appear under live and
attack. Such a source is one subject, named after the source, so that no
split ever puts part of it on each side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

LIVE, ATTACK = 1, 0
LABEL_NAMES = {"live": LIVE, "attack": ATTACK}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".webm", ".avi", ".mov", ".mkv", ".mjpeg"}
# Folder names that hold several unnamed people (see the module docstring).
MIXED_SUBJECT_FOLDERS = {"dataset_real", "dataset_fake", "images_reals", "images_fakes"}


@dataclass(frozen=True)
class Presentation:
    """One file shown to the system: a still image or a video (a session).

    source: the data directory's name; the attack species of its attacks.
    synthetic: made by the attack simulator from a live face: trained on, never tested on.
    """

    path: Path
    label: int
    subject: str
    source: str
    synthetic: bool = False

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_SUFFIXES


def _label_and_subject(relative: Path) -> tuple[int, str] | None:
    parts = [*relative.parent.parts, relative.stem]
    for i, part in enumerate(parts):
        if part.lower() in LABEL_NAMES:
            folders = list(relative.parent.parts)
            after, before = folders[i + 1:], folders[:i]
            subject = after[0] if after else before[-1] if before else relative.stem
            return LABEL_NAMES[part.lower()], subject
    return None


def discover(root: Path | str, subjects: Iterable[str] | None = None,
             exclude_subjects: Iterable[str] = (), label: int | None = None) -> list[Presentation]:
    """Images and videos under ``root`` (a folder, or one file) with a live/attack label,
    sorted by path.

    subjects: keep only these (None keeps all); exclude_subjects: drop these.
    label: every file is this class (e.g. a folder of live webcam clips with no ``live``
    part in its paths); the subject is then the first folder under ``root``, else the
    file's stem.
    """
    root = Path(root)
    if root.is_file():
        files, base, source = [root], root.parent, root.parent.name
    elif root.is_dir():
        files, base, source = sorted(root.rglob("*")), root, root.name
    else:
        raise ValueError(f"{root} is neither a directory nor a file")
    keep = None if subjects is None else set(subjects)
    drop = set(exclude_subjects)
    found = []
    for path in files:
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            continue
        relative = path.relative_to(base)
        if label is None:
            labelled = _label_and_subject(relative)
        else:
            labelled = label, relative.parts[0] if len(relative.parts) > 1 else relative.stem
        if labelled is None:
            continue
        file_label, subject = labelled
        found.append(Presentation(path=path, label=file_label, subject=subject, source=source))
    if any(p.subject in MIXED_SUBJECT_FOLDERS for p in found):
        found = [replace(p, subject=source) for p in found]
    return [p for p in found if (keep is None or p.subject in keep) and p.subject not in drop]


def discover_all(roots: Iterable[Path | str], subjects: Iterable[str] | None = None,
                 exclude_subjects: Iterable[str] = (), label: int | None = None) -> list[Presentation]:
    """:func:`discover` over several data directories; fails if nothing is labelled."""
    subjects = None if subjects is None else list(subjects)
    found = [p for root in roots for p in discover(root, subjects, exclude_subjects, label)]
    if not found:
        raise ValueError("no live/attack images or videos found under " + ", ".join(map(str, roots)))
    return found


def iter_frames(presentation: Presentation, step: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, BGR frame): the image itself, or every ``step``-th video frame."""
    if not presentation.is_video:
        image = cv2.imread(str(presentation.path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {presentation.path}")
        yield 0, image
        return
    capture = cv2.VideoCapture(str(presentation.path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {presentation.path}")
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                yield index, frame
            index += 1
    finally:
        capture.release()


def subject_folds(presentations: Iterable[Presentation], k: int) -> list[list[str]]:
    """``k`` disjoint groups of subjects (sorted, dealt round-robin): deterministic folds."""
    subjects = sorted({p.subject for p in presentations})
    if not 2 <= k <= len(subjects):
        raise ValueError(f"cannot make {k} folds of {len(subjects)} subjects")
    return [subjects[i::k] for i in range(k)]
