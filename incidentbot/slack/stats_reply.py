"""The ``/incident stats`` reply: a small monospace table that stays readable on a phone."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from incidentbot.domain.insights import SPEED_KEYS, SpeedReport, SpeedRow, Spread
from incidentbot.domain.metrics import DEFINITIONS
from incidentbot.domain.timeparse import format_moment

NO_DATA = "–"
_CELL = 6  # "23h59m", "12d23h": the widest a short duration gets below a thousand days
_PRIVACY = "Private incidents count only if you are in their channel."


def short_duration(delta: timedelta | None) -> str:
    """``45s``, ``12m``, ``1h5m``, ``2d3h``: the two largest units, the rest cut off."""
    if delta is None:
        return NO_DATA
    sign = "-" if delta < timedelta() else ""
    total = int(abs(delta).total_seconds())
    if total < 60:
        return f"{sign}{total}s"
    # From seconds alone relativedelta carries into days but never into months or years.
    parts = relativedelta(seconds=total).normalized()
    units = [(parts.days, "d"), (parts.hours, "h"), (parts.minutes, "m")]
    first = next(index for index, (value, _) in enumerate(units) if value)
    shown = [f"{value}{unit}" for value, unit in units[first : first + 2] if value]
    return sign + "".join(shown)


def _cells(spread: Spread) -> str:
    return f"{short_duration(spread.median):<{_CELL}} {short_duration(spread.p90):<{_CELL}}"


def _line(label: str, count: str, cells: list[str]) -> str:
    return f"{label:<4} {count:>5}  {'  '.join(cells)}".rstrip()


def _table(rows: list[SpeedRow]) -> str:
    group = 2 * _CELL + 1
    lines = [
        _line("", "", [f"{key:<{group}}" for key in SPEED_KEYS]),
        _line("", "count", [f"{'median':<{_CELL}} {'p90':<{_CELL}}" for _ in SPEED_KEYS]),
    ]
    for row in rows:
        spreads = [getattr(row, key) for key in SPEED_KEYS]
        lines.append(_line(row.label, str(row.count), [_cells(s) for s in spreads]))
    return "\n".join(lines)


def _definition(key: str) -> str:
    text = DEFINITIONS[SPEED_KEYS[key]]
    return f"_{key}_: {text[0].lower()}{text[1:]}"


def stats_reply(report: SpeedReport, *, zone: str) -> str:
    """Counts by severity, then median and p90 of each duration; ``–`` where there is none."""
    window = "the last day" if report.days == 1 else f"the last {report.days} days"
    since = format_moment(report.since, zone)
    if report.total.count == 0:
        return f"No incidents were declared in {window} (since {since}). {_PRIVACY}"
    return "\n".join(
        [
            f"*Incidents declared in {window}* (since {since}): {report.total.count}",
            "```",
            _table([*report.rows, report.total]),
            "```",
            "Median and p90 (nine in ten took at most this long) over the incidents that got "
            "that far; each incident counts under the most severe level it reached.",
            " ".join(_definition(key) for key in SPEED_KEYS),
            _PRIVACY,
        ]
    )
