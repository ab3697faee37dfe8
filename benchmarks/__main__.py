"""Command line of the benchmarks: `python -m benchmarks plan [--enterprises N]`,
`python -m benchmarks province [--enterprises N]` for the province-scale run of the CLI, and
`python -m benchmarks assign [--visits N]` for assign-v2's pair costs against assign-v1's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spotcheck.demo import DEMO_QUARTER, DEMO_SEED

from . import assign_costs, plan_scale, province_scale


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmark, print its table; return 1 if its result is wrong."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="benchmark", required=True)
    plan = commands.add_parser("plan", help="plan a synthetic city, stage by stage")
    plan.add_argument("--enterprises", type=int, default=1_000_000,
                      help="enterprises in the synthetic city (default 1,000,000)")
    plan.add_argument("--seed", default=DEMO_SEED, help="draw seed (default: the demo's)")
    plan.add_argument("--quarter", default=DEMO_QUARTER, help="quarter (default 2026Q4)")
    province = commands.add_parser(
        "province", help="import, plan and verify a synthetic province through the CLI, "
                         "each command timed and measured against its target")
    province.add_argument("--enterprises", type=int, default=1_000_000,
                          help="enterprises in the synthetic province (default 1,000,000)")
    province.add_argument("--keep", type=Path, metavar="DIR",
                          help="work in DIR (empty or new) and keep the files, database, "
                               "bundle, timings and logs (default: a temporary folder)")
    province.add_argument("--db", metavar="URL",
                          help="database URL, e.g. an empty PostgreSQL database "
                               "(default: SQLite in the work folder)")
    province.add_argument("--json", type=Path, metavar="FILE",
                          help="append the result to FILE as one JSON line")
    assign = commands.add_parser(
        "assign", help="price every lawful pair by assign-v1 and assign-v2, and plan a "
                       "synthetic city by both")
    assign.add_argument("--visits", type=int, default=1_000_000,
                        help="visits to price (default 1,000,000)")
    assign.add_argument("--pool", type=int, default=24,
                        help="lawful officers per visit (default 24)")
    assign.add_argument("--keep", type=int, default=24,
                        help="cheapest pairs kept per visit (default 24, as plans keep)")
    assign.add_argument("--city", type=int, default=200_000, metavar="N",
                        help="also plan a synthetic city of N enterprises by both rules "
                             "(default 200,000; 0 skips it)")
    args = parser.parse_args(argv)
    if args.benchmark == "assign":
        try:
            found_costs = assign_costs.run(args.visits, args.pool, args.keep, args.city)
        except assign_costs.BenchmarkFailure as exc:
            print(f"benchmark FAILED: {exc}", file=sys.stderr)
            return 1
        print(assign_costs.report(found_costs))
        return 0
    if args.enterprises < 1:
        parser.error("--enterprises must be at least 1")
    if args.benchmark == "plan":
        try:
            result = plan_scale.run(args.enterprises, args.seed, args.quarter)
        except plan_scale.BenchmarkFailure as exc:
            print(f"benchmark FAILED: the plan is wrong: {exc}", file=sys.stderr)
            return 1
        print(plan_scale.report(result))
        return 0
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: the folder is not empty")
    try:
        found = province_scale.run(args.enterprises, args.keep, db_url=args.db)
    except province_scale.BenchmarkFailure as exc:
        print(f"benchmark FAILED: {exc}", file=sys.stderr)
        return 1
    print(province_scale.report(found))
    if args.json is not None:
        province_scale.append_json(found, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
