"""The API's settings, from the environment (README "HTTP API" lists them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from liveness.store.webhooks import RetryPolicy

MB = 1024 * 1024


@dataclass(frozen=True)
class ApiSettings:
    host: str
    port: int
    public_url: str  # where customers reach the Streamlit app: the capture_url's base
    max_json_bytes: int  # request bodies other than video uploads (a base64 document photo fits)
    max_video_bytes: int  # POST /v1/verifications
    max_video_s: float  # longest recording taken
    sync_video_s: float  # recordings up to this long are answered with the verdict, longer ones with a job
    webhook_retry: RetryPolicy
    webhook_poll_s: float


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None


def api_settings() -> ApiSettings:
    return ApiSettings(
        host=os.environ.get("LIVENESS_API_HOST", "127.0.0.1"),
        port=int(_number("LIVENESS_API_PORT", 8000)),
        public_url=os.environ.get("LIVENESS_PUBLIC_URL", "http://localhost:8501").rstrip("/"),
        max_json_bytes=int(_number("LIVENESS_API_MAX_BODY_MB", 10) * MB),
        max_video_bytes=int(_number("LIVENESS_API_MAX_VIDEO_MB", 50) * MB),
        max_video_s=_number("LIVENESS_API_MAX_VIDEO_S", 60),
        sync_video_s=_number("LIVENESS_API_SYNC_VIDEO_S", 15),
        webhook_retry=RetryPolicy(base_s=_number("LIVENESS_WEBHOOK_RETRY_BASE_S", 5.0),
                                  max_attempts=int(_number("LIVENESS_WEBHOOK_MAX_ATTEMPTS", 8))),
        webhook_poll_s=_number("LIVENESS_WEBHOOK_POLL_S", 1.0),
    )


def webhook_hosts() -> tuple[str, ...]:
    """``LIVENESS_WEBHOOK_HOSTS``: the hosts webhooks may go to, comma-separated; an entry
    also admits its subdomains (``bank.example`` admits ``hooks.bank.example``)."""
    return tuple(h.strip().lower().strip(".") for h in os.environ.get("LIVENESS_WEBHOOK_HOSTS", "").split(",")
                 if h.strip())


def callback_refusal(url: str, production: bool) -> str | None:
    """Why a callback_url may not receive webhooks, or None. An API key alone must not make
    the server call any address it can reach (its own database, a cloud metadata endpoint):
    the operator names the hosts. Without a list, production takes no callback_url at all;
    demo mode takes any (the local receivers of the tests and the README)."""
    if production and not url.startswith("https://"):
        return "in production mode the callback_url must be https"
    hosts = webhook_hosts()
    if not hosts:
        return "no callback_url is taken until LIVENESS_WEBHOOK_HOSTS names the hosts webhooks may go to" \
            if production else None
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if any(host == h or host.endswith("." + h) for h in hosts):
        return None
    return f"the callback_url's host {host!r} is not one of LIVENESS_WEBHOOK_HOSTS"
