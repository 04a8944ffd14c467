"""Where one turn's time goes (one user): NLU parse alone, a rule reply, a question.

    .venv/bin/python bench/probe_turn_cost.py

Prints p50 latencies; used for the analysis under "Latency, throughput, memory".
"""
from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import TOKEN, start_desk  # noqa: E402

QUESTION = "Faut-il une autorisation préalable pour une IRM en Allemagne ?"


def p50(function, runs: int = 30) -> float:
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        latencies.append(1000 * (time.perf_counter() - started))
    return statistics.median(latencies)


def main() -> int:
    desk = start_desk(web=False)
    try:
        for text in ("merci", QUESTION):  # warm-up
            desk.send("warm-up", text)

        def parse() -> None:
            request = urllib.request.Request(f"{desk.rasa_url}/model/parse?token={TOKEN}",
                                             data=json.dumps({"text": QUESTION}).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request).read()

        def turn(text: str):
            return lambda: desk.send(f"probe-{uuid.uuid4().hex[:8]}", text)

        print(f"NLU parse only      p50 {p50(parse):.0f} ms")
        print(f"'merci' (rule)      p50 {p50(turn('merci')):.0f} ms")
        print(f"question (answer)   p50 {p50(turn(QUESTION)):.0f} ms")
    finally:
        desk.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
