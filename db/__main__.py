"""Command line of the data layer.

    python -m db upgrade [REVISION]      # default: head
    python -m db downgrade [REVISION]    # e.g. base (drops every table of the desk)
    python -m db current                 # revision of the database
    python -m db heads                   # revision of the code
    python -m db flush-spool             # store tickets spooled while the database was down
    python -m db spool                   # list spooled tickets

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


if __name__ == "__main__":
    sys.exit(main())
