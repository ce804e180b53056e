"""Bounding box and centroid of a GeoJSON geometry, in plain Python (no GEOS needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Point = tuple[float, float]


def _points(coords: Any) -> Iterator[Point]:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        yield float(coords[0]), float(coords[1])
    elif isinstance(coords, list | tuple):
        for c in coords:
            yield from _points(c)


def _all_points(geometry: dict[str, Any]) -> Iterator[Point]:
    if geometry.get("type") == "GeometryCollection":
        for g in geometry.get("geometries") or []:
            if isinstance(g, dict):
                yield from _all_points(g)
    else:
        yield from _points(geometry.get("coordinates"))


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float] | None:
    xs, ys = [], []
    for x, y in _all_points(geometry):
        xs.append(x)
        ys.append(y)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _ring(ring: list[Any]) -> tuple[float, float, float]:
    """Signed area and area-weighted centroid sums of one ring (shoelace)."""
    a = cx = cy = 0.0
    pts = [(float(p[0]), float(p[1])) for p in ring if isinstance(p, list | tuple) and len(p) >= 2]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=False):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return a / 2, cx / 6, cy / 6


def centroid(geometry: dict[str, Any]) -> Point | None:
    """Area centroid for (multi)polygons, holes subtracted; mean of the vertices for other geometries."""
    kind = geometry.get("type")
    polygons = []
    if kind == "Polygon":
        polygons = [geometry.get("coordinates") or []]
    elif kind == "MultiPolygon":
        polygons = geometry.get("coordinates") or []
    area = sx = sy = 0.0
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            a, cx, cy = _ring(ring)
            sign = 1.0 if i == 0 else -1.0  # holes subtract, whatever their winding
            area += sign * abs(a)
            sx += sign * (cx if a >= 0 else -cx)
            sy += sign * (cy if a >= 0 else -cy)
    if abs(area) > 0:
        return sx / area, sy / area
    pts = list(_all_points(geometry))
    if not pts:
        return None
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
