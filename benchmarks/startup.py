"""Start-up: ``incidentbot --help`` (what every CLI use pays) and ``serve`` until ``/healthz``
answers (what a restart or a new replica costs before it takes requests)."""

from __future__ import annotations

import statistics
import subprocess
import time

from benchmarks import servers
from benchmarks.common import Options, Row, Target, fresh_database


def _help_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([*servers.incidentbot_command(), "--help"], check=True, capture_output=True)
    return time.perf_counter() - started


def _python_seconds() -> float:
    """The interpreter alone: the part of ``--help`` no code of ours can save."""
    import sys

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
    return time.perf_counter() - started


def run(options: Options) -> list[Row]:
    repeats = 3 if options.quick else 7
    _help_seconds()  # the first run pays for cold file caches
    help_runs = [_help_seconds() for _ in range(repeats)]
    python_runs = [_python_seconds() for _ in range(repeats)]
    rows = [
        Row(
            suite="startup",
            name="incidentbot --help",
            figures={
                "seconds": statistics.median(help_runs),
                "bare python": statistics.median(python_runs),
            },
            units={"seconds": "s", "bare python": "s"},
            targets=[Target("seconds", "<=", 0.5)],
        )
    ]
    with servers.local_slack() as slack:
        for db in options.databases:
            healthy = []
            for _ in range(max(1, repeats // 2)):
                # A fresh database each time: the first start also applies every migration.
                with (
                    fresh_database(db, options.workdir) as url,
                    servers.bot(slack, url, options.workdir) as bot,
                ):
                    healthy.append(bot.startup)
            rows.append(
                Row(
                    suite="startup",
                    name=f"serve until /healthz answers, new {db} database",
                    figures={"seconds": statistics.median(healthy)},
                    units={"seconds": "s"},
                    targets=[Target("seconds", "<=", 3.0)],
                )
            )
    return rows
