"""Stacked bar charts drawn on the server as SVG geometry: no JavaScript, no chart library.

:func:`stacked_bars` turns ``{series: {period: amount}}`` into the rectangles,
axis ticks and legend a template writes out as ``<svg>`` elements. Fills are
SVG presentation attributes, which the Content-Security-Policy allows.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

WIDTH = 640
HEIGHT = 260
LEFT = 56  # room for the amounts on the axis
BOTTOM = 40  # room for the periods
TOP = 12
RIGHT = 8
# Colour-blind-safe (Okabe and Ito), enough for the categories a bar has.
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]


@dataclasses.dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str  # what a tooltip (<title>) and a screen reader say


@dataclasses.dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclasses.dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[tuple[str, str]]  # (name, colour)
    plot_left: int
    plot_bottom: int
    plot_right: int

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice_step(top: Decimal, ticks: int = 4) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) giving about ``ticks`` lines up to ``top``."""
    raw = float(top) / ticks if top > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return Decimal(str(factor * power))
    return Decimal(str(10 * power))


def stacked_bars(
    periods: list[str], series: dict[str, dict[str, Decimal]], colours: dict[str, str] | None = None
) -> Chart:
    """One bar per period, stacked by series (a category, a payment method), scaled to the largest total."""
    names = list(series)
    colour_of = {name: (colours or {}).get(name) or PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    totals = [sum((series[name].get(period, Decimal("0")) for name in names), Decimal("0")) for period in periods]
    step = _nice_step(max(totals, default=Decimal("0")))
    top = step * max(1, math.ceil(max(totals, default=Decimal("0")) / step))
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(periods), 1)
    bar_width = min(48.0, max(2.0, slot * 0.7))

    def y_of(amount: Decimal) -> float:
        return TOP + plot_height - float(amount / top) * plot_height

    bars = []
    for index, period in enumerate(periods):
        x = LEFT + index * slot + (slot - bar_width) / 2
        base = Decimal("0")
        for name in names:
            amount = series[name].get(period, Decimal("0"))
            if amount <= 0:
                continue
            upper = y_of(base + amount)
            bars.append(
                Rect(
                    x=round(x, 1),
                    y=round(upper, 1),
                    width=round(bar_width, 1),
                    height=round(y_of(base) - upper, 1),
                    fill=colour_of[name],
                    label=f"{period}, {name}: {amount:.2f}",
                )
            )
            base += amount
    y_ticks = [Tick(round(y_of(step * i), 1), f"{step * i:.2f}") for i in range(int(top / step) + 1)]
    # At most about a dozen period labels, or they overlap.
    every = max(1, math.ceil(len(periods) / 12))
    x_ticks = [
        Tick(round(LEFT + index * slot + slot / 2, 1), period)
        for index, period in enumerate(periods)
        if index % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=[(name, colour_of[name]) for name in names],
        plot_left=LEFT,
        plot_bottom=HEIGHT - BOTTOM,
        plot_right=WIDTH - RIGHT,
    )
