"""Mails ingested per second: through the desk's SMTP receiver and from an IMAP mailbox (Dovecot).

    .venv/bin/python bench/bench_mail.py [--mails 200] [--backends sqlite postgresql] [--write]

For each backend: a fresh database; the classifier loaded once (as `python -m
mail` does at start); N distinct realistic FR/EN mails (a question of a few
lines, one in five with a small PDF). SMTP: one client sends them one after
the other on one connection to ``mail.smtp_server`` (each 250 comes after the
mail is stored: ticket, enquiry, acknowledgement in the outbox). IMAP: the N
mails are appended to a throwaway Dovecot, then one ``poll_once`` stores them
all. Figures: mails per second and the median time per mail; the part spent
in redaction and classification is measured apart on the same mails.
With --write the table replaces the "Mail ingestion" section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import random
import smtplib
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_bilan import pg_database  # noqa: E402
from bench.results import publish  # noqa: E402

QUESTIONS = [
    ("fr", "Remboursement de soins en Espagne", "Bonjour,\nj'ai payé des soins dentaires à Madrid le mois dernier. "
     "Comment me faire rembourser par ma caisse ? Faut-il envoyer les factures originales ?\nMerci"),
    ("fr", "Autorisation préalable", "Bonjour, je dois me faire opérer de la hanche en Belgique. Dois-je demander "
     "une autorisation préalable avant ? Combien de temps faut-il pour la réponse ?"),
    ("fr", "Carte européenne", "Bonjour, je pars en vacances en Italie, ma carte européenne a expiré, que faire ?"),
    ("en", "Prior authorisation", "Hello, I live in France and want to have an MRI in Germany. Do I need prior "
     "authorisation from my insurer?"),
    ("en", "Prescription", "Hello, will a pharmacy in France accept a prescription written by my doctor in Ireland?"),
]
PDF = b"%PDF-1.4\n" + b"0" * 20_000


def make_mails(n: int, seed: int = 12) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lang, subject, body = rng.choice(QUESTIONS)
        msg = EmailMessage()
        msg["From"], msg["To"] = f"person{i}@example.org", "pcn@cleiss.example"
        msg["Subject"], msg["Message-ID"] = subject, f"<bench-{i}-{rng.getrandbits(32)}@example.org>"
        msg.set_content(body)
        if i % 5 == 0:
            msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="facture.pdf")
        out.append(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))  # as on the wire
    return out


def _database(backend: str, admin_url: str, tmp: Path, name: str) -> str:
    from db import migrate

    url = f"sqlite:///{tmp / (name + '.db')}" if backend == "sqlite" else pg_database(admin_url, name)
    migrate.upgrade(url)
    os.environ["PCN_DATABASE_URL"] = url
    return url


def bench_smtp(mails: list[bytes]) -> list[float]:
    from mail import smtp_server
    from tests.mailservers import free_port

    port = free_port()
    controller = smtp_server.start(host="127.0.0.1", port=port)
    times = []
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for raw in mails:
                t0 = time.perf_counter()
                client.sendmail("x@example.org", ["pcn@cleiss.example"], raw)
                times.append(time.perf_counter() - t0)
    finally:
        controller.stop()
    return times


def bench_imap(mails: list[bytes]) -> float:
    from mail import imap_poller
    from tests.mailservers import start_dovecot

    with start_dovecot() as server:
        for raw in mails:
            server.append(raw)
        cfg = imap_poller.ImapSettings(host="127.0.0.1", port=server.port, use_ssl=False, user=server.user,
                                       password=server.password, mailbox="INBOX")
        t0 = time.perf_counter()
        handled = imap_poller.poll_once(cfg, limit=len(mails))
        elapsed = time.perf_counter() - t0
        assert handled == len(mails), (handled, len(mails))
    return elapsed


def understanding_cost(mails: list[bytes]) -> float:
    """Median seconds per mail spent in redaction + language + classification (the CPU part)."""
    from core.language import detect_language
    from core.privacy import redact
    from mail import classify
    from mail.parse import parse

    times = []
    for raw in mails[:50]:
        p = parse(raw)
        t0 = time.perf_counter()
        redact(p.subject), redact(p.text)
        detect_language(p.subject + "\n" + p.text)
        classify.suggest(p.subject + "\n" + p.text)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mails", type=int, default=200)
    p.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    p.add_argument("--pg-admin-url", default=os.environ.get("PCN_BENCH_PG_ADMIN_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("PCN_SPOOL_DIR", tempfile.mkdtemp(prefix="pcn-bench-spool-"))
    from core.privacy import redact
    from db.session import dispose_engine
    from mail import classify

    classify.load_pipeline()  # once, as the mail process does at start
    redact("Bonjour Marie Dupont")  # spaCy loaded once too
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="pcn-bench-mail-"))
    cost = understanding_cost(make_mails(50, seed=3))
    lines = []
    for backend in args.backends:
        for source in ("smtp", "imap"):
            name = f"pcn_bench_mail_{source}"
            url = _database(backend, args.pg_admin_url, tmp, name)
            mails = make_mails(args.mails, seed=hash((backend, source)) & 0xFFFF)
            if source == "smtp":
                per_mail = bench_smtp(mails)
                total = sum(per_mail)
                median_ms = 1000 * statistics.median(per_mail)
            else:
                total = bench_imap(mails)
                median_ms = 1000 * total / len(mails)
            lines.append(f"| {backend} | {source.upper()} | {len(mails)} | {total:.1f} | {len(mails) / total:.1f} | "
                         f"{median_ms:.0f} |")
            print(lines[-1], flush=True)
            dispose_engine(url)
            if backend == "postgresql":
                pg_database(args.pg_admin_url, name, drop=True)
    command = "bench/bench_mail.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        f"Command: `.venv/bin/python {command}`", "",
        "Each mail is stored whole before it counts: parsed, redacted (spaCy NER), language detected, classified "
        "by the assistant's model, then enquiry + ticket + acknowledgement (outbox) + first message + attachment in "
        "the database. SMTP: one client, one connection, mails one after the other (the 250 comes after the commit). "
        "IMAP: N mails waiting in a Dovecot mailbox, one poll (fetch, store, mark seen). One mail in five carries a "
        "20 KB PDF.", "",
        "| backend | source | mails | seconds | mails/s | ms per mail (median) |",
        "|---|---|---:|---:|---:|---:|", *lines, "",
        f"Of which redaction + language + classification: {1000 * cost:.0f} ms per mail (median, same kind of mails). "
        f"Machine load average (1 min) {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after, on 2 cores "
        "shared with other work: the figures vary by a factor of about 2 from run to run.",
    ])
    publish("Mail ingestion", text, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
