"""``/insights``: incidents per week and how fast they were handled, by severity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from flask import render_template

from incidentbot.domain import insights
from incidentbot.domain.metrics import humanize
from incidentbot.domain.models import Incident, TimelineRecord
from incidentbot.infra.config import Settings
from incidentbot.web.charts import DURATION_TICK_STEPS, bar_chart_svg, grouped_bar_svg

WEEKS = 13
DAYS = 90
# Far enough back for both: the 13 weeks end with the one holding now (up to 6 days of it
# gone by) in the page's zone (a day either side of UTC), and the medians cover 90 days.
SPAN = max(timedelta(weeks=WEEKS, days=7), timedelta(days=DAYS + 1))


def render_insights(
    *,
    incidents: Sequence[Incident],
    timelines: Mapping[int, Sequence[TimelineRecord]],
    settings: Settings,
    now: datetime,
) -> str:
    """``timelines``: what of each incident's timeline its metrics read."""
    per_week = insights.incidents_per_week(incidents, now=now, zone=settings.timezone, weeks=WEEKS)
    stats = insights.durations_by_severity(incidents, now=now, days=DAYS, timelines=timelines)
    rows = [
        {
            "severity": s.severity,
            "count": s.count,
            "detect": humanize(s.detect),
            "mitigate": humanize(s.mitigate),
            "resolve": humanize(s.resolve),
        }
        for s in stats.values()
    ]
    return render_template(
        "insights.html",
        weeks=WEEKS,
        zone=settings.timezone,
        per_week_svg=bar_chart_svg(
            title="Incidents per week",
            bars=[(insights.week_label(week), count) for week, count in per_week],
            value_label=lambda value: str(int(value)),
        ),
        speed_svg=grouped_bar_svg(
            title="Median time to detect, mitigate and resolve by severity",
            groups=insights.chart_groups(stats.values()),
            value_label=insights.seconds_label,
            tick_steps=DURATION_TICK_STEPS,
        ),
        speed_rows=rows,
    )
