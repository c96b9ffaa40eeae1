"""Running a POST under its ``Idempotency-Key``: a retry gets the first answer, not a second effect."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from liveness.store import Store, idempotency
from liveness.store.api_clients import ClientInfo

# Answers not kept: a retry may succeed (locked out, models loading, a conflict).
NOT_KEPT = (409, 429, 503)


async def run_idempotent(request: Request, store: Store, client: ClientInfo, fingerprint: str,
                         produce: Callable[[], tuple[int, dict]]) -> JSONResponse:
    """``produce()`` gives (status, JSON body) or raises HTTPException; run it once per key."""
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body = await run_in_threadpool(produce)
        return JSONResponse(body, status)
    try:
        stored = await run_in_threadpool(idempotency.begin, store, client.id, key, fingerprint)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    except idempotency.IdempotencyConflict as error:
        raise HTTPException(409, str(error)) from None
    if stored is not None:
        return JSONResponse(stored.body, stored.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        status, body = await run_in_threadpool(produce)
    except HTTPException as error:
        if error.status_code in NOT_KEPT or error.status_code >= 500:
            await run_in_threadpool(idempotency.release, store, client.id, key)
        else:
            await run_in_threadpool(idempotency.finish, store, client.id, key, error.status_code,
                                    {"detail": str(error.detail)})
        raise
    except BaseException:
        await run_in_threadpool(idempotency.release, store, client.id, key)
        raise
    await run_in_threadpool(idempotency.finish, store, client.id, key, status, body)
    return JSONResponse(body, status)
