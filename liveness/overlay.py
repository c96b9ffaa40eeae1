"""Drawing on frames: face box, mouth ("smile") box, challenge prompt with
countdown, live/fake bar and scores. Used by the CLI's annotated output and
by the app's live and replay pages alike.

Text goes through Pillow with DejaVu Sans (shipped by matplotlib) because
OpenCV's Hershey fonts cannot draw Portuguese accents; only the small text
bands are converted, so drawing stays around a millisecond.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .detection import Face
from .i18n import DEFAULT_LANGUAGE, t
from .policy import DEFAULT_POLICY, Policy

GREEN = (80, 200, 60)
ORANGE = (0, 165, 255)
RED = (50, 50, 230)
YELLOW = (0, 220, 240)
WHITE = (255, 255, 255)
DARK = (30, 30, 30)


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont
    import matplotlib

    path = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=512)
def _text_weights(text: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The text's coverage on its padded band and its complement (float32, 0..1), rendered
    once per string: the live overlay repeats the same few strings every frame, and
    Pillow's rendering holds the GIL the video thread needs."""
    from PIL import Image, ImageDraw

    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    pad = max(3, size // 4)
    mask = Image.new("L", (right + 2 * pad, bottom + 2 * pad), 0)
    ImageDraw.Draw(mask).text((pad, pad - top), text, font=font, fill=255)
    coverage = np.asarray(mask, dtype=np.float32) / 255.0
    return coverage, 1.0 - coverage


SMALLEST_TEXT = 11  # px: still legible on a phone


def put_text(image: np.ndarray, text: str, origin: tuple[int, int], size: int = 20,
             color=WHITE, background=DARK) -> None:
    """Draw ``text`` (any Unicode) in place, on a filled band, top-left at ``origin``; smaller
    than ``size`` when it would not fit the image's width (a small recording, a long prompt)."""
    ox, oy = origin
    h, w = image.shape[:2]
    coverage, uncovered = _text_weights(text, size)
    room = w - ox - 2
    if coverage.shape[1] > room and size > SMALLEST_TEXT:
        size = max(SMALLEST_TEXT, int(size * room / coverage.shape[1]))
        coverage, uncovered = _text_weights(text, size)
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(w, ox + coverage.shape[1]), min(h, oy + coverage.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    band = image[y0:y1, x0:x1]
    window = np.s_[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    shaded = cv2.addWeighted(band, 0.35, np.full_like(band, background), 0.65, 0)
    band[:] = cv2.blendLinear(np.ascontiguousarray(shaded), np.full_like(band, color),
                              np.ascontiguousarray(uncovered[window]),
                              np.ascontiguousarray(coverage[window]))


def _rect(image, box, color, thickness=2) -> None:
    x, y, w, h = (int(round(v)) for v in box)
    cv2.rectangle(image, (x, y), (x + w, y + h), color, thickness, cv2.LINE_AA)


def draw_faces(image: np.ndarray, faces: list[Face] | tuple[Face, ...], label_scores: bool = True) -> np.ndarray:
    """Boxes and 5 landmarks for every face (the ``detect`` command's output)."""
    out = image.copy()
    thickness = max(2, round(max(image.shape[:2]) / 400))
    for face in faces:
        _rect(out, face.box, GREEN, thickness)
        for x, y in face.landmarks:
            cv2.circle(out, (int(x), int(y)), thickness + 1, YELLOW, -1, cv2.LINE_AA)
        if label_scores:
            x, y = int(face.box[0]), int(face.box[1])
            put_text(out, f"{face.score:.2f}", (x, max(0, y - 12 - 4 * thickness)), 12 + 2 * thickness)
    return out


def _live_bar(image: np.ndarray, score: float, threshold: float, lang: str) -> None:
    h, w = image.shape[:2]
    x0, y0, bw, bh = 10, h - 34, min(220, w - 20), 14
    cv2.rectangle(image, (x0, y0), (x0 + bw, y0 + bh), DARK, -1)
    color = GREEN if score >= threshold else RED
    cv2.rectangle(image, (x0, y0), (x0 + int(bw * score), y0 + bh), color, -1)
    tx = x0 + int(bw * threshold)
    cv2.line(image, (tx, y0 - 3), (tx, y0 + bh + 3), WHITE, 1)
    label = "vivo" if lang == "pt" else "live"
    put_text(image, f"{label} {score:.0%}", (x0 + bw + 6, y0 - 6), 14)


def shown_instruction(result) -> str:
    """The instruction key :func:`draw_frame` shows for a :class:`session.FrameResult` without a verdict."""
    status = result.challenge
    return status.instruction if result.face is not None or status.finished else "waiting_face"


def prompt_drawn(result) -> bool:
    """Whether a frame drawn for ``result`` shows its challenge step's prompt."""
    return result is not None and result.verdict is None and result.challenge.prompting \
        and shown_instruction(result) == result.challenge.instruction


def draw_frame(frame: np.ndarray, result, lang: str = DEFAULT_LANGUAGE, show_scores: bool = True,
               policy: Policy = DEFAULT_POLICY) -> np.ndarray:
    """An annotated copy of ``frame`` for a :class:`session.FrameResult`."""
    out = frame.copy()
    several = len(result.faces) > 1
    for face in result.faces:
        ok = not several and (result.quality is None or result.quality.ok)
        _rect(out, face.box, GREEN if ok else (RED if several else ORANGE), 2)
    if result.signals is not None:
        smiling = result.signals.smile >= policy.smile_min
        _rect(out, result.signals.mouth_box, GREEN if smiling else YELLOW, 2)

    status = result.challenge
    if result.verdict is not None:
        color = GREEN if result.verdict.accepted else ORANGE
        put_text(out, t(result.verdict.decision, lang), (10, 10), 24, WHITE, color)
    else:
        text = t(shown_instruction(result), lang)
        if status.prompting:  # a step's prompt is up (not the neutral face before the first, nor the end)
            text = f"{status.index + 1}/{status.total}  {text}"
            if status.remaining_s is not None:
                text += f"  {status.remaining_s:.0f}s"
        put_text(out, text, (10, 10), 22)
        if result.quality is not None and result.quality.issues:
            put_text(out, t(result.quality.issues[0], lang), (10, 48), 16, WHITE, ORANGE)
        elif several:
            put_text(out, t("multiple_faces", lang), (10, 48), 16, WHITE, RED)

    if show_scores:
        if result.passive_score is not None:
            _live_bar(out, result.passive_score, policy.passive_threshold, lang)
        s = result.signals
        if s is not None:
            line = t("overlay_signals", lang, smile=s.smile, blink=s.blink, yaw=s.yaw)
            if result.similarity is not None:
                line += "  " + t("overlay_similarity", lang, similarity=result.similarity)
            put_text(out, line, (10, out.shape[0] - 62), 13)
    return out
