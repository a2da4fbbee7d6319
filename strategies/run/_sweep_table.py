"""A sweep's results: one row per combination, ranked by the chosen metric, as CSV and as an HTML
page (a heatmap of the metric when exactly two parameters vary; each row links to its report).

The columns are the grid's keys, then every figure of ``summary.json``'s total (read as they
come, so figures the summary gains later appear here unchanged).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from strategies.run._sweep import GridAxis, better_first, metric_of

__all__ = ["ResultRow", "rank", "results_csv", "results_html", "write"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    """One combination's result: its folder, the grid values as typed, the summary's total."""

    name: str
    params: tuple[tuple[str, str], ...]
    total: Mapping[str, Any]
    report: str | None = None  # relative to the results page


def rank(rows: Sequence[ResultRow], metric: str) -> list[ResultRow]:
    """Best first by ``metric``; ties keep the grid's order."""
    key = better_first(metric)
    return sorted(rows, key=lambda row: key(metric_of({"total": row.total}, metric)))


def _figures(rows: Sequence[ResultRow]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [name for name in row.total if name not in names]
    return names


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def results_csv(rows: Sequence[ResultRow], metric: str) -> str:
    """The ranked table as CSV: rank, combination, the grid's keys, every total figure."""
    keys = [key for key, _ in rows[0].params] if rows else []
    figures = _figures(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "combination", *keys, *figures, "report"])
    for place, row in enumerate(rank(rows, metric), 1):
        values = [_text(row.total.get(name)) for name in figures]
        writer.writerow([place, row.name, *(v for _, v in row.params), *values, row.report or ""])
    return out.getvalue()


def _heatmap(rows: Sequence[ResultRow], axes: Sequence[GridAxis], metric: str) -> str:
    """The metric over the two varying keys, as a plotly heatmap (empty when not two)."""
    from strategies.run._report import to_json

    varying = [axis for axis in axes if len(axis.values) > 1]
    if len(varying) != 2:
        return ""
    across, down = varying
    cells: dict[tuple[str, str], Decimal | None] = {}
    for row in rows:
        params = dict(row.params)
        value = metric_of({"total": row.total}, metric)
        key = (params[across.key], params[down.key])
        if key not in cells or (value is not None and better_first(metric)(value) <
                                better_first(metric)(cells[key])):  # fmt: skip
            cells[key] = value  # a third key with one value never collides; best of the rest
    z = [[cells.get((x, y)) for x in across.texts] for y in down.texts]
    figure = {
        "data": [
            {
                "type": "heatmap",
                "x": list(across.texts),
                "y": list(down.texts),
                "z": z,
                # red to green through pale yellow (plotly.js has no named RdYlGn)
                "colorscale": [[0, "#d73027"], [0.5, "#ffffbf"], [1, "#1a9850"]],
                "reversescale": any(w in metric for w in ("drawdown", "cost", "loss")),
                "texttemplate": "%{z}",
                "hovertemplate": f"{across.key}=%{{x}}<br>{down.key}=%{{y}}<br>{metric}=%{{z}}"
                "<extra></extra>",
                "colorbar": {"title": {"text": metric}},
            }
        ],
        "layout": {
            "height": 420,
            "margin": {"l": 90, "r": 20, "t": 20, "b": 60},
            "xaxis": {"title": {"text": across.key}, "type": "category"},
            "yaxis": {"title": {"text": down.key}, "type": "category"},
        },
    }
    return (
        "<section><h2>Heatmap: " + html.escape(metric) + '</h2><div id="heatmap"></div></section>'
        "<script>const F = " + to_json(figure).replace("</", "<\\/") + ";"
        'Plotly.newPlot("heatmap", F.data, F.layout, {displaylogo: false, responsive: true});'
        "</script>"
    )


def _table(
    header: Sequence[str], body: Sequence[Sequence[str]], links: Sequence[str | None]
) -> str:
    lines = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for cells, link in zip(body, links, strict=True):
        shown = [html.escape(c) for c in cells]
        if link is not None:
            shown[1] = f'<a href="{html.escape(link)}">{shown[1]}</a>'
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in shown) + "</tr>")
    return "\n".join([*lines, "</table>"])


def results_html(
    title: str,
    rows: Sequence[ResultRow],
    axes: Sequence[GridAxis],
    metric: str,
    *,
    walk_forward: Sequence[Mapping[str, str]] = (),
) -> str:
    """The ranked table as a self-contained page (plotly.js inline, for the heatmap)."""
    from strategies.run._report import plotly_js

    keys = [key for key, _ in rows[0].params] if rows else []
    figures = _figures(rows)
    ranked = rank(rows, metric)
    body = [
        [str(place), row.name, *(v for _, v in row.params),
         *(_text(row.total.get(name)) for name in figures)]
        for place, row in enumerate(ranked, 1)
    ]  # fmt: skip
    table = _table(["rank", "combination", *keys, *figures], body, [r.report for r in ranked])
    folds = ""
    if walk_forward:
        header = list(walk_forward[0])
        folds = (
            "<section><h2>Walk-forward: best in sample, replayed out of sample</h2>"
            + _table(
                header,
                [[row[h] for h in header] for row in walk_forward],
                [None] * len(walk_forward),
            )
            + "</section>"
        )
    style = (
        "body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 24px;color:#1d2330}"
        "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
        "th,td{padding:3px 10px;border-bottom:1px solid #eaecef;text-align:right}"
        "th{background:#f6f8fa}th:nth-child(2),td:nth-child(2){text-align:left}"
        "section{margin:16px 0}h1{font-size:20px}h2{font-size:16px}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style>"
        f"<script>{plotly_js()}</script></head><body><h1>{html.escape(title)}</h1>"
        f"<p>ranked by <b>{html.escape(metric)}</b>, best first</p>"
        f"{_heatmap(rows, axes, metric)}<section><h2>Combinations</h2>{table}</section>"
        f"{folds}</body></html>\n"
    )


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
