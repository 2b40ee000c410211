"""The weekly service-quality chart as PNG bytes (matplotlib, Agg, no pyplot state).

Axis labels and titles are English and drawn in DejaVu Sans, which matplotlib ships: the
bot's machines have no CJK font, and a missing glyph would both draw boxes and raise a
warning. The Chinese caption travels in the message text instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.services.stats import WeekPoint

FONT = "DejaVu Sans"
_BLUE, _ORANGE, _GREEN, _RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def weekly_chart(points: Sequence[WeekPoint], *, title: str = "Service quality") -> bytes:
    """Three panels, one x tick per week (label: the Monday, MM-DD):

    1. tickets opened (bars) and self-service rate in % (line, right axis);
    2. median first-response and resolution time in working hours;
    3. average satisfaction (1–5) with the number of ratings above each point.
    Weeks with no data leave a gap in the lines rather than a misleading zero.
    """
    fig = Figure(figsize=(8.0, 9.0), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontfamily=FONT, fontsize=13)
    axes = fig.subplots(3, 1, sharex=True)
    xs = list(range(len(points)))
    labels = [p.week_start.strftime("%m-%d") for p in points]

    ax = axes[0]
    ax.bar(xs, [p.tickets_opened for p in points], color=_BLUE, label="Tickets opened")
    ax.set_ylabel("Tickets", fontfamily=FONT)
    ax.set_ylim(bottom=0)
    rate_ax = ax.twinx()
    rates = [
        _nan(None if p.self_service_rate is None else p.self_service_rate * 100) for p in points
    ]
    rate_ax.plot(xs, rates, color=_ORANGE, marker="o", label="Self-service rate (%)")
    rate_ax.set_ylim(0, 100)
    rate_ax.set_ylabel("Self-service %", fontfamily=FONT)
    handles = ax.get_legend_handles_labels()[0] + rate_ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8, prop={"family": FONT})
    ax.set_title("Tickets and self-service rate per week", fontfamily=FONT, fontsize=10)

    ax = axes[1]
    ax.plot(
        xs,
        [_nan(p.first_response_median) for p in points],
        color=_GREEN,
        marker="o",
        label="First response (median)",
    )
    ax.plot(
        xs,
        [_nan(p.resolution_median) for p in points],
        color=_RED,
        marker="s",
        label="Resolution (median)",
    )
    ax.set_ylabel("Working hours", fontfamily=FONT)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, prop={"family": FONT})
    ax.set_title("Response times", fontfamily=FONT, fontsize=10)

    ax = axes[2]
    ratings = [_nan(p.rating_avg) for p in points]
    ax.plot(xs, ratings, color=_BLUE, marker="o", label="Average rating")
    for x, p in zip(xs, points, strict=True):
        if p.rating_avg is not None:
            ax.annotate(
                f"n={p.rating_count}",
                (x, p.rating_avg),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                fontfamily=FONT,
            )
    ax.set_ylim(0.5, 5.5)
    ax.set_ylabel("Rating (1-5)", fontfamily=FONT)
    ax.set_title("Satisfaction", fontfamily=FONT, fontsize=10)
    ax.set_xticks(xs, labels, fontfamily=FONT)
    ax.set_xlabel("Week starting (Monday)", fontfamily=FONT)

    for a in (*axes, rate_ax):
        a.grid(axis="y", alpha=0.3)
        for tick in a.get_yticklabels():
            tick.set_fontfamily(FONT)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
