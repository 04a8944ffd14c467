"""The production path under load: one Rasa worker vs two, side by side.

Both desks run on PostgreSQL (a fresh database each) with the Redis lock store
(`endpoints.production.yml`), as `PCN_REDIS_HOST` + `PCN_RASA_WORKERS` set them
up; only the number of Rasa workers differs. Same messages and load shapes as
bench_latency.py, interleaved per level so that both see the same machine load.

    .venv/bin/python bench/bench_workers.py [--requests 240] [--think 2] [--write]
        [--pg-admin-url postgresql://postgres@127.0.0.1:5432/test] [--redis 127.0.0.1:6379]
"""
from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_latency import compare, rss_mb  # noqa: E402
from bench.results import publish  # noqa: E402
from tests.servers import start_desk  # noqa: E402

LEVELS = (("conversations", 32), ("back-to-back", 8), ("back-to-back", 32))


def fresh_database(admin_url: str) -> str:
    name = f"pcn_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="127.0.0.1:6379")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    redis_host, redis_port = args.redis.rsplit(":", 1)

    desks, databases = {}, []
    try:
        for workers in ("1", "2"):
            url = fresh_database(args.pg_admin_url)
            databases.append(url)
            desks[workers] = start_desk(database_url=url, web=False, endpoints="endpoints.production.yml",
                                        extra_env={"PCN_REDIS_HOST": redis_host, "PCN_REDIS_PORT": redis_port,
                                                   "SANIC_WORKERS": workers})
        rows = compare(desks, LEVELS, args.requests, args.think, warm_up=4)  # 4: reach every worker
        memory = {workers: rss_mb(d.processes["rasa"].pid) for workers, d in desks.items()}
    finally:
        for desk in desks.values():
            desk.stop()
        for url in databases:
            drop_database(args.pg_admin_url, url)

    lines = [
        f"Command: `.venv/bin/python bench/bench_workers.py --requests {args.requests} --think {args.think:g} --write` "
        "— PostgreSQL + Redis lock store (`endpoints.production.yml`), one Rasa worker vs two, side by side; "
        "load shapes as in \"Latency, throughput, memory\".",
        "",
        "| Rasa workers | load | concurrent conversations | requests | p50 ms | p95 ms | requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for workers, shape, concurrency, r in rows:
        lines.append(f"| {workers} | {shape} | {concurrency} | {r['requests']} | {r['p50_ms']:.0f} | "
                     f"{r['p95_ms']:.0f} | {r['rps']:.1f} |")
    lines += ["", "Rasa server RSS (all workers): " + ", ".join(
        f"{w} worker(s) {mb:.0f} MB" for w, mb in memory.items())]
    publish("Production path: Rasa workers", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
