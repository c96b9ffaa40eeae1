"""Synthetic presentation attacks: live faces re-photographed as a print or a screen.

A recapture simulator (numpy + OpenCV, deterministic given a
``numpy.random.Generator``) that turns a live image into what a camera sees
when the same picture is shown to it as a printed photo or on a screen, so
that a model can learn the attack instruments themselves rather than one
room's printer or one person's phone.

API:

* ``SPECIES = ("print", "screen")``.
* ``recapture(image_bgr, species, rng, *, edges=None) -> np.ndarray``: the
  BGR uint8 image of the same size, simulating the whole context crop (the
  face region plus its surroundings) shown as ``species`` and re-photographed.
  ``edges``: whether the paper's or the device's outline shows inside the
  image (None draws it; False when the face fills the image, as in tight crops).
* ``live_presentations(data_dir)``: every live image and video of a data
  folder laid out like ``../shared/data`` (``pad/<source>/``, ``verify/``,
  ``video/``).
* ``camera_twin(image_bgr, rng) -> np.ndarray``: the same image through the
  recapture's camera alone (no print, no screen): a live control, so that a
  model cannot tell synthetic attacks from live faces by the camera's blur,
  noise and JPEG instead of the instrument (trained on NUAA's live faces and
  synthetic attacks alone, the texture model learnt exactly that:
  ``scripts/synth_ablation.py``).
* ``synthetic_attacks(presentations, ...)``: yields ``(SyntheticAttack,
  image)`` for every live frame (videos every ``video_step``-th frame) and
  every species of :data:`VARIANTS` asked for (default :data:`SPECIES`;
  ``"camera"`` makes camera twins, labelled live). A
  :class:`SyntheticAttack` is tagged ``synthetic=True``, keeps its
  ``origin`` presentation, frame and species, and has the source
  ``"synthetic"``: it is training data only, and the evaluation refuses it
  (:func:`refuse_synthetic`, called by :class:`liveness.pad.evaluation.Scores`
  and :func:`liveness.pad.metrics.pad_metrics`).
* ``synthetic_crops(presentations, spec, ...)``: their model inputs as a
  :class:`~liveness.pad.crops.CropSet` (faces found on the synthetic image by
  :func:`~liveness.pad.crops.find_face`, as on real data), cached under
  ``var/pad_cache``; ``CropSet.concat`` joins them to the crops of real data,
  and :func:`origin_sources` says which source each crop's face came from
  (leave a source's synthetic attacks out with the source itself).

The simulation, in linear light on a supersampled grid (the sensor
integrates it back to the output pixels, which is where moiré comes from):

* content: the central part of the image, sometimes JPEG-compressed first
  (the attacker's copy of the photo: the first of two JPEGs);
* print: gamut and contrast compression, CMYK halftone (rotated AM screens)
  or stochastic FM screening (a blue-noise threshold mask: the look of error
  diffusion without its serial loop), dot gain, paper tint and fibre texture,
  bending, gloss, uneven light; an optional white margin;
* screen: the picture resampled to the display's pixels, an RGB sub-pixel
  stripe grid with a black matrix (aliased by the camera into moiré),
  display gamma, backlight black level and white-point cast, letterbox bars,
  a bezel with rounded corners, glare and the reflection of the room;
* both: the paper or device edge against an out-of-focus room (the image
  itself, flipped and blurred), fingers holding it; then the recapture:
  lens blur, defocus, motion blur, exposure, white balance, Poisson-Gaussian
  sensor noise, sharpening and the camera's JPEG.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from tqdm import tqdm

from ..config import settings
from ..detection import FaceDetector
from ..media import jpeg_round_trip
from ..policy import DEFAULT_POLICY
from .crops import CACHE_FORMAT, FOUND_BY, META_COLUMNS, CropSet, CropSpec, face_input, find_face, sharpness
from .data import ATTACK, LIVE, Presentation, discover, iter_frames

SPECIES = ("print", "screen")
CAMERA = "camera"  # not an attack: a live face through the recapture camera alone
VARIANTS = (*SPECIES, CAMERA)  # what synthetic_attacks can make (indices are cached: append only)
SYNTHETIC_SOURCE = "synthetic"
SYNTH_VERSION = 2  # bump when the simulation changes: it keys the crop cache
VIDEO_STEP = 10  # every 10th frame of a live clip: neighbours are near duplicates
CONTEXT_SCALE = 4.0  # the context crop recaptured around a live face (the widest scale used)
TIGHT_FACE = 0.5  # face side / image short side above which the image is a tight crop: no edges
MAX_SIDE = 640  # larger live images are reduced first (the data's own limit)
EDGE_PROBABILITY = 0.7
GAMMA = 2.2
WHOLE = FOUND_BY.index("whole")  # find_face fell back on the whole image
SKIN_TONES = np.array([[150, 172, 224], [105, 134, 198], [80, 110, 160], [55, 72, 110]], np.float32)  # BGR


# ---------------------------------------------------------------- helpers


def _linear(image_u8: np.ndarray) -> np.ndarray:
    return (image_u8.astype(np.float32) / 255.0) ** GAMMA


def _encoded(linear: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    return np.clip(np.clip(linear, 0, 1) ** (1 / gamma) * 255 + 0.5, 0, 255).astype(np.uint8)


def _smooth_noise(shape: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-std Gaussian-filtered white noise."""
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return noise / (noise.std() + 1e-6)


def _blue_noise(size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size``² threshold mask, uniform on [0, 1), without low frequencies: high-passed
    white noise, rank-transformed. Thresholding against it spreads dots evenly, as error
    diffusion does."""
    frequency = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size)))
    high_pass = 1 - np.exp(-0.5 * (frequency / 0.15) ** 2)  # periodic, so the mask tiles seamlessly
    high = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * high_pass).real
    ranks = np.empty(size * size, np.float32)
    ranks[np.argsort(high, axis=None)] = np.arange(size * size) / (size * size)
    return ranks.reshape(size, size)


def _rounded_rect_alpha(u, v, rect, radius: float, softness: float) -> np.ndarray:
    """Coverage (0..1) of a rounded rectangle (x0, y0, x1, y1) at plane coordinates u, v."""
    x0, y0, x1, y1 = rect
    half_w, half_h = (x1 - x0) / 2, (y1 - y0) / 2
    radius = min(radius, half_w, half_h)
    qx = np.abs(u - (x0 + x1) / 2) - (half_w - radius)
    qy = np.abs(v - (y0 + y1) / 2) - (half_h - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - radius
    return np.clip(0.5 - outside / softness, 0, 1).astype(np.float32)


def _box_filtered_stripes(x: np.ndarray, start: float, width: float, footprint: float) -> np.ndarray:
    """The mean over [x - footprint/2, x + footprint/2] of the period-1 stripes lit on
    [start, start + width): what a sample of that footprint sees (exact box prefilter, so
    the supersampled grid adds no aliasing of its own; the sensor's remains, as moiré)."""
    def integral(y):
        whole = np.floor(y)
        return whole * width + np.clip(y - whole - start, 0, width)
    return ((integral(x + footprint / 2) - integral(x - footprint / 2)) * (1 / footprint)).astype(np.float32)


def _disk_kernel(radius: float) -> np.ndarray:
    size = int(np.ceil(radius)) * 2 + 1
    y, x = np.mgrid[:size, :size] - size // 2
    kernel = np.clip(radius + 0.5 - np.hypot(x, y), 0, 1).astype(np.float32)
    return kernel / kernel.sum()


def _line_kernel(length: float, angle: float) -> np.ndarray:
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(angle) * (length - 1) / 2, np.sin(angle) * (length - 1) / 2
    cv2.line(kernel, (int(round(c * 16 - dx * 16)), int(round(c * 16 - dy * 16))),
             (int(round(c * 16 + dx * 16)), int(round(c * 16 + dy * 16))), 1.0, 1, cv2.LINE_AA, 4)
    return kernel / max(kernel.sum(), 1e-6)


# ---------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Layout:
    """Where the medium lies. Plane coordinates are input pixels; the content (the shown
    picture) covers ``content`` in that plane, the paper or display ``surface``, the whole
    paper or device ``device``; ``inverse`` maps supersampled output pixels to the plane."""

    content: tuple[float, float, float, float]
    surface: tuple[float, float, float, float]
    device: tuple[float, float, float, float]
    inverse: np.ndarray
    magnification: float  # output pixels per plane unit
    sample: float  # plane units per supersampled pixel: the footprint prefilters must cover


def _plane_coordinates(inverse: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[:height, :width].astype(np.float32)
    h = inverse.astype(np.float32)
    den = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / den, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / den


def _layout(h: int, w: int, species: str, edges: bool, ss: int, rng: np.random.Generator) -> _Layout:
    """A random but plausible pose of the print or device in front of the camera.

    The face (the centre of the context crop) stays near the centre at about its size;
    with edges, a central part of the picture is shown and the medium's outline falls
    inside the image; without, the medium fills it (held close to the camera)."""
    if edges:
        fraction, magnification = rng.uniform(0.5, 0.85), rng.uniform(0.85, 1.15)
        angle, tilt = np.deg2rad(rng.uniform(-10, 10)), rng.uniform(0.0, 0.06)
    else:
        fraction, magnification = 1.0, rng.uniform(1.15, 1.45)
        angle, tilt = np.deg2rad(rng.uniform(-3, 3)), rng.uniform(0.0, 0.02)
    cw, ch = w * fraction, h * fraction
    content = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    x0, y0, x1, y1 = content
    if species == "print":
        margin = rng.uniform(0.03, 0.1) * max(cw, ch) if rng.random() < 0.4 else 0.0
        surface = (x0 - margin, y0 - margin, x1 + margin, y1 + margin)
        device = surface
    else:
        surface = content
        if rng.random() < 0.35:  # shown on a display of another aspect: black bars
            aspect = float(rng.choice([9 / 16, 3 / 4, 4 / 3, 16 / 9]))
            if aspect > cw / ch:
                extra = (ch * aspect - cw) / 2
                surface = (x0 - extra, y0, x1 + extra, y1)
            else:
                extra = (cw / aspect - ch) / 2
                surface = (x0, y0 - extra, x1, y1 + extra)
        bezel = rng.uniform(0.02, 0.08) * min(surface[2] - surface[0], surface[3] - surface[1])
        chin = bezel * rng.uniform(1.0, 2.5)  # phones and monitors often have a wider bottom bezel
        device = (surface[0] - bezel, surface[1] - bezel, surface[2] + bezel, surface[3] + chin)
    centre = np.array([w / 2, h / 2]) + rng.uniform(-0.05, 0.05, 2) * [w, h]
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[device[0], device[1]], [device[2], device[1]],
                        [device[2], device[3]], [device[0], device[3]]], np.float64)
    size = max(device[2] - device[0], device[3] - device[1]) * magnification
    for _ in range(20):
        placed = (corners - [w / 2, h / 2]) @ rotation.T * magnification + centre
        placed += rng.uniform(-tilt, tilt, (4, 2)) * size
        if edges or cv2.pointPolygonTest(placed.astype(np.float32), (0.0, 0.0), False) > 0 and all(
                cv2.pointPolygonTest(placed.astype(np.float32), p, False) > 0
                for p in [(w, 0.0), (w, h), (0.0, h)]):
            break
        magnification *= 1.05  # the medium must cover the whole image: come closer
    forward = cv2.getPerspectiveTransform(corners.astype(np.float32),
                                          ((placed + 0.5) * ss - 0.5).astype(np.float32))
    return _Layout(content, surface, device, np.linalg.inv(forward), magnification, 1 / (ss * magnification))


# ---------------------------------------------------------------- media


def _content(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The attacker's copy of the picture: often re-compressed, sometimes downsized."""
    content = image
    if rng.random() < 0.3:
        scale = rng.uniform(0.5, 0.85)
        small = cv2.resize(content, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        content = cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.7:
        content = jpeg_round_trip(content, rng.integers(45, 95))
    return content


def _print_surface(content: np.ndarray, layout: _Layout, u: np.ndarray, v: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Linear reflectance of the printed sheet at plane coordinates (u, v)."""
    x0, y0, x1, y1 = layout.surface
    width, height = x1 - x0, y1 - y0
    bend = rng.uniform(-0.025, 0.025) * height
    v = v + bend * np.sin(np.pi * np.clip((u - x0) / width, 0, 1))
    # Gamut and contrast compression as a print driver maps the picture to inks and paper,
    # then the separation into cyan, magenta, yellow and black coverage (at the picture's
    # resolution; the screening below is at the camera's supersampled one).
    encoded = content.astype(np.float32) / 255.0
    grey = encoded @ np.array([0.114, 0.587, 0.299], np.float32)
    saturation, contrast = rng.uniform(0.65, 0.95), rng.uniform(0.8, 1.0)
    encoded = grey[..., None] + saturation * (encoded - grey[..., None])
    encoded = 0.5 + contrast * (encoded - 0.5) + rng.uniform(-0.04, 0.04)
    # Coverage is one minus the encoded value (C from R, M from G, Y from B): with the dots'
    # area response, several inks and dot gain this lands near the picture's tone (a printer's
    # calibration), blacks raised to a print's density.
    cyan_magenta_yellow = 1.0 - np.clip(encoded, 0, 1)[..., ::-1]
    # Black in the shadows on top of the three colours (no under-colour removal: a rich black).
    black = rng.uniform(0.3, 0.8) * cyan_magenta_yellow.min(axis=2, keepdims=True) ** 2
    inks = np.clip(np.concatenate([cyan_magenta_yellow, black], axis=2), 0, 1)
    inks = np.ascontiguousarray(inks ** rng.uniform(0.8, 1.0))  # dot gain: inks spread, midtones darken
    cx0, cy0 = layout.content[:2]
    inks = cv2.remap(inks, (u - cx0).astype(np.float32), (v - cy0).astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))  # the margin is bare paper
    cell = rng.uniform(0.45, 2.2) / layout.magnification  # dot period in plane units
    tile = 32  # texels per screen period: thresholds are looked up by remap with wrapping
    if rng.random() < 0.5:  # offset press style: rotated clustered-dot screens
        period = np.arange(tile, dtype=np.float32) * (2 * np.pi / tile)
        screen = 0.5 + 0.25 * (np.cos(period)[None, :] + np.cos(period)[:, None])
        base = rng.uniform(0, np.pi / 2)
        thresholds = []
        for angle in np.deg2rad([15, 75, 0, 45]) + base:
            cos, sin = float(np.cos(angle)) * tile / cell, float(np.sin(angle)) * tile / cell
            thresholds.append(cv2.remap(screen, u * cos + v * sin, v * cos - u * sin, cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_WRAP))
        dots = np.clip((inks - np.stack(thresholds, axis=2)) * (1 / 0.08) + 0.5, 0, 1)
        samples_per_dot = cell / layout.sample
    else:  # inkjet style: stochastic dots, a blue-noise threshold mask per ink
        dot = cell * rng.uniform(0.25, 0.5)
        dots = np.stack([inks[..., i] > cv2.remap(
            _blue_noise(tile * 2, rng), u * (1 / dot), v * (1 / dot), cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_WRAP) for i in range(4)], axis=2).astype(np.float32)
        samples_per_dot = dot / layout.sample
    # The camera integrates dots smaller than a few samples: there the supersampled grid
    # would alias far more than a sensor does, so such dots fade towards their mean cover.
    resolved = float(np.clip((samples_per_dot - 1.5) / 2.5, 0.1, 1.0))
    coverage = resolved * dots + (1 - resolved) * inks
    # Absorption of cyan, magenta, yellow, black inks in the B, G, R bands (imperfect inks).
    absorption = np.array([[0.05, 0.3, 0.88, 0.92], [0.25, 0.88, 0.08, 0.92], [0.9, 0.1, 0.02, 0.92]],
                          np.float32)
    # Layers of ink multiply: reflectance = prod(1 - absorption * coverage), a sum of logs.
    reflectance = np.exp(cv2.transform(coverage, np.log1p(-absorption)))
    paper = np.array([rng.uniform(0.8, 0.92), rng.uniform(0.85, 0.95), rng.uniform(0.86, 0.96)], np.float32)
    texture_h, texture_w = max(8, int(height / 1.5)), max(8, int(width / 1.5))
    fibres = _smooth_noise((texture_h, texture_w), rng.uniform(0.6, 1.5), rng)
    fibres = cv2.remap(fibres, ((u - x0) * (texture_w / width)).astype(np.float32),
                       ((v - y0) * (texture_h / height)).astype(np.float32),
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    reflectance *= paper * (1 + rng.uniform(0.015, 0.05) * fibres)[..., None]
    # Light: uneven across the sheet, shaded by the bend, sometimes a sheen on glossy paper.
    s, t = (u - x0) / width - 0.5, (v - y0) / height - 0.5
    light = rng.uniform(0.7, 1.1) * (1 + rng.uniform(-0.3, 0.3) * s + rng.uniform(-0.3, 0.3) * t)
    light = light * (1 - 2 * np.abs(bend / height) * np.cos(np.pi * (s + 0.5)))
    radiance = reflectance * light[..., None]
    if rng.random() < 0.25:
        radiance += _glare(s, t, rng, strength=rng.uniform(0.05, 0.35))[..., None]
    return radiance


def _glare(s: np.ndarray, t: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A soft elongated highlight (a lamp or a window) at plane-normalised coordinates."""
    cs, ct = rng.uniform(-0.4, 0.4, 2)
    angle = rng.uniform(0, np.pi)
    a = (s - cs) * np.cos(angle) + (t - ct) * np.sin(angle)
    b = -(s - cs) * np.sin(angle) + (t - ct) * np.cos(angle)
    long, short = rng.uniform(0.15, 0.5), rng.uniform(0.03, 0.15)
    return (strength * np.exp(-0.5 * ((a / long) ** 2 + (b / short) ** 2))).astype(np.float32)


def _screen_surface(content: np.ndarray, layout: _Layout, u: np.ndarray, v: np.ndarray,
                    room: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Linear radiance of the device: the lit display with its sub-pixels, bezel, glass."""
    x0, y0, x1, y1 = layout.surface
    pitch = rng.uniform(0.8, 3.0) / layout.magnification  # display pixel in plane units
    columns, rows = max(2, int(np.ceil((x1 - x0) / pitch))), max(2, int(np.ceil((y1 - y0) / pitch)))
    # The display's frame buffer: the picture (and black bars) resampled to its pixels.
    cx0, cy0, cx1, cy1 = layout.content
    bx, by = (x1 - x0) / columns, (y1 - y0) / rows
    grid_x = (x0 + (np.arange(columns, dtype=np.float32) + 0.5) * bx - cx0)
    grid_y = (y0 + (np.arange(rows, dtype=np.float32) + 0.5) * by - cy0)
    shrink = max(1.0, pitch)
    source = content if shrink < 1.5 else cv2.resize(
        content, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
    map_x, map_y = np.meshgrid(grid_x / shrink, grid_y / shrink)
    frame_buffer = cv2.remap(source, map_x.astype(np.float32), map_y.astype(np.float32),
                             cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    # Display transfer: its own gamma, the backlight's black level, a white-point cast.
    gamma = rng.uniform(1.8, 2.6)
    black = rng.uniform(0.01, 0.06)
    cast = (np.array([rng.uniform(1.0, 1.3), 1.0, rng.uniform(0.75, 1.0)], np.float32)
            if rng.random() < 0.8 else np.array([rng.uniform(0.6, 0.85), 1.0, 1.1], np.float32))
    brightness = rng.uniform(0.8, 1.6)
    emitted = brightness * cast * (black + (1 - black) * (frame_buffer.astype(np.float32) / 255.0) ** gamma)
    du, dv = ((u - x0) / bx).astype(np.float32), ((v - y0) / by).astype(np.float32)
    pixels = cv2.remap(emitted, du - 0.5, dv - 0.5, cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    # RGB stripes (B, G, R order in memory: R leftmost), each lit over most of its third,
    # and the black matrix between rows.
    across, along = (du, dv) if rng.random() < 0.8 else (dv, du)
    footprint = layout.sample / pitch  # one supersampled pixel in display pixels
    aperture, lit_rows = rng.uniform(0.6, 0.9), rng.uniform(0.75, 0.92)
    row = _box_filtered_stripes(along, 0.0, lit_rows, footprint)
    mask = np.stack([_box_filtered_stripes(across, start + (1 - aperture) / 6, aperture / 3, footprint)
                     for start in (2 / 3, 1 / 3, 0.0)], axis=2)
    radiance = pixels * mask * (row * (3 / (aperture * lit_rows)))[..., None]
    # Outside the display: the bezel, dark plastic or glass.
    inside = _rounded_rect_alpha(u, v, layout.surface, 0.0, 1.0 / layout.magnification)[..., None]
    bezel = np.float32(rng.uniform(0.01, 0.05)) * room.mean(axis=(0, 1))
    radiance = inside * radiance + (1 - inside) * bezel
    # Glass: a reflection of the room and the attacker, and glare.
    dx0, dy0, dx1, dy1 = layout.device
    s, t = (u - dx0) / (dx1 - dx0) - 0.5, (v - dy0) / (dy1 - dy0) - 0.5
    radiance += rng.uniform(0.02, 0.12) * cv2.flip(room, 1)
    if rng.random() < 0.6:
        radiance += _glare(s, t, rng, strength=rng.uniform(0.1, 0.8))[..., None]
    # Viewing angle: brightness falls off towards one side.
    falloff = 1 + rng.uniform(-0.25, 0.25) * s + rng.uniform(-0.25, 0.25) * t
    return radiance * falloff[..., None]


def _fingers(u: np.ndarray, v: np.ndarray, layout: _Layout, scene: float, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """One or two fingertips over an edge of the medium, lit by the room: (coverage,
    radiance) at plane coordinates u, v. ``scene``: the image's longer side."""
    x0, y0, x1, y1 = layout.device
    extent = max(x1 - x0, y1 - y0)
    edge = rng.choice(4, p=[0.45, 0.2, 0.2, 0.15])  # bottom, left, right, top
    along = rng.uniform(0.15, 0.85)
    tone = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.92, 1.08, 3)
    tone = tone.mean() + rng.uniform(0.6, 0.9) * (tone - tone.mean())  # skin in room light is duller
    albedo = ((np.clip(tone, 0, 255) / 255.0) ** GAMMA).astype(np.float32)
    light = rng.uniform(0.4, 0.9)
    coverage = np.zeros(u.shape + (1,), np.float32)
    radiance = np.zeros(u.shape + (3,), np.float32)
    for finger in range(1 + int(rng.random() < 0.4)):
        width = rng.uniform(0.09, 0.17) * scene / layout.magnification
        length = width * rng.uniform(4.0, 6.0)  # reaches out of the image: the hand is beyond
        overlap = width * rng.uniform(0.5, 1.2)  # how far the tip reaches over the medium
        position = along + finger * rng.uniform(1.0, 1.3) * width / extent
        if edge == 0:
            cx, cy, direction = x0 + position * (x1 - x0), y1 - overlap + length / 2, (0.0, 1.0)
        elif edge == 1:
            cx, cy, direction = x0 + overlap - length / 2, y0 + position * (y1 - y0), (-1.0, 0.0)
        elif edge == 2:
            cx, cy, direction = x1 - overlap + length / 2, y0 + position * (y1 - y0), (1.0, 0.0)
        else:
            cx, cy, direction = x0 + position * (x1 - x0), y0 + overlap - length / 2, (0.0, -1.0)
        tilt = rng.uniform(-0.35, 0.35)
        dx = float(direction[0] * np.cos(tilt) - direction[1] * np.sin(tilt))
        dy = float(direction[0] * np.sin(tilt) + direction[1] * np.cos(tilt))
        a = ((u - cx) * dx + (v - cy) * dy) * (2 / length)
        b = ((v - cy) * dx - (u - cx) * dy) * (2 / width)
        edge_width = rng.uniform(0.04, 0.12)  # soft: a finger near the lens is out of focus
        alpha = np.clip((1 - np.sqrt(a ** 2 + b ** 2)) / edge_width, 0, 1)[..., None]
        shade = (light * (0.45 + 0.55 * np.sqrt(np.clip(1 - b ** 2, 0, 1))))[..., None]
        radiance = radiance * (1 - alpha) + alpha * albedo * shade
        coverage = coverage * (1 - alpha) + alpha
    return coverage, radiance


def _room(image: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """What lies behind the medium: the scene itself, out of focus, flipped, in other light."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(4, w // 4), max(4, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.01, 0.03) * max(w, h) / 4 + 0.5)
    if rng.random() < 0.5:
        small = cv2.flip(small, 1)
    light = rng.uniform(0.35, 1.0) * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    return cv2.resize(_linear(small), (width, height), interpolation=cv2.INTER_LINEAR) * light


def _camera(radiance: np.ndarray, ss: int, out_size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The recapturing camera: lens, focus, shake, exposure, noise, processing, JPEG."""
    w, h = out_size
    radiance = cv2.GaussianBlur(radiance, (0, 0), ss * rng.uniform(0.2, 0.5))
    image = cv2.resize(radiance, (w, h), interpolation=cv2.INTER_AREA) if ss > 1 else radiance
    if rng.random() < 0.5:  # the camera focuses on the medium, the nearest thing: mostly sharp
        image = cv2.filter2D(image, -1, _disk_kernel(rng.uniform(0.5, 1.8)), borderType=cv2.BORDER_REFLECT)
    if rng.random() < 0.3:
        image = cv2.filter2D(image, -1, _line_kernel(rng.uniform(2, 7), rng.uniform(0, np.pi)),
                             borderType=cv2.BORDER_REFLECT)
    luma = image @ np.array([0.114, 0.587, 0.299], np.float32)
    image = image * (rng.uniform(0.7, 1.0) / max(float(np.percentile(luma, 99)), 1e-3))
    image = image * rng.uniform(0.92, 1.08, 3).astype(np.float32)
    shot, read = rng.uniform(2e-4, 3e-3), rng.uniform(1e-6, 6e-5)
    image = np.clip(image, 0, 1)
    image = image + np.sqrt(shot * image + read) * rng.standard_normal(image.shape).astype(np.float32)
    encoded = _encoded(image, rng.uniform(2.0, 2.5))
    if rng.random() < 0.4:
        blurred = cv2.GaussianBlur(encoded, (0, 0), 1.0)
        encoded = cv2.addWeighted(encoded, 1 + (amount := rng.uniform(0.3, 1.0)), blurred, -amount, 0)
    return jpeg_round_trip(encoded, rng.integers(60, 96))


def _supersampling(height: int, width: int) -> int:
    """Samples per output pixel side: 3 for small images, 1 from about 500x500 (time and
    memory; the sub-pixel stripes and halftone dots are prefiltered, so one sample per
    pixel still integrates them as the sensor does)."""
    return int(np.clip(np.sqrt(3.2e5 / (height * width)), 1, 3))


def _checked(image_bgr: np.ndarray) -> np.ndarray:
    image = np.asarray(image_bgr)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 8:
        raise ValueError("expected a BGR uint8 image of shape (height, width, 3), at least 8 pixels a side")
    return image


def camera_twin(image_bgr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image_bgr`` photographed again by the recapture's camera, with nothing in between:
    a BGR uint8 image of the same size (the live control of :func:`recapture`)."""
    image = _checked(image_bgr)
    return _camera(_linear(image), 1, (image.shape[1], image.shape[0]), rng)


def recapture(image_bgr: np.ndarray, species: str, rng: np.random.Generator, *,
              edges: bool | None = None) -> np.ndarray:
    """``image_bgr`` (a context crop: the face and its surroundings) shown as ``species``
    and photographed again: a BGR uint8 image of the same size."""
    image = _checked(image_bgr)
    if species not in SPECIES:
        raise ValueError(f"unknown attack species {species!r}: expected one of {', '.join(SPECIES)}")
    h, w = image.shape[:2]
    if edges is None:
        edges = bool(rng.random() < EDGE_PROBABILITY)
    ss = _supersampling(h, w)
    layout = _layout(h, w, species, edges, ss, rng)
    u, v = _plane_coordinates(layout.inverse, h * ss, w * ss)
    room = _room(image, h * ss, w * ss, rng)
    content = _content(image, rng)
    x0, y0, x1, y1 = layout.content
    content = content[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))]
    layout = replace(layout, content=(float(int(x0)), float(int(y0)), x1, y1))
    if species == "print":
        medium = _print_surface(content, layout, u, v, rng)
    else:
        medium = _screen_surface(content, layout, u, v, room, rng)
    softness = 1.0 / layout.magnification
    corner = 0.0 if species == "print" else rng.uniform(0.02, 0.08) * (layout.device[2] - layout.device[0])
    alpha = _rounded_rect_alpha(u, v, layout.device, corner, softness)[..., None]
    radiance = room * (1 - alpha) + medium * alpha
    if edges and rng.random() < (0.6 if species == "print" else 0.3):
        # Smooth shapes: drawn at output resolution, then enlarged to the supersampled grid.
        coverage, finger = _fingers(u[::ss, ::ss], v[::ss, ::ss], layout, max(h, w), rng)
        coverage, finger = (cv2.resize(x, (w * ss, h * ss), interpolation=cv2.INTER_LINEAR).reshape(
            h * ss, w * ss, -1) for x in (coverage, finger))
        radiance = radiance * (1 - coverage) + finger
    return _camera(radiance, ss, (w, h), rng)


# ---------------------------------------------------------------- items


@dataclass(frozen=True)
class SyntheticAttack:
    """A synthetic attack made from one frame of a live presentation: training data only.
    With species ``"camera"`` it is the attack's control instead, the camera twin of the
    live frame, labelled live (the name is kept for the API's sake).

    Its subject is the origin's (splits by subject keep it with its person); its source is
    ``"synthetic"``, so it never passes for any real source; ``origin.source`` says where
    its face came from (leave that source out too when testing on it).
    """

    origin: Presentation
    frame_index: int
    species: str
    seed: int

    synthetic = True
    source = SYNTHETIC_SOURCE
    is_video = False

    @property
    def label(self) -> int:
        return LIVE if self.species == CAMERA else ATTACK

    @property
    def subject(self) -> str:
        return self.origin.subject

    @property
    def path(self) -> Path:
        return self.origin.path

    @property
    def name(self) -> str:
        """A file-name stem naming the origin, frame and species."""
        return f"{self.origin.source}_{self.origin.subject}_{self.origin.path.stem}_{self.frame_index}_{self.species}"


def is_synthetic(item) -> bool:
    """True for a synthetic attack, or for a source name (an attack species in the metrics)
    that marks synthetic data."""
    source = item if isinstance(item, str) else str(getattr(item, "source", ""))
    return bool(getattr(item, "synthetic", False)) or source.startswith(SYNTHETIC_SOURCE)


def refuse_synthetic(items: Iterable) -> None:
    """Raise if any item (a presentation or a source name) is synthetic: synthetic attacks
    must never count as test data."""
    for item in items:
        if is_synthetic(item):
            raise ValueError(f"synthetic attack ({getattr(item, 'origin', item)}) in test scoring: "
                             "synthetic images are training data only")


def live_presentations(data_dir: Path | str) -> list[Presentation]:
    """Every live image and video under a data folder laid out like ``../shared/data``:
    the live part of each ``pad/<source>``, and all of ``verify/`` and ``video/``."""
    root = Path(data_dir)
    found = []
    pad = root / "pad"
    if pad.is_dir():
        for source in sorted(p for p in pad.iterdir() if p.is_dir()):
            found += [p for p in discover(source) if p.label == LIVE]
    for folder in ("verify", "video"):
        if (root / folder).is_dir():
            found += discover(root / folder, label=LIVE)
    if not found:
        raise ValueError(f"no live images or videos under {root}")
    return found


def _item_seed(seed: int, presentation: Presentation, frame_index: int, species: str) -> int:
    """A seed fixed by the item itself (its source, file, frame, species), not by the order
    of items: the same item renders the same whatever else is generated."""
    key = f"{seed}|{presentation.source}|{'/'.join(presentation.path.parts[-3:])}|{frame_index}|{species}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")


def _context(frame: np.ndarray, detector, max_side: int, still: bool) -> tuple[np.ndarray, bool]:
    """The context crop around the largest face (clipped to the frame) and whether the
    medium's edges may show in it (not when the face fills the image: a tight crop)."""
    found = find_face(frame, detector, max_side, still) if detector is not None else None
    h, w = frame.shape[:2]
    if found is None:
        return frame, False
    x, y, bw, bh = found[0].box
    side = max(bw, bh)
    if side > TIGHT_FACE * min(h, w):
        return frame, False
    cx, cy, half = x + bw / 2, y + bh / 2, side * CONTEXT_SCALE / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    return frame[y0:y1, x0:x1], True


def _reduced(frame: np.ndarray) -> np.ndarray:
    scale = MAX_SIDE / max(frame.shape[:2])
    return frame if scale >= 1 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def synthetic_attacks(presentations: Iterable[Presentation], species: Sequence[str] = SPECIES,
                      video_step: int = VIDEO_STEP, seed: int = 0, detector=None,
                      max_side: int = 320) -> Iterator[tuple[SyntheticAttack, np.ndarray]]:
    """``(item, BGR image)`` for every frame of every live presentation (videos every
    ``video_step``-th frame), once per species; attacks among ``presentations`` are skipped.

    detector: a :class:`liveness.detection.FaceDetector` to centre the context crop on the
    face (None recaptures the whole frame; a tight crop never shows the medium's edges).
    """
    unknown = set(species) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown attack species {', '.join(sorted(unknown))}: expected {', '.join(VARIANTS)}")
    for presentation in presentations:
        if presentation.label != LIVE:
            continue
        for index, frame in iter_frames(presentation, video_step):
            context, edges = _context(_reduced(frame), detector, max_side, not presentation.is_video)
            for name in species:
                item_seed = _item_seed(seed, presentation, index, name)
                rng = np.random.default_rng(item_seed)
                image = (camera_twin(context, rng) if name == CAMERA
                         else recapture(context, name, rng, edges=None if edges else False))
                yield SyntheticAttack(presentation, index, name, item_seed), image


def _cache_key(presentation: Presentation, spec: CropSpec, species: Sequence[str], video_step: int,
               seed: int, max_side: int) -> str:
    stat = presentation.path.stat()
    text = (f"synthetic {SYNTH_VERSION}|{CACHE_FORMAT}|{presentation.path.resolve()}|{stat.st_size}|"
            f"{stat.st_mtime_ns}|{','.join(species)}|{video_step}|{seed}|{spec.scales}|{spec.size}|"
            f"{max_side}|{DEFAULT_POLICY.detection_score}")
    return hashlib.sha1(text.encode()).hexdigest()


def _compute(presentation: Presentation, spec: CropSpec, species: Sequence[str], video_step: int,
             seed: int, max_side: int, detector: FaceDetector) -> dict[str, np.ndarray]:
    """Every synthetic attack of one live presentation: its frame, species and (if a face is
    found on the synthetic image, searched as its origin would be) its model input and meta."""
    inputs, meta, frames, names, found = [], [], [], [], []
    for item, image in synthetic_attacks([presentation], species, video_step, seed, detector, max_side):
        face = find_face(image, detector, max_side, still=not presentation.is_video)
        if face is not None:
            inputs.append(face_input(image, face[0], spec))
            meta.append((face[1], image.shape[1], image.shape[0], face[0].box[2], face[0].box[3],
                         sharpness(image, face[0])))
        frames.append(item.frame_index)
        names.append(VARIANTS.index(item.species))
        found.append(face is not None)
    empty = np.zeros((0, spec.size, spec.size, spec.channels), np.uint8)
    return {"inputs": np.stack(inputs) if inputs else empty, "frames": np.array(frames, np.int64),
            "meta": np.array(meta, np.float32).reshape(-1, len(META_COLUMNS)),
            "species": np.array(names, np.int64), "found": np.array(found, bool)}


def synthetic_crops(presentations: Sequence[Presentation], spec: CropSpec, species: Sequence[str] = SPECIES,
                    video_step: int = VIDEO_STEP, seed: int = 0,
                    max_side: int = DEFAULT_POLICY.detection_width, cache_dir: Path | None = None,
                    progress: bool = True) -> CropSet:
    """Model inputs of the synthetic attacks of every live presentation, cached per presentation.

    The returned set's ``presentations`` are the :class:`SyntheticAttack` items (one per
    frame and species; ``frames_without_face`` is 1 where no face was found on the
    synthetic image); attacks among ``presentations`` are ignored. A face found only by
    taking the whole image counts as none: the recapture made it undetectable (tight crops
    zoomed, glare), and such crops (the whole picture, padded black) were 4 in 5 of the
    synthetic attacks of aksultan's crops against 1 in 9 of its live faces, a cue of their
    own for the model to learn instead of the instrument.
    """
    cache_dir = settings().var_dir / "pad_cache" if cache_dir is None else cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    detector = None
    items, chunks, owners, missing, metas = [], [], [], [], []
    live = [p for p in presentations if p.label == LIVE]
    for presentation in tqdm(live, desc="synthetic attacks", unit="file", disable=not progress, leave=False):
        path = cache_dir / f"{_cache_key(presentation, spec, species, video_step, seed, max_side)}.npz"
        if path.is_file():
            with np.load(path) as stored:
                computed = {k: stored[k] for k in stored.files}
        else:
            detector = detector or FaceDetector()
            computed = _compute(presentation, spec, species, video_step, seed, max_side, detector)
            tmp = path.with_suffix(f".{os.getpid()}.part.npz")
            np.savez(tmp, **computed)
            tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        first = len(items)
        for frame, name in zip(computed["frames"].tolist(), computed["species"].tolist()):
            items.append(SyntheticAttack(presentation, frame, VARIANTS[name],
                                               _item_seed(seed, presentation, frame, VARIANTS[name])))
        detected = computed["meta"][:, 0] != WHOLE  # of the items with a face
        found = computed["found"].copy()
        found[found] = detected
        chunks.append(computed["inputs"][detected])
        metas.append(computed["meta"][detected])
        owners.append(first + np.flatnonzero(found))
        missing.append((~found).astype(np.int64))
    count = sum(len(c) for c in chunks)
    return CropSet(
        inputs=np.concatenate(chunks) if count else np.zeros((0, spec.size, spec.size, spec.channels), np.uint8),
        labels=np.array([items[i].label for i in np.concatenate(owners)], np.int64) if count
        else np.zeros(0, np.int64),
        presentation_index=np.concatenate(owners).astype(np.int64) if owners else np.zeros(0, np.int64),
        presentations=items,
        frames_without_face=np.concatenate(missing) if missing else np.zeros(0, np.int64),
        meta=np.concatenate(metas) if metas else np.zeros((0, len(META_COLUMNS)), np.float32),
    )


def origin_sources(crops: CropSet) -> np.ndarray:
    """Per crop, the source its face came from: a synthetic attack's origin's, else its own."""
    names = np.array([getattr(p, "origin", p).source for p in crops.presentations])
    return names[crops.presentation_index] if len(names) else np.zeros(0, str)
