"""Property-based tests: untrusted media never crashes the decoder, only MediaError.

Inputs: random bytes, random bytes behind each known magic number, real
images and videos truncated or with bytes flipped, headers declaring huge
dimensions (decompression bombs), text named .mp4, a video with no frame, a
video longer than the frame cap.
"""

from __future__ import annotations

import functools
import struct
import tempfile
import zlib
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import liveness  # noqa: F401
from liveness import media
from liveness.i18n import LANGUAGES, t
from liveness.media import MediaError

MAGICS = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP", b"RIFF\x00\x00\x00\x00AVI ",
          b"BM", b"\x00\x00\x00\x18ftypisom", b"\x1a\x45\xdf\xa3"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _image(kind: str) -> bytes:
    rng = np.random.default_rng(1)
    picture = (rng.random((40, 56, 3)) * 255).astype(np.uint8)
    return cv2.imencode(f".{kind}", picture)[1].tobytes()


REAL_IMAGES = {kind: _image(kind) for kind in ("jpg", "png", "webp", "bmp")}


def _video(path: Path, frames: int, codec: str = "mpeg4") -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 256, np.uint8), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


VIDEO_FORMATS = {"mp4": "mpeg4", "avi": "mjpeg", "mkv": "mpeg4", "mjpeg": "mjpeg"}


@functools.cache
def real_videos() -> dict[str, bytes]:
    """A 12-frame video in each format (not a fixture: hypothesis would print its bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        return {suffix: _video(Path(folder) / f"real.{suffix}", 12, codec).read_bytes()
                for suffix, codec in VIDEO_FORMATS.items()}


def said_in_every_language(error: MediaError) -> None:
    """The pages show ``media_<code>`` in the user's language, filled with the error's values."""
    assert str(error)
    for lang in LANGUAGES:
        text = t(f"media_{error.code}", lang, **error.values)
        assert text != f"media_{error.code}" and "{" not in text, (error.code, lang)


def decode_image(data: bytes) -> None:
    try:
        image = media.read_image(data)
    except MediaError as error:
        said_in_every_language(error)
        return
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8


def decode_video(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        info = media.probe_video(path)
        frames = list(media.iter_video(path, max_frames=30))
    except MediaError as error:
        said_in_every_language(error)
        return
    assert info.width > 0 and 0 < len(frames) <= 30
    assert all(f.image.ndim == 3 and f.image.shape[2] == 3 for f in frames)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_cleanly(data):
    decode_image(data)


@FUZZ
@given(st.sampled_from(MAGICS), st.binary(max_size=2048))
def test_random_bytes_behind_a_magic_number(magic, tail):
    decode_image(magic + tail)


@FUZZ
@given(st.sampled_from(sorted(REAL_IMAGES)), st.data())
def test_truncated_or_corrupted_images(kind, data):
    original = REAL_IMAGES[kind]
    broken = bytearray(original[:data.draw(st.integers(1, len(original)), label="length")])
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        broken[data.draw(st.integers(0, len(broken) - 1))] ^= data.draw(st.integers(1, 255))
    decode_image(bytes(broken))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_truncated_or_corrupted_videos(tmp_path, data):
    real_video = real_videos()[data.draw(st.sampled_from(sorted(VIDEO_FORMATS)), label="format")]
    broken = bytearray(real_video[:data.draw(st.integers(1, len(real_video)), label="length")])
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        broken[data.draw(st.integers(0, len(broken) - 1))] ^= data.draw(st.integers(1, 255))
    decode_video(tmp_path / "upload.mp4", bytes(broken))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(MAGICS[3:]), st.binary(max_size=2048))
def test_random_bytes_behind_a_video_magic_number(tmp_path, magic, tail):
    decode_video(tmp_path / "upload.mp4", magic + tail)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG declaring width x height, its pixels a few compressed zero rows."""
    rows = zlib.compress(b"\x00" * (width * 3 + 1) * 4)
    idat = b"IDAT" + rows
    end = b"IEND"
    return (_png_header(width, height) + struct.pack(">I", len(rows)) + idat + struct.pack(">I", zlib.crc32(idat))
            + struct.pack(">I", 0) + end + struct.pack(">I", zlib.crc32(end)))


def _jpeg_bomb(width: int, height: int) -> bytes:
    """A real JPEG with its frame header (SOF0) rewritten to declare width x height."""
    data = bytearray(REAL_IMAGES["jpg"])
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _bmp_bomb(width: int, height: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return header + info + b"\x00" * 64


@pytest.mark.parametrize("bomb", [_png_bomb, _jpeg_bomb, _bmp_bomb])
@pytest.mark.parametrize("size", [(65_000, 65_000), (65_000, 700), (7_000, 6_000)])
def test_decompression_bombs_are_refused_before_decoding(bomb, size):
    with pytest.raises(MediaError, match="too large") as raised:
        media.read_image(bomb(*size))
    said_in_every_language(raised.value)


@FUZZ
@given(st.integers(1, 70_000), st.integers(1, 70_000))
def test_any_declared_png_size_is_read_from_the_header_and_checked(width, height):
    data = _png_bomb(width, height)
    assert media.image_size(data) == (width, height)
    if width * height > media.MAX_IMAGE_PIXELS:
        with pytest.raises(MediaError, match="too large") as raised:
            media.read_image(data)
        said_in_every_language(raised.value)


def test_text_named_mp4_is_refused(tmp_path):
    fake = tmp_path / "video.mp4"
    fake.write_text("this is not a video, whatever its name says\n")
    for read in (media.probe_video, lambda p: list(media.iter_video(p))):
        with pytest.raises(MediaError, match="not a supported video") as raised:
            read(fake)
        said_in_every_language(raised.value)


def test_an_image_named_mp4_is_read_as_what_it_is(tmp_path):
    renamed = tmp_path / "photo.mp4"
    renamed.write_bytes(REAL_IMAGES["png"])
    assert media.read_image(renamed).shape == (40, 56, 3)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for read in (media.probe_video, lambda p: list(media.iter_video(p)), media.read_image):
        with pytest.raises(MediaError) as raised:
            read(empty)
        said_in_every_language(raised.value)
        with pytest.raises(MediaError, match="not found") as raised:
            read(tmp_path / "missing.mp4")
        said_in_every_language(raised.value)


@pytest.mark.parametrize("suffix", sorted(VIDEO_FORMATS))
def test_a_video_without_frames_is_refused(tmp_path, suffix):
    empty = _video(tmp_path / f"empty.{suffix}", 0, VIDEO_FORMATS[suffix])
    with pytest.raises(MediaError) as raised:
        list(media.iter_video(empty))
    said_in_every_language(raised.value)


def test_every_real_format_decodes(tmp_path):
    for suffix, data in real_videos().items():
        path = tmp_path / f"upload.{suffix}"
        path.write_bytes(data)
        assert len(list(media.iter_video(path))) == 12, suffix


def test_long_videos_are_capped(tmp_path):
    video = _video(tmp_path / "long.mp4", 90)
    frames = list(media.iter_video(video, max_frames=25))
    assert [f.index for f in frames] == list(range(25))
    assert all(b.timestamp_s > a.timestamp_s for a, b in zip(frames, frames[1:]))
    assert len(list(media.iter_video(video))) == 90


def test_oversized_uploads_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(MediaError, match="too large") as raised:
        media.read_image(REAL_IMAGES["bmp"])
    said_in_every_language(raised.value)
    path = tmp_path / "big.png"
    path.write_bytes(REAL_IMAGES["bmp"])
    with pytest.raises(MediaError, match="too large") as raised:
        media.read_image(path)
    said_in_every_language(raised.value)


def test_video_frames_over_the_pixel_limit_are_refused(tmp_path):
    video = _video(tmp_path / "big.mp4", 3)
    with pytest.raises(MediaError, match="too large") as raised:
        list(media.iter_video(video, max_pixels=64 * 48 - 1))
    said_in_every_language(raised.value)


def test_raw_mjpeg_is_timed_like_the_fake_camera(tmp_path):
    """Raw MJPEG carries no timing: 30 frames/s, as Chromium's fake camera plays it."""
    path = tmp_path / "camera.mjpeg"
    path.write_bytes(real_videos()["mjpeg"])
    assert media.probe_video(path).fps == 30.0
    stamps = [frame.timestamp_s for frame in media.iter_video(path)]
    assert len(stamps) == 12 and stamps[-1] == pytest.approx(11 / 30)
