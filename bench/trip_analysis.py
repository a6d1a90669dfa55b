"""Trip analysis of a 10,000-item CSV catalogue, in-process and as the operator runs it (the CLI).

Run: .venv/bin/python bench/trip_analysis.py [--items 10000] [--seed 1] [--runs 5]

Writes a catalogue with ``bench/data/service_catalogue.py`` into a temporary folder, then times
(1) reading and checking the CSV (``catalogue_csv.read_catalogue``) and the analysis (``trips.analyse``:
bands per department and level, the materials that need a visit and whether each is the only reason for
its visit, and the what-if per holder), best and median of ``--runs``; (2) ``zerotrip services trips
FILE --json`` in a fresh process, wall clock, best of three, and checks that it prints exactly the
in-process figures; (3) a fresh process that only imports the CLI, the fixed start-up cost inside (2).
The target (under 2 s) is checked for the analysis itself (reading, checking and analysing, median) and,
separately, for the whole CLI process. Prints the figures and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from data.service_catalogue import write

from zerotrip.services import catalogue_csv, trips

TARGET_SECONDS = 2.0


def timed_process(args: list[str], runs: int = 3) -> tuple[float, str]:
    """The best wall-clock time of ``runs`` runs of a fresh Python process, and its output."""
    best = float("inf")
    output = ""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, env=env)
        best = min(best, time.perf_counter() - started)
        output = done.stdout
    return best, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalogue.csv"
        started = time.perf_counter()
        write(path, args.items, args.seed)
        generated = time.perf_counter() - started
        print(
            f"catalogue: {args.items:,} items, {path.stat().st_size / 1e6:.1f} MB, "
            f"written in {generated:.2f} s"
        )

        reads, analyses = [], []
        analysis: trips.Analysis | None = None
        for _ in range(args.runs):
            catalogue_csv.clear_caches()  # every run reads cold, as a fresh CLI process does
            started = time.perf_counter()
            with path.open(encoding="utf-8-sig", newline="") as handle:
                items = catalogue_csv.read_catalogue(handle)
            read = time.perf_counter()
            analysis = trips.analyse(items)
            reads.append(read - started)
            analyses.append(time.perf_counter() - read)
        assert analysis is not None
        totals = [r + a for r, a in zip(reads, analyses, strict=True)]
        print(
            f"in-process: read and check {min(reads):.3f} s, analyse {min(analyses):.3f} s, "
            f"together {min(totals):.3f} s best, {statistics.median(totals):.3f} s median of {args.runs}"
        )

        cli, output = timed_process(["-m", "zerotrip", "services", "trips", str(path), "--json"])
        assert json.loads(output) == analysis.as_dict(), "the CLI printed other figures"
        imports, _ = timed_process(["-c", "import zerotrip.cli"])
        print(
            f"`zerotrip services trips FILE --json`: {cli:.3f} s wall, best of 3 "
            f"(start-up and imports alone: {imports:.3f} s)"
        )
        bands = analysis.total
        print(
            f"figures: {bands.zero:,} items need no trip, {bands.one:,} one, {bands.more:,} more; "
            f"{len(analysis.by_department):,} departments; {len(analysis.forcing):,} materials need a visit; "
            f"{len(analysis.what_if):,} holders in the what-if"
        )
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} over the last minute")
        met = statistics.median(totals) < TARGET_SECONDS
        cli_met = cli < TARGET_SECONDS
        print(f"target: the analysis under {TARGET_SECONDS} s: {'met' if met else 'NOT met'}")
        print(f"target: the whole CLI process under {TARGET_SECONDS} s: {'met' if cli_met else 'NOT met'}")
        print(
            json.dumps(
                {
                    "bench": "trip_analysis",
                    "items": args.items,
                    "read_s": round(min(reads), 4),
                    "analyse_s": round(min(analyses), 4),
                    "in_process_best_s": round(min(totals), 4),
                    "in_process_median_s": round(statistics.median(totals), 4),
                    "cli_s": round(cli, 4),
                    "cli_imports_s": round(imports, 4),
                    "load_average": round(load, 2),
                    "target_s": TARGET_SECONDS,
                    "met": met,
                    "cli_met": cli_met,
                }
            )
        )


if __name__ == "__main__":
    main()
