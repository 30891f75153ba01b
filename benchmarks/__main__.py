"""``python -m benchmarks`` (``make bench``): every suite, a Markdown table, and JSON.

Options: ``--quick`` (one short round, for trying things), ``--only ack,events,...``,
``--databases sqlite,postgresql``, ``--rounds N``, ``--seconds S`` (per load level),
``--json PATH`` (default ``benchmarks/results.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import ack, close, history, postmortem, startup, storm, usable
from benchmarks.common import Options, Row, machine, postgres_reason, table

# ack also measures event ingestion: both need the same servers and incident.
SUITES = {
    "startup": startup.run,
    "ack": ack.run,
    "postmortem": postmortem.run,
    "storm": storm.run,
    "usable": usable.run,
    "close": close.run,
    "history": history.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="one short round of each")
    parser.add_argument("--only", default=",".join(SUITES), help="suites to run")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="per load level and round")
    parser.add_argument("--json", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args(argv)

    databases = tuple(d for d in args.databases.split(",") if d)
    if "postgresql" in databases and (reason := postgres_reason()) is not None:
        print(f"PostgreSQL is not reachable ({reason}); measuring SQLite only.", file=sys.stderr)
        databases = tuple(d for d in databases if d != "postgresql")
    unknown = set(args.only.split(",")) - set(SUITES)
    if unknown:
        parser.error(f"unknown suites: {', '.join(sorted(unknown))}; known: {', '.join(SUITES)}")

    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="incidentbot-bench-") as workdir:
        options = Options(
            rounds=args.rounds or (1 if args.quick else 3),
            seconds=args.seconds or (3.0 if args.quick else 8.0),
            databases=databases,
            quick=args.quick,
            workdir=Path(workdir),
        )
        for name, run in SUITES.items():
            if name in args.only.split(","):
                print(f"running {name}...", file=sys.stderr, flush=True)
                rows += run(options)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {"rounds": options.rounds, "seconds": options.seconds, "quick": args.quick},
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "rows": [row.as_json() for row in rows],
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{report['date']} on {json.dumps(report['machine'])}\n")
    print(table(rows))
    missed = [row for row in rows if row.verdict.startswith("MISSED")]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} rows meet their targets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
