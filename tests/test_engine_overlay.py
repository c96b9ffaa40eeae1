"""Overlay text: drawn where asked, clipped at the frame's edges, the same from the cache."""

from __future__ import annotations

import numpy as np

import liveness  # noqa: F401  (native import order)
from liveness.overlay import DARK, WHITE, put_text


def _grey() -> np.ndarray:
    return np.full((120, 200, 3), 128, np.uint8)


def test_text_band_is_shaded_and_inked_only_around_the_origin():
    image = _grey()
    put_text(image, "Sorria à câmera", (20, 30), 16)
    changed = np.argwhere((image != 128).any(axis=2))
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert (top, left) == (30, 20)
    assert bottom < 30 + 40 and right < 199
    band = image[30:bottom + 1, 20:right + 1]
    assert (band == WHITE).all(axis=2).any()            # the letters
    shade = round(0.35 * 128 + 0.65 * DARK[0])
    assert (np.abs(band.astype(int) - shade) <= 1).all(axis=2).any()  # the band between them


def test_text_crossing_the_edges_is_clipped_not_shifted():
    whole, clipped = np.full((200, 400, 3), 128, np.uint8), _grey()
    put_text(whole, "Olhe para a câmera", (-12, -5), 18)
    put_text(clipped, "Olhe para a câmera", (-12, -5), 18)
    put_text(clipped, "x", (195, 115), 18)     # runs off the bottom-right corner
    put_text(clipped, "y", (300, 300), 18)     # wholly outside: nothing drawn
    assert np.array_equal(clipped[:100, :150], whole[:100, :150])
    assert (clipped[115:, 195:] != 128).any()


def test_cached_rendering_draws_the_same_pixels_again():
    first, second = _grey(), _grey()
    put_text(first, "2/3  Pisque  4s", (5, 5), 20)
    put_text(second, "2/3  Pisque  4s", (5, 5), 20)
    assert np.array_equal(first, second) and not np.array_equal(first, _grey())


def test_a_prompt_wider_than_the_frame_is_drawn_smaller_to_fit():
    """A 400 px recording on the Replay page: the whole prompt is shown, not cut at the edge."""
    prompt = "1/3  Olhe para a câmera, rosto neutro  8s"
    narrow = np.full((300, 400, 3), 128, np.uint8)
    put_text(narrow, prompt, (10, 10), 22)
    right = np.argwhere((narrow != 128).any(axis=2))[:, 1].max()
    assert right < 399  # the band ends inside the frame
    wide = np.full((300, 1000, 3), 128, np.uint8)
    put_text(wide, prompt, (10, 10), 22)
    assert np.argwhere((wide != 128).any(axis=2))[:, 1].max() > 400  # at its own size, it would not fit
