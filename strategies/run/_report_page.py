"""The report's page: HTML, CSS and the script that draws it from the inline JSON document.

Kept apart from ``_report`` (which builds the document) so each holds one job. The script reads
every table's columns from the data (a key added to ``summary.json`` becomes a column) and draws
one symbol-day chart at a time, chosen from the index (``#SYMBOL/YYYY-MM-DD`` in the address).
``window.reportReady`` settles once the first plots are drawn (the Chromium test waits on it).
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
         color: #1d2330; background: #f6f7f9; }
  header { background: #1d2330; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0 0 6px; font-size: 20px; font-weight: 600; }
  header nav a { color: #9ecbff; margin-right: 16px; text-decoration: none; }
  main { padding: 8px 24px 32px; max-width: 1400px; }
  section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px;
            margin: 16px 0; padding: 12px 16px; }
  h2 { font-size: 16px; margin: 0 0 8px; }
  .cards { display: flex; flex-wrap: wrap; gap: 8px; }
  .card { background: #f0f3f7; border-radius: 4px; padding: 6px 12px; min-width: 90px; }
  .card b { display: block; font-size: 16px; }
  .card span { color: #586069; font-size: 12px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #eaecef; text-align: right;
           white-space: nowrap; }
  th { background: #f6f8fa; position: sticky; top: 0; }
  th:first-child, td:first-child { text-align: left; }
  .pos { color: #1a7f37; } .neg { color: #cf222e; }
  .days { display: grid; grid-template-columns: 230px 1fr; gap: 12px; }
  #index { max-height: 560px; overflow-y: auto; border-right: 1px solid #eaecef;
           padding-right: 8px; }
  #index h3 { font-size: 13px; margin: 8px 0 2px; }
  #index a { display: flex; justify-content: space-between; padding: 1px 6px;
             text-decoration: none; color: #1d2330; border-radius: 3px; }
  #index a.current { background: #ddf4ff; }
  #index a:hover { background: #f0f3f7; }
  .chart-bar { display: flex; align-items: center; gap: 8px; }
  .chart-bar button { font: inherit; padding: 2px 10px; }
  #chart-title { font-weight: 600; flex: 1; }
  .scroll { max-height: 480px; overflow: auto; }
  .muted { color: #586069; }
</style>
<script>{{plotly}}</script>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <nav><a href="#equity-section">Equity</a><a href="#symbols-section">Symbols</a>
  <a href="#charts-section">Symbol-days</a><a href="#trades-section">Trades</a></nav>
</header>
<main>
  <section><h2>Totals</h2><div id="totals" class="cards"></div></section>
  <section id="equity-section"><h2>Equity and drawdown</h2><div id="equity"></div></section>
  <section id="symbols-section"><h2>Per symbol</h2><div class="scroll"><table id="symbols">
  </table></div></section>
  <section id="charts-section"><h2>Symbol-days with trades</h2>
    <div class="days"><div id="index"></div>
      <div><div class="chart-bar"><button id="prev" type="button">&larr;</button>
        <span id="chart-title"></span><button id="next" type="button">&rarr;</button></div>
        <div id="chart"></div>
        <div class="muted">Candles: the strategy's bars. &#9650;/&#9660; entries (long/short),
        &#10005; exits; orange: the stop (planned while the entry works, then the protective stop as
        it moved); dotted: the signal's levels (shaded: the opening range).
        </div></div></div></section>
  <section id="trades-section"><h2>Trades</h2><div class="scroll"><table id="trades"></table>
  </div></section>
</main>
<script type="application/json" id="data">{{data}}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const CONFIG = {displaylogo: false, responsive: true};
const pad = (n) => String(n).padStart(2, "0");
const at = (day, minute) => day + " " + pad(Math.floor(minute / 60)) + ":" + pad(minute % 60);
const text = (v) => (v === null || v === undefined) ? "" :
  (typeof v === "object" ? JSON.stringify(v) : String(v));
const money = (v) => Number(v).toLocaleString("en-US",
  {minimumFractionDigits: 2, maximumFractionDigits: 2});
const label = (key) => key.replace(/_/g, " ");

function cell(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = text(value);
  if (cls) el.className = cls;
  return el;
}
// JSON numbers lose a Decimal's trailing zeros: show money and prices with at least cents.
function shown(key, v) {
  return (typeof v === "number" && /pnl|price|drawdown|cost|profit|expectancy|average/.test(key))
    ? v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 4,
                                 useGrouping: false}) : v;
}
function signClass(v) { const n = Number(v); return n > 0 ? "pos" : (n < 0 ? "neg" : ""); }
function isPnl(key) { return /pnl|profit|expectancy/.test(key); }

function table(el, columns, rows) {
  const head = document.createElement("tr");
  const spec = (c) => typeof c === "string" ? {key: c} : c;  // "x".link is a String method
  columns.map(spec).forEach((c) => head.appendChild(cell("th", label(c.key))));
  el.appendChild(head);
  rows.forEach((row) => {
    const tr = document.createElement("tr");
    columns.map(spec).forEach((c) => {
      const key = c.key;
      const td = cell("td", shown(key, row[key]), isPnl(key) ? signClass(row[key]) : "");
      if (c.link) {
        const a = document.createElement("a");
        a.href = c.link(row); a.textContent = td.textContent;
        td.textContent = ""; td.appendChild(a);
      }
      tr.appendChild(td);
    });
    el.appendChild(tr);
  });
}

// summary.json keeps "pnl" (the gross) for older readers; beside "gross_pnl" it says nothing new.
function alias(key, row) { return key === "pnl" && "gross_pnl" in row; }

function keysOf(rows) {
  const keys = [];
  rows.forEach((row) => Object.keys(row).forEach((k) => {
    if (!keys.includes(k) && !alias(k, row)) keys.push(k);
  }));
  return keys;
}

function drawTotals() {
  const summary = D.summary || {};
  document.getElementById("title").textContent = D.title;
  const box = document.getElementById("totals");
  const total = summary.total || {};
  const extra = {bars: summary.bars, "symbol-days": D.charts.length};
  Object.entries(Object.assign({}, total, extra)).forEach(([k, v]) => {
    if (v === undefined || (typeof v === "object" && v !== null) || alias(k, total)) return;
    const card = document.createElement("div");
    card.className = "card";
    card.appendChild(cell("b", v, isPnl(k) ? signClass(v) : ""));
    card.appendChild(cell("span", label(k)));
    box.appendChild(card);
  });
}

function drawSymbols() {
  const symbols = (D.summary || {}).symbols || {};
  const rows = Object.entries(symbols).map(([s, f]) => Object.assign({symbol: s}, f));
  if ((D.summary || {}).total) rows.push(Object.assign({symbol: "total"}, D.summary.total));
  table(document.getElementById("symbols"), keysOf(rows), rows);
}

function drawEquity() {
  const trades = D.trades.slice().sort((a, b) => a.exit_time < b.exit_time ? -1 : 1);
  const x = [], equity = [], drawdown = [];
  let sum = 0, peak = 0;
  if (trades.length) { x.push(trades[0].entry_time); equity.push(0); drawdown.push(0); }
  trades.forEach((t) => {
    sum += Number(t.pnl); peak = Math.max(peak, sum);
    x.push(t.exit_time); equity.push(+sum.toFixed(2)); drawdown.push(+(sum - peak).toFixed(2));
  });
  return Plotly.newPlot("equity", [
    {x, y: equity, name: "equity (realised PnL)", type: "scatter", mode: "lines",
     line: {shape: "hv", color: "#0969da", width: 2}},
    {x, y: drawdown, name: "drawdown", type: "scatter", mode: "lines", yaxis: "y2",
     fill: "tozeroy", line: {shape: "hv", color: "#cf222e", width: 1},
     fillcolor: "rgba(207,34,46,0.25)"},
  ], {
    height: 420, margin: {l: 70, r: 20, t: 10, b: 40}, hovermode: "x unified",
    legend: {orientation: "h", y: 1.08},
    yaxis: {domain: [0.36, 1], title: {text: "equity"}, zeroline: true},
    yaxis2: {domain: [0, 0.28], title: {text: "drawdown"}, anchor: "x"},
    xaxis: {type: "date"},
  }, CONFIG);
}

const dayPnl = {};
D.trades.forEach((t) => {
  const key = t.symbol + "/" + t.day;
  dayPnl[key] = (dayPnl[key] || 0) + Number(t.pnl);
});
const keyOf = (c) => c.symbol + "/" + c.day;
let current = -1;

function drawIndex() {
  const index = document.getElementById("index");
  let symbol = null;
  D.charts.forEach((c, i) => {
    if (c.symbol !== symbol) { symbol = c.symbol; index.appendChild(cell("h3", symbol)); }
    const a = document.createElement("a");
    a.href = "#" + keyOf(c); a.id = "day-" + i;
    a.appendChild(cell("span", c.day));
    const pnl = dayPnl[keyOf(c)] || 0;
    a.appendChild(cell("span", money(pnl), signClass(pnl)));
    index.appendChild(a);
  });
}

function showChart(i) {
  if (i < 0 || i >= D.charts.length) return Promise.resolve();
  const previous = document.getElementById("day-" + current);
  if (previous) previous.classList.remove("current");
  current = i;
  const link = document.getElementById("day-" + i);
  link.classList.add("current");
  const c = D.charts[i];
  const x = c.t.map((m) => at(c.day, m));
  const end = at(c.day, c.t[c.t.length - 1] + c.interval);
  const pnl = dayPnl[keyOf(c)] || 0;
  document.getElementById("chart-title").textContent =
    c.symbol + " " + c.day + " \\u2014 day PnL " + money(pnl);
  const mine = D.trades.filter((t) => t.symbol === c.symbol);
  const entries = mine.filter((t) => t.entry_time.startsWith(c.day));
  const exits = mine.filter((t) => t.exit_time.startsWith(c.day));
  const traces = [
    {type: "candlestick", x, open: c.o, high: c.h, low: c.l, close: c.c, name: "bars",
     increasing: {line: {color: "#1a7f37"}}, decreasing: {line: {color: "#cf222e"}}},
    {type: "scatter", mode: "lines", name: "stop", connectgaps: false,
     x: c.stop.map((p) => at(c.day, p[0])), y: c.stop.map((p) => p[1]),
     line: {shape: "hv", color: "#f28c28", width: 2}},
    {type: "scatter", mode: "markers", name: "entry",
     x: entries.map((t) => t.entry_time), y: entries.map((t) => t.entry_price),
     text: entries.map((t) => t.side + " " + t.qty + " @ " + t.entry_price),
     marker: {size: 13, color: "#0969da", line: {color: "#fff", width: 1},
              symbol: entries.map((t) => t.side === "long" ? "triangle-up" : "triangle-down")}},
    {type: "scatter", mode: "markers", name: "exit",
     x: exits.map((t) => t.exit_time), y: exits.map((t) => t.exit_price),
     text: exits.map((t) => t.exit_reason + " @ " + t.exit_price + ", PnL " + t.pnl),
     marker: {size: 11, color: "#1d2330", symbol: "x"}},
  ];
  const shapes = [], annotations = [];
  c.lines.forEach(([name, price]) => {
    shapes.push({type: "line", xref: "x", yref: "y", x0: x[0], x1: end, y0: price, y1: price,
                 line: {color: "#6f42c1", width: 1, dash: "dot"}});
    annotations.push({xref: "x", yref: "y", x: x[0], y: price, text: name + " " + price,
                      showarrow: false, xanchor: "left", yanchor: "bottom",
                      font: {size: 11, color: "#6f42c1"}});
  });
  if (c.window) {
    const [from, to, low, high] = c.window;
    shapes.push({type: "rect", xref: "x", yref: "y", x0: at(c.day, from), x1: at(c.day, to),
                 y0: low, y1: high, fillcolor: "rgba(111,66,193,0.12)", line: {width: 0}});
  }
  return Plotly.react("chart", traces, {
    height: 520, margin: {l: 60, r: 20, t: 10, b: 40}, shapes, annotations,
    xaxis: {type: "date", rangeslider: {visible: false}}, yaxis: {title: {text: "price"}},
    legend: {orientation: "h", y: 1.06}, hovermode: "closest",
  }, CONFIG);
}

function fromAddress() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  const i = D.charts.findIndex((c) => keyOf(c) === wanted);
  return i >= 0 ? showChart(i) : null;
}

function drawTrades() {
  const columns = ["symbol", "side", "qty", "entry_time", "entry_price", "exit_time",
                   "exit_price", "pnl", "exit_reason",
                   {key: "day", link: (t) => "#" + t.symbol + "/" + t.day}];
  table(document.getElementById("trades"), columns, D.trades);
}

drawTotals();
drawSymbols();
drawIndex();
drawTrades();
window.addEventListener("hashchange", fromAddress);
document.getElementById("prev").addEventListener("click", () => showChart(current - 1));
document.getElementById("next").addEventListener("click", () => showChart(current + 1));
window.reportReady = Promise.all([
  drawEquity(), fromAddress() || (D.charts.length ? showChart(0) : null),
]).then(() => D.charts.length);
</script>
</body>
</html>
"""
