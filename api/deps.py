"""Dependencies: the store, the engine's shared models, the calling client and its scope."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from liveness.matching import DocumentEnroller
from liveness.store import Store
from liveness.store.api_clients import ClientAuthError, ClientInfo, authenticate_key, over_rate_limit

from .config import ApiSettings

bearer = HTTPBearer(auto_error=False, description="the API key printed by `python -m liveness clients create`")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def get_enroller(request: Request) -> DocumentEnroller:
    enroller = request.app.state.enroller
    if enroller is None:
        raise HTTPException(503, "the face models are still loading: retry in a few seconds",
                            headers={"Retry-After": "5"})
    return enroller


def require_scope(scope: str):
    """A dependency giving the calling client, refused without ``scope`` (403) or over its rate (429)."""

    async def client(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
                     store: Store = Depends(get_store)) -> ClientInfo:
        if credentials is None:
            raise HTTPException(401, "missing API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            info = await run_in_threadpool(authenticate_key, store, credentials.credentials)
        except ClientAuthError as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
        request.state.client = info  # for the audit middleware
        if scope not in info.scopes:
            raise HTTPException(403, f"this key lacks the scope {scope}")
        if await run_in_threadpool(over_rate_limit, store, info):
            raise HTTPException(429, f"rate limit of {info.rate_limit_per_minute} calls per minute reached",
                                headers={"Retry-After": "60"})
        return info

    return client
