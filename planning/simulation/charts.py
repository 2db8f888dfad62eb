"""The simulator's flow chart: accounts moving from active territories (left) to draft ones
(right), a plotly Sankey figure as JSON data for ``static/js/charts.js``."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from analytics.charts import FONT, PALETTE, figure_data
from planning.simulation.report import FLOWS, OTHER, Flow


def flow_figure(flows: list[Flow]) -> dict[str, Any] | None:
    """The largest ``FLOWS`` flows, the rest summed into Other -> Other; None without moves."""
    if not flows:
        return None
    shown = flows[:FLOWS]
    rest = sum(f.accounts for f in flows[FLOWS:])
    links = [(f"{f.source} ", f" {f.target}", f.accounts) for f in shown]  # a space keeps the sides apart
    if rest:
        links.append((f"{OTHER} ", f" {OTHER}", rest))
    labels: list[str] = []
    for source, target, _ in links:
        for name in (source, target):
            if name not in labels:
                labels.append(name)
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": [n.strip() for n in labels], "pad": 12, "thickness": 14,
              "color": [PALETTE[0] if n.endswith(" ") else PALETTE[1] for n in labels]},
        link={"source": [labels.index(s) for s, _, _ in links], "target": [labels.index(t) for _, t, _ in links],
              "value": [v for _, _, v in links], "color": "rgba(36, 89, 201, 0.25)"},
    ))
    fig.update_layout(template="none", height=max(320, 22 * len(links)), font=FONT,
                      margin={"l": 8, "r": 8, "t": 8, "b": 8}, paper_bgcolor="rgba(0,0,0,0)")
    return figure_data(fig)
