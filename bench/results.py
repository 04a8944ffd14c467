"""bench/RESULTS.md is made of "## <title>" sections, each written by one script."""
from __future__ import annotations

import datetime
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nEach section is written by the script named in it, with the command that produced it.\n"


def replace_section(title: str, body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    stamp = f"_Measured {datetime.date.today().isoformat()} on {platform.node() or 'this machine'} (2 cores, shared)._"
    section = f"## {title}\n\n{stamp}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def publish(title: str, text: str, write: bool) -> None:
    """Prints a benchmark's section and, with --write, stores it in RESULTS.md."""
    print(text)
    if write:
        replace_section(title, text)
