"""Plotly figures for the analytics pages, built on the server from the selectors' plain figures.

Each builder returns the figure as JSON-ready data; the template writes it with ``json_script``
(a ``<script type="application/json">``, never run) beside a ``<div data-chart>``, and
``static/js/charts.js`` draws it with the vendored plotly.js (``static/vendor/plotly``). No
inline script: the Content-Security-Policy stays strict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

PALETTE = ["#2459c9", "#e07a1f", "#2a9d8f", "#c2410c", "#7c3aed", "#0e7490", "#b91c1c", "#4d7c0f"]
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12, "color": "#1c2433"}


def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _nums(values: Sequence[Any]) -> list[Any]:
    return [_num(v) for v in values]


def _layout(fig: go.Figure, *, height: int = 320, y_title: str = "", x_title: str = "", **extra: Any) -> None:
    fig.update_layout(
        template="none",  # our own look below; plotly's default template would add 7 kB of colour scales
        height=height,
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        font=FONT,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "y": -0.22},
        colorway=PALETTE,
        **extra,
    )
    fig.update_xaxes(title_text=x_title, gridcolor="#e3e8f0", zeroline=False)
    fig.update_yaxes(title_text=y_title, gridcolor="#e3e8f0", zeroline=False, rangemode="tozero")


def figure_data(fig: go.Figure) -> dict:
    """The figure as plain JSON data (plotly's own encoder handles dates and numbers)."""
    return json.loads(fig.to_json(validate=False))


def trend(rows: Sequence[dict], series: Sequence[tuple[str, str]]) -> dict:
    """Lines over ``rows[i]["day"]``, one per (key, label) of ``series``."""
    fig = go.Figure()
    days = [row["day"].isoformat() for row in rows]
    for key, label in series:
        fig.add_trace(go.Scatter(x=days, y=[row[key] for row in rows], name=label, mode="lines+markers"))
    _layout(fig, height=280, y_title="count")
    fig.update_xaxes(tickformat="%b %-d", dtick=86_400_000 if len(rows) <= 14 else None)
    return figure_data(fig)


def bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]], *, y_title: str = "",
         horizontal: bool = False, stacked: bool = False, height: int = 320) -> dict:
    fig = go.Figure()
    for name, values in series:
        if horizontal:
            fig.add_trace(go.Bar(y=list(labels), x=_nums(values), name=name, orientation="h"))
        else:
            fig.add_trace(go.Bar(x=list(labels), y=_nums(values), name=name))
    _layout(fig, height=height, y_title="" if horizontal else y_title, x_title=y_title if horizontal else "",
            barmode="stack" if stacked else "group", showlegend=len(series) > 1)
    if horizontal:
        fig.update_yaxes(autorange="reversed", rangemode="normal", automargin=True)
    return figure_data(fig)


def distribution(groups: Sequence[tuple[str, Sequence[Any]]], *, y_title: str = "") -> dict:
    """One box per group (its points shown), for spreads such as attainment across territories."""
    fig = go.Figure()
    for name, values in groups:
        fig.add_trace(go.Box(y=_nums(values), name=name, boxpoints="all", jitter=0.4, pointpos=0))
    _layout(fig, y_title=y_title, showlegend=False)
    return figure_data(fig)


def scatter(points: Sequence[dict], *, x_title: str, y_title: str) -> dict:
    """Points ``{"x", "y", "label"}``: attainment against TAM."""
    fig = go.Figure(go.Scatter(
        x=[_num(p["x"]) for p in points], y=[_num(p["y"]) for p in points], text=[p["label"] for p in points],
        mode="markers+text", textposition="top center", marker={"size": 11, "color": PALETTE[0], "opacity": 0.8},
        hovertemplate="%{text}<br>" + x_title + ": %{x:,.0f}<br>" + y_title + ": %{y:.0f}<extra></extra>",
    ))
    _layout(fig, height=360, x_title=x_title, y_title=y_title)
    fig.update_xaxes(rangemode="tozero")
    return figure_data(fig)
