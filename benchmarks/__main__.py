"""Command line of the benchmarks: `python -m benchmarks plan [--enterprises N]`."""

from __future__ import annotations

import argparse
import sys

from scheduler.demo import DEMO_QUARTER, DEMO_SEED

from . import plan_scale


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmark, print its table; return 1 if its result is wrong."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="benchmark", required=True)
    plan = commands.add_parser("plan", help="plan a synthetic city, stage by stage")
    plan.add_argument("--enterprises", type=int, default=1_000_000,
                      help="enterprises in the synthetic city (default 1,000,000)")
    plan.add_argument("--seed", default=DEMO_SEED, help="draw seed (default: the demo's)")
    plan.add_argument("--quarter", default=DEMO_QUARTER, help="quarter (default 2026Q4)")
    args = parser.parse_args(argv)
    if args.enterprises < 1:
        parser.error("--enterprises must be at least 1")
    try:
        result = plan_scale.run(args.enterprises, args.seed, args.quarter)
    except plan_scale.BenchmarkFailure as exc:
        print(f"benchmark FAILED: the plan is wrong: {exc}", file=sys.stderr)
        return 1
    print(plan_scale.report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
