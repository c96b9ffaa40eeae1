"""``users create|list|disable|enable|passwd``: reviewer and administrator accounts."""

from __future__ import annotations

import getpass
import sys

from ..cli import CommandError
from ..store import auth, open_store


def _password(args) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the passwords differ")
    if not password:
        raise CommandError("empty password")
    return password


def _create(args) -> int:
    user = auth.create_user(open_store(), args.name, _password(args), args.role, actor="cli")
    print(f"created {user.username} ({user.role})")
    return 0


def _list(args) -> int:
    for user in auth.list_users(open_store()):
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _set_disabled(disabled: bool):
    def run(args) -> int:
        user = auth.set_disabled(open_store(), args.name, disabled, actor="cli")
        print(f"{user.username}: {'disabled' if user.disabled else 'enabled'}")
        return 0
    return run


def _passwd(args) -> int:
    auth.set_password(open_store(), args.name, _password(args), actor="cli")
    print(f"{args.name}: password changed")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("users", help="reviewer and admin accounts of the review pages")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="add an account (password prompted, or --password-stdin)")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=auth.ROLES)
    create.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    create.set_defaults(run=_create)
    actions.add_parser("list", help="show the accounts").set_defaults(run=_list)
    for name, disabled in (("disable", True), ("enable", False)):
        action = actions.add_parser(name, help=f"{name} an account (kept for the audit log)")
        action.add_argument("name")
        action.set_defaults(run=_set_disabled(disabled))
    passwd = actions.add_parser("passwd", help="set a new password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(run=_passwd)
