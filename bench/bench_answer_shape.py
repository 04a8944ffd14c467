"""Words and bubbles of an answer turn, through Rasa's REST channel, before and after.

Starts a real desk (action server + Rasa server, temporary SQLite database,
trained model) for this checkout and, with ``--before PATH``, for another
checkout (an older commit with its own trained model), then asks every
question type both desks know, in French and in English, and counts what the
person receives in the turn that answers:

* bubbles: the text messages of the turn (a `custom` message for the widget
  is not a bubble; Rasa splits a text at blank lines, each part is one);
* words: every word of those bubbles (button titles excluded; French spaced
  punctuation is not a word, ``actions.answer_text.words``);
* first bubble: the words of the first one, what a phone shows at once.

Each conversation asks two question types in turn (the first answer of a
conversation and a later one differ: greeting lines, surveys). The questions
are sent as intent payloads ("/q_c1_how_to_claim") so that both desks answer
the same type whatever their classifier. When a desk first asks "Where are
you insured?", the reply "France" is sent and the answer turn is the one
after it (such turns are counted apart).

    .venv/bin/python bench/bench_answer_shape.py [--before /tmp/pcn-5fa4864] [--write]

To build the "before" checkout of commit 5fa4864 (same NLU data and domain as
main's trained model):

    mkdir -p /tmp/pcn-5fa4864 && git archive 5fa4864 | tar -x -C /tmp/pcn-5fa4864
    ln -s $PWD/.venv /tmp/pcn-5fa4864/.venv && mkdir /tmp/pcn-5fa4864/models
    cp models/pcn.tar.gz /tmp/pcn-5fa4864/models/    # or train it there: (cd /tmp/pcn-5fa4864 && .venv/bin/python -m bot.train)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from actions.answer_text import every_key, render, words  # noqa: E402
from core.content import load_answers  # noqa: E402
from bench.results import publish  # noqa: E402
from tests.servers import TOKEN, Desk, _ready, free_port, start_desk  # noqa: E402

LANGUAGES = ("fr", "en")
# Each conversation comes from its own address (the header the desk trusts behind its proxy),
# as people do: the edge's per-address rate limit then counts conversations, not this benchmark.
CLIENT_HEADER = "X-Forwarded-For"
INSURED_IN_FRANCE = '/inform{"insured_country": "FR", "country": "FR"}'


def question_intents(root: Path) -> Dict[str, str]:
    """{code: intent} of a checkout's content/answers."""
    intents = {}
    for path in sorted((root / "content" / "answers").glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["question_types"]:
            intents[raw["code"]] = raw["intent"]
    return intents


def shape(replies: List[dict]) -> Tuple[int, int, int]:
    """(bubbles, words, words of the first bubble) of one turn."""
    bubbles = [r["text"] for r in replies if (r.get("text") or "").strip()]
    return len(bubbles), sum(words(b) for b in bubbles), (words(bubbles[0]) if bubbles else 0)


def asks_where_insured(replies: List[dict]) -> bool:
    return any(b.get("payload") == INSURED_IN_FRANCE for r in replies for b in r.get("buttons") or [])


def measure(desk: Desk, intents: Dict[str, str], codes: List[str], language: str) -> Dict[str, list]:
    turns: Dict[str, list] = {"answer": [], "clarifying": []}
    for index, (first, second) in enumerate(zip(codes[0::2], codes[1::2] + codes[:1])):
        sender = f"bench-shape-{uuid.uuid4().hex[:10]}"
        address = {CLIENT_HEADER: f"10.0.{index // 250}.{index % 250 + 1}"}
        for code in (first, second):
            replies = desk.send(sender, f"/{intents[code]}", language, headers=address)
            if asks_where_insured(replies):
                turns["clarifying"].append(shape(replies))
                replies = desk.send(sender, INSURED_IN_FRANCE, language, headers=address)
            turns["answer"].append(shape(replies))
    return turns


def combinations() -> str:
    """Every first bubble this branch can say (type x language x variant x coverage note), from content."""
    firsts, separate = [], 0
    for qt in load_answers().values():
        for key, _ in every_key(qt):
            for language in LANGUAGES:
                rendered = render(key, language)
                firsts.append(words(rendered.first))
                separate += bool(rendered.note)
    return (f"Every first bubble this branch can say (question type x language x variant for the asker's "
            f"insurer x coverage note; `actions.answer_text.every_key`): {len(firsts)} combinations, median "
            f"{statistics.median(firsts):g} words, max {max(firsts)} (limit 90); in {separate} of them the "
            "coverage note does not fit and follows as its own bubble.")


def summary(values: List[int]) -> str:
    return f"{statistics.median(values):g} / {max(values)}"


def start_checkout(root: Path) -> Desk:
    """A desk from another checkout (an older commit), started as that commit's tests started it:
    its own code, model and migrations, on free ports and a temporary SQLite database."""
    workdir = Path(tempfile.mkdtemp(prefix="pcn-shape-"))
    rasa_port, actions_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(root), PCN_DATABASE_URL=f"sqlite:///{workdir / 'desk.db'}",
               PCN_SPOOL_DIR=str(workdir / "spool"), PCN_ACTION_ENDPOINT=f"http://127.0.0.1:{actions_port}/webhook",
               RASA_TELEMETRY_ENABLED="false")
    subprocess.run([sys.executable, "-m", "db", "upgrade"], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    desk = Desk(rasa_url=f"http://127.0.0.1:{rasa_port}", actions_url=f"http://127.0.0.1:{actions_port}",
                web_url="", database_url=env["PCN_DATABASE_URL"], workdir=workdir, env=env)
    commands = {
        "actions": [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(actions_port)],
        "rasa": [sys.executable, "-m", "rasa", "run", "--model", str(root / "models" / "pcn.tar.gz"),
                 "--port", str(rasa_port), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                 "--enable-api", "--auth-token", TOKEN],
    }
    for name, command in commands.items():
        log = open(workdir / f"{name}.log", "w")
        desk.processes[name] = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    for url in (f"{desk.actions_url}/health", f"{desk.rasa_url}/status?token={TOKEN}"):
        while not _ready(url):
            if time.monotonic() > deadline:
                desk.stop()
                raise SystemExit(f"the desk of {root} did not start:\n{desk.logs()}")
            time.sleep(1)  # a benchmark, not a test: polling the servers' readiness
    return desk


def run(root: Path, codes: List[str], label: str) -> List[str]:
    intents = question_intents(root)
    desk = (start_desk(web=False, extra_env={"PCN_TRUSTED_PROXY_HEADER": CLIENT_HEADER}) if root == ROOT
            else start_checkout(root))
    rows = []
    try:
        for language in LANGUAGES:
            turns = measure(desk, intents, codes, language)
            answers = turns["answer"]
            rows.append(
                f"| {label} | {language} | {len(answers)} | {summary([a[0] for a in answers])} | "
                f"{summary([a[1] for a in answers])} | {summary([a[2] for a in answers])} | "
                f"{len(turns['clarifying'])} |")
    finally:
        desk.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout of the desk, with models/pcn.tar.gz")
    parser.add_argument("--before-label", default="before (5fa4864)")
    parser.add_argument("--write", action="store_true", help="store the section in bench/RESULTS.md")
    args = parser.parse_args()

    codes = sorted(question_intents(ROOT), key=lambda c: (c[0], int(c[1:])))
    if args.before:
        codes = [c for c in codes if c in question_intents(args.before)]  # the types both desks know
    rows = []
    if args.before:
        rows += run(args.before.resolve(), codes, args.before_label)
    rows += run(ROOT, codes, "after (this branch)")

    command = ".venv/bin/python bench/bench_answer_shape.py" + (f" --before {args.before}" if args.before else "")
    text = "\n".join([
        f"Command: `{command} --write` (see the script's docstring for building the \"before\" checkout).",
        "",
        f"Every question type both desks know ({len(codes)}), sent as an intent payload, two per conversation "
        "(the first answer of a conversation and a later one), in French and English. An answer turn is "
        "what the person receives after the question (after \"France\" when the desk first asks where "
        "they are insured; those clarifying turns, one bubble each, are counted in the last column). "
        "Bubbles = text messages; words exclude button titles and French spaced punctuation. "
        "Figures: median / max.",
        "",
        "| desk | language | answer turns | bubbles per turn | words per turn | words of the first bubble | clarifying turns |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        combinations(),
    ])
    publish("Answer shape: words and bubbles per answer turn", text, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
