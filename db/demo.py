"""Synthetic demo data: a living desk on a fresh machine.

    python -m db.demo --months 7 --enquiries 274 [--seed 2015] [--add]

Fills ``enquiries``, ``enquiry_questions`` and ``tickets`` (plus replies,
notes and audit entries when demo agents exist) with enquiries that
reproduce the 2015 bilan's shares among known values — categories 67/9/14/10 %,
profiles 64/14/11/8.3/2.7 %, origins France 35.7 %, UK-BE-DE-ES-PL 38 %,
other member states 24.5 % — plus explicit "unknown" buckets:

* ``--enquiries`` N enquiries over the ``--months`` months ending with the
  last completed October (April–October for 7), as in the 2015 bilan;
* the same daily rate over the last six full months and the current month,
  where not already covered, so the dashboard's default period is alive.

Safe to re-run: demo rows are marked (``conversation_id`` starts with
``demo-``); when some exist the command refuses, unless ``--add`` is given,
which adds a new batch with fresh identifiers (nothing is duplicated).
The same generator feeds ``bench/bench_bilan.py``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import uuid
from typing import Iterator, Optional

from sqlalchemy import func, insert, select, text

UTC = dt.timezone.utc

# 2015 bilan shares (among known values) -------------------------------------
CATEGORY_SHARES = {"a": 67, "b": 9, "c": 14, "d": 10}
PROFILE_SHARES = {"IND": 64, "HCP": 14, "NCP": 11, "SSF": 8.3, "SSA": 2.7}
# 35.7 + 38 + 24.5 = 98.2 in 2015: the 1.8 left is split into CH and third countries.
ORIGIN_SHARES = {"FR": 35.7, "UK_BE_DE_ES_PL": 38.0, "OTHER_EU_EEA": 24.5, "CH": 1.0, "THIRD": 0.8}
P_UNKNOWN = {"category": 0.05, "profile": 0.08, "origin": 0.07}
COUNTRIES = {
    "FR": (["FR", "RE", "GP"], [96, 2, 2]),
    "UK_BE_DE_ES_PL": (["GB", "BE", "DE", "ES", "PL"], [22, 30, 22, 18, 8]),  # one source: demo weights
    "OTHER_EU_EEA": (["IT", "PT", "NL", "LU", "IE", "AT", "RO", "SE", "GR", "NO", "HU", "CZ"],  # one source: demo
                     [20, 16, 12, 10, 8, 6, 6, 5, 5, 4, 4, 4]),
    "CH": (["CH"], [1]),
    "THIRD": (["MA", "US", "DZ", "TN", "CA"], [30, 25, 20, 15, 10]),
}
QUESTION_CODES = {
    "a": ["A1", "A2", "A3", "A4", "A5", "A7", "A9", "A10", "A11", "A12", "A13", "A14"],
    "b": ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10"],
    "c": ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10"],
    "d": ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"],
}
# weights inside a category: the first codes are the frequent ones
CODE_WEIGHTS = {k: [max(1, 12 - i) for i in range(len(v))] for k, v in QUESTION_CODES.items()}
ROUTE_H = {"A10", "A11", "B3", "B7", "B8", "B10", "C4", "C8", "C10", "D8"}
SAMPLE_TEXT = {
    "fr": {
        "a": ["Ai-je le droit de me faire soigner en Espagne et d'être remboursé ?",
              "La directive s'applique-t-elle pour des soins en Belgique ?",
              "Mon ordonnance allemande est-elle valable en France ?"],
        "b": ["Comment demander une autorisation préalable pour une opération à l'étranger ?",
              "Qu'est-ce que le formulaire S2 et comment l'obtenir ?"],
        "c": ["Comment me faire rembourser des soins payés en Italie ?",
              "Cela fait des mois que j'attends mon remboursement, dossier [NUMÉRO]"],
        "d": ["Une opération de la cataracte en Belgique nécessite-t-elle une autorisation ?",
              "Puis-je aller dans une clinique privée à l'étranger ?"],
    },
    "en": {
        "a": ["Can I get treated in another EU country and be reimbursed?",
              "Does the directive cover treatment in Norway?"],
        "b": ["How do I apply for prior authorisation?", "What is the S2 form?"],
        "c": ["How do I claim back what I paid in Germany?", "My claim was rejected, how do I appeal?"],
        "d": ["Do I need authorisation for an MRI abroad?", "Can I use a private clinic abroad?"],
    },
}
UNANSWERED = {
    "fr": ["quel temps fait-il à [LIEU] ?", "comment déclarer mes impôts", "ma pension de retraite n'est pas versée",
           "je veux parler à [PERSONNE]", "détachement de travailleurs", "prix d'un billet d'avion",
           "mon numéro est [NIR]"],
    "en": ["what's the weather in [PLACE]", "how do I file my taxes", "my pension has not been paid",
           "posting of workers", "cheap flights to Paris"],
}
# Sessions that are not requests (core/requests.py): shown apart in the bilan.
GARBAGE = ["bonjour ?", "hello?", "test", "asdf", "<script>alert(1)</script>", "=1+1", "{{7*7}}"]
EXCLUDED_SHARE = 0.15  # extra sessions per request: empty (greetings only) or garbage
# Channels of the requests: mostly the chat, then e-mail and phone (the 2015 requests came by mail and phone).
CHANNEL_SHARES = {"web": 70, "rest": 3, "email": 16, "phone": 8, "letter": 2, "walk_in": 1}
AGENT_CHANNELS = ("phone", "letter", "walk_in")


def _quota(rng: random.Random, n: int, shares: dict, p_unknown: float, unknown) -> list:
    """n values with exactly the given shares (largest remainder) plus an unknown share, shuffled.

    Quotas rather than independent draws: even 274 demo enquiries show the 2015
    percentages among known values, as the bilan reported them.
    """
    n_unknown = round(n * p_unknown)
    known = n - n_unknown
    total = sum(shares.values())
    exact = [known * v / total for v in shares.values()]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[: known - sum(counts)]:
        counts[i] += 1
    out = [unknown] * n_unknown
    for code, c in zip(shares, counts):
        out.extend([code] * c)
    rng.shuffle(out)
    return out


def _pick(rng: random.Random, shares: dict) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


QUEUE_TICKETS = 8


def _month_add(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


def demo_windows(months: int = 7, today: Optional[dt.date] = None) -> tuple[tuple[dt.date, dt.date], list[dt.date]]:
    """(bilan window [first, last day]), extra recent days not in it (up to yesterday)."""
    today = today or dt.datetime.now(UTC).date()
    year = today.year if today >= dt.date(today.year, 11, 1) else today.year - 1
    end = dt.date(year, 10, 31)
    start = _month_add(dt.date(year, 11, 1), -months)
    recent_start = _month_add(today.replace(day=1), -6)
    extra = []
    d = recent_start
    while d < today:
        if not (start <= d <= end):
            extra.append(d)
        d += dt.timedelta(days=1)
    return (start, end), extra


def _timestamp(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 8, 10, 10, 9, 8, 6, 5, 4, 3, 2, 1])[0]
    return dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                       rng.randrange(1_000_000), tzinfo=UTC)


def _days_weighted(rng: random.Random, days: list[dt.date], n: int) -> list[dt.date]:
    weights = [1.0 if d.weekday() < 5 else 0.35 for d in days]
    return rng.choices(days, weights=weights, k=n)


def generate(n: int, days: list[dt.date], rng: random.Random, *, prefix: str = "demo",
             now: Optional[dt.datetime] = None, escalate_all: bool = False) -> Iterator[tuple[dict, list[dict], Optional[dict]]]:
    """Yield (enquiry, questions, ticket or None) as column dicts, ids for enquiries only."""
    now = now or dt.datetime.now(UTC)
    cats = _quota(rng, n, CATEGORY_SHARES, P_UNKNOWN["category"], None)
    channels = _quota(rng, n, CHANNEL_SHARES, 0, None)
    profiles = _quota(rng, n, PROFILE_SHARES, P_UNKNOWN["profile"], "UNK")
    groups = _quota(rng, n, ORIGIN_SHARES, P_UNKNOWN["origin"], "UNKNOWN")
    for i, day in enumerate(sorted(_days_weighted(rng, days, n))):
        started = min(_timestamp(rng, day), now - dt.timedelta(hours=2))  # never in the future
        lang = "fr" if rng.random() < 0.78 else "en"
        eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        profile, group, category, channel = profiles[i], groups[i], cats[i], channels[i]
        country = None
        if group != "UNKNOWN":
            codes, weights = COUNTRIES[group]
            country = rng.choices(codes, weights=weights)[0]
        categorised = category is not None
        n_q = rng.choices([1, 2, 3], weights=[62, 28, 10])[0] if channel in ("web", "rest") else 1
        questions = []
        t = started + dt.timedelta(seconds=rng.randint(5, 60))
        fallback = 0
        escalate = False
        for k in range(n_q if categorised else rng.choice([1, 2])):
            if category and (k == 0 or rng.random() < 0.7):
                cat = category if k == 0 else (category if rng.random() < 0.75 else _pick(rng, CATEGORY_SHARES))
                code = rng.choices(QUESTION_CODES[cat], weights=CODE_WEIGHTS[cat])[0]
                outcome = "handoff_offered" if code in ROUTE_H or rng.random() < 0.06 else "answered"
                escalate = escalate or (outcome == "handoff_offered" and rng.random() < 0.8)
                questions.append({"enquiry_id": eid, "asked_at": t, "text_redacted": rng.choice(SAMPLE_TEXT[lang][cat]),
                                  "intent": f"q_{code.lower()}", "confidence": round(rng.uniform(0.55, 0.99), 3),
                                  "question_code": code, "category": cat, "outcome": outcome})
            else:
                outcome = "not_understood" if rng.random() < 0.6 else "out_of_scope"
                fallback += outcome == "not_understood"
                questions.append({"enquiry_id": eid, "asked_at": t, "text_redacted": rng.choice(UNANSWERED[lang]),
                                  "intent": "nlu_fallback" if outcome == "not_understood" else "out_of_scope",
                                  "confidence": round(rng.uniform(0.1, 0.5), 3), "question_code": None,
                                  "category": None, "outcome": outcome})
            t += dt.timedelta(seconds=rng.randint(20, 240))
        if not categorised and rng.random() < 0.25:
            escalate = True  # "I want a human" after failed fallbacks
        escalate = escalate or escalate_all or channel == "email" or (channel in AGENT_CHANNELS and rng.random() < 0.15)
        if channel in AGENT_CHANNELS or channel == "email":  # an agent answers: one question, no feedback
            for q in questions:
                q["outcome"] = "handoff_offered" if escalate else ("answered" if q["category"] else "out_of_scope")
            fallback = 0
        if escalate:
            e_outcome = "escalated"
        elif channel in AGENT_CHANNELS:
            e_outcome = "answered_by_agent"
        elif any(q["outcome"] == "answered" for q in questions):
            e_outcome = "answered" if rng.random() > 0.06 else "abandoned"
        elif any(q["outcome"] == "not_understood" for q in questions):
            e_outcome = "not_understood"
        else:
            e_outcome = "out_of_scope"
        chat = channel in ("web", "rest")
        enquiry = {"id": eid, "conversation_id": f"{prefix}-{eid[:12]}", "started_at": started,
                   "ended_at": t + dt.timedelta(seconds=rng.randint(10, 120)), "channel": channel, "language": lang,
                   "profile": profile, "origin_country": country, "origin_group": group,
                   "treatment_country": rng.choice([None, "ES", "BE", "DE", "IT", "PT"]) if lang == "fr" else rng.choice([None, "FR"]),
                   "outcome": e_outcome,
                   "feedback_helpful": rng.choice([None, None, True, True, True, False]) if chat else None,
                   "user_turns": len(questions) + (rng.randint(1, 3) if chat else 0), "fallback_turns": fallback,
                   "bilan_status": "request"}
        ticket = None
        if escalate:
            created = t + dt.timedelta(seconds=rng.randint(30, 300))
            first_q = next((q for q in questions if q["category"]), questions[0])
            age_h = (now - created).total_seconds() / 3600
            fr = created + dt.timedelta(hours=rng.lognormvariate(2.9, 0.9))  # median ≈ 18 h
            res = fr + dt.timedelta(hours=rng.lognormvariate(3.6, 1.0))      # median ≈ 1.5 d more
            if fr > now or (age_h < 24 * 7 and rng.random() < 0.6):
                status, fr, res = ("new" if rng.random() < 0.6 else "open"), None, None
            elif res > now or (age_h < 24 * 21 and rng.random() < 0.5):
                status, res = "waiting", None
            else:
                status = "resolved"
            ticket = {
                "idempotency_key": f"{prefix}-{eid}", "enquiry_id": eid, "conversation_id": enquiry["conversation_id"],
                "created_at": created, "updated_at": res or fr or created, "status": status, "language": lang,
                "category": first_q["category"], "question_code": first_q["question_code"],
                "profile": profile, "origin_country": country, "origin_group": group,
                "treatment_country": enquiry["treatment_country"], "question_text": first_q["text_redacted"],
                "contact_email": f"demandeur.{eid[:8]}@example.org", "consent_at": created,
                "transcript": [
                    {"sender": "user", "text": q["text_redacted"], "at": q["asked_at"].isoformat()} for q in questions
                ] + [{"sender": "bot", "text": "Je transmets votre demande à un agent du PCN." if lang == "fr"
                      else "I am passing your request to an NCP adviser.", "at": created.isoformat()}],
                "first_response_at": fr, "resolved_at": res, "channel": channel,
            }
            if not chat:
                ticket["transcript"] = []
            if status == "resolved" and (profile == "UNK" or country is None):
                # resolving requires the fields: the agent completed them
                ticket["profile"] = profile if profile != "UNK" else "IND"
                if country is None:
                    ticket["origin_country"], ticket["origin_group"] = "FR", "FR"
        yield enquiry, questions, ticket
    for _ in range(round(n * EXCLUDED_SHARE) if not escalate_all else 0):
        yield _excluded_session(rng, rng.choice(days), prefix, now)


def _excluded_session(rng: random.Random, day: dt.date, prefix: str, now: dt.datetime):
    """A chat session the bilan does not count: nothing asked, or only garbage (core/requests.py)."""
    started = min(_timestamp(rng, day), now - dt.timedelta(hours=2))
    eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    questions = []
    if rng.random() < 0.5:
        questions.append({"enquiry_id": eid, "asked_at": started + dt.timedelta(seconds=20),
                          "text_redacted": rng.choice(GARBAGE), "intent": "nlu_fallback", "confidence": 0.2,
                          "question_code": None, "category": None, "outcome": "not_understood"})
    enquiry = {"id": eid, "conversation_id": f"{prefix}-{eid[:12]}", "started_at": started,
               "ended_at": started + dt.timedelta(seconds=40), "channel": "web", "language": "fr",
               "profile": "UNK", "origin_country": None, "origin_group": "UNKNOWN", "treatment_country": None,
               "outcome": "not_understood" if questions else "abandoned", "feedback_helpful": None,
               "user_turns": len(questions), "fallback_turns": len(questions),
               "bilan_status": "garbage" if questions else "empty"}
    return enquiry, questions, None


def _reference(ticket_id: int, created: dt.datetime) -> str:
    return f"PCN-{created.astimezone(UTC).year:04d}-{ticket_id:06d}"


def _next_id(conn, table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar()) + 1


def _fix_sequences(conn, tables) -> None:
    if conn.dialect.name != "postgresql":
        return
    for t in tables:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                          f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {t.name}), 1))"))


def fill(n_enquiries: int = 274, months: int = 7, *, seed: int = 2015, add: bool = False,
         url: Optional[str] = None, today: Optional[dt.date] = None, batch: int = 5000) -> dict:
    """Insert the demo batch; returns counts. Raises RuntimeError if demo data exists and not ``add``."""
    from db.models import DeskUser, Enquiry, EnquiryQuestion, Ticket, TicketAudit, TicketMessage
    from db.session import get_engine

    engine = get_engine(url)
    E, Q, T = Enquiry.__table__, EnquiryQuestion.__table__, Ticket.__table__
    M, A = TicketMessage.__table__, TicketAudit.__table__
    with engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(E).where(E.c.conversation_id.like("demo%-%"))).scalar()
    if existing and not add:
        raise RuntimeError(f"{existing} demo enquiries already in the database: nothing added (use --add for another batch)")
    prefix = "demo" if not existing else f"demo{uuid.uuid4().hex[:6]}"
    rng = random.Random(seed if not existing else seed + int(existing))
    (w_start, w_end), extra = demo_windows(months, today)
    window = [w_start + dt.timedelta(days=k) for k in range((w_end - w_start).days + 1)]
    n_extra = round(n_enquiries * len(extra) / len(window)) if extra else 0
    # A few escalations of the last days, so that the agents' queue is never empty,
    # whatever today's date (outside the bilan window when possible).
    day = today or dt.datetime.now(UTC).date()
    last_days = [day - dt.timedelta(days=k) for k in range(5, -1, -1)]
    queue_days = [d for d in last_days if not (w_start <= d <= w_end)] or last_days[-1:]
    counts = {"enquiries": 0, "questions": 0, "tickets": 0, "window": (w_start.isoformat(), w_end.isoformat())}
    # ticket statuses are drawn as seen on `today` (the real now when today is today)
    now = min(dt.datetime.now(UTC), dt.datetime.combine(day, dt.time(23, 59), tzinfo=UTC))
    with engine.begin() as conn:
        agents = [r[0] for r in conn.execute(select(DeskUser.__table__.c.id).where(
            DeskUser.__table__.c.role == "agent", DeskUser.__table__.c.active.is_(True)))]
        next_ticket = _next_id(conn, T)
        buf_e, buf_q, buf_t, buf_m, buf_a = [], [], [], [], []

        def flush():
            if buf_e:
                conn.execute(insert(E), buf_e)
            if buf_q:
                conn.execute(insert(Q), buf_q)
            if buf_t:
                conn.execute(insert(T), buf_t)
            if buf_m:
                conn.execute(insert(M), buf_m)
            if buf_a:
                conn.execute(insert(A), buf_a)
            for b in (buf_e, buf_q, buf_t, buf_m, buf_a):
                b.clear()

        batches = ((n_enquiries, window, False), (n_extra, extra, False), (QUEUE_TICKETS, queue_days, True))
        for n, days, escalate_all in batches:
            if n <= 0 or not days:
                continue
            for enquiry, questions, ticket in generate(n, days, rng, prefix=prefix, now=now, escalate_all=escalate_all):
                buf_e.append(enquiry)
                buf_q.extend(questions)
                counts["enquiries"] += 1
                counts["questions"] += len(questions)
                if ticket:
                    ticket["id"] = next_ticket
                    ticket["reference"] = _reference(next_ticket, ticket["created_at"])
                    next_ticket += 1
                    agent = rng.choice(agents) if agents and ticket["status"] != "new" else None
                    ticket["assignee_id"] = agent
                    buf_t.append(ticket)
                    counts["tickets"] += 1
                    buf_a.append({"ticket_id": ticket["id"], "at": ticket["created_at"], "user_id": None,
                                  "action": "created", "detail": {"source": "demo"}})
                    if agent and ticket["first_response_at"]:
                        subject = f"[{ticket['reference']}] " + ("Votre demande au Point de contact national"
                                                                 if ticket["language"] == "fr" else "Your enquiry to the National Contact Point")
                        buf_m.append({"ticket_id": ticket["id"], "created_at": ticket["first_response_at"], "kind": "reply",
                                      "author_id": agent, "subject": subject, "email_status": "sent",
                                      "body": "Bonjour, voici les informations demandées…" if ticket["language"] == "fr"
                                      else "Hello, here is the information you asked for…"})
                        buf_a.append({"ticket_id": ticket["id"], "at": ticket["first_response_at"], "user_id": agent,
                                      "action": "replied", "detail": {"email_status": "sent", "source": "demo"}})
                if len(buf_e) >= batch:
                    flush()
        flush()
        _fix_sequences(conn, (T, Q, M, A))
    return counts


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m db.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--months", type=int, default=7, help="length of the bilan window ending with the last October (default 7: April–October)")
    p.add_argument("--enquiries", type=int, default=274, help="enquiries in that window (default 274, as in 2015)")
    p.add_argument("--seed", type=int, default=2015)
    p.add_argument("--add", action="store_true", help="add another batch even if demo data exists")
    p.add_argument("--url", default=None, help="database URL (default PCN_DATABASE_URL)")
    args = p.parse_args(argv)
    if args.enquiries <= 0 or args.months <= 0:
        p.error("--months and --enquiries must be positive")
    try:
        counts = fill(args.enquiries, args.months, seed=args.seed, add=args.add, url=args.url)
    except RuntimeError as exc:
        print(f"db.demo: {exc}", file=sys.stderr)
        return 0
    print(f"db.demo: {counts['enquiries']} enquiries, {counts['questions']} questions, {counts['tickets']} tickets "
          f"(bilan window {counts['window'][0]} → {counts['window'][1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
