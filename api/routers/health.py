"""Liveness and readiness probes (no key: for the load balancer)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from liveness.store import Store

from ..deps import get_store
from ..models import Health, Ready

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health, summary="The process answers")
async def health() -> Health:
    return Health(status="ok")


def _database_ok(store: Store) -> bool:
    try:
        with store.read() as session:
            session.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  (any failure means not ready)
        return False


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready, "description": "not ready"}},
            summary="The database answers and the face models are loaded")
async def ready(request: Request, store: Store = Depends(get_store)):
    database = await run_in_threadpool(_database_ok, store)
    models = request.app.state.enroller is not None
    body = Ready(ready=database and models, database=database, models=models,
                 detail=request.app.state.models_error or (None if models else "models loading"))
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
