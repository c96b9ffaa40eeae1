"""``python -m api [--host H] [--port P]``: serve the API with uvicorn (defaults: LIVENESS_API_HOST, LIVENESS_API_PORT)."""

import liveness  # noqa: F401  (must come first: native load order)

import argparse
import sys

import uvicorn

from .config import api_settings


def main() -> int:
    settings = api_settings()
    parser = argparse.ArgumentParser(prog="python -m api", description="Prova de Vida HTTP API")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args()
    uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port, log_level="info",
                proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
