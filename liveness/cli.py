"""``python -m liveness COMMAND``: one argparse front for every command module.

Each module in ``liveness/commands`` defines ``register(subparsers)``, adding
its parser with ``set_defaults(run=function)``; the function takes the parsed
arguments and returns an exit code. Expected failures (bad input, missing
models) are raised as :class:`CommandError` or ``ValueError``/``OSError`` and
printed as one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands, logs
from .registry import ModelUnavailable


class CommandError(Exception):
    """A failure to report to the user in one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m liveness",
                                     description="Face verification and liveness engine")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        logs.configure(default_format="text", default_level="WARNING")
        return int(args.run(args) or 0)
    except (CommandError, ModelUnavailable, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
