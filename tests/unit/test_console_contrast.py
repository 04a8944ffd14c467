"""WCAG contrast of the colours the console sets (.streamlit/config.toml, browser review M9).

Each pair is recomputed the way Streamlit 1.x derives it from the theme: captions, help and
placeholders are the text colour at 60 % opacity (``fadedText60``); alerts and metric deltas write
``<colour>TextColor`` on ``<colour>`` at 10 % opacity; selected chips and primary buttons are white on
``primaryColor``. Colours left out of config.toml take Streamlit's documented light-theme defaults.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import toml

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
AA = 4.5  # WCAG 2.x AA, normal-size text

# Streamlit's light theme, as documented by `streamlit config show` (1.5x)
LIGHT = {"primaryColor": "#ff4b4b", "backgroundColor": "#ffffff", "secondaryBackgroundColor": "#f0f2f6",
         "textColor": "#31333f", "linkColor": None}
PALETTE = {  # colour: (base colour, its text colour); the alert background is the base at 10 % opacity
    "red": ("#ff2b2b", "#bd4043"), "orange": ("#ffa421", "#e2660c"), "yellow": ("#ffff12", "#926c05"),
    "blue": ("#1c83ff", "#0054a3"), "green": ("#21c354", "#158237"), "violet": ("#9a5dff", "#583f84"),
    "gray": ("#31333f", None),  # default grey text: the text colour at 60 % opacity
}


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def _over(colour: str, alpha: float, background) -> tuple[float, float, float]:
    bg = _rgb(background) if isinstance(background, str) else background
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(_rgb(colour), bg))


def _luminance(rgb) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(_rgb(a) if isinstance(a, str) else a),
                     _luminance(_rgb(b) if isinstance(b, str) else b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_the_review():
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ff4b4b") == pytest.approx(3.3, abs=0.05)          # red status chips
    assert contrast(_over("#31333f", 0.6, "#ffffff"), "#ffffff") == pytest.approx(3.68, abs=0.02)  # #83858c


def _theme() -> dict:
    theme = dict(LIGHT)
    theme.update(toml.load(CONFIG).get("theme") or {})
    return theme


def _pairs(theme: dict) -> dict[str, tuple]:
    text, bg, bg2 = theme["textColor"], theme["backgroundColor"], theme["secondaryBackgroundColor"]
    faded = {name: _over(text, 0.6, b) for name, b in (("bg", bg), ("bg2", bg2))}
    pairs = {
        "text on the page": (text, bg),
        "text in widgets and the sidebar": (text, bg2),
        "captions and help on the page": (faded["bg"], bg),
        "sidebar caption and placeholders (Choose…)": (faded["bg2"], bg2),
        "selected chips and primary buttons": ("#ffffff", theme["primaryColor"]),
        "links": (theme.get("linkColor") or theme.get("blueTextColor") or PALETTE["blue"][1], bg),
    }
    for name, (base, default_text) in PALETTE.items():
        given_base = theme.get(f"{name}Color")
        text_colour = theme.get(f"{name}TextColor")
        if text_colour is None:
            # Streamlit darkens a given base by 15 %: not recomputed here, so it must be set explicitly
            assert given_base is None, f"set {name}TextColor next to {name}Color in config.toml"
            text_colour = default_text or _over(text, 0.6, bg)
        alert_bg = theme.get(f"{name}BackgroundColor") or _over(given_base or base, 0.1, bg)
        pairs[f"{name} alerts and deltas"] = (text_colour, alert_bg)
    return pairs


@pytest.mark.parametrize("pair", list(_pairs(_theme())))
def test_console_colours_reach_wcag_aa(pair):
    fg, bg = _pairs(_theme())[pair]
    assert contrast(fg, bg) >= AA, f"{pair}: {contrast(fg, bg):.2f}:1"
