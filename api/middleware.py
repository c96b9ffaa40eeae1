"""ASGI middleware: request body limits, and the audit record of every call.

Bodies: a POST's body must say its Content-Length (a chunked one gets 411),
at most the route's limit (413); the body actually received is counted too. Audit: one
event per call under /v1 (except the unauthenticated health probes), with the
route's template, method and status, never a body, a header or a query.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool

from liveness.store.api_clients import audit_call

log = logging.getLogger(__name__)
UNAUDITED = ("/v1/health", "/v1/ready")


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app, limit_for):
        self.app = app
        self.limit_for = limit_for  # path -> bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None and b"transfer-encoding" in headers:  # a chunked body of unknown size
            return await _reply(send, 411, "send the body with a Content-Length header")
        length = length or b"0"  # neither header: the request has no body (RFC 9112, 6.3)
        if not length.isdigit() or int(length) > limit:
            return await _reply(send, 413, f"request body over the limit of {limit // (1024 * 1024)} MB")
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


class Audit:
    def __init__(self, app, store_of):
        self.app = app
        self.store_of = store_of  # () -> Store

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/") or scope["path"] in UNAUDITED:
            return await self.app(scope, receive, send)
        audited = False

        async def record(status: int) -> None:
            nonlocal audited
            audited = True
            client = scope.get("state", {}).get("client")
            route = getattr(scope.get("route"), "path", None)
            subject = f"{route or 'unrouted'}:{next(iter(scope.get('path_params', {}).values()), '')}"
            try:
                await run_in_threadpool(audit_call, self.store_of(), client.actor if client else "api:anonymous",
                                        f"api.{scope['method'].lower()}", subject,
                                        {"method": scope["method"], "status": status, "route": route})
            except Exception:  # noqa: BLE001  (the call is answered; an audit failure is loud in the log)
                log.exception("could not audit an API call to %s", route)

        async def send_audited(message):
            # Audited before the answer leaves: a client that saw a response finds it in the log.
            if message["type"] == "http.response.start":
                await record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        finally:
            if not audited:
                await record(500)
