"""The production topology under load: one Rasa server vs two, behind nginx, side by side.

Both run as `make serve` would (bot/serve.py, tests/topology.py): Debian's
nginx with deploy/nginx (TLS), independent Rasa servers (one `bot.serve --only
rasa` each, as on separate hosts), one action server, PostgreSQL (a fresh
database each) and the Redis lock store. Same messages and load shapes as
bench_latency.py, the two interleaved per level. Also: the time from a cold
start of the production mode (processes started, model not loaded) to the
first answer through nginx.

    .venv/bin/python bench/bench_topology.py [--requests 240] [--think 2] [--write]
        [--pg-admin-url postgresql://postgres@127.0.0.1:5432/test] [--redis 127.0.0.1:6379]
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import subprocess
import sys
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_latency  # noqa: E402
from bench.bench_latency import compare, rss_mb  # noqa: E402
from bench.bench_workers import drop_database, fresh_database  # noqa: E402
from bench.results import publish  # noqa: E402
from core.settings import environment  # noqa: E402
from tests.topology import start_topology  # noqa: E402

LEVELS = (("conversations", 32), ("back-to-back", 8), ("back-to-back", 32))


@dataclass
class Front:
    """What bench_latency.compare needs: the URL the chat is posted to (nginx here)."""
    rasa_url: str


def post_from_own_address(context: ssl.SSLContext):
    """bench_latency.post, each asker from their own loopback address (people behind nginx are many
    clients, each with its own per-client limit), over HTTPS with the throw-away certificates."""
    def post(url: str, sender: str, text: str, language: str) -> float:
        parts = urllib.parse.urlsplit(url)
        client = f"127.0.{zlib.crc32(sender.encode()) % 200 + 1}.{zlib.crc32(sender[::-1].encode()) % 250 + 2}"
        body = json.dumps({"sender": sender, "message": text, "metadata": {"language": language}}).encode()
        started = time.perf_counter()
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=60, context=context,
                                                 source_address=(client, 0))
        try:
            connection.request("POST", parts.path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for {sender}")
        finally:
            connection.close()
        return time.perf_counter() - started
    return post


def migrate(url: str) -> None:
    subprocess.run([sys.executable, "-m", "db", "upgrade"], cwd=ROOT, check=True, capture_output=True,
                   env={**environment(), "PCN_DATABASE_URL": url})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="127.0.0.1:6379")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    host, port = args.redis.rsplit(":", 1)

    topologies, databases, cold = {}, [], {}
    try:
        for servers in (1, 2):
            url = fresh_database(args.pg_admin_url)
            databases.append(url)
            migrate(url)
            started = time.monotonic()
            topology = start_topology(url, (host, int(port)), rasa_servers=servers, dashboard=False)
            topology.send("bench-cold-start", "Bonjour")
            cold[servers] = time.monotonic() - started
            topologies[servers] = topology
        # the bench's plain urllib calls must trust the throw-away certificates nginx presents
        context = ssl.create_default_context()
        for topology in topologies.values():
            context.load_verify_locations(cafile=str(topology.cert))
        bench_latency.post = post_from_own_address(context)  # compare() posts through it
        fronts = {f"{n} Rasa server{'s' if n > 1 else ''}": Front(t.url) for n, t in topologies.items()}
        rows = compare(fronts, LEVELS, args.requests, args.think, warm_up=4)
        memory = {n: sum(rss_mb(t.processes[f"rasa{k}"].pid) for k in range(n)) for n, t in topologies.items()}
    finally:
        for topology in topologies.values():
            topology.stop()
        for url in databases:
            drop_database(args.pg_admin_url, url)

    lines = [
        f"Command: `.venv/bin/python bench/bench_topology.py --requests {args.requests} --think {args.think:g} --write` "
        "— nginx (TLS, deploy/nginx) in front of independent Rasa servers (`bot.serve --only rasa` each), "
        "PostgreSQL + Redis lock store, side by side; load shapes as in \"Latency, throughput, memory\".",
        "",
        "| behind nginx | load | concurrent conversations | requests | p50 ms | p95 ms | requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, shape, concurrency, r in rows:
        lines.append(f"| {label} | {shape} | {concurrency} | {r['requests']} | {r['p50_ms']:.0f} | "
                     f"{r['p95_ms']:.0f} | {r['rps']:.1f} |")
    lines += ["", "Rasa servers' RSS (supervisor + server): " + ", ".join(
        f"{n} server(s) {mb:.0f} MB" for n, mb in memory.items()), "",
        "Cold start of the production mode to the first answer through nginx (processes started, "
        "model loaded, migrations already applied): " + ", ".join(
            f"{n} Rasa server(s) {seconds:.0f} s" for n, seconds in cold.items())]
    publish("Production topology: nginx and Rasa servers", "\n".join(lines), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
