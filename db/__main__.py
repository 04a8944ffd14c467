"""Command line of the data layer.

    python -m db upgrade [REVISION]      # default: head
    python -m db downgrade [REVISION]    # e.g. base (drops every table of the desk)
    python -m db current                 # revision of the database
    python -m db heads                   # revision of the code
    python -m db flush-spool             # store tickets spooled while the database was down
    python -m db spool                   # list spooled tickets
    python -m db retention [--dry-run]   # apply the retention periods now (db/retention.py)
    python -m db export --email A | --reference R [--output FILE]   # all data of one requester, as JSON
    python -m db erase --email A | --reference R --yes              # erase one requester's personal data

The database is PCN_DATABASE_URL (default: sqlite file data/pcn.db); ``--url`` overrides it.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional


def _display(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: PCN_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="migrate to a newer revision")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="migrate to an older revision")
    down.add_argument("revision")
    sub.add_parser("current", help="show the database revision")
    sub.add_parser("heads", help="show the code revision")
    sub.add_parser("flush-spool", help="replay spooled tickets")
    sub.add_parser("spool", help="list spooled tickets")
    retention = sub.add_parser("retention", help="apply the retention periods now")
    retention.add_argument("--dry-run", action="store_true", help="count what would be cleared, change nothing")
    for name, text in (("export", "write all data of one requester as JSON"),
                       ("erase", "erase the personal data of one requester")):
        command = sub.add_parser(name, help=text)
        who = command.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="the contact e-mail address the requester gave")
        who.add_argument("--reference", help="a ticket reference, e.g. PCN-2026-000123")
        if name == "export":
            command.add_argument("--output", help="file to write (default: standard output)")
        else:
            command.add_argument("--yes", action="store_true", help="confirm: erasure cannot be undone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from db import migrate
    from core import settings

    url = args.url or settings.database_url()
    if args.command == "upgrade":
        migrate.upgrade(url, args.revision)
        print(f"{_display(url)}: {', '.join(migrate.current(url)) or 'base'}")
    elif args.command == "downgrade":
        migrate.downgrade(url, args.revision)
        print(f"{_display(url)}: {', '.join(migrate.current(url)) or 'base'}")
    elif args.command == "current":
        revisions = migrate.current(url)
        state = "up to date" if set(revisions) == set(migrate.heads()) else "NOT up to date"
        print(f"{_display(url)}: {', '.join(revisions) or 'base'} ({state})")
    elif args.command == "heads":
        print(", ".join(migrate.heads()))
    elif args.command in ("retention", "export", "erase"):
        import os

        if args.url:
            os.environ["PCN_DATABASE_URL"] = args.url
        return _privacy_command(args)
    else:
        import os

        if args.url:
            os.environ["PCN_DATABASE_URL"] = args.url
        from db import spool

        if args.command == "flush-spool":
            stored, remaining = spool.flush_spool()
            print(f"stored {stored}, remaining {remaining} ({spool.spool_path()})")
            return 0 if remaining == 0 else 1
        for draft in spool.pending_drafts():
            print(f"{draft.created_at.isoformat()}  {draft.idempotency_key}  {draft.conversation_id}")
    return 0


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def _privacy_command(args: argparse.Namespace) -> int:
    import json

    if args.command == "retention":
        from db.retention import run_retention

        counts = run_retention(dry_run=args.dry_run, actor=_actor())
        prefix = "would clear" if args.dry_run else "cleared"
        print(f"{prefix}: " + ", ".join(f"{k} {len(v) if isinstance(v, list) else v}" for k, v in counts.items()))
        return 0
    from db import subjects

    try:
        requester = subjects.find_requester(args.email, args.reference)
    except subjects.SubjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not requester.found:
        print(f"no ticket for {requester.subject}", file=sys.stderr)
        return 1
    if args.command == "export":
        data = subjects.export_requester(args.email, args.reference, actor=_actor())
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if args.output:
            from pathlib import Path

            from core.private_files import open_private

            path = Path(args.output)
            with open_private(path, "w") as handle:   # 0600: it holds personal data
                handle.write(text + "\n")
            print(f"{len(data['tickets'])} ticket(s) exported to {path}")
        else:
            print(text)
        return 0
    if not args.yes:
        print(f"would erase {', '.join(requester.references)} and their conversations; add --yes to erase",
              file=sys.stderr)
        return 1
    result = subjects.erase_requester(args.email, args.reference, actor=_actor())
    print(f"erased: tickets {', '.join(result['tickets'])}; {result['question_texts']} question text(s), "
          f"{result['conversation_events']} conversation event(s), {result['spooled_drafts']} spooled draft(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
