"""Bilan exports: CSV, XLSX (openpyxl) and a printable HTML report.

The HTML report is self-contained: charts are inline SVG drawn here (no CDN,
no JavaScript), styles are inline, and it prints on A4 (browser → PDF).
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io

from dashboard.i18n import label, t
from dashboard.report import (breakdown_rows, fmt_duration, fmt_pct, fmt_rate, paragraph,
                              question_rows)

SECTIONS = ("category", "profile", "origin", "outcome")
_SECTION_TITLE = {"category": "by_category", "profile": "by_profile", "origin": "by_origin", "outcome": "by_outcome"}


def _iso(d) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


def long_rows(bilan: dict, lang: str = "fr") -> list[dict]:
    """One flat table: section, code, label, count, denominator, share (%)."""
    out = []
    for sec in SECTIONS:
        for r in breakdown_rows(bilan, sec, lang):
            out.append({"section": sec, "code": r["code"], "label": r["label"], "count": r["count"],
                        "denominator": bilan["total"], "share_pct": r["share"]})
    for m in bilan["monthly"]:
        out.append({"section": "month", "code": m["month"], "label": m["month"], "count": m["enquiries"],
                    "denominator": bilan["total"], "share_pct": ""})
    for r in question_rows(bilan, lang):
        out.append({"section": "question_type", "code": r["code"], "label": r["label"], "count": r["count"],
                    "denominator": "", "share_pct": ""})
    return out


def summary_rows(bilan: dict, lang: str = "fr") -> list[tuple[str, object]]:
    fr, res = bilan["first_response"], bilan["resolution"]
    return [
        ("period_start", _iso(bilan["start"])),
        ("period_end", _iso(bilan["end"])),
        ("enquiries", bilan["total"]),
        ("answered_by_assistant", bilan["answered"]),
        ("escalated", bilan["escalated"]),
        ("escalation_rate", round(bilan["escalation_rate"], 4) if bilan["escalation_rate"] is not None else ""),
        ("user_turns", bilan["user_turns"]),
        ("fallback_turns", bilan["fallback_turns"]),
        ("fallback_rate", round(bilan["fallback_rate"], 4) if bilan["fallback_rate"] is not None else ""),
        ("tickets_created", bilan["tickets"]["created"]),
        ("first_response_n", fr["n"]),
        ("first_response_median_h", round(fr["median_s"] / 3600, 2) if fr["median_s"] is not None else ""),
        ("first_response_p90_h", round(fr["p90_s"] / 3600, 2) if fr["p90_s"] is not None else ""),
        ("resolution_n", res["n"]),
        ("resolution_median_h", round(res["median_s"] / 3600, 2) if res["median_s"] is not None else ""),
        ("resolution_p90_h", round(res["p90_s"] / 3600, 2) if res["p90_s"] is not None else ""),
    ]


def to_csv(bilan: dict, lang: str = "fr") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["section", "code", "label", "count", "denominator", "share_pct"])
    w.writeheader()
    for k, v in summary_rows(bilan, lang):
        w.writerow({"section": "summary", "code": k, "label": k, "count": v, "denominator": "", "share_pct": ""})
    w.writerows(long_rows(bilan, lang))
    return buf.getvalue().encode("utf-8-sig")  # BOM: Excel opens accents correctly


def to_xlsx(bilan: dict, lang: str = "fr") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    ws.append([t("bilan_title", lang)])
    ws["A1"].font = Font(bold=True, size=14)
    for k, v in summary_rows(bilan, lang):
        ws.append([k, v])
    ws.append([])
    ws.append([paragraph(bilan, lang)])
    ws.append([t("rounding_note", lang)])
    for sec in SECTIONS:
        sh = wb.create_sheet(sec)
        sh.append([t("code", lang), t("label", lang), t("count", lang), "denominator", t("share", lang)])
        for c in sh[1]:
            c.font = Font(bold=True)
        for r in breakdown_rows(bilan, sec, lang):
            sh.append([r["code"], r["label"], r["count"], bilan["total"], r["share"]])
        sh.append(["", "Total", sum(r["count"] for r in bilan[sec]), bilan["total"],
                   round(sum(r["share"] for r in breakdown_rows(bilan, sec, lang)), 1)])
    sh = wb.create_sheet("monthly")
    sh.append([t("month", lang), t("total_enquiries", lang), t("answered", lang), t("escalated", lang)])
    for m in bilan["monthly"]:
        sh.append([m["month"], m["enquiries"], m["answered"], m["escalated"]])
    sh = wb.create_sheet("question_types")
    sh.append([t("code", lang), t("label", lang), t("count", lang)])
    for r in question_rows(bilan, lang):
        sh.append([r["code"], r["label"], r["count"]])
    sh = wb.create_sheet("unanswered")
    sh.append([t("col_question", lang), t("count", lang)])
    for r in bilan["top_unanswered"]:
        sh.append([r["text"], r["count"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------- SVG charts

_COLORS = ["#1f4e79", "#2e75b6", "#9dc3e6", "#c55a11", "#f4b183", "#70ad47", "#a5a5a5"]


def svg_hbars(rows: list[dict], lang: str, width: int = 640) -> str:
    """Horizontal bars, one per row: label, bar, 'count (share)'."""
    bar_h, gap, label_w = 22, 8, 260
    height = len(rows) * (bar_h + gap) + gap
    maxv = max([r["count"] for r in rows] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">']
    for i, r in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = int((width - label_w - 110) * r["count"] / maxv)
        lab = html.escape(r["label"] if len(r["label"]) <= 40 else r["label"][:39] + "…")
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{lab}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="{_COLORS[i % len(_COLORS)]}"/>')
        share = f" ({html.escape(fmt_pct(r['share'], lang))})" if "share" in r else ""
        parts.append(f'<text x="{label_w + max(w, 1) + 6}" y="{y + 15}">{r["count"]}{share}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_monthly(monthly: list[dict], lang: str, width: int = 640, height: int = 220) -> str:
    """Stacked columns per month: answered, escalated, other outcomes."""
    if not monthly:
        return ""
    pad_l, pad_b, pad_t = 40, 30, 10
    n = len(monthly)
    col_w = (width - pad_l - 10) / n
    maxv = max(m["enquiries"] for m in monthly) or 1
    scale = (height - pad_b - pad_t) / maxv
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height + 20}" '
             f'viewBox="0 0 {width} {height + 20}" font-family="sans-serif" font-size="11">',
             f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - 5}" y2="{height - pad_b}" stroke="#333"/>',
             f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end">{maxv}</text>']
    for i, m in enumerate(monthly):
        x = pad_l + i * col_w + col_w * 0.15
        w = col_w * 0.7
        base = height - pad_b
        other = m["enquiries"] - m["answered"] - m["escalated"]
        for value, color in ((m["answered"], _COLORS[1]), (m["escalated"], _COLORS[3]), (other, _COLORS[6])):
            h = value * scale
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}"/>')
            base -= h
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - pad_b + 14}" text-anchor="middle">{html.escape(m["month"])}</text>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{base - 3:.1f}" text-anchor="middle">{m["enquiries"]}</text>')
    legend = [(t("answered", lang), _COLORS[1]), (t("escalated", lang), _COLORS[3])]
    lx = pad_l
    for text, color in legend:
        parts.append(f'<rect x="{lx}" y="{height + 4}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14}" y="{height + 13}">{html.escape(text)}</text>')
        lx += 14 + 7 * len(text) + 20
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(bilan: dict, lang: str = "fr", generated_at: dt.datetime | None = None) -> str:
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    esc = html.escape
    sections = []
    for sec in ("category", "profile", "origin", "outcome"):
        rows = breakdown_rows(bilan, sec, lang)
        unknown = sum(r["count"] for r in bilan[sec] if r["code"] in (None, "UNK", "UNKNOWN"))
        sections.append(
            f'<section><h2>{esc(t(_SECTION_TITLE[sec], lang))}</h2>'
            f'<p class="den">{esc(t("denominator", lang, n=bilan["total"], unknown=unknown))}</p>'
            f'<div class="chart">{svg_hbars(rows, lang)}</div>'
            + _table([t("label", lang), t("count", lang), t("share", lang)],
                     [[r["label"], r["count"], fmt_pct(r["share"], lang)] for r in rows]
                     + [["Total", sum(r["count"] for r in rows), fmt_pct(sum(r["share"] for r in rows), lang)]])
            + "</section>")
    fr, res = bilan["first_response"], bilan["resolution"]
    kpis = _table(["", ""], [
        [t("total_enquiries", lang), bilan["total"]],
        [t("answered", lang), bilan["answered"]],
        [t("escalated", lang), bilan["escalated"]],
        [t("escalation_rate", lang), fmt_rate(bilan["escalated"], bilan["total"], lang)],
        [t("fallback_rate", lang), fmt_rate(bilan["fallback_turns"], bilan["user_turns"], lang)
         + " — " + t("fallback_help", lang, num=bilan["fallback_turns"], den=bilan["user_turns"])],
        [t("tickets_created", lang), bilan["tickets"]["created"]],
    ])
    times = _table(["", t("n_tickets", lang), t("median", lang), t("p90", lang)], [
        [t("first_response", lang), fr["n"], fmt_duration(fr["median_s"], lang), fmt_duration(fr["p90_s"], lang)],
        [t("resolution", lang), res["n"], fmt_duration(res["median_s"], lang), fmt_duration(res["p90_s"], lang)],
    ])
    qrows = question_rows(bilan, lang)
    unanswered = _table([t("col_question", lang), t("count", lang)], [[r["text"], r["count"]] for r in bilan["top_unanswered"]])
    other_lang = "en" if lang == "fr" else "fr"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{esc(t("bilan_title", lang))} {esc(_iso(bilan["start"]))} – {esc(_iso(bilan["end"]))}</title>
<style>
body{{font-family:sans-serif;margin:2em;color:#222;max-width:52em}}
h1{{font-size:1.5em}} h2{{font-size:1.15em;margin-top:1.4em;border-bottom:1px solid #ccc}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #bbb;padding:.2em .6em;text-align:left}}
td:nth-child(n+2){{text-align:right}} .den{{color:#555;font-size:.9em}} .para{{background:#f4f6f9;padding:.8em;border-left:4px solid #1f4e79}}
@media print{{body{{margin:0}} section{{break-inside:avoid}} .noprint{{display:none}}}}
@page{{size:A4;margin:15mm}}
</style></head><body>
<h1>{esc(t("bilan_title", lang))} — {esc(_iso(bilan["start"]))} → {esc(_iso(bilan["end"]))}</h1>
<p class="para">{esc(paragraph(bilan, lang))}</p>
<p class="para" lang="{other_lang}">{esc(paragraph(bilan, other_lang))}</p>
<section><h2>{esc(t("total_enquiries", lang))}</h2>{kpis}</section>
{''.join(sections)}
<section><h2>{esc(t("monthly_trend", lang))}</h2><div class="chart">{svg_monthly(bilan["monthly"], lang)}</div>
{_table([t("month", lang), t("total_enquiries", lang), t("answered", lang), t("escalated", lang)], [[m["month"], m["enquiries"], m["answered"], m["escalated"]] for m in bilan["monthly"]])}</section>
<section><h2>{esc(t("response_times", lang))}</h2>{times}</section>
<section><h2>{esc(t("top_questions", lang))}</h2>{svg_hbars(qrows, lang) if qrows else ""}
{_table([t("label", lang), t("count", lang)], [[r["label"], r["count"]] for r in qrows])}</section>
<section><h2>{esc(t("top_unanswered", lang))}</h2>{unanswered}</section>
<p class="den">{esc(t("rounding_note", lang))} · {esc(generated_at.strftime("%Y-%m-%d %H:%M UTC"))}</p>
</body></html>
"""


def filename(bilan: dict, ext: str) -> str:
    return f"bilan_pcn_{_iso(bilan['start'])}_{_iso(bilan['end'])}.{ext}"


__all__ = ["to_csv", "to_xlsx", "to_html", "long_rows", "filename", "svg_hbars", "svg_monthly", "label"]
