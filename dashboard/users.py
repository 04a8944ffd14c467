"""Manage desk accounts from the command line.

    python -m dashboard.users add USERNAME --role agent|manager|admin [--name N] [--email E] [--password P]
    python -m dashboard.users list
    python -m dashboard.users set-password USERNAME [--password P]
    python -m dashboard.users disable USERNAME      (enable USERNAME to undo)
    python -m dashboard.users demo                  (PCN_DEMO=1: demo accounts, random passwords printed once)

Without ``--password`` the password is asked twice on the terminal (not echoed).
Uses ``PCN_DATABASE_URL`` like the rest of the desk.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from db.repositories import users


def _password(given: Optional[str]) -> str:
    if given is not None:
        return given
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise users.UserError("passwords differ")
    return first


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard.users", description="PCN desk accounts")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="create an account")
    a.add_argument("username")
    a.add_argument("--role", choices=users.ROLES, default="agent")
    a.add_argument("--name", default="")
    a.add_argument("--email", default=None)
    a.add_argument("--password", default=None, help="avoid on shared machines (shell history); prompted if omitted")
    sub.add_parser("list", help="list accounts")
    s = sub.add_parser("set-password", help="change a password")
    s.add_argument("username")
    s.add_argument("--password", default=None)
    d = sub.add_parser("disable", help="disable an account (it can no longer sign in)")
    d.add_argument("username")
    e = sub.add_parser("enable", help="re-enable an account")
    e.add_argument("username")
    r = sub.add_parser("set-role", help="change the role of an account")
    r.add_argument("username")
    r.add_argument("role", choices=users.ROLES)
    sub.add_parser("demo", help="create the missing demo accounts; prints their random passwords once")
    args = p.parse_args(argv)
    try:
        if args.cmd == "add":
            u = users.create_user(args.username, _password(args.password), args.role, args.name, args.email)
            print(f"created {u.username} ({u.role})")
        elif args.cmd == "list":
            for u in users.list_users():
                print(f"{u.username:20} {u.role:8} {'active' if u.active else 'disabled':8} {u.display_name} {u.email or ''}")
        elif args.cmd == "set-password":
            users.set_password(args.username, _password(args.password))
            print(f"password changed for {args.username}")
        elif args.cmd in ("disable", "enable"):
            users.set_active(args.username, args.cmd == "enable")
            print(f"{args.username} {args.cmd}d")
        elif args.cmd == "demo":
            created = users.ensure_demo_users()
            if created:
                print("Demo accounts of the console (shown once; change one with "
                      "`python -m dashboard.users set-password USER`):")
                for username, password in created.items():
                    print(f"  {username:14} {password}")
            else:
                print("Demo accounts exist already (their passwords were shown when they were created; "
                      "`python -m dashboard.users set-password demo-admin` sets a new one).")
        elif args.cmd == "set-role":
            users.set_role(args.username, args.role)
            print(f"{args.username} is now {args.role}")
    except users.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
