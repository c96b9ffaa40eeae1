"""Encrypted evidence files: one per case, written atomically before its row.

A case's evidence (key frames as JPEG, per-frame score series and their
timestamps, the challenge timeline, and the verdict with its model and policy
versions) is packed into one zip in memory and sealed with AES-256-GCM. The
case id is authenticated data, so a file copied onto another case's name does
not open. On disk: ``<evidence_dir>/<id[:2]>/<id>.lve``, written to a
temporary name, fsynced, renamed, and the folder fsynced; only then may the
database row that names it be committed (see ``cases.record_case``).

Keys: ``LIVENESS_EVIDENCE_KEY`` (or the ``key`` argument, e.g. from Streamlit
secrets) is a url-safe base64 32-byte key, as made by
``python -c "import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"``.
Several keys separated by commas rotate: the first seals, all open. In
production mode a missing key is fatal; in demo mode a key is generated once
under ``var/`` with a loud warning.

Nothing here logs a face, a score series or a file path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import logging
import os
import secrets
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..config import Settings
from ..media import sniff
from .jsondata import NotJSONData, json_safe

log = logging.getLogger(__name__)

MAGIC = b"LVE1"
SUFFIX = ".lve"
TMP_MARK = ".tmp-"
KEY_ID_BYTES = 8
NONCE_BYTES = 12
MAX_KEY_FRAMES = 32
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
JPEG_QUALITY = 90
DEMO_KEY_FILE = "evidence.key"


class EvidenceKeyMissing(ValueError):
    """No usable evidence key where one is required (a configuration error)."""


class EvidenceError(RuntimeError):
    """Evidence that cannot be stored or read (invalid, missing, tampered)."""


@dataclass(frozen=True)
class EvidenceInput:
    """What the engine hands over for one session.

    key_frames: BGR uint8 arrays or JPEG bytes; key_frame_labels: what each
    frame shows (e.g. "first_face", "smile:passed"), empty or one per frame;
    series: score name → one value per processed frame, aligned with
    ``timestamps`` (seconds); timeline: the challenge events, JSON-safe dicts.
    """

    key_frames: Sequence[np.ndarray | bytes] = ()
    key_frame_labels: Sequence[str] = ()
    series: Mapping[str, Sequence[float]] = field(default_factory=dict)
    timestamps: Sequence[float] = ()
    timeline: Sequence[Mapping] = ()

    @classmethod
    def of_session(cls, evidence) -> "EvidenceInput":
        """From a ``liveness.session.Evidence``: labelled key frames, series whose "t" is the time axis."""
        return cls(key_frames=[frame for _, frame in evidence.key_frames],
                   key_frame_labels=[label for label, _ in evidence.key_frames],
                   series={name: values for name, values in evidence.series.items() if name != "t"},
                   timestamps=evidence.series.get("t", []), timeline=evidence.timeline)


@dataclass(frozen=True)
class Evidence:
    """A case's evidence, decrypted, for the reviewer page."""

    case_id: str
    verdict: dict
    key_frames_jpeg: list[bytes]  # st.image() takes these as they are
    key_frame_labels: list[str]  # one per frame ("" when none was given)
    series: dict[str, list[float | None]]
    timestamps: list[float | None]
    timeline: list[dict]

    def key_frame_images(self) -> list[np.ndarray]:
        return [cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) for jpeg in self.key_frames_jpeg]


@dataclass(frozen=True)
class StoredEvidence:
    name: str  # relative to the evidence directory
    sha256: str  # of the sealed file
    size: int


def parse_keys(text: str) -> list[bytes]:
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            raise EvidenceKeyMissing("the evidence key is not url-safe base64") from None
        if len(key) != 32:
            raise EvidenceKeyMissing(f"the evidence key must be 32 bytes, not {len(key)}")
        keys.append(key)
    if not keys:
        raise EvidenceKeyMissing("the evidence key is empty")
    return keys


def _demo_key(var_dir: Path) -> str:
    """The local demo key, created once; safe when several processes race."""
    path = var_dir / DEMO_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = var_dir / f"{DEMO_KEY_FILE}{TMP_MARK}{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(32)).decode())
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process won: we then use its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    # Every start says it, not only the first: this key sits next to the data it protects.
    log.warning("=" * 70)
    log.warning("DEMO MODE: evidence is sealed with a local key file in the var directory,")
    log.warning("only as safe as that file. Production must set LIVENESS_EVIDENCE_KEY.")
    log.warning("=" * 70)
    return path.read_text().strip()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode_frame(frame: np.ndarray | bytes, index: int) -> bytes:
    if isinstance(frame, (bytes, bytearray, memoryview)):
        data = bytes(frame)
        if sniff(data[:16]) != "jpeg":
            raise EvidenceError(f"key frame {index}: bytes must be a JPEG")
        return data
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.size == 0 or not (
            frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (1, 3))):
        raise EvidenceError(f"key frame {index}: expected a BGR uint8 image or JPEG bytes")
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise EvidenceError(f"key frame {index}: could not be encoded")
    return jpeg.tobytes()


def pack(case_id: str, verdict: Mapping, evidence: EvidenceInput) -> bytes:
    """The plaintext zip of one case's evidence."""
    if len(evidence.key_frames) > MAX_KEY_FRAMES:
        raise EvidenceError(f"too many key frames: {len(evidence.key_frames)} (limit {MAX_KEY_FRAMES})")
    labels = list(evidence.key_frame_labels) or [""] * len(evidence.key_frames)
    if len(labels) != len(evidence.key_frames):
        raise EvidenceError(f"{len(labels)} key-frame labels for {len(evidence.key_frames)} key frames")
    try:
        documents = {
            "verdict.json": json_safe(verdict, "verdict"),
            "series.json": {"timestamps": json_safe(list(evidence.timestamps), "timestamps"),
                            "series": json_safe(dict(evidence.series), "series")},
            "timeline.json": json_safe(list(evidence.timeline), "timeline"),
            "manifest.json": {"case_id": case_id, "key_frames": len(evidence.key_frames),
                              "key_frame_labels": json_safe(labels, "key_frame_labels")},
        }
    except NotJSONData as exc:
        raise EvidenceError(str(exc)) from None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, document in documents.items():
            zf.writestr(name, json.dumps(document, allow_nan=False), compress_type=zipfile.ZIP_DEFLATED)
        for i, frame in enumerate(evidence.key_frames):
            zf.writestr(f"frames/{i:03d}.jpg", _encode_frame(frame, i), compress_type=zipfile.ZIP_STORED)
    data = buffer.getvalue()
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceError(f"evidence too large: {len(data)} bytes (limit {MAX_EVIDENCE_BYTES})")
    return data


def unpack(case_id: str, data: bytes) -> Evidence:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        if manifest["case_id"] != case_id:
            raise EvidenceError(f"case {case_id}: the evidence belongs to another case")
        series = json.loads(zf.read("series.json"))
        return Evidence(
            case_id=case_id,
            verdict=json.loads(zf.read("verdict.json")),
            key_frames_jpeg=[zf.read(f"frames/{i:03d}.jpg") for i in range(manifest["key_frames"])],
            key_frame_labels=manifest.get("key_frame_labels", [""] * manifest["key_frames"]),
            series=series["series"],
            timestamps=series["timestamps"],
            timeline=json.loads(zf.read("timeline.json")),
        )


def settings_keys(config: Settings, key: str | None = None) -> list[bytes]:
    """The evidence keys the deployment asks for (the first seals): ``key`` beats the environment."""
    text = key or config.evidence_key
    if not text:
        if config.production:
            raise EvidenceKeyMissing(
                "production mode needs an evidence key: set LIVENESS_EVIDENCE_KEY "
                "(or evidence_key in Streamlit secrets)")
        text = _demo_key(config.var_dir)
    return parse_keys(text)


class EvidenceVault:
    """Seals, stores, opens and deletes evidence files under one directory."""

    def __init__(self, directory: Path, keys: Sequence[bytes]):
        if not keys:
            raise EvidenceKeyMissing("no evidence key")
        self.directory = Path(directory)
        self._keys = {hashlib.sha256(k).digest()[:KEY_ID_BYTES]: AESGCM(k) for k in keys}
        self._sealing_id = hashlib.sha256(keys[0]).digest()[:KEY_ID_BYTES]
        self._sealing_key = keys[0]

    @classmethod
    def from_settings(cls, config: Settings, key: str | None = None,
                      directory: Path | None = None) -> "EvidenceVault":
        """The vault the deployment asks for: ``key`` beats the environment."""
        return cls(directory or config.evidence_dir, settings_keys(config, key))

    def derive_key(self, purpose: str) -> bytes:
        """A key for another use (signing capture links), derived from the sealing key:
        no second secret to deploy, and every process with the evidence key agrees on it."""
        return hmac.new(self._sealing_key, f"liveness:{purpose}".encode(), hashlib.sha256).digest()

    @staticmethod
    def name_for(case_id: str) -> str:
        if not case_id.isalnum():
            raise EvidenceError("a case id is alphanumeric")
        return f"{case_id[:2]}/{case_id}{SUFFIX}"

    def _aad(self, key_id: bytes, case_id: str) -> bytes:
        return MAGIC + key_id + case_id.encode()

    def seal(self, case_id: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._sealing_id].encrypt(nonce, plaintext, self._aad(self._sealing_id, case_id))
        return MAGIC + self._sealing_id + nonce + sealed

    def open_sealed(self, case_id: str, data: bytes) -> bytes:
        head = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES
        if len(data) < head or not data.startswith(MAGIC):
            raise EvidenceError(f"case {case_id}: the evidence file is not sealed evidence")
        key_id = data[len(MAGIC):len(MAGIC) + KEY_ID_BYTES]
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise EvidenceError(f"case {case_id}: the evidence was sealed with a key we do not have")
        try:
            return cipher.decrypt(data[len(MAGIC) + KEY_ID_BYTES:head], data[head:], self._aad(key_id, case_id))
        except InvalidTag:
            raise EvidenceError(f"case {case_id}: the evidence file was altered or belongs to another case") from None

    def write(self, case_id: str, verdict: Mapping, evidence: EvidenceInput) -> StoredEvidence:
        """Seal and durably store a case's evidence; returns what the row records."""
        sealed = self.seal(case_id, pack(case_id, verdict, evidence))
        name = self.name_for(case_id)
        final = self.directory / name
        if final.exists():
            raise EvidenceError(f"case {case_id}: evidence already exists")
        folder_is_new = not final.parent.exists()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        final.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = final.with_name(f"{final.name}{TMP_MARK}{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(sealed)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)
        if folder_is_new:
            _fsync_dir(self.directory)
        return StoredEvidence(name, hashlib.sha256(sealed).hexdigest(), len(sealed))

    def read(self, case_id: str, name: str, sha256: str) -> Evidence:
        """Open a case's evidence, checking it is the very file the row recorded."""
        path = self.directory / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceError(f"case {case_id}: the evidence file is missing") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceError(f"case {case_id}: the evidence file does not match its record")
        return unpack(case_id, self.open_sealed(case_id, data))

    def delete(self, name: str) -> bool:
        try:
            (self.directory / name).unlink()
        except FileNotFoundError:
            return False
        return True

    def files(self) -> Iterator[tuple[str, float]]:
        """(relative name, modification time) of every evidence and temporary file."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob(f"*/*{SUFFIX}*"):
            if path.name.endswith(SUFFIX) or TMP_MARK in path.name:
                try:
                    yield path.relative_to(self.directory).as_posix(), path.stat().st_mtime
                except FileNotFoundError:  # deleted meanwhile by a purge elsewhere
                    continue

    def sweep(self, referenced: set[str], older_than_s: float) -> list[str]:
        """Delete files no row points to (crash leftovers), once older than the grace period.

        The grace period keeps files another process has just written and
        is about to commit.
        """
        cutoff = time.time() - older_than_s
        removed = [name for name, mtime in self.files() if name not in referenced and mtime <= cutoff]
        for name in removed:
            self.delete(name)
        return removed
