"""``POST /v1/verifications`` (a recorded video, the offline path) and ``GET /v1/verifications/{job_id}``.

A video answering a ``mode: recorded`` session (``session_id``) is judged
against the signed challenge script that session was given; one uploaded
without a session (with its own ``document`` and ``customer_ref``) is
analysed but never accepted on the active layer (``no_challenge_script``).
Either way the verdict is a case of that session, in the review queue when it
is not accepted, and its webhook goes out as for a live capture. Short
videos are answered with the verdict (200); longer ones with a job id to
poll (202). Analyses run one at a time, on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Path as PathParam, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from liveness.config import settings as liveness_settings
from liveness.challenge_script import ChallengeScript, ScriptError, load_script, script_key
from liveness.matching import DocumentEnroller
from liveness.media import VIDEO_KINDS, MediaError, probe_video, read_image, sniff_file
from liveness.pipeline import verify_video
from liveness.store import Store, api_sessions, cases
from liveness.store.api_clients import ClientInfo
from liveness.store.api_sessions import ApiSessionNotFound, Capture, CaptureRefused
from liveness.store.policies import current_policy

from ..config import ApiSettings
from ..deps import get_enroller, get_settings, get_store, require_scope
from ..models import SESSION_ID, Error, Session, SessionFields, VerificationStarted, one_line
from .sessions import open_checked, session_body

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["verifications"])
ERRORS = {code: {"model": Error} for code in (400, 401, 403, 404, 409, 411, 413, 415, 422, 429, 503)}
UPLOAD_REFUSED = {"used": (409, "this recorded session already has its video"),
                  "expired": (422, "this recorded session has expired: open a new one"),
                  "forged": (404, "no recorded session")}

FORM = {"type": "object", "required": ["video"], "properties": {
    "video": {"type": "string", "format": "binary", "description": "the recording: MP4/MOV, WebM, AVI or MJPEG"},
    "session_id": {"type": "string", "pattern": SESSION_ID,
                   "description": "the mode: recorded session the video answers (its document and script apply)"},
    "document": {"type": "string", "format": "binary",
                 "description": "without session_id: the ID document photo, JPEG or PNG"},
    "customer_ref": {"type": "string", "pattern": SessionFields.model_fields["customer_ref"].metadata[0].pattern,
                     "description": "without session_id: the bank's pseudonym of the customer"},
    "callback_url": {"type": "string", "maxLength": 2000, "pattern": r"^https?://[^\s]+$",
                     "description": "without session_id: receives the signed webhooks"},
}}


# An upload waiting for its job: sealed like evidence (a face video is biometric data), named by
# its session, resumed if the API stops. Plaintext lies on disk only while it is received
# (".upload") and while the engine reads it (".analysing").
QUEUED = ".video.sealed"
ANALYSING = ".analysing"


def uploads_folder() -> Path:
    return liveness_settings().var_dir / "uploads"


def _save_video(upload, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".upload", delete=False) as out:
        shutil.copyfileobj(upload.file, out)
    return Path(out.name)


def _check_video(path: Path, settings: ApiSettings) -> float | None:
    """The video's duration in seconds (None: the container does not say, as in raw MJPEG, whose
    decoding stops at ``media.MAX_VIDEO_FRAMES``); 422 for a type, a content or a length we do not take."""
    kind = sniff_file(path)
    if kind not in VIDEO_KINDS:
        raise HTTPException(422, f"video: not a supported video (MP4, MOV, WebM, AVI, MJPEG); got {kind or 'unknown data'}")
    try:
        info = probe_video(path)
    except MediaError as error:
        raise HTTPException(422, f"video: {error}") from None
    duration = info.duration_s if info.duration_s is not None else \
        info.frame_count / info.fps if info.frame_count and info.fps else None
    if duration is not None and duration > settings.max_video_s:
        raise HTTPException(422, f"video: {duration:.0f} s is over the limit of {settings.max_video_s:.0f} s")
    return duration


def _session_capture(store: Store, client: ClientInfo, session_id: str) -> tuple[Capture, ChallengeScript]:
    """The session's upload claimed, with its script checked once, here (a job waiting in line
    past the script's expiry must still be judged by it)."""
    try:
        capture = api_sessions.claim_upload(store, session_id, client.id)
    except ApiSessionNotFound as error:
        raise HTTPException(404, str(error)) from None
    except CaptureRefused as refused:
        status, detail = UPLOAD_REFUSED[refused.reason]
        raise HTTPException(status, detail) from None
    try:
        script = load_script(capture.challenge_script, script_key())
    except ScriptError as error:
        raise HTTPException(422, f"challenge_script: {error}") from None
    return capture, script


def _sessionless_capture(store: Store, enroller: DocumentEnroller, client: ClientInfo, form) -> Capture | dict:
    """A recorded session opened for an upload without one (no script); or a 422 body for its document."""
    document = form.get("document")
    if document is None or isinstance(document, str):
        raise HTTPException(422, "document: a file part named 'document' is required without session_id")
    try:
        fields = SessionFields.model_validate({"customer_ref": form.get("customer_ref"), "mode": "recorded",
                                               "callback_url": form.get("callback_url")})
    except ValidationError as error:
        raise HTTPException(422, one_line(error.errors())) from None
    opened = open_checked(store, enroller, client, fields, document.file.read())
    if isinstance(opened, dict):
        return opened
    return api_sessions.claim_upload(store, opened[0].session_id, client.id)


def queue_upload(store: Store, session_id: str, video: Path) -> Path:
    """Seal a received video as ``<session>.video.sealed`` beside it and remove the plaintext."""
    queued = video.with_name(session_id + QUEUED)
    part = queued.with_name(queued.name + ".part")
    part.write_bytes(store.vault.seal(f"upload{session_id}", video.read_bytes()))
    os.replace(part, queued)  # whole or absent, for the resume at start-up
    video.unlink()
    return queued


def analyse(store: Store, capture: Capture, queued: Path, script: ChallengeScript | None) -> None:
    """The engine over the recording, then the case (the job's body; runs on the worker thread)."""
    plain = queued.with_name(capture.session_id + ANALYSING)
    try:
        plain.write_bytes(store.vault.open_sealed(f"upload{capture.session_id}", queued.read_bytes()))
        policy = current_policy(store).policy
        result = verify_video(plain, document=read_image(capture.document_jpeg), policy=policy, script=script,
                              show_scores=False, session_id=capture.session_id)
        cases.record_session_result(store, capture.session_id, capture.nonce, result.verdict.to_dict(),
                                    result.evidence)
    except Exception:  # noqa: BLE001  (a job has no caller to raise to: logged, counted, the session expires)
        log.exception("verification %s failed", capture.session_id)
        raise
    finally:
        plain.unlink(missing_ok=True)
        queued.unlink(missing_ok=True)


def resume_uploads(store: Store, verifier, folder: Path) -> int:
    """At start-up: queue again every upload a stopped API had claimed and not recorded (its
    script checked as when it was claimed); drop what cannot be resumed and half-received
    uploads. Returns how many were queued."""
    resumed = 0
    for pattern in ("*.upload", "*" + ANALYSING, "*.part"):  # plaintext or half-written: the process is gone
        for path in folder.glob(pattern):
            path.unlink(missing_ok=True)
    for video in sorted(folder.glob("*" + QUEUED)):
        session_id = video.name[:-len(QUEUED)]
        found = api_sessions.resume_upload(store, session_id) if api_sessions.is_session_id(session_id) else None
        if found is None:  # recorded, expired, or not ours: nothing to resume
            video.unlink(missing_ok=True)
            continue
        capture, claimed_at = found
        try:
            script = load_script(capture.challenge_script, script_key(), now=claimed_at.timestamp()) \
                if capture.challenge_script else None
        except ScriptError as error:
            log.warning("upload of session %s dropped: %s", capture.session_id, error)
            video.unlink(missing_ok=True)
            continue
        verifier.submit(analyse, store, capture, video, script)
        resumed += 1
    if resumed:
        log.info("resumed %d uploaded verification(s)", resumed)
    return resumed


@router.post(
    "/verifications", response_model=Session, status_code=200,
    responses=ERRORS | {202: {"model": VerificationStarted, "description": "a long video: poll the job"}},
    summary="Verify a recorded video (the offline path)",
    description="Multipart: `video`, and either `session_id` of a `mode: recorded` session (its document and "
                "signed challenge script apply) or `document` + `customer_ref` (analysed, never accepted: "
                "`no_challenge_script`). Short videos get the verdict (200), long ones a job id (202).",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM}}}})
async def create_verification(request: Request, client: ClientInfo = Depends(require_scope("verifications:write")),
                              store: Store = Depends(get_store), settings: ApiSettings = Depends(get_settings),
                              enroller: DocumentEnroller = Depends(get_enroller)):
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with a 'video' file part")
    form = await request.form(max_files=2, max_fields=10, max_part_size=1024 * 1024)
    upload = form.get("video")
    if upload is None or isinstance(upload, str):
        raise HTTPException(422, "video: a file part named 'video' is required")
    video = await run_in_threadpool(_save_video, upload, uploads_folder())
    try:
        duration = await run_in_threadpool(_check_video, video, settings)
        session_id = form.get("session_id")
        if session_id is not None:
            if not isinstance(session_id, str) or not api_sessions.is_session_id(session_id):
                raise HTTPException(422, "session_id: 32 hexadecimal characters")
            capture, script = await run_in_threadpool(_session_capture, store, client, session_id)
        else:
            script = None
            capture = await run_in_threadpool(_sessionless_capture, store, enroller, client, form)
            if isinstance(capture, dict):
                return JSONResponse(capture, 422)
        queued = await run_in_threadpool(queue_upload, store, capture.session_id, video)  # a restart resumes it
    except BaseException:
        video.unlink(missing_ok=True)
        raise
    job = request.app.state.verifier.submit(analyse, store, capture, queued, script)
    if duration is None or duration > settings.sync_video_s:
        return JSONResponse({"job_id": capture.session_id, "status": "in_progress"}, 202)
    try:
        await asyncio.wrap_future(job)
    except Exception:  # noqa: BLE001  (logged by analyse)
        raise HTTPException(422, "the video could not be analysed") from None
    return await session_body(store, capture.session_id, client)


@router.get("/verifications/{job_id}", response_model=Session, responses=ERRORS,
            summary="A verification's status and verdict (the session's)")
async def get_verification(job_id: str = PathParam(pattern=SESSION_ID),
                           client: ClientInfo = Depends(require_scope("verifications:write")),
                           store: Store = Depends(get_store)):
    return await session_body(store, job_id, client)
