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
from dashboard.report import (breakdown_rows, comparison_rows, excluded_rows, excluded_total, fmt_duration,
                              fmt_number, fmt_pct, fmt_rate, paragraph, question_rows, unknown_count)

SECTIONS = ("category", "profile", "origin", "channel", "treatment", "satisfaction", "outcome")
_SECTION_TITLE = {"category": "by_category", "profile": "by_profile", "origin": "by_origin", "outcome": "by_outcome",
                  "channel": "by_channel", "treatment": "by_treatment", "satisfaction": "by_satisfaction"}
# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet must show as text: a leading ' when it would start a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _iso(d) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


def _h(seconds) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


def _pct(rate) -> float | None:
    return round(100 * rate, 1) if rate is not None else None


def summary_rows(bilan: dict, lang: str = "fr") -> list[tuple[str, str, object]]:
    """(code, readable label, value): the key figures, rates in % and times in hours."""
    fr, res = bilan["first_response"], bilan["resolution"]
    rows = [
        ("period_start", t("period_start", lang), _iso(bilan["start"])),
        ("period_end", t("period_end", lang), _iso(bilan["end"])),
        ("enquiries", t("total_enquiries", lang), bilan["total"]),
        ("excluded_sessions", t("excluded_sessions", lang), sum(r["count"] for r in bilan.get("excluded", []))),
        ("answered_by_assistant", t("answered", lang), bilan["answered"]),
        ("escalated", t("escalated", lang), bilan["escalated"]),
        ("escalation_rate_pct", t("escalation_rate", lang) + " (%)", _pct(bilan["escalation_rate"])),
        ("user_turns", t("user_turns", lang), bilan["user_turns"]),
        ("fallback_turns", t("fallback_turns", lang), bilan["fallback_turns"]),
        ("fallback_rate_pct", t("fallback_rate", lang) + " (%)", _pct(bilan["fallback_rate"])),
        ("satisfaction_rate_pct", t("satisfaction_rate", lang) + " (%)", _pct(bilan.get("satisfaction_rate"))),
        ("tickets_created", t("tickets_created", lang), bilan["tickets"]["created"]),
        ("first_response_n", t("first_response", lang) + " — " + t("n_tickets", lang), fr["n"]),
        ("first_response_median_h", t("first_response", lang) + " — " + t("median", lang) + " (h)", _h(fr["median_s"])),
        ("first_response_p90_h", t("first_response", lang) + " — " + t("p90", lang) + " (h)", _h(fr["p90_s"])),
        ("resolution_n", t("resolution", lang) + " — " + t("n_tickets", lang), res["n"]),
        ("resolution_median_h", t("resolution", lang) + " — " + t("median", lang) + " (h)", _h(res["median_s"])),
        ("resolution_p90_h", t("resolution", lang) + " — " + t("p90", lang) + " (h)", _h(res["p90_s"])),
    ]
    return rows


def long_rows(bilan: dict, lang: str = "fr") -> list[dict]:
    """Every figure in one flat table: section, code, label, count, denominator, share (%)."""
    out = []
    for code, lab, value in summary_rows(bilan, lang):
        out.append({"section": t("summary", lang), "code": code, "label": lab, "count": value,
                    "denominator": None, "share_pct": None})
    for sec in SECTIONS:
        for r in breakdown_rows(bilan, sec, lang):
            out.append({"section": t(_SECTION_TITLE[sec], lang), "code": r["code"], "label": r["label"],
                        "count": r["count"], "denominator": bilan["total"], "share_pct": r["share"]})
    for r in excluded_rows(bilan, lang):
        out.append({"section": t("excluded_sessions", lang), "code": r["code"], "label": r["label"],
                    "count": r["count"], "denominator": None, "share_pct": None})
    for m in bilan["monthly"]:
        out.append({"section": t("monthly_trend", lang), "code": m["month"], "label": m["month"],
                    "count": m["enquiries"], "denominator": None, "share_pct": None})
    for r in comparison_rows(bilan, lang):
        out.append({"section": t("previous_period", lang), "code": "", "label": r["label"], "count": r["before"],
                    "denominator": None, "share_pct": None})
    for r in question_rows(bilan, lang):
        out.append({"section": t("top_questions", lang), "code": r["code"], "label": r["label"], "count": r["count"],
                    "denominator": None, "share_pct": None})
    for r in bilan["top_unanswered"]:
        out.append({"section": t("top_unanswered", lang), "code": "", "label": r["text"], "count": r["count"],
                    "denominator": None, "share_pct": None})
    return out


def _csv_value(value, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return fmt_number(value, lang)
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def to_csv(bilan: dict, lang: str = "fr") -> bytes:
    """A CSV that French Excel opens in columns: ``;``, decimal comma, UTF-8 BOM, readable labels
    (English: ``,`` and a decimal point). Text cells that would start a formula get a leading '."""
    keys = ("section", "code", "label", "count", "denominator", "share_pct")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    w.writerow([t("section", lang), t("code", lang), t("label", lang), t("count", lang), t("denominator_col", lang),
                t("share", lang)])
    for row in long_rows(bilan, lang):
        w.writerow([_csv_value(row[k], lang) for k in keys])
    return buf.getvalue().encode("utf-8-sig")  # BOM: Excel reads the accents as UTF-8


def _sheet_title(text: str) -> str:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text[:31]


def to_xlsx(bilan: dict, lang: str = "fr") -> bytes:
    """A labelled workbook: one sheet per table, readable headers, shares as numbers formatted 0.0.
    Every text cell is written as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()

    def sheet(title: str, headers: list[str], first: bool = False):
        sh = wb.active if first else wb.create_sheet()
        sh.title = _sheet_title(title)
        if headers:
            sh.append([safe_cell(h) for h in headers])
            for c in sh[1]:
                c.font = bold
        return sh

    def put(sh, values: list, share_col: int | None = None) -> None:
        sh.append([safe_cell(v) for v in values])
        for c in sh[sh.max_row]:
            if isinstance(c.value, str):
                c.data_type = "s"  # never a formula, whatever the text
        if share_col is not None:
            sh.cell(row=sh.max_row, column=share_col).number_format = "0.0"

    sh = sheet(t("summary", lang), [t("label", lang), t("value", lang)], first=True)
    for _, lab, value in summary_rows(bilan, lang):
        put(sh, [lab, value])
    put(sh, [])
    put(sh, [paragraph(bilan, lang)])
    put(sh, [t("denominator_rule", lang)])
    put(sh, [t("request_definition", lang)])
    sh.column_dimensions["A"].width = 48
    for sec in SECTIONS:
        rows = breakdown_rows(bilan, sec, lang)
        sh = sheet(t(_SECTION_TITLE[sec], lang), [t("code", lang), t("label", lang), t("count", lang),
                                                   t("denominator_col", lang), t("share", lang)])
        for r in rows:
            put(sh, [r["code"], r["label"], r["count"], bilan["total"], r["share"]], share_col=5)
        put(sh, ["", t("total", lang), sum(r["count"] for r in rows), bilan["total"],
                 round(sum(r["share"] for r in rows), 1)], share_col=5)
        sh.column_dimensions["B"].width = 48
    sh = sheet(t("excluded_sessions", lang), [t("code", lang), t("label", lang), t("count", lang)])
    for r in excluded_rows(bilan, lang):
        put(sh, [r["code"], r["label"], r["count"]])
    sh = sheet(t("monthly_trend", lang), [t("month", lang), t("total_enquiries", lang), t("answered", lang),
                                          t("escalated", lang)])
    for m in bilan["monthly"]:
        put(sh, [m["month"], m["enquiries"], m["answered"], m["escalated"]])
    sh = sheet(t("previous_period", lang), ["", t("this_period", lang), t("previous_period", lang),
                                            t("evolution", lang)])
    for r in comparison_rows(bilan, lang):
        put(sh, [r["label"], r["now"], r["before"], r["evolution"]])
    sh = sheet(t("top_questions", lang), [t("code", lang), t("label", lang), t("count", lang)])
    for r in question_rows(bilan, lang):
        put(sh, [r["code"], r["label"], r["count"]])
    sh = sheet(t("top_unanswered", lang), [t("col_question", lang), t("count", lang)])
    for r in bilan["top_unanswered"]:
        put(sh, [r["text"], r["count"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------- SVG charts

_COLORS = ["#1f4e79", "#2e75b6", "#9dc3e6", "#c55a11", "#f4b183", "#70ad47", "#a5a5a5"]


def svg_hbars(rows: list[dict], lang: str, width: int = 640, title: str = "") -> str:
    """Horizontal bars, one per row: label, bar, 'count (share)'; named for screen readers."""
    bar_h, gap, label_w = 22, 8, 260
    height = len(rows) * (bar_h + gap) + gap
    maxv = max([r["count"] for r in rows] + [1])
    name = html.escape(title or t("chart", lang), quote=True)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{name}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12"><title>{name}</title>']
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
    name = html.escape(t("monthly_trend", lang), quote=True)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{name}" width="{width}" height="{height + 20}" '
             f'viewBox="0 0 {width} {height + 20}" font-family="sans-serif" font-size="11"><title>{name}</title>',
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
    for sec in SECTIONS:
        rows = breakdown_rows(bilan, sec, lang)
        title = t(_SECTION_TITLE[sec], lang)
        sections.append(
            f'<section><h2>{esc(title)}</h2>'
            f'<p class="den">{esc(t("denominator", lang, n=bilan["total"], unknown=unknown_count(bilan, sec)))}</p>'
            f'<div class="chart">{svg_hbars(rows, lang, title=title)}</div>'
            + _table([t("label", lang), t("count", lang), t("share", lang)],
                     [[r["label"], r["count"], fmt_pct(r["share"], lang)] for r in rows]
                     + [[t("total", lang), sum(r["count"] for r in rows), fmt_pct(sum(r["share"] for r in rows), lang)]])
            + "</section>")
    fr, res = bilan["first_response"], bilan["resolution"]
    kpis = _table([t("figure", lang), t("value", lang)], [
        [t("total_enquiries", lang), bilan["total"]],
        [t("excluded_sessions", lang), excluded_total(bilan)],
        [t("answered", lang), bilan["answered"]],
        [t("escalated", lang), bilan["escalated"]],
        [t("escalation_rate", lang), fmt_rate(bilan["escalated"], bilan["total"], lang)],
        [t("fallback_rate", lang), fmt_rate(bilan["fallback_turns"], bilan["user_turns"], lang)
         + " — " + t("fallback_help", lang, num=bilan["fallback_turns"], den=bilan["user_turns"])],
        [t("satisfaction_rate", lang), fmt_pct(100 * bilan["satisfaction_rate"], lang)
         if bilan.get("satisfaction_rate") is not None else "—"],
        [t("tickets_created", lang), bilan["tickets"]["created"]],
    ])
    excluded = _table([t("label", lang), t("count", lang)], [[r["label"], r["count"]] for r in excluded_rows(bilan, lang)])
    comparison = _table([t("figure", lang), t("this_period", lang), t("previous_period", lang), t("evolution", lang)],
                        [[r["label"], r["now"], r["before"], r["evolution"]] for r in comparison_rows(bilan, lang)])
    times = _table([t("figure", lang), t("n_tickets", lang), t("median", lang), t("p90", lang)], [
        [t("first_response", lang), fr["n"], fmt_duration(fr["median_s"], lang), fmt_duration(fr["p90_s"], lang)],
        [t("resolution", lang), res["n"], fmt_duration(res["median_s"], lang), fmt_duration(res["p90_s"], lang)],
    ])
    qrows = question_rows(bilan, lang)
    unanswered = _table([t("col_question", lang), t("count", lang)], [[r["text"], r["count"]] for r in bilan["top_unanswered"]])
    other_lang = "en" if lang == "fr" else "fr"
    prev = bilan.get("previous") or {}
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{esc(t("bilan_title", lang))} {esc(_iso(bilan["start"]))} – {esc(_iso(bilan["end"]))}</title>
<style>
body{{font-family:sans-serif;margin:2em;color:#222;max-width:52em}}
h1{{font-size:1.5em}} h2{{font-size:1.15em;margin-top:1.4em;border-bottom:1px solid #ccc}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #bbb;padding:.2em .6em;text-align:left}}
td:nth-child(n+2){{text-align:right}} .den{{color:#444;font-size:.9em}} .para{{background:#f4f6f9;padding:.8em;border-left:4px solid #1f4e79}}
@media print{{body{{margin:0}} section{{break-inside:avoid}} .noprint{{display:none}}}}
@page{{size:A4;margin:15mm}}
</style></head><body><main>
<h1>{esc(t("bilan_title", lang))} — {esc(_iso(bilan["start"]))} → {esc(_iso(bilan["end"]))}</h1>
<p class="para">{esc(paragraph(bilan, lang))}</p>
<p class="para" lang="{other_lang}">{esc(paragraph(bilan, other_lang))}</p>
<p class="den">{esc(t("request_definition", lang))}</p>
<p class="den">{esc(t("denominator_rule", lang))}</p>
<section><h2>{esc(t("total_enquiries", lang))}</h2>{kpis}</section>
<section><h2>{esc(t("excluded_sessions", lang))}</h2>{excluded}</section>
<section><h2>{esc(t("comparison", lang))}</h2>
<p class="den">{esc(t("previous_period_dates", lang, start=_iso(prev.get("start", "")), end=_iso(prev.get("end", ""))))}</p>{comparison}</section>
{''.join(sections)}
<section><h2>{esc(t("monthly_trend", lang))}</h2><div class="chart">{svg_monthly(bilan["monthly"], lang)}</div>
{_table([t("month", lang), t("total_enquiries", lang), t("answered", lang), t("escalated", lang)], [[m["month"], m["enquiries"], m["answered"], m["escalated"]] for m in bilan["monthly"]])}</section>
<section><h2>{esc(t("response_times", lang))}</h2>{times}</section>
<section><h2>{esc(t("top_questions", lang))}</h2>{svg_hbars(qrows, lang, title=t("top_questions", lang)) if qrows else ""}
{_table([t("label", lang), t("count", lang)], [[r["label"], r["count"]] for r in qrows])}</section>
<section><h2>{esc(t("top_unanswered", lang))}</h2>{unanswered}</section>
<p class="den">{esc(t("rounding_note", lang))} · {esc(generated_at.strftime("%Y-%m-%d %H:%M UTC"))}</p>
</main></body></html>
"""


def filename(bilan: dict, ext: str) -> str:
    return f"bilan_pcn_{_iso(bilan['start'])}_{_iso(bilan['end'])}.{ext}"


__all__ = ["to_csv", "to_xlsx", "to_html", "long_rows", "filename", "safe_cell", "svg_hbars", "svg_monthly", "label"]
