"""Reply latency, throughput and memory through Rasa's REST channel.

Starts a real desk (action server + Rasa server, temporary SQLite database,
trained model), then for 1, 8 and 32 concurrent conversations sends realistic
messages and reports p50/p95 latency, requests per second and the servers'
resident memory. Two desks run side by side in one invocation, with the
enquiry log on and off, so that the cost of logging is a ratio measured under
the same machine load (this machine is shared and noisy).

Two load shapes:

* "conversations": each conversation is a person who reads the answer and
  types the next message — a think time drawn uniformly in
  [0.5, 1.5] x ``--think`` seconds (default 2 s, far quicker than people type)
  between a reply and the next message;
* "back-to-back": no think time, every conversation sends its next message as
  soon as the reply arrives — the saturation throughput of one Rasa worker.

    .venv/bin/python bench/bench_latency.py [--requests 240] [--think 2] [--write]
    .venv/bin/python bench/bench_latency.py --compare redaction [--write]
    .venv/bin/python bench/bench_latency.py --baseline /path/to/checkout [--write]

``--compare redaction`` runs the two desks with Rasa's events redacted before they
are stored (``PCN_TRACKER_REDACTION=ner``, the default) and stored raw (``off``):
the cost of keeping nothing raw at rest, measured side by side.

``--baseline`` compares another checkout (its code and trained model, e.g. a worktree of
main: "before") with this one ("after"): at each level both desks take their load at the
same time (so that the shared machine's load falls on both alike), then one user
alternates between them request by request.

Targets (2 cores): p95 <= 150 ms at 8 concurrent conversations; redaction <= 1.1x p50;
a change compared with --baseline: p95 <= 1.2x.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import publish  # noqa: E402
from tests.servers import PEOPLE_HEADER, Desk, client_address, start_desk  # noqa: E402

MESSAGES = [
    ("Faut-il une autorisation préalable pour une IRM en Allemagne ?", "fr"),
    ("How do I claim back what I paid in Germany?", "en"),
    ("quelle difference entre ceam et s2", "fr"),
    ("Are travel costs to the foreign hospital covered?", "en"),
    ("Mon ordonnance espagnole est-elle valable en France ?", "fr"),
    ("merci", "fr"),
]
# (load shape, concurrent conversations); one person alone has no queue to wait in,
# so think time changes nothing at 1
LEVELS = (("back-to-back", 1), ("conversations", 8), ("conversations", 32), ("back-to-back", 8), ("back-to-back", 32))


# Each simulated conversation is a person on their own machine: the desks trust this header
# (PCN_TRUSTED_PROXY_HEADER, as behind a reverse proxy), so the per-client rate limit of the
# channel counts each conversation apart instead of refusing the whole benchmark (one address).
# The environment is spelt out (not start_desk(many_people=True)): a baseline checkout may predate it.
CLIENT_HEADER = PEOPLE_HEADER
BENCH_ENV = {"PCN_TRUSTED_PROXY_HEADER": CLIENT_HEADER}


def post(url: str, sender: str, text: str, language: str) -> float:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"language": language}}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json",
                                                              CLIENT_HEADER: client_address(sender)})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(child) for child in children)
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return total / 1024


def run_load(url: str, concurrency: int, requests: int, think: float = 0.0) -> Dict[str, float]:
    """`concurrency` conversations, each sending messages in turn, `requests` in total.

    With ``think`` > 0 each conversation waits a think time after every reply."""
    per_worker = max(1, requests // concurrency)

    def conversation(worker: int) -> List[float]:
        rng = random.Random(worker)
        time.sleep(rng.uniform(0, think))  # people do not all start typing at the same instant
        latencies = []
        for i in range(per_worker):
            if i % len(MESSAGES) == 0:  # a new conversation every few messages (and under the rate limit)
                sender = f"bench-{uuid.uuid4().hex[:10]}"
            latencies.append(post(url, sender, *MESSAGES[i % len(MESSAGES)]))
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = [value for values in pool.map(conversation, range(concurrency)) for value in values]
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "rps": len(latencies) / elapsed,
    }


def _mean_of(results: List[Dict[str, float]]) -> Dict[str, float]:
    merged = {key: statistics.mean(r[key] for r in results) for key in ("p50_ms", "p95_ms", "rps")}
    merged["requests"] = sum(r["requests"] for r in results)
    return merged


def compare(desks: Dict[str, "Desk"], levels, requests: int, think: float, warm_up: int = 1,
            balanced: bool = False) -> list:
    """Runs every (load shape, concurrency) level on every desk, the desks interleaved at
    each level so that they all see the same machine load; returns (label, shape, n, result).

    ``balanced``: each level runs twice, in the order A B then B A (half the requests each),
    and the two results are averaged — on a shared machine whose load drifts, the desk
    that always went first would otherwise always see a different load."""
    for desk in desks.values():  # warm-up: models, spaCy, lingua, database connections (every worker)
        for k in range(warm_up):
            for text, language in MESSAGES:
                post(f"{desk.rasa_url}/webhooks/rest/webhook", f"warm-up-{k}", text, language)
    rows = []
    orders = [list(desks), list(reversed(list(desks)))] if balanced else [list(desks)]
    for shape, concurrency in levels:
        pause = think if shape == "conversations" else 0.0
        results: Dict[str, List[Dict[str, float]]] = {label: [] for label in desks}
        for order in orders:
            for label in order:
                result = run_load(f"{desks[label].rasa_url}/webhooks/rest/webhook", concurrency,
                                  requests // len(orders), pause)
                results[label].append(result)
                print(label, shape, concurrency, {k: round(v, 1) for k, v in result.items()}, flush=True)
        for label in desks:
            rows.append((label, shape, concurrency, _mean_of(results[label])))
    return rows


def alternating(desks: Dict[str, "Desk"], rounds: int = 300) -> Dict[str, float]:
    """One user, one request at a time, the desks alternating request by request: the
    fairest comparison on a machine whose load drifts (p50 ms per desk)."""
    latencies: Dict[str, List[float]] = {label: [] for label in desks}
    senders = {label: None for label in desks}
    for i in range(rounds):
        text, language = MESSAGES[i % len(MESSAGES)]
        order = list(desks) if i % 2 == 0 else list(reversed(list(desks)))
        for label in order:
            if i % len(MESSAGES) == 0:
                senders[label] = f"alt-{uuid.uuid4().hex[:10]}"
            latencies[label].append(post(f"{desks[label].rasa_url}/webhooks/rest/webhook", senders[label], text, language))
    return {label: 1000 * statistics.median(values) for label, values in latencies.items()}


def redaction_cpu_per_turn(desk: "Desk") -> Dict[str, float]:
    """CPU time of redacting what a desk stored raw, per user turn: the patterns the
    tracker store applies before each save (reply path) and the NER pass (off it)."""
    import sqlalchemy as sa

    from core.privacy import redact_event

    engine = sa.create_engine(desk.database_url, future=True, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = [json.loads(d) for d in connection.execute(sa.text("SELECT data FROM events")).scalars()]
    engine.dispose()
    turns = sum(1 for r in rows if r.get("event") == "user") or 1
    typed = [r for r in rows if r.get("event") in ("user", "slot", "entities")]
    redact_event({"event": "user", "text": "Jean Dupont"}, use_ner=True)   # load spaCy first
    out = {"turns": turns, "events": len(rows)}
    for name, events, ner in (("patterns_ms", rows, False), ("ner_pass_ms", typed, True)):
        started = time.perf_counter()
        for event in events:
            redact_event(event, use_ner=ner)
        out[name] = 1000 * (time.perf_counter() - started) / turns
    return out


# --compare: (column title, section of RESULTS.md, (label, environment) of the two desks, target)
COMPARISONS = {
    "log": ("enquiry log", "Latency, throughput, memory",
            (("log on", {"PCN_ENQUIRY_LOG": "1"}), ("log off", {"PCN_ENQUIRY_LOG": "0"})),
            "p95 <= 150 ms at 8 concurrent conversations"),
    "redaction": ("events at rest", "Latency: redaction before persisting",
                  (("redacted", {"PCN_TRACKER_REDACTION": "ner", "PCN_RETENTION_START_DELAY_S": "1"}),
                   ("raw", {"PCN_TRACKER_REDACTION": "off", "PCN_RETENTION_START_DELAY_S": "1"})),
                  "redacted / raw <= 1.1x p50"),
}


def wait_for_start_up_work(desk: "Desk", timeout: float = 180.0) -> None:
    """The action server's first retention run (and NER catch-up) is a one-off at start:
    measure after it, in steady state."""
    import sqlalchemy as sa

    engine = sa.create_engine(desk.database_url, future=True, poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.execute(sa.text("SELECT COUNT(*) FROM privacy_audit WHERE action = 'retention'")).scalar():
                    return
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise RuntimeError("the desk's start-up retention run did not happen")


class OtherCheckoutDesk:
    """A desk of another checkout, started by that checkout's own tests/servers.py in a child
    process (its code, its model, its database schema); stopped by closing the child's stdin."""

    SCRIPT = (
        "import json, sys\n"
        "from tests.servers import start_desk\n"
        "desk = start_desk(web=False, extra_env=json.loads(sys.argv[1]))\n"
        "print(json.dumps({'rasa_url': desk.rasa_url, 'pids': {k: p.pid for k, p in desk.processes.items()}}),"
        " flush=True)\n"
        "sys.stdin.read()\n"
        "desk.stop()\n"
    )

    def __init__(self, root: Path, extra_env: Dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(root)
        self.child = subprocess.Popen([sys.executable, "-c", self.SCRIPT, json.dumps(extra_env)], cwd=root, env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError(f"the desk of {root} did not start")
        started = json.loads(line)
        self.rasa_url = started["rasa_url"]
        self.pids = started["pids"]

    def stop(self) -> None:
        self.child.stdin.close()
        self.child.wait(timeout=60)


def at_the_same_time(desks: Dict[str, object], levels, requests: int, think: float) -> list:
    """Each level runs on all desks at once: whatever else the shared machine does then, both
    desks feel it (and each other) alike."""
    for desk in desks.values():
        for text, language in MESSAGES:
            post(f"{desk.rasa_url}/webhooks/rest/webhook", "warm-up", text, language)
    rows = []
    for shape, concurrency in levels:
        pause = think if shape == "conversations" else 0.0
        with ThreadPoolExecutor(max_workers=len(desks)) as pool:
            futures = {label: pool.submit(run_load, f"{desk.rasa_url}/webhooks/rest/webhook", concurrency, requests, pause)
                       for label, desk in desks.items()}
        for label, future in futures.items():
            rows.append((label, shape, concurrency, future.result()))
            print(label, shape, concurrency, {k: round(v, 1) for k, v in future.result().items()}, flush=True)
    return rows


def one_user_alternating(desks: Dict[str, object], rounds: int = 300) -> Dict[str, Dict[str, float]]:
    """One user, the desks alternating request by request: p50 and p95 per desk."""
    latencies: Dict[str, List[float]] = {label: [] for label in desks}
    senders: Dict[str, str] = {}
    for i in range(rounds):
        text, language = MESSAGES[i % len(MESSAGES)]
        for label in (list(desks) if i % 2 == 0 else list(reversed(list(desks)))):
            if i % len(MESSAGES) == 0:
                senders[label] = f"alt-{uuid.uuid4().hex[:10]}"
            latencies[label].append(1000 * post(f"{desks[label].rasa_url}/webhooks/rest/webhook", senders[label],
                                                text, language))
    return {label: {"p50_ms": statistics.median(values), "p95_ms": sorted(values)[int(0.95 * (len(values) - 1))]}
            for label, values in latencies.items()}


def compare_checkouts(baseline: Path, requests: int, think: float, write: bool) -> int:
    """Another checkout ("before") against this one ("after"), at the same time, then alternating."""
    desks: Dict[str, object] = {}
    try:
        desks["before"] = OtherCheckoutDesk(baseline, BENCH_ENV)
        desks["after"] = start_desk(web=False, extra_env=BENCH_ENV)
        rows = at_the_same_time(desks, LEVELS, requests, think)
        alternate = one_user_alternating(desks)
        print("alternating", alternate, flush=True)
        pids = {"before": desks["before"].pids, "after": {k: p.pid for k, p in desks["after"].processes.items()}}
        memory = {label: (rss_mb(p["rasa"]), rss_mb(p["actions"])) for label, p in pids.items()}
    finally:
        for desk in desks.values():
            desk.stop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=baseline, capture_output=True,
                            text=True).stdout.strip()
    lines = [
        f"Command: `.venv/bin/python bench/bench_latency.py --baseline <worktree of main at {commit}> "
        f"--requests {requests} --think {think:g} --write` — two desks on the REST channel, \"before\" running "
        "main's code and model, \"after\" this branch's; at each level both take their load at the same time, "
        f"then one user alternates between them request by request. \"conversations\": a think time of {think:g} s "
        "on average after each reply; \"back-to-back\": none. Target: p95 after <= 1.2 x p95 before.",
        "",
        "| desk | load | concurrent conversations | requests | p50 ms | p95 ms | requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, shape, concurrency, r in rows:
        lines.append(f"| {label} | {shape} | {concurrency} | {r['requests']} | {r['p50_ms']:.0f} | "
                     f"{r['p95_ms']:.0f} | {r['rps']:.1f} |")
    before = {(shape, c): r for label, shape, c, r in rows if label == "before"}
    after = {(shape, c): r for label, shape, c, r in rows if label == "after"}
    lines += ["", "p95 after / before: " + ", ".join(
        f"{shape} {c}: {after[shape, c]['p95_ms'] / before[shape, c]['p95_ms']:.2f}x" for shape, c in LEVELS)]
    lines += ["", "One user, the two desks alternating request by request (300 each): "
              f"before p50 {alternate['before']['p50_ms']:.1f} ms / p95 {alternate['before']['p95_ms']:.1f} ms, "
              f"after p50 {alternate['after']['p50_ms']:.1f} ms / p95 {alternate['after']['p95_ms']:.1f} ms: "
              f"**p95 {alternate['after']['p95_ms'] / alternate['before']['p95_ms']:.2f}x**, "
              f"p50 {alternate['after']['p50_ms'] / alternate['before']['p50_ms']:.2f}x."]
    lines += ["", "| desk | Rasa server RSS MB | action server RSS MB |", "|---|---|---|"]
    for label, (rasa_mb, actions_mb) in memory.items():
        lines.append(f"| {label} | {rasa_mb:.0f} | {actions_mb:.0f} |")
    publish("Latency before / after the situation reading (issue 10)", "\n".join(lines), write)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=240, help="requests per concurrency level")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time of a conversation (s)")
    parser.add_argument("--compare", choices=sorted(COMPARISONS), default="log",
                        help="what the two desks differ in (default: the enquiry log)")
    parser.add_argument("--write", action="store_true", help="write the section of bench/RESULTS.md")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with (before / after)")
    args = parser.parse_args()
    if args.baseline:
        return compare_checkouts(args.baseline.resolve(), args.requests, args.think, args.write)
    column, title, variants, target = COMPARISONS[args.compare]
    (on_label, _), (off_label, _) = variants

    desks = {}
    for label, environment in variants:
        desks[label] = start_desk(web=False, extra_env={**BENCH_ENV, **environment})
    cpu = alternate = None
    try:
        if args.compare == "redaction":
            for desk in desks.values():
                wait_for_start_up_work(desk)
        rows = compare(desks, LEVELS, args.requests, args.think, balanced=args.compare == "redaction")
        memory = {label: (rss_mb(d.processes["rasa"].pid), rss_mb(d.processes["actions"].pid)) for label, d in desks.items()}
        if args.compare == "redaction":
            alternate = alternating(desks)
            print("alternating", alternate, flush=True)
            cpu = redaction_cpu_per_turn(desks[off_label])
    finally:
        for desk in desks.values():
            desk.stop()

    option = "" if args.compare == "log" else f" --compare {args.compare}"
    lines = [
        f"Command: `.venv/bin/python bench/bench_latency.py{option} --requests {args.requests} --think {args.think:g} "
        f"--write` — REST channel, two desks side by side ({column}: {on_label} / {off_label}), same messages, "
        f"interleaved per level{' (each level twice, order A B then B A, averaged)' if args.compare == 'redaction' else ''}. "
        f"\"conversations\": a think time of {args.think:g} s on average after each reply; "
        f"\"back-to-back\": none (saturation). Target: {target}.",
        "",
        f"| {column} | load | concurrent conversations | requests | p50 ms | p95 ms | requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, shape, concurrency, r in rows:
        lines.append(f"| {label} | {shape} | {concurrency} | {r['requests']} | {r['p50_ms']:.0f} | "
                     f"{r['p95_ms']:.0f} | {r['rps']:.1f} |")
    lines += ["", f"| {column} | Rasa server RSS MB | action server RSS MB |", "|---|---|---|"]
    for label, (rasa_mb, actions_mb) in memory.items():
        lines.append(f"| {label} | {rasa_mb:.0f} | {actions_mb:.0f} |")
    on = {(shape, c): r for label, shape, c, r in rows if label == on_label}
    off = {(shape, c): r for label, shape, c, r in rows if label == off_label}
    lines += ["", f"Cost ({column}, p50 {on_label} / {off_label}): " + ", ".join(
        f"{shape} {c}: {on[shape, c]['p50_ms'] / off[shape, c]['p50_ms']:.2f}x" for shape, c in LEVELS)]
    if alternate:
        lines += ["", f"One user, the two desks alternating request by request (300 each): p50 {on_label} "
                  f"{alternate[on_label]:.1f} ms, {off_label} {alternate[off_label]:.1f} ms: "
                  f"**{alternate[on_label] / alternate[off_label]:.2f}x**."]
    if cpu:
        lines += ["", f"CPU time of the redaction itself, per user turn, measured on the {cpu['events']:.0f} raw events "
                  f"({cpu['turns']:.0f} turns) the \"{off_label}\" desk stored: **{cpu['patterns_ms']:.2f} ms** for the "
                  f"patterns the tracker store applies before each save (the reply path), {cpu['ner_pass_ms']:.2f} ms "
                  "for the NER pass the action server runs afterwards (off the reply path)."]
    text = "\n".join(lines)
    publish(title, text, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
