"""Exports open and their shares sum to 100 (largest remainder); HTML is self-contained."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict

import pytest
from openpyxl import load_workbook

from dashboard import exports
from db.demo import fill
from db.repositories.bilan import compute_bilan


@pytest.fixture(scope="module")
def bilan(tmp_path_factory):
    from db import migrate
    from db.session import dispose_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('exp') / 'exp.db'}"
    migrate.upgrade(url)
    fill(274, 7, url=url, today=dt.date(2026, 11, 28))
    b = compute_bilan(dt.date(2026, 4, 1), dt.date(2026, 10, 31), url=url)
    dispose_engine(url)
    return b


def test_csv_opens_in_french_excel_and_shares_sum_to_100(bilan):
    raw = exports.to_csv(bilan, "fr")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == ["Rubrique", "Code", "Libellé", "Nombre", "Dénominateur", "Part (%)"]
    assert all(len(r) == 6 for r in body)  # one field per column, never one long column
    sums, counts = defaultdict(float), defaultdict(int)
    for section, _code, _label, count, den, share in body:
        if share:
            assert "." not in share and den == "274"  # decimal comma
            sums[section] += float(share.replace(",", "."))
            counts[section] += int(count)
    assert set(sums) == {"Par catégorie", "Par profil", "Par origine", "Par canal", "Par pays de soins",
                         "Satisfaction (« Cette réponse vous a-t-elle été utile ? »)", "Par issue"}
    for sec in sums:
        assert round(sums[sec], 6) == 100.0 and counts[sec] == 274
    summary = {r[2]: r[3] for r in body if r[0] == "Résumé"}
    assert summary["Demandes"] == "274" and summary["Début de période"] == "2026-04-01"
    assert "," in summary["Taux d'escalade (%)"] and summary["Sessions non comptées"] == str(
        sum(r["count"] for r in bilan["excluded"]))
    assert any(r[0] == "Par origine" and r[2] == "Inconnu" for r in body)
    english = list(csv.reader(io.StringIO(exports.to_csv(bilan, "en").decode("utf-8-sig"))))
    assert english[0][2] == "Label" and any(r[2] == "Enquiries" for r in english)


def test_xlsx_is_labelled_and_shares_sum_to_100(bilan):
    wb = load_workbook(io.BytesIO(exports.to_xlsx(bilan, "en")))
    assert {"Summary", "By category", "By profile", "By origin", "By channel", "By country of treatment",
            "Sessions not counted", "Monthly trend", "Previous period"} <= set(wb.sheetnames)
    assert [c.value for c in wb["By category"][1]] == ["Code", "Label", "Count", "Denominator", "Share (%)"]
    for sec in ("By category", "By profile", "By origin", "By outcome", "By channel", "By country of treatment"):
        values = list(wb[sec].iter_rows(min_row=2, values_only=True))
        body, total = values[:-1], values[-1]
        assert round(sum(r[4] for r in body), 6) == 100
        assert total[1] == "Total" and total[2] == 274 and total[4] == 100
        assert wb[sec]["E2"].number_format == "0.0"
    monthly = list(wb["Monthly trend"].iter_rows(min_row=2, values_only=True))
    assert [m[0] for m in monthly] == [f"2026-{m:02d}" for m in range(4, 11)]
    assert sum(m[1] for m in monthly) == 274
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert summary["Enquiries"] == 274 and summary["Escalation rate (%)"] == round(100 * bilan["escalation_rate"], 1)


def test_html_report_is_printable_self_contained_and_accessible(bilan):
    page = exports.to_html(bilan, "fr")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert page.count("<svg") >= 7  # seven breakdowns + trend (+ question types)
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", page)  # no CDN
    import html as _html

    text = _html.unescape(page)
    assert "D'avril à fin octobre 2026, 274 demandes individuelles" in text
    assert "From April to the end of October 2026" in page
    # every table of shares in the report ends with a 100 % total row
    assert page.count("<td>Total</td>") == 7
    assert page.count("100,0\u00a0%") >= 7
    # accessibility: every chart is named, no empty table header, one main landmark
    assert page.count('role="img" aria-label="') == page.count("<svg")
    assert "<th></th>" not in page and page.count("<main>") == 1
    import html.parser

    html.parser.HTMLParser().feed(page)  # parses


def test_demo_reproduces_2015_shares_and_is_idempotent(tmp_path):
    from db import migrate
    from db.session import dispose_engine
    from dashboard.report import largest_remainder

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate.upgrade(url)
    counts = fill(274, 7, url=url, today=dt.date(2026, 11, 28))
    assert counts["enquiries"] >= 274 and counts["tickets"] > 0
    with pytest.raises(RuntimeError, match="already"):
        fill(274, 7, url=url, today=dt.date(2026, 11, 28))
    b = compute_bilan(dt.date(2026, 4, 1), dt.date(2026, 10, 31), url=url)
    assert b["total"] == 274
    known = [r["count"] for r in b["category"] if r["code"]]
    assert largest_remainder(known, 0) == [67, 9, 14, 10]
    prof = [r["count"] for r in b["profile"] if r["code"] not in ("UNK", "OTH")]
    assert largest_remainder(prof, 0) == [64, 14, 11, 8, 3]
    orig = {r["code"]: r["count"] for r in b["origin"] if r["code"] != "UNKNOWN"}
    share = dict(zip(orig, largest_remainder(list(orig.values()), 0)))
    assert (share["FR"], share["UK_BE_DE_ES_PL"], share["OTHER_EU_EEA"]) == (36, 38, 24)
    more = fill(100, 7, url=url, add=True, today=dt.date(2026, 11, 28))
    assert compute_bilan(dt.date(2026, 4, 1), dt.date(2026, 10, 31), url=url)["total"] == 374
    assert more["enquiries"] >= 100
    dispose_engine(url)


@pytest.mark.parametrize("today", [dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2026, 6, 15)])
def test_demo_leaves_work_in_the_agents_queue_whatever_the_date(tmp_path, today):
    import sqlalchemy as sa

    from db import migrate
    from db.session import dispose_engine

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    migrate.upgrade(url)
    fill(120, 7, url=url, today=today)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        unresolved = connection.execute(sa.text("SELECT count(*) FROM tickets WHERE status != 'resolved'")).scalar()
        latest = connection.execute(sa.text("SELECT max(created_at) FROM tickets")).scalar()
    engine.dispose()
    dispose_engine(url)
    assert unresolved >= 3
    assert str(latest) < str(today + dt.timedelta(days=1))
