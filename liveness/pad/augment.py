"""Training-time augmentation of stacked multi-scale crops (numpy + OpenCV).

What varies between cameras and sessions and must not become a cue: framing
(scale, shift, mirror), exposure and white balance, focus blur, sensor noise
and JPEG compression. The same geometric and photometric draw is applied to
every scale of one sample so that the scales stay one consistent view.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..media import jpeg_round_trip


def _per_view(sample: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` to each 3-channel BGR view of a stacked sample."""
    return np.concatenate([fn(np.ascontiguousarray(sample[..., i:i + 3]))
                           for i in range(0, sample.shape[2], 3)], axis=2)


# Rec. 601 luma weights in BGR order: the grey a saturation change blends towards.
LUMA_BGR = np.array([0.114, 0.587, 0.299])


def _colour_matrix(rng: np.random.Generator) -> np.ndarray:
    """3x4 affine colour map: white balance, exposure, saturation and contrast.

    Wide on purpose: a washed-out or dim webcam session must not look like
    a photo of a photo (held-out NUAA sessions differ mostly in exposure).
    """
    gain = rng.uniform(0.6, 1.4) * rng.uniform(0.9, 1.1, 3)
    saturation, contrast = rng.uniform(0.6, 1.3), rng.uniform(0.7, 1.2)
    mix = saturation * np.eye(3) + (1 - saturation) * np.tile(LUMA_BGR, (3, 1))
    linear = contrast * mix @ np.diag(gain)
    offset = (1 - contrast) * 128 + rng.uniform(-20, 20)
    return np.hstack([linear, np.full((3, 1), offset)])


def augment(sample: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a ``size x size x 3k`` uint8 sample."""
    size = sample.shape[0]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-8, 8), rng.uniform(0.88, 1.12))
    matrix[:, 2] += rng.uniform(-0.05, 0.05, 2) * size
    if rng.random() < 0.5:  # mirror, folded into the same warp
        matrix[0] = [-matrix[0, 0], -matrix[0, 1], size - 1 - matrix[0, 2]]
    colour = _colour_matrix(rng)
    gamma = rng.uniform(0.6, 1.6) if rng.random() < 0.5 else 1.0
    tone = np.clip(255 * (np.arange(256) / 255) ** gamma, 0, 255).astype(np.uint8)
    blur = rng.uniform(0.4, 1.2) if rng.random() < 0.25 else 0.0
    noise = rng.normal(0, rng.uniform(2, 6), (size, size, 3)) if rng.random() < 0.2 else None
    quality = int(rng.integers(35, 90)) if rng.random() < 0.4 else 0

    def view(image: np.ndarray) -> np.ndarray:
        image = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        image = cv2.LUT(cv2.transform(image, colour), tone)  # transform saturates to 0..255
        if blur:
            image = cv2.GaussianBlur(image, (0, 0), blur)
        if noise is not None:
            image = np.clip(image + noise, 0, 255).astype(np.uint8)
        if quality:
            image = jpeg_round_trip(image, quality)
        return image

    return _per_view(sample, view)


def augment_batch(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.stack([augment(s, rng) for s in samples])
