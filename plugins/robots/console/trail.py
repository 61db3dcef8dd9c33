"""A robot's position trail as an SVG plot, drawn on the server; ``robots.js`` extends it as positions arrive.

The plot's coordinates are the robot's own (metres), with y pointing up: an
SVG point is ``(x, -y)``. The view box is the trail's extent with a margin,
never less than a few metres wide, so a robot standing still is a dot in a
readable square rather than a zoom onto noise.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

MIN_SPAN = 2.0  # metres: the smallest extent shown
MARGIN = 0.08  # of the extent, on every side


@dataclasses.dataclass(frozen=True)
class Trail:
    points: list[tuple[float, float]]  # (x, y), oldest first
    limit: int  # points kept, here and in the browser

    @classmethod
    def of(cls, positions: Iterable[Any], limit: int) -> Trail:
        """From position frames, oldest first."""
        return cls([(position.position_x, position.position_y) for position in positions][-limit:], limit)

    @property
    def view_box(self) -> str:
        if not self.points:
            return f"{-MIN_SPAN / 2} {-MIN_SPAN / 2} {MIN_SPAN} {MIN_SPAN}"
        xs = [x for x, _ in self.points]
        ys = [-y for _, y in self.points]
        span = max(max(xs) - min(xs), max(ys) - min(ys), MIN_SPAN)
        middle_x, middle_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        size = span * (1 + 2 * MARGIN)
        return f"{_n(middle_x - size / 2)} {_n(middle_y - size / 2)} {_n(size)} {_n(size)}"

    @property
    def marker_radius(self) -> str:
        return _n(float(self.view_box.split()[2]) / 60)

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of the trail's polyline."""
        return " ".join(f"{_n(x)},{_n(-y)}" for x, y in self.points)

    @property
    def last(self) -> tuple[str, str] | None:
        """Where the robot is: the SVG centre of the marker."""
        return _svg_point(self.points[-1]) if self.points else None

    @property
    def first(self) -> tuple[str, str] | None:
        """Where the trail begins (a hollow ring)."""
        return _svg_point(self.points[0]) if self.points else None

    @property
    def caption(self) -> str:
        """What the plot shows, in words (``robots.js`` writes the same as it grows)."""
        if not self.points:
            return "No position yet: the trail is drawn as the robot sends them."
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return (
            f"The last {len(self.points)} positions, north up: x {min(xs):.2f} to {max(xs):.2f} m, "
            f"y {min(ys):.2f} to {max(ys):.2f} m. The ring is the oldest, the dot the newest."
        )

    def as_json(self) -> str:
        """The points for ``data-points``: the script starts from what the server drew."""
        return json.dumps([[x, y] for x, y in self.points])


def _svg_point(point: tuple[float, float]) -> tuple[str, str]:
    return _n(point[0]), _n(-point[1])


def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value else "0"
