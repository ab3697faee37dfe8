"""Commands that make plans: plan (against the database) and demo (a synthetic city)."""

from __future__ import annotations

from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, progress, quiet, say, workspace
from spotcheck.cli.summary import (
    advice_summary,
    shortfall_summary,
    strata_summary,
    utilisation_summary,
    workload_summary,
)
from spotcheck.models.registry import Registry
from spotcheck.scheduler.plan import Plan
from spotcheck.service import bundles
from spotcheck.service.results import CapacityReview, PlanResult


def plan_summary(plan: Plan, registry: Registry,
                 capacity: CapacityReview | None = None) -> list[str]:
    """Return the planner's summary of a plan: strata, shortfalls and what would staff them,
    officer utilisation and its spread with and without balancing."""
    lines = ["", f"plan for {plan.quarter} — strata by task and tier (分层抽取)",
             *("  " + line for line in strata_summary(plan))]
    shortfalls = shortfall_summary(plan)
    if shortfalls:
        lines += ["", "strata drawn below target", *("  " + line for line in shortfalls)]
    if capacity is not None and capacity.shortfall_advice:
        lines += ["", "officer groups that ran out (min cut) and the officer-visits they need",
                  *("  " + line for line in advice_summary(capacity.shortfall_advice))]
    if plan.capped:
        lines += ["", f"annual cap (年度抽查上限): {len(plan.capped)} enterprise(s) left out of "
                      "every stratum, their cap used this year (capped.csv)"]
    if plan.expert_gaps:
        lines += ["", f"experts (专家): {len(plan.expert_gaps)} visit(s) given fewer experts than "
                      "their tasks ask for; they keep their officers (expert_gaps.csv)"]
    lines += ["", "inspector utilisation (执法人员) by department and jurisdiction",
              *("  " + line for line in utilisation_summary(plan, registry))]
    if capacity is not None and capacity.workload is not None:
        lines += ["", "utilisation spread per department, the same visits staffed both ways",
                  *("  " + line for line in workload_summary(
                      capacity.workload, plan.balance_caps is not None))]
    elif capacity is not None:
        lines += ["", "utilisation spread: not compared for a plan of this size (set "
                      "workload = \"balanced\" in the policy to balance and compare)"]
    return lines


def _plan_lines(result: PlanResult, brief: bool) -> list[str]:
    rules = ", ".join(result.algorithms.values())
    lines = [] if brief else [*plan_summary(result.plan, result.registry, result.capacity), "",
                              f"plan {result.plan_id} stored ({rules}); audit bundle written "
                              f"to {result.out}"]
    if result.superseded and not brief:
        lines.append(f"plan {result.superseded} is now marked superseded")
    if result.freeze is not None and not brief:
        lines.append(f"freeze: {result.freeze.label()}, fingerprint "
                     f"{result.freeze.payload.get('fingerprint')}")
    if result.seed_event is not None and not brief:
        lines.append(f"seed: {result.seed} ({result.seed_event.payload.get('method')}, "
                     f"{result.seed_event.label()})")
    if result.warning:
        lines.append(f"WARNING: {result.warning}")
    if result.signer is not None and not brief:
        lines.append(f"signed: manifest.sig (key {result.signer[:16]}…)")
    how = "" if result.out.suffix.lower() == ".zip" else \
        " (of its deterministic .zip: `spotcheck bundle zip`)"
    return [*lines, f"bundle SHA-256{how} — publish this fingerprint: {result.fingerprint}"]


@click.command()
@click.option("--quarter", required=True, help="Quarter to plan, e.g. 2026Q4.")
@click.option("--seed", default=None,
              help="The public seed (no ':' or surrounding spaces). Default: the seed the "
                   "quarter's ceremony drew (`spotcheck seed`); another seed is refused.")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy TOML (default: the shipped spotcheck/config/policy.toml).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder (or .zip) for the audit bundle; must not exist yet.")
@click.option("--replace", is_flag=True,
              help="Supersede an existing plan for the same quarter and tasks.")
@click.option("--key", "key_path", envvar="SPOTCHECK_KEY",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM) that signs manifest.json (env SPOTCHECK_KEY; "
                   "make one with `spotcheck keys init`).")
@click.option("--engine", "draw_engine", type=click.Choice(["python", "sql"]),
              default="python", show_default=True,
              help="Where eligibility, tickets and draw order are computed: here, or by the "
                   "PostgreSQL server that holds the registry (same plan, byte for byte).")
@json_option
@click.pass_context
def plan(ctx: click.Context, quarter: str, seed: str | None, policy_path: Path | None,
         out: Path, replace: bool, key_path: Path | None, draw_engine: str) -> None:
    """Draw the quarter's enterprises and teams; store the plan and write its audit bundle.

    With a freeze (`spotcheck freeze`), the registry and policy must be the frozen ones and
    the seed is the ceremony's; the bundle carries the event log that shows it.
    """
    result = workspace(ctx).plan(quarter, out, seed=seed, policy=policy_path,
                                 replace=replace, key=key_path, engine=draw_engine,
                                 progress=progress(ctx, "plan"))
    emit(ctx, result, _plan_lines(result, brief=bool(ctx.obj["quiet"])))


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("spotcheck-demo"),
              show_default=True, help="Folder for the demo's audit bundle (replaced if a bundle).")
@click.option("--enterprises", type=click.IntRange(1_000, 5_000_000), default=200_000,
              show_default=True, help="Size of the synthetic city.")
@click.option("--with-results", is_flag=True,
              help="Store the city in the database (--db; it must hold nothing but an earlier "
                   "demo), plan there, and simulate inspection results from planted per-tier "
                   "finding rates, so that `spotcheck report` has a quarter to show.")
@json_option
@click.pass_context
def demo(ctx: click.Context, out: Path, enterprises: int, with_results: bool) -> None:
    """Plan a quarter for a synthetic city, write its bundle and verify it; no set-up needed."""
    say(ctx, f"planning a synthetic city of {enterprises:,} enterprises with the shipped "
             "policy, then verifying its bundle from the files alone ...")
    result = bundles.demo(out, enterprises, progress=progress(ctx, "demo"),
                          with_results=with_results, db=ctx.obj["db_url"])
    summary = [] if quiet(ctx) else [*plan_summary(result.plan, result.registry,
                                                   result.capacity), "",
                                     f"audit bundle written to {result.out}; plan notice and "
                                     f"drawn list (一公开) to {result.public}"]
    done = result.outcomes
    if done is not None and not quiet(ctx):
        summary += [f"plan {done.plan_id} stored in {done.database}; simulated results "
                    f"(planted finding rates) imported: {done.results:,}, of which "
                    f"{done.published:,} published; {done.missing:,} drawn without a result "
                    f"yet (as of {done.today.isoformat()})",
                    *(f"  results file {file}" for file in done.files),
                    f"next: {done.report_command}"]
    emit(ctx, result, [*summary, *result.verification.lines()], ok=result.verification.ok)


COMMANDS = (plan, demo)
