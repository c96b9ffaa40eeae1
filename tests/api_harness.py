"""Shared by the tests/test_api_*.py files: the real API server on a free loopback port,
clients and documents, and a webhook receiver that checks signatures.

The server is ``python -m api`` in a child process (uvicorn, the engine's
import order, the webhook sender thread); the test process opens the same
database and evidence key in-process to create clients and stand in for the
customer page.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import liveness  # noqa: F401  (native load order)
import cv2
import httpx
import numpy as np

from liveness.config import PROJECT_ROOT, settings
from liveness.media import iter_video
from liveness.store import open_store
from liveness.store.testing import child_env, new_key

SMILING_CLIP = settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ApiServer:
    url: str
    database_url: str
    evidence_key: str
    env: dict
    log: Path

    def store(self, **options):
        return open_store(self.database_url, evidence_key=self.evidence_key,
                          evidence_dir=Path(self.env["LIVENESS_EVIDENCE_DIR"]), **options)


@contextmanager
def api_server(database_url: str, var_dir: Path, **env_overrides):
    """``python -m api`` on a free port, ready (models loaded) when yielded; stopped after."""
    port = free_port()
    env = {**child_env(), "DATABASE_URL": database_url, "LIVENESS_VAR_DIR": str(var_dir),
           "LIVENESS_EVIDENCE_DIR": str(var_dir / "evidence"), "LIVENESS_EVIDENCE_KEY": new_key(),
           "LIVENESS_MODE": "demo", "LIVENESS_WEBHOOK_POLL_S": "0.2", "LIVENESS_WEBHOOK_RETRY_BASE_S": "0.5",
           **env_overrides}
    log = var_dir / "api.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield ApiServer(url, database_url, env["LIVENESS_EVIDENCE_KEY"], env, log)
    finally:
        server.terminate()
        server.wait(timeout=30)


def document_jpeg(tmp_path: Path) -> Path:
    """A still of the fake camera clip's person (its first second), standing in for their ID photo."""
    frame = next(f for f in iter_video(SMILING_CLIP, max_frames=20) if f.index == 15)
    path = tmp_path / "document.jpg"
    cv2.imwrite(str(path), frame.image)
    return path


def two_faces_jpeg(tmp_path: Path) -> Path:
    """Two copies of the person side by side: a document with several faces of one size."""
    image = cv2.imread(str(document_jpeg(tmp_path)))
    path = tmp_path / "two_faces.jpg"
    cv2.imwrite(str(path), np.hstack([image, image]))
    return path


def blank_png(tmp_path: Path) -> Path:
    path = tmp_path / "blank.png"
    cv2.imwrite(str(path), np.full((240, 320, 3), 128, np.uint8))
    return path


def readme_receiver():
    """``verify_webhook`` as the README gives it to the banks (the code between its markers)."""
    text = (PROJECT_ROOT / "README.md").read_text()
    block = text.split("<!-- webhook-receiver:start -->", 1)[1].split("<!-- webhook-receiver:end -->", 1)[0]
    code = block.strip().removeprefix("```python").removesuffix("```")
    namespace: dict = {}
    exec(compile(code, "README.md#webhook-receiver", "exec"), namespace)  # noqa: S102  (our own README)
    return namespace["verify_webhook"]


@dataclass
class Receiver:
    """A webhook endpoint on loopback: answers 500 to the first ``fail_first`` requests, then 200."""

    secret: str
    fail_first: int = 0
    requests: list[dict] = field(default_factory=list)  # every request seen
    accepted: list[dict] = field(default_factory=list)  # bodies answered 200 with a valid signature
    url: str = ""

    def wait_for(self, count: int, timeout_s: float) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while len(self.accepted) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.accepted


@contextmanager
def webhook_receiver(secret: str, fail_first: int = 0):
    receiver = Receiver(secret, fail_first)
    verify_webhook = readme_receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                verify_webhook(receiver.secret, self.headers, body)
                signed = True
            except ValueError:
                signed = False
            with lock:
                receiver.requests.append({"headers": dict(self.headers), "body": body, "signed": signed})
                fail = len(receiver.requests) <= receiver.fail_first or not signed
                if not fail:
                    receiver.accepted.append(json.loads(body))
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}

