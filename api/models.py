"""Request and response bodies: the API's schema (served at /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from liveness.config import settings

from .config import callback_refusal

CUSTOMER_REF = r"^[A-Za-z0-9._:-]{1,128}$"
SESSION_ID = r"^[0-9a-f]{32}$"
Status = Literal["created", "in_progress", "accepted", "review", "approved", "rejected", "expired"]


class Error(BaseModel):
    detail: str = Field(description="what went wrong, in one line")
    reason: str | None = Field(None, description="a machine-readable reason, when there is one "
                                                 "(e.g. document_no_face, document_multiple_faces)")


class SessionFields(BaseModel):
    """The fields of ``POST /v1/sessions`` besides the document photo."""

    model_config = ConfigDict(extra="forbid")

    customer_ref: str = Field(pattern=CUSTOMER_REF, description="the bank's pseudonym of the customer "
                              "(e.g. an HMAC of the CPF), never a name or a document number")
    operation: str | None = Field(None, max_length=64, description="a label, e.g. personal_loan")
    callback_url: str | None = Field(None, max_length=2000, pattern=r"^https?://[^\s]+$",
                                     description="receives the signed webhooks of this session")
    locale: Literal["pt-BR", "en"] = Field("pt-BR", description="language of the capture page")
    mode: Literal["live", "recorded"] = Field(
        "live", description="live: the customer's capture page over WebRTC; recorded: the bank's app records "
                            "a video answering the returned challenge script and uploads it to /v1/verifications")

    @field_validator("callback_url")
    @classmethod
    def _allowed_callback(cls, url: str | None) -> str | None:
        # The webhook carries scores: in production it travels encrypted, and only to the hosts named.
        refusal = None if url is None else callback_refusal(url, settings().production)
        if refusal:
            raise ValueError(refusal)
        return url


class SessionCreate(SessionFields):
    document: str = Field(min_length=1, description="the ID document photo, JPEG or PNG, base64")


class Prompt(BaseModel):
    step: Literal["smile", "blink", "turn_left", "turn_right"]
    prompt_at_s: float = Field(description="when the capturing app shows this prompt, from the recording's start")


class SessionCreated(BaseModel):
    session_id: str
    status: Status
    capture_url: str | None = Field(description="mode live: send the customer here; single use, expires with "
                                                "the session")
    expires_at: datetime
    challenge_script: str | None = Field(None, description="mode recorded: the signed script the video answers")
    challenge: list[Prompt] | None = Field(None, description="mode recorded: the prompts to show while recording")


class Decision(BaseModel):
    outcome: Literal["approve", "reject"]
    note: str
    decided_at: datetime


class Session(BaseModel):
    session_id: str
    status: Status
    customer_ref: str
    operation: str | None
    locale: str
    mode: str
    created_at: datetime
    expires_at: datetime
    capture_opened_at: datetime | None
    completed_at: datetime | None
    case_id: str | None
    verdict: Literal["accepted", "review"] | None = Field(description="the engine's verdict")
    reasons: list[str] = Field(description="why a verdict went to review (liveness.verdict.REASONS)")
    scores: dict[str, float | int | bool | str | None]
    policy_version: str | None
    policy_digest: str | None
    model_versions: dict[str, str]
    decision: Decision | None = Field(description="the reviewer's, once made")


class VerificationStarted(BaseModel):
    job_id: str = Field(description="poll GET /v1/verifications/{job_id} (the session id)")
    status: Status


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    database: bool
    models: bool
    detail: str | None = None


def one_line(errors) -> str:
    """Pydantic's validation errors as the one-line ``detail`` of a 422 (where: what; ...)."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",)) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)[:500]
