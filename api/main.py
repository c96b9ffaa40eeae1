"""The FastAPI application: ``create_app()``; ``python -m api`` serves it with uvicorn."""

from __future__ import annotations

import liveness  # noqa: F401  (must come first: native load order)

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from liveness.matching import DocumentEnroller
from liveness.store import open_store
from liveness.store.policies import current_policy

from .config import api_settings
from .middleware import Audit, BodyLimit, BodyTooLarge
from .models import one_line
from .routers import health, sessions, verifications
from .routers.verifications import resume_uploads, uploads_folder
from .webhooks import WebhookSender

log = logging.getLogger(__name__)

DESCRIPTION = """Face identity verification for a bank's backend.

Open a session with the customer's ID document photo, send the customer to its
`capture_url`, and get the verdict by signed webhook or by `GET /v1/sessions/{id}`.
Authenticate with `Authorization: Bearer <API key>` (keys: `python -m liveness clients create`).
"""


def _load_models(app: FastAPI) -> None:
    """The document enroller (YuNet, SFace) off the event loop: /v1/ready says when it is done."""
    try:
        policy = current_policy(app.state.store).policy
        enroller = DocumentEnroller(policy.detection_score)
        from liveness.passive import load_passive_model
        load_passive_model()  # verifications need it: fail /ready now rather than at the first upload
        app.state.enroller = enroller
    except Exception as exc:  # noqa: BLE001  (reported by /v1/ready)
        app.state.models_error = f"{type(exc).__name__}: {exc}"
        log.error("models not loaded: %s", app.state.models_error)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.store = open_store()
    app.state.enroller, app.state.models_error = None, None
    threading.Thread(target=_load_models, args=(app,), name="load-models", daemon=True).start()
    # Uploaded videos are analysed one at a time: two cores, and the live page shares them.
    app.state.verifier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verification")
    resume_uploads(app.state.store, app.state.verifier, uploads_folder())
    sender = WebhookSender(app.state.store, app.state.settings)
    sender.start()
    try:
        yield
    finally:
        sender.stop()
        app.state.verifier.shutdown(wait=True, cancel_futures=True)
        app.state.store.close()


def create_app() -> FastAPI:
    settings = api_settings()
    # Swagger UI from the package's own files: a bank's network reaches no CDN.
    app = FastAPIOffline(title="Prova de Vida API", version="1", description=DESCRIPTION, lifespan=lifespan,
                         openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.settings = settings

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": one_line(exc.errors())}, 422)

    @app.exception_handler(BodyTooLarge)
    async def too_large(_request: Request, _exc: BodyTooLarge):
        return JSONResponse({"detail": "request body over the limit"}, 413)

    for router in (health.router, sessions.router, verifications.router):
        app.include_router(router)
    app.add_middleware(Audit, store_of=lambda: app.state.store)
    app.add_middleware(BodyLimit, limit_for=lambda path: settings.max_video_bytes
                       if path.startswith("/v1/verifications") else settings.max_json_bytes)
    return app

