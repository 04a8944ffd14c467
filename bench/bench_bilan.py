"""Benchmark of the bilan's data (db/repositories/bilan.py) at 10k, 100k and 1M enquiries.

    .venv/bin/python bench/bench_bilan.py [--sizes 10000 100000 1000000] [--backends sqlite postgresql]
                                          [--pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres]
                                          [--repeat 3] [--write]

For each backend and size: a fresh database (SQLite file in a temp folder;
PostgreSQL database ``pcn_bench_<size>`` created on the server and dropped
afterwards unless --keep), the Alembic schema, then the synthetic generator of
``db/demo.py`` (2015 shares, ~1.45 questions and ~0.15 tickets per enquiry,
spread over twelve months) loaded in bulk: ``executemany`` in one
transaction on SQLite, ``COPY … FROM STDIN`` on PostgreSQL (with
``enquiries.category`` loaded directly and the row trigger off), then
``VACUUM ANALYZE`` / ``ANALYZE``. Then
``compute_bilan`` is timed over the twelve months (all rows) and over the
default six-month period: first (cold) call and the median of --repeat warm calls.
With --write the table replaces the "Bilan" section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import replace_section  # noqa: E402
from db import migrate  # noqa: E402
from db.demo import _reference, generate  # noqa: E402
from db.repositories.bilan import compute_bilan  # noqa: E402
from db.session import dispose_engine, get_engine  # noqa: E402

E_COLS = ["id", "conversation_id", "started_at", "ended_at", "channel", "language", "profile", "origin_country",
          "origin_group", "treatment_country", "outcome", "feedback_helpful", "user_turns", "fallback_turns", "category",
          "bilan_status"]
Q_COLS = ["id", "enquiry_id", "asked_at", "text_redacted", "intent", "confidence", "question_code", "category", "outcome"]
T_COLS = ["id", "reference", "idempotency_key", "enquiry_id", "conversation_id", "created_at", "updated_at", "status",
          "language", "category", "question_code", "profile", "origin_country", "origin_group", "treatment_country",
          "question_text", "contact_email", "consent_at", "transcript", "assignee_id", "first_response_at", "resolved_at",
          "channel"]
CHUNK = 50_000


def _days(today: dt.date) -> list[dt.date]:
    start = dt.date(today.year - 1, today.month, 1)
    return [start + dt.timedelta(days=k) for k in range((today.replace(day=1) - start).days)]


def _rows(n: int, today: dt.date, seed: int = 7):
    """Chunks of (enquiry tuples, question tuples, ticket tuples) with values as Python objects."""
    rng = random.Random(seed)
    qid = tid = 0
    e_buf, q_buf, t_buf = [], [], []
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.timezone.utc)
    for enquiry, questions, ticket in generate(n, _days(today), rng, prefix="bench", now=now):
        enquiry["category"] = next((q["category"] for q in questions if q["category"]), None)
        e_buf.append([enquiry[c] for c in E_COLS])
        for q in questions:
            qid += 1
            q["id"] = qid
            q_buf.append([q[c] for c in Q_COLS])
        if ticket:
            tid += 1
            ticket.update(id=tid, reference=_reference(tid, ticket["created_at"]), assignee_id=None)
            t_buf.append([ticket[c] for c in T_COLS])
        if len(e_buf) >= CHUNK:
            yield e_buf, q_buf, t_buf
            e_buf, q_buf, t_buf = [], [], []
    if e_buf:
        yield e_buf, q_buf, t_buf


def _sqlite_value(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


def _pg_value(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


def load(url: str, n: int, today: dt.date) -> tuple[float, dict]:
    engine = get_engine(url)
    counts = {"enquiries": 0, "questions": 0, "tickets": 0}
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            # enquiries.category is loaded with the rows: the per-row trigger (migration 0002) is not needed
            cur.execute("ALTER TABLE enquiry_questions DISABLE TRIGGER trg_enquiry_first_category")
        for e_rows, q_rows, t_rows in _rows(n, today):
            for table, cols, rows in (("enquiries", E_COLS, e_rows), ("enquiry_questions", Q_COLS, q_rows),
                                      ("tickets", T_COLS, t_rows)):
                if not rows:
                    continue
                if engine.dialect.name == "postgresql":
                    buf = io.StringIO()
                    w = csv.writer(buf)
                    for r in rows:
                        w.writerow([_pg_value(v) for v in r])
                    buf.seek(0)
                    cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)", buf)
                else:
                    cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                    [[_sqlite_value(v) for v in r] for r in rows])
                counts["enquiries" if table == "enquiries" else "questions" if table == "enquiry_questions" else "tickets"] += len(rows)
        if engine.dialect.name == "postgresql":
            cur.execute("ALTER TABLE enquiry_questions ENABLE TRIGGER trg_enquiry_first_category")
            for table in ("enquiry_questions", "tickets"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        raw.commit()
        if engine.dialect.name == "postgresql":  # what autovacuum does on a live server
            raw.set_isolation_level(0)
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0, counts


def time_bilan(url: str, start: dt.date, end: dt.date, repeat: int, compute=compute_bilan) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    b = compute(start, end, url=url)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        compute(start, end, url=url)
        warm.append(time.perf_counter() - t0)
    return cold, statistics.median(warm), b["total"]


def baseline(rev: str):
    """``compute_bilan`` as it was at git revision ``rev``, to time both on the same data and load."""
    import subprocess
    import types

    source = subprocess.run(["git", "show", f"{rev}:db/repositories/bilan.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("bilan_at_" + rev)
    exec(compile(source, f"{rev}:db/repositories/bilan.py", "exec"), module.__dict__)
    return module.compute_bilan


def pg_database(admin_url: str, name: str, drop: bool = False) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def write_results(lines: list[str], command: str, loads: tuple[float, float], base: str | None = None) -> None:
    body = [f"Command: `{command}`", "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.", "",
            "Every figure of the bilan page (totals, breakdowns with denominators, monthly trend, outcomes, rates, "
            "top question types, top unanswered questions, ticket counts, median and p90 first-response and "
            "resolution times) computed in SQL by `db.repositories.bilan.compute_bilan`. "
            "`12 months` = every row; `6 months` = the default period. Cold = first call on a new engine; warm = median of the next calls.", "",
            "Since issue 12 the generator also makes e-mail, phone, letter and walk-in requests and 15 % of sessions "
            "that are not requests (empty, garbage): `enquiries` counts all sessions, the bilan counts the requests "
            "(1,000,000 of the 1,150,000). The bilan adds the channel, country of treatment and satisfaction "
            "breakdowns, the sessions left out, the previous period, and top tables restricted to requests.", "",
            f"Machine load average (1 min): {loads[0]:.1f} at the start, {loads[1]:.1f} at the end (2 cores shared "
            "with other work; before issue 12 the bilan took 0.87 s at 1M on PostgreSQL, measured on a calmer machine).", "",
            "| backend | enquiries | questions | tickets | load (s) | 12 months cold (s) | 12 months warm (s) | 6 months warm (s) |"
            + (f" {base} 12 months warm (s) | {base} 6 months warm (s) |" if base else ""),
            "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if base else ""), *lines]
    if base:
        body += ["", f"The last two columns time `compute_bilan` as it was at `{base}` (before issue 12: every "
                 "session, no channel, no comparison) on the same data, in the same run, under the same load."]
    replace_section("Bilan", "\n".join(body))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    p.add_argument("--pg-admin-url", default=os.environ.get("PCN_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    p.add_argument("--write", action="store_true", help="write the Bilan section of bench/RESULTS.md")
    p.add_argument("--baseline", metavar="REV", help="also time compute_bilan of this git revision on the same data")
    args = p.parse_args(argv)
    today = dt.date.today()
    year_start = dt.date(today.year - 1, today.month, 1)
    year_end = today.replace(day=1) - dt.timedelta(days=1)
    six_start = dt.date(year_end.year if year_end.month > 5 else year_end.year - 1, (year_end.month - 6) % 12 + 1, 1)
    lines = []
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="pcn-bench-"))
    for backend in args.backends:
        for n in args.sizes:
            if backend == "sqlite":
                url = f"sqlite:///{tmp / f'bench_{n}.db'}"
            else:
                url = pg_database(args.pg_admin_url, f"pcn_bench_{n}")
            migrate.upgrade(url)
            load_s, counts = load(url, n, today)
            dispose_engine(url)
            cold, warm, total = time_bilan(url, year_start, year_end, args.repeat)
            _, warm6, total6 = time_bilan(url, six_start, year_end, args.repeat)
            line = (f"| {backend} | {counts['enquiries']:,} | {counts['questions']:,} | {counts['tickets']:,} | "
                    f"{load_s:.1f} | {cold:.3f} | {warm:.3f} | {warm6:.3f} |")
            if args.baseline:
                _, base12, _ = time_bilan(url, year_start, year_end, args.repeat, baseline(args.baseline))
                _, base6, _ = time_bilan(url, six_start, year_end, args.repeat, baseline(args.baseline))
                line += f" {base12:.3f} | {base6:.3f} |"
            print(line, f"(bilan totals {total} / {total6})", flush=True)
            lines.append(line)
            dispose_engine(url)
            if backend == "postgresql" and not args.keep:
                pg_database(args.pg_admin_url, f"pcn_bench_{n}", drop=True)
            elif backend == "sqlite":
                Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    if args.write:
        write_results(lines, "bench/bench_bilan.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                      (load_start, os.getloadavg()[0]), args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
