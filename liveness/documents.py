"""Synthetic ID-card captures, for calibrating document-vs-selfie matching.

A bank's hard pair is not two press photos: it is an old ID card (RG-style,
often grey) whose small printed portrait, about 90x120 px, was photographed
by the customer at an angle, under plastic glare, and sent as JPEG. The shared
data has no such card, so :func:`render_document` makes one from a photo:
guilloche background, text blocks, the printed portrait (grey or faded colour,
halftone-soft), the small faint "ghost" copy of the portrait that many cards
carry, a glare highlight, then the card laid on a table, re-photographed with a
perspective warp, defocus, sensor noise and JPEG. Everything is drawn from
``numpy.random.default_rng(seed)``: one seed, one image, on any machine.

Renderings are made from the shared data: they are generated on the fly (or
under ``var/``), never committed.
"""

from __future__ import annotations


import cv2
import numpy as np

from .detection import Face
from .media import jpeg_round_trip

CARD_SIZE = (860, 580)  # width, height: RG-style card at about 8.4 px/mm
PORTRAIT_SIZE = (90, 120)  # the printed photo, 3x4
CAPTURE_SIZE = (1280, 960)
GHOST_SCALE = 0.45  # of the portrait's side
CARD_COLOURS = ((196, 222, 205), (214, 226, 232), (205, 215, 225), (225, 222, 205))  # BGR pastel tints
CARD_WORDS = ("REPUBLICA FEDERATIVA DO BRASIL", "CARTEIRA DE IDENTIDADE", "NOME", "FILIACAO",
              "NATURALIDADE", "DATA DE NASCIMENTO", "REGISTRO GERAL", "CPF", "ASSINATURA DO TITULAR")


def portrait_crop(photo: np.ndarray, face: Face, size: tuple[int, int]) -> np.ndarray:
    """A 3x4 head-and-shoulders crop around ``face`` at ``size``; beyond the photo's edges,
    a light backdrop as in an ID photo studio (the TV crops end at the chin)."""
    cx, cy = face.center
    height = face.box[3] * 1.75  # a 3x4 ID photo: the head with some hair and neck
    width = height * size[0] / size[1]
    top = cy - height * 0.45
    src = np.float32([[cx - width / 2, top], [cx + width / 2, top], [cx - width / 2, top + height]])
    dst = np.float32([[0, 0], [size[0], 0], [0, size[1]]])
    return cv2.warpAffine(photo, cv2.getAffineTransform(src, dst), size,
                          flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=(225, 225, 225))


def _guilloche(card: np.ndarray, rng: np.random.Generator) -> None:
    """Fine interlaced sine curves and a rosette, in a slightly darker tint of the card."""
    h, w = card.shape[:2]
    ink = tuple(int(c * rng.uniform(0.72, 0.85)) for c in card[0, 0])
    xs = np.arange(0, w, 2, dtype=np.float64)
    for k in range(int(rng.integers(18, 30))):
        amplitude, period = rng.uniform(8, 30), rng.uniform(60, 200)
        phase, base = rng.uniform(0, 2 * np.pi), k * h / 24
        ys = base + amplitude * np.sin(2 * np.pi * xs / period + phase)
        cv2.polylines(card, [np.stack([xs, ys], 1).astype(np.int32)], False, ink, 1, cv2.LINE_AA)
    t = np.linspace(0, 2 * np.pi, 1500)
    centre = np.array([rng.uniform(0.55, 0.8) * w, rng.uniform(0.3, 0.7) * h])
    for r in (60, 90, 120):
        petals = int(rng.integers(9, 17))
        radius = r + 0.25 * r * np.sin(petals * t)
        points = centre + np.stack([radius * np.cos(t), radius * np.sin(t)], 1)
        cv2.polylines(card, [points.astype(np.int32)], True, ink, 1, cv2.LINE_AA)


def _text(card: np.ndarray, rng: np.random.Generator, left: int) -> None:
    h, w = card.shape[:2]
    y = int(h * 0.12)
    cv2.putText(card, CARD_WORDS[0], (int(w * 0.18), y), cv2.FONT_HERSHEY_DUPLEX, 0.8, (60, 60, 60), 1, cv2.LINE_AA)
    for word in rng.permutation(CARD_WORDS[2:])[:6]:
        y += int(rng.integers(50, 70))
        if y > h - 30:
            break
        cv2.putText(card, str(word), (left, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (90, 80, 70), 1, cv2.LINE_AA)
        filler = "".join(rng.choice(list("ABCDEFGHIJLMNOPRSTUVXZ0123456789 "), int(rng.integers(8, 22))))
        cv2.putText(card, filler, (left, y + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (30, 30, 30), 1, cv2.LINE_AA)


def _printed(portrait: np.ndarray, grey: bool, rng: np.random.Generator) -> np.ndarray:
    """What a print does to a photo: less contrast, a colour cast or grey, softness."""
    out = portrait.astype(np.float32)
    if grey:
        out = np.repeat(cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY)[..., None], 3, 2).astype(np.float32)
        out *= np.array(rng.uniform(0.93, 1.0, 3), np.float32)  # slightly warm or cool paper
    else:
        out = out * rng.uniform(0.85, 1.0, 3).astype(np.float32)
    contrast = rng.uniform(0.65, 0.9)
    out = (out - 128) * contrast + 128 + rng.uniform(0, 20)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.7))
    return np.clip(out, 0, 255).astype(np.uint8)


def _paste(card: np.ndarray, image: np.ndarray, x: int, y: int, alpha: float = 1.0) -> None:
    h, w = image.shape[:2]
    region = card[y:y + h, x:x + w].astype(np.float32)
    card[y:y + h, x:x + w] = np.clip(region * (1 - alpha) + image.astype(np.float32) * alpha, 0, 255)


def _glare(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A soft elliptical highlight, as a laminated card reflects a lamp or a window."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    sx, sy = rng.uniform(0.08, 0.25) * w, rng.uniform(0.05, 0.2) * h
    angle = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    light = strength * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    out = image.astype(np.float32)
    out = out + (255 - out) * light[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def render_card(photo: np.ndarray, face: Face, rng: np.random.Generator, grey: bool) -> np.ndarray:
    """The flat card, before it is photographed."""
    w, h = CARD_SIZE
    card = np.empty((h, w, 3), np.uint8)
    card[:] = CARD_COLOURS[int(rng.integers(len(CARD_COLOURS)))]
    _guilloche(card, rng)
    pw = int(round(PORTRAIT_SIZE[0] * rng.uniform(0.9, 1.1)))
    size = (pw, int(round(pw * PORTRAIT_SIZE[1] / PORTRAIT_SIZE[0])))
    portrait = _printed(portrait_crop(photo, face, size), grey, rng)
    px, py = int(w * 0.06), int(h * 0.22)
    _paste(card, portrait, px, py)
    cv2.rectangle(card, (px - 1, py - 1), (px + size[0], py + size[1]), (120, 120, 120), 1)
    _text(card, rng, px + size[0] + 40)
    ghost_size = (int(size[0] * GHOST_SCALE), int(size[1] * GHOST_SCALE))
    ghost = cv2.cvtColor(cv2.cvtColor(cv2.resize(portrait, ghost_size, interpolation=cv2.INTER_AREA),
                                      cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    _paste(card, ghost, int(w * 0.82), int(h * 0.62), alpha=rng.uniform(0.25, 0.45))
    return card


def photograph(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The card on a table, photographed at an angle: perspective warp, defocus, noise."""
    ch, cw = card.shape[:2]
    out_w, out_h = CAPTURE_SIZE
    scale = rng.uniform(0.85, 1.15)  # the printed portrait stays about its printed size
    tilt = rng.uniform(-12, 12)
    centre = np.array([out_w / 2, out_h / 2]) + rng.uniform(-0.06, 0.06, 2) * [out_w, out_h]
    corners = np.float32([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]]) * scale
    theta = np.deg2rad(tilt)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    corners = corners @ rotation.T + centre
    # Seen at an angle: one edge farther from the lens, so shorter.
    corners += rng.uniform(-0.06, 0.06, (4, 2)) * [cw * scale, ch * scale]
    matrix = cv2.getPerspectiveTransform(np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]]), corners.astype(np.float32))
    table = np.empty((out_h, out_w, 3), np.uint8)
    table[:] = rng.integers(40, 160, 3)
    noise = rng.normal(0, 12, (out_h // 8, out_w // 8, 3)).astype(np.float32)
    table = np.clip(table + cv2.resize(noise, (out_w, out_h)), 0, 255).astype(np.uint8)
    warped = cv2.warpPerspective(card, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), matrix, (out_w, out_h))
    shot = np.where(mask[..., None] > 127, warped, table)
    shot = _glare(shot, rng, rng.uniform(0.2, 0.6))
    shot = shot.astype(np.float32) * rng.uniform(0.75, 1.0) + rng.uniform(-15, 10)
    shot = cv2.GaussianBlur(shot, (0, 0), rng.uniform(0.3, 0.9))  # focus, hand shake
    shot += rng.normal(0, rng.uniform(2, 6), shot.shape).astype(np.float32)
    return np.clip(shot, 0, 255).astype(np.uint8)


def render_document(photo: np.ndarray, face: Face, seed: int) -> np.ndarray:
    """An ID-card capture (BGR, decoded from the JPEG the "phone" sent) whose printed portrait
    is ``face`` of ``photo``; one seed, one image."""
    rng = np.random.default_rng(seed)
    grey = bool(rng.random() < 0.5)
    shot = photograph(render_card(photo, face, rng, grey), rng)
    return jpeg_round_trip(shot, int(rng.integers(55, 86)))
