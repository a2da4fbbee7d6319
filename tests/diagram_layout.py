"""Measure a Graphviz layout: edge crossings, label overlaps, label lengths, aspect ratio.

``dot -Tjson`` lays a diagram out and gives each edge's spline as cubic Bézier control points
(``_draw_``, op ``b``), each label's text runs with their width and font size (``_ldraw_``, op
``T``) and each node's centre and size. Each Bézier piece is flattened into a polyline of 24
segments; two *different* edges cross where a segment of one properly intersects a segment of
the other (the endpoints of each lie strictly on both sides of the other; touching or collinear
runs do not count), merging points closer than 2 pt, and ignoring points inside a node's box
(edges meeting at a node). A label's box is the union of its text runs (baseline - 0.3 em to
baseline + 0.9 em); it overlaps when it meets another label's box, a node's box, or a segment
of another edge.

Run ``python -m tests.diagram_layout`` to print the figures of every generated diagram.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from itertools import combinations, pairwise

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

STEPS = 24


@dataclass(frozen=True)
class Layout:
    """The figures of one laid-out diagram."""

    crossings: int
    label_overlaps: int
    longest_line: int  # characters, over every edge and node label
    most_lines: int  # lines of the tallest edge label
    edges: int
    width: float  # points
    height: float
    centres: dict[str, Point]  # each node's centre, y growing upwards

    @property
    def aspect(self) -> float:
        return max(self.width, self.height) / min(self.width, self.height)


def have_dot() -> bool:
    return shutil.which("dot") is not None


def _bezier(points: list[Point]) -> list[Point]:
    out = [points[0]]
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i : i + 4]
        for step in range(1, STEPS + 1):
            t = step / STEPS
            u = 1 - t
            out.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
                )
            )
    return out


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _cross(p: Point, q: Point, r: Point, s: Point) -> Point | None:
    """The point where segments pq and rs properly intersect, if they do."""
    d1, d2 = _orient(r, s, p), _orient(r, s, q)
    d3, d4 = _orient(p, q, r), _orient(p, q, s)
    if d1 * d2 < 0 and d3 * d4 < 0:
        t = d1 / (d1 - d2)
        return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
    return None


def _inside(point: Point, box: Box, grow: float = 0.0) -> bool:
    return box[0] - grow <= point[0] <= box[2] + grow and box[1] - grow <= point[1] <= box[3] + grow


def _meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _segment_meets_box(p: Point, q: Point, box: Box) -> bool:
    if _inside(p, box) or _inside(q, box):
        return True
    x0, y0, x1, y1 = box
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return any(_cross(p, q, corners[i], corners[(i + 1) % 4]) for i in range(4))


def _label_box(ops: list[dict[str, object]]) -> Box | None:
    size, boxes = 14.0, []
    for op in ops:
        if op["op"] == "F":
            size = float(op["size"])  # type: ignore[arg-type]
        elif op["op"] == "T":
            x, y = op["pt"]  # type: ignore[misc]
            width = float(op["width"])  # type: ignore[arg-type]
            left = {"l": x, "r": x - width}.get(str(op["align"]), x - width / 2)
            boxes.append((left, y - 0.3 * size, left + width, y + 0.9 * size))
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _lines(label: str) -> list[str]:
    """A label's lines: plain (``\\n``, ``\\l``) or HTML-like (``<BR/>``, tags, entities)."""
    if label.startswith("<"):
        text = html.unescape(re.sub(r"<[^>]*>", "", re.sub(r"<BR[^>]*>", "\n", label)))
    else:
        text = label.replace("\\l", "\n").replace("\\n", "\n")
    return [line for line in text.split("\n") if line]


def count_crossings(paths: list[list[Point]], nodes: list[Box]) -> int:
    """Proper intersections between polylines of different edges, outside every node's box."""
    crossings = 0
    for a, b in combinations(range(len(paths)), 2):
        points: list[Point] = []
        for p, q in pairwise(paths[a]):
            for r, s in pairwise(paths[b]):
                hit = _cross(p, q, r, s)
                if hit is None or any(_inside(hit, box, 1.0) for box in nodes):
                    continue
                if all(abs(hit[0] - o[0]) + abs(hit[1] - o[1]) > 2 for o in points):
                    points.append(hit)
        crossings += len(points)
    return crossings


def count_label_overlaps(
    labels: list[Box | None], paths: list[list[Point]], nodes: list[Box]
) -> int:
    """Label boxes meeting another label, a node, or a segment of another edge."""
    boxes = [(i, box) for i, box in enumerate(labels) if box is not None]
    overlaps = sum(1 for (_, a), (_, b) in combinations(boxes, 2) if _meets(a, b))
    overlaps += sum(1 for _, a in boxes for node in nodes if _meets(a, node))
    for i, box in boxes:
        for j, path in enumerate(paths):
            if j != i and any(_segment_meets_box(p, q, box) for p, q in pairwise(path)):
                overlaps += 1
    return overlaps


def layout(dot_text: str) -> Layout:
    """Lay ``dot_text`` out with Graphviz and measure it."""
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot_text, capture_output=True, text=True, check=True
    )
    graph = json.loads(done.stdout)
    nodes: list[Box] = []
    centres: dict[str, Point] = {}
    longest = 0
    for obj in graph.get("objects", []):
        if "pos" not in obj:
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        w, h = float(obj["width"]) * 36, float(obj["height"]) * 36
        nodes.append((x - w, y - h, x + w, y + h))
        centres[obj["name"]] = (x, y)
        if obj.get("shape") != "point":
            longest = max([longest, *(len(line) for line in _lines(obj.get("label", "")))])
    paths: list[list[Point]] = []
    labels: list[Box | None] = []
    most = 0
    for edge in graph.get("edges", []):
        path: list[Point] = []
        for op in edge.get("_draw_", []):
            if op["op"] == "b":
                path += _bezier([(float(x), float(y)) for x, y in op["points"]])
        paths.append(path)
        labels.append(_label_box(edge.get("_ldraw_", [])))
        lines = _lines(edge.get("label", ""))
        longest = max([longest, *(len(line) for line in lines)])
        most = max(most, len(lines))
    x0, y0, x1, y1 = (float(v) for v in graph["bb"].split(","))
    return Layout(
        crossings=count_crossings(paths, nodes),
        label_overlaps=count_label_overlaps(labels, paths, nodes),
        longest_line=longest,
        most_lines=most,
        edges=len(paths),
        width=x1 - x0,
        height=y1 - y0,
        centres=centres,
    )


def generated_dots() -> dict[str, str]:
    """Every DOT file ``tickstate diagram`` writes, by its path under ``diagrams/``."""
    from strategies.cli._diagram import generated_files

    return {name: text for name, text in generated_files().items() if name.endswith(".dot")}


def main() -> None:
    print(
        f"{'diagram':34} {'crossings':>9} {'overlaps':>8} {'longest':>7} {'lines':>5}"
        f" {'edges':>5} {'size (pt)':>11} {'aspect':>6}"
    )
    for name, text in generated_dots().items():
        m = layout(text)
        size = f"{m.width:.0f}x{m.height:.0f}"
        print(
            f"{name:34} {m.crossings:9} {m.label_overlaps:8} {m.longest_line:7}"
            f" {m.most_lines:5} {m.edges:5} {size:>11} {m.aspect:6.2f}"
        )


if __name__ == "__main__":
    main()
