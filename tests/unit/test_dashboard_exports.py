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


def test_csv_opens_and_shares_sum_to_100(bilan):
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(bilan, "fr").decode("utf-8-sig"))))
    sums, counts = defaultdict(float), defaultdict(int)
    for r in rows:
        if r["share_pct"] != "":
            sums[r["section"]] += float(r["share_pct"])
            counts[r["section"]] += int(r["count"])
            assert int(r["denominator"]) == 274
    assert set(sums) == {"category", "profile", "origin", "outcome"}
    for sec in sums:
        assert round(sums[sec], 6) == 100.0 and counts[sec] == 274
    summary = {r["code"]: r["count"] for r in rows if r["section"] == "summary"}
    assert summary["enquiries"] == "274" and summary["period_start"] == "2026-04-01"
    assert any(r["section"] == "origin" and r["label"] == "Inconnu" for r in rows)


def test_xlsx_opens_and_shares_sum_to_100(bilan):
    wb = load_workbook(io.BytesIO(exports.to_xlsx(bilan, "en")))
    assert {"summary", "category", "profile", "origin", "outcome", "monthly", "question_types", "unanswered"} <= set(wb.sheetnames)
    for sec in ("category", "profile", "origin", "outcome"):
        values = list(wb[sec].iter_rows(min_row=2, values_only=True))
        body, total = values[:-1], values[-1]
        assert round(sum(r[4] for r in body), 6) == 100
        assert total[2] == 274 and total[4] == 100
    monthly = list(wb["monthly"].iter_rows(min_row=2, values_only=True))
    assert [m[0] for m in monthly] == [f"2026-{m:02d}" for m in range(4, 11)]
    assert sum(m[1] for m in monthly) == 274


def test_html_report_is_printable_and_self_contained(bilan):
    page = exports.to_html(bilan, "fr")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert page.count("<svg") >= 5  # four breakdowns + trend (+ question types)
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", page)  # no CDN
    import html as _html

    assert "D'avril à fin octobre 2026, 274 demandes individuelles" in _html.unescape(page)
    assert "From April to the end of October 2026" in page
    # every table of shares in the report ends with a 100 % total row
    assert page.count("<td>Total</td>") == 4
    assert page.count("100,0\u00a0%") >= 4
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
