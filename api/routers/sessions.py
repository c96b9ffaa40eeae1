"""``POST /v1/sessions`` (open a verification, get the capture link) and ``GET /v1/sessions/{id}``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from liveness.challenge_script import issue_script, script_key, sign
from liveness.matching import DocumentEnroller, EnrolledFace
from liveness.media import MediaError, read_image, sniff
from liveness.store import LockedOut, Store, api_sessions, cases, sessions
from liveness.store.api_clients import ClientInfo
from liveness.store.policies import current_policy
from liveness.store.sessions import SessionGrant, SessionTicket

from ..config import ApiSettings
from ..deps import get_enroller, get_settings, get_store, require_scope
from ..idempotent import run_idempotent
from ..models import SESSION_ID, Error, Session, SessionCreate, SessionCreated, SessionFields, one_line

router = APIRouter(prefix="/v1", tags=["sessions"])
CAPTURE_PAGE = "/" + quote("Verificação")
DOCUMENT_KINDS = ("jpeg", "png")
ERRORS = {code: {"model": Error} for code in (400, 401, 403, 409, 411, 413, 415, 422, 429, 503)}


def _form_schema() -> dict:
    schema = SessionFields.model_json_schema()
    schema["properties"]["document"] = {"type": "string", "format": "binary",
                                        "description": "the ID document photo, JPEG or PNG"}
    schema["required"] = [*schema.get("required", []), "document"]
    return schema


async def _read_request(request: Request, settings: ApiSettings) -> tuple[SessionFields, bytes]:
    """The fields and the document's bytes, from JSON (base64 document) or multipart/form-data."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            try:
                body = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                raise HTTPException(400, "the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise HTTPException(422, "the body must be a JSON object")
            created = SessionCreate.model_validate(body)
            try:
                document = base64.b64decode(created.document, validate=True)
            except (binascii.Error, ValueError):
                raise HTTPException(422, "document: not valid base64") from None
            return SessionFields.model_validate(created.model_dump(exclude={"document"})), document
        if content_type == "multipart/form-data":
            form = await request.form(max_files=1, max_fields=10, max_part_size=settings.max_json_bytes)
            upload = form.get("document")
            if upload is None or isinstance(upload, str):
                raise HTTPException(422, "document: a file part named 'document' is required")
            fields = {k: v for k, v in form.items() if k != "document"}
            return SessionFields.model_validate(fields), await upload.read()
    except ValidationError as error:
        raise HTTPException(422, one_line(error.errors())) from None
    raise HTTPException(415, "send application/json (document in base64) or multipart/form-data")


def read_document(document: bytes):
    """The document photo decoded (JPEG or PNG only); HTTPException 422 otherwise."""
    if sniff(document[:16]) not in DOCUMENT_KINDS:
        raise HTTPException(422, "document: a JPEG or PNG photo is required")
    try:
        return read_image(document)
    except MediaError as error:
        raise HTTPException(422, f"document: {error}") from None


def open_grant(store: Store, customer_ref: str) -> SessionGrant:
    """A store session for the customer; 429 while they are locked out."""
    try:
        return sessions.open_session(store, customer_ref)
    except LockedOut as error:
        raise HTTPException(429, str(error), headers={"Retry-After": str(max(1, int(
            (error.until - store.now()).total_seconds())))}) from None


def document_refusal(store: Store, grant: SessionGrant, customer_ref: str, enrolled: EnrolledFace) -> dict | None:
    """The 422 body for a document without one usable face, counted as a failed attempt
    (as on the app's page: probing documents counts toward the lockout); None when usable."""
    if enrolled.ok:
        return None
    cases.record_failure(store, SessionTicket(grant.session_id, customer_ref, None), f"document {enrolled.reason}")
    messages = {"no_face": "no face found on the document",
                "multiple_faces": "the document shows more than one face of similar size"}
    return {"detail": messages[enrolled.reason], "reason": f"document_{enrolled.reason}"}


def open_checked(store: Store, enroller: DocumentEnroller, client: ClientInfo, fields: SessionFields,
                 document: bytes, signed_script: str | None = None) -> tuple[api_sessions.ApiSessionView, str] | dict:
    """A session for ``fields`` whose document shows one usable face: (its view, its capture
    token); else the 422 body (a failed attempt, see :func:`document_refusal`)."""
    image = read_document(document)
    grant = open_grant(store, fields.customer_ref)
    refused = document_refusal(store, grant, fields.customer_ref, enroller.enroll(image, current_policy(store).policy))
    if refused:
        return refused
    return api_sessions.open_api_session(
        store, client.id, grant, fields.customer_ref, document, fields.operation, fields.callback_url,
        fields.locale, fields.mode, client.actor, challenge_script=signed_script)


def _open(store: Store, enroller: DocumentEnroller, settings: ApiSettings, client: ClientInfo,
          fields: SessionFields, document: bytes) -> tuple[int, dict]:
    script = issue_script(current_policy(store).policy) if fields.mode == "recorded" else None
    signed = sign(script, script_key()) if script else None
    opened = open_checked(store, enroller, client, fields, document, signed)
    if isinstance(opened, dict):
        return 422, opened
    view, token = opened
    return 201, {"session_id": view.session_id, "status": view.status, "expires_at": view.expires_at.isoformat(),
                 "capture_url": None if script else f"{settings.public_url}{CAPTURE_PAGE}?session={token}",
                 "challenge_script": signed,
                 "challenge": script and [{"step": step.value, "prompt_at_s": at} for step, at in script.steps]}


@router.post(
    "/sessions", status_code=201, response_model=SessionCreated, responses=ERRORS,
    summary="Open a verification and get the customer's capture link",
    description="The document face is checked at once: no face or several faces is a 422 with `reason`. "
                "Attempt limits apply per `customer_ref` (429 while locked out). Send `Idempotency-Key` "
                "to retry safely.",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": SessionCreate.model_json_schema()},
        "multipart/form-data": {"schema": _form_schema()}}}})
async def create_session(request: Request, client: ClientInfo = Depends(require_scope("sessions:write")),
                         store: Store = Depends(get_store), settings: ApiSettings = Depends(get_settings),
                         enroller: DocumentEnroller = Depends(get_enroller)):
    fields, document = await _read_request(request, settings)
    fingerprint = hashlib.sha256(fields.model_dump_json().encode() + hashlib.sha256(document).digest()).hexdigest()
    return await run_idempotent(request, store, client, fingerprint,
                                lambda: _open(store, enroller, settings, client, fields, document))


@router.get("/sessions/{session_id}", response_model=Session, responses=ERRORS | {404: {"model": Error}},
            summary="A session's status, verdict, scores, versions and the reviewer's decision")
async def get_session(session_id: str = Path(pattern=SESSION_ID),
                      client: ClientInfo = Depends(require_scope("sessions:read")),
                      store: Store = Depends(get_store)):
    return await session_body(store, session_id, client)


async def session_body(store: Store, session_id: str, client: ClientInfo) -> JSONResponse:
    """The client's session as JSON: the very body the webhooks carry as "data"; 404 for none."""
    try:
        view = await run_in_threadpool(api_sessions.session_view, store, session_id, client.id)
    except api_sessions.ApiSessionNotFound as error:
        raise HTTPException(404, str(error)) from None
    return JSONResponse(view.to_dict())
