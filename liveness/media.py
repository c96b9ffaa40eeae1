"""Safe decoding of untrusted images and videos.

The type is sniffed from the content, never the file name; dimensions are
read from the header and checked before any pixel is decoded (decompression
bombs); videos are capped in frames. Every failure is a :class:`MediaError`
with a message fit to show a user.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MAX_IMAGE_PIXELS = 40_000_000  # a 40 MP photo of a document is plenty
MAX_VIDEO_PIXELS = 3840 * 2160
MAX_VIDEO_FRAMES = 3600  # two minutes at 30 frames/s
MAX_UPLOAD_BYTES = 200 * 1024 * 1024

IMAGE_KINDS = ("jpeg", "png", "webp", "bmp")
VIDEO_KINDS = ("mp4", "webm", "avi", "mjpeg")
# File name endings an upload form offers for a video (the content is sniffed all the same).
VIDEO_FILE_TYPES = ("mp4", "mov", "webm", "avi", "mjpeg", "mjpg")


class MediaError(ValueError):
    """Input that cannot be used, with a reason for the user: ``str()`` in English (CLI, API,
    logs); ``code`` and ``values`` for a page to say it in the user's language (``media_<code>``)."""

    def __init__(self, message: str, code: str, **values):
        super().__init__(message)
        self.code, self.values = code, values


def sniff(head: bytes) -> str | None:
    """The media kind from a file's first bytes, or None when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"  # a raw MJPEG stream starts like a JPEG too; see sniff_file
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"BM"):
        return "bmp"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "mp4"  # also QuickTime .mov
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # Matroska
    return None


def sniff_file(path: str | Path) -> str | None:
    """The media kind of a file from its content: "mjpeg" for JPEG frames one after another."""
    with Path(path).open("rb") as f:
        head = f.read(1 << 20)
    kind = sniff(head[:16])
    if kind == "jpeg" and b"\xff\xd9\xff\xd8" in head:  # end of one JPEG, start of the next
        return "mjpeg"
    return kind


def _read_bytes(source: bytes | str | Path, limit: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise MediaError(f"file not found: {path}", "not_found")
        if path.stat().st_size > limit:
            raise MediaError(f"file too large: {path.stat().st_size} bytes (limit {limit})", "file_too_large",
                             limit_mb=limit // 1_000_000)
        data = path.read_bytes()
    if not data:
        raise MediaError("empty file", "empty")
    if len(data) > limit:
        raise MediaError(f"file too large: {len(data)} bytes (limit {limit})", "file_too_large", limit_mb=limit // 1_000_000)
    return data


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone, without decoding pixels."""
    from PIL import Image  # header parsing only; pixels are decoded by OpenCV

    Image.MAX_IMAGE_PIXELS = None  # we apply our own limit below, with a clear message
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception as exc:  # Pillow raises many types for corrupt headers
        raise MediaError(f"unreadable image: {exc.__class__.__name__}", "corrupt_image") from None


def read_image(source: bytes | str | Path, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode an untrusted image to a BGR array, or raise MediaError."""
    data = _read_bytes(source, MAX_UPLOAD_BYTES)
    kind = sniff(data[:16])
    if kind not in IMAGE_KINDS:
        raise MediaError(f"not a supported image (JPEG, PNG, WebP, BMP); content looks like {kind or 'unknown data'}",
                         "unsupported_image")
    width, height = image_size(data)
    if width * height > max_pixels:
        raise MediaError(f"image too large: {width}x{height} pixels (limit {max_pixels // 1_000_000} MP)",
                         "image_too_large", width=width, height=height, limit_mp=max_pixels // 1_000_000)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise MediaError("corrupt image: it could not be decoded", "corrupt_image")
    return image


@dataclass(frozen=True)
class VideoFrame:
    index: int
    timestamp_s: float
    image: np.ndarray  # BGR


@dataclass(frozen=True)
class VideoInfo:
    kind: str
    width: int
    height: int
    fps: float
    frame_count: int | None  # from the container; None when it does not say
    duration_s: float | None


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The BGR image as a lossy camera, stream or print shop would deliver it: JPEG at ``quality``."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise MediaError("JPEG encoding failed", "corrupt_image")
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def _open_container(path: Path):
    import av

    if not path.is_file():
        raise MediaError(f"file not found: {path}", "not_found")
    with path.open("rb") as f:
        head = f.read(16)
    if not head:
        raise MediaError("empty file", "empty")
    kind = sniff(head)
    if kind == "jpeg":
        kind = "mjpeg"
    if kind not in VIDEO_KINDS:
        raise MediaError(f"not a supported video (MP4, MOV, WebM, AVI, MJPEG); content looks like {kind or 'unknown data'}",
                         "unsupported_video")
    try:
        # Metadata tags are untrusted text: undecodable bytes are replaced, not raised. A raw
        # MJPEG stream carries no timing: read it at 30 frames/s, as Chromium's fake camera
        # plays it and webcams mostly run (FFmpeg would assume 25).
        container = av.open(str(path), metadata_errors="replace", **(
            {"format": "mjpeg", "options": {"framerate": "30"}} if kind == "mjpeg" else {}))
    except av.FFmpegError as exc:
        raise MediaError(f"unreadable video: {exc.__class__.__name__}", "corrupt_video") from None
    if not container.streams.video:
        container.close()
        raise MediaError("the file has no video track", "no_video_track")
    if container.streams.video[0].codec_context is None:  # e.g. truncated before its codec parameters
        container.close()
        raise MediaError("unreadable video: its codec is unknown or its header is cut short", "corrupt_video")
    return kind, container


def _frame_rate(stream) -> float:
    return float(stream.average_rate or stream.guessed_rate or 0) or 30.0


def probe_video(source: str | Path) -> VideoInfo:
    kind, container = _open_container(Path(source))
    with container:
        stream = container.streams.video[0]
        fps = _frame_rate(stream)
        duration = float(stream.duration * stream.time_base) if stream.duration else (
            container.duration / 1_000_000 if container.duration else None)
        count = stream.frames or (round(duration * fps) if duration else None)
        return VideoInfo(kind, stream.codec_context.width, stream.codec_context.height,
                         fps, count or None, duration)


def iter_video(source: str | Path, max_frames: int = MAX_VIDEO_FRAMES,
               max_pixels: int = MAX_VIDEO_PIXELS) -> Iterator[VideoFrame]:
    """Decode an untrusted video frame by frame (BGR), at most ``max_frames``.

    Timestamps come from the container when it has them, else from the frame
    rate. Raises MediaError for unreadable content and for a video with no
    decodable frame.
    """
    import av

    _, container = _open_container(Path(source))
    with container:
        stream = container.streams.video[0]
        fps = _frame_rate(stream)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise MediaError(f"video too large: {width}x{height} (limit {max_pixels} pixels per frame)",
                             "video_too_large", width=width, height=height)
        index = 0
        try:
            for frame in container.decode(stream):
                if index >= max_frames:
                    break
                if frame.width * frame.height > max_pixels:
                    raise MediaError(f"video too large: {frame.width}x{frame.height}", "video_too_large",
                                     width=frame.width, height=frame.height)
                ts = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else index / fps
                yield VideoFrame(index, ts, frame.to_ndarray(format="bgr24"))
                index += 1
        except av.FFmpegError as exc:
            if index == 0:
                raise MediaError(f"corrupt video: {exc.__class__.__name__}", "corrupt_video") from None
            # a truncated tail keeps the frames decoded so far
        if index == 0:
            raise MediaError("the video has no decodable frame", "corrupt_video")
