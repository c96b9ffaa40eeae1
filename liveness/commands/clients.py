"""``clients create|list|revoke``: the bank backends allowed to call the HTTP API."""

from __future__ import annotations

from ..store import api_clients, open_store


def _create(args) -> int:
    new = api_clients.create_client(open_store(), args.name, args.scopes, args.rate_limit, actor="cli")
    print(f"created client {new.client.name} (scopes: {' '.join(new.client.scopes)}; "
          f"{new.client.rate_limit_per_minute} calls/min)")
    print("Keep these two now: they are shown only once.")
    print(f"API key:        {new.api_key}")
    print(f"webhook secret: {new.webhook_secret}")
    return 0


def _list(args) -> int:
    for client in api_clients.list_clients(open_store()):
        state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M} UTC" if client.revoked_at else "active"
        print(f"{client.name}\t{' '.join(client.scopes)}\t{client.rate_limit_per_minute}/min\t{state}\t"
              f"created {client.created_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _revoke(args) -> int:
    client = api_clients.revoke_client(open_store(), args.name, actor="cli")
    print(f"{client.name}: revoked (its key no longer works)")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("clients", help="API clients (bank backends): keys, scopes, revocation")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="add a client; prints its API key and webhook secret once")
    create.add_argument("name")
    create.add_argument("--scopes", nargs="+", required=True, choices=api_clients.SCOPES, metavar="SCOPE",
                        help=f"one or more of: {', '.join(api_clients.SCOPES)}")
    create.add_argument("--rate-limit", type=int, default=api_clients.DEFAULT_RATE_LIMIT, metavar="N",
                        help=f"calls per minute for this key (default {api_clients.DEFAULT_RATE_LIMIT})")
    create.set_defaults(run=_create)
    actions.add_parser("list", help="show the clients").set_defaults(run=_list)
    revoke = actions.add_parser("revoke", help="revoke a client's key (the client is kept for the audit log)")
    revoke.add_argument("name")
    revoke.set_defaults(run=_revoke)
