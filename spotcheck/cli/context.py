"""What every command shares: the workspace, progress, `--json`, and printing a result.

A command parses its arguments, calls one `spotcheck.service` function and prints the
result with `emit`: the planner's lines, or with `--json` the result's one JSON document
on standard output (docs/JSON.md). Exit codes do not change with `--json`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from spotcheck.errors import PROBLEMS_SHOWN, InvalidInputError, SpotcheckError
from spotcheck.service.progress import Progress, progress_for
from spotcheck.service.results import JsonResult, json_value
from spotcheck.service.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])
PROBLEMS_FILE = "spotcheck-problems.txt"  # in the current folder, when a file has many problems


def workspace(ctx: click.Context) -> Workspace:
    """Return the workspace of `--db` (or SPOTCHECK_DB) acting as `--actor`."""
    return Workspace(ctx.obj["db_url"], actor=ctx.obj["actor"])


def quiet(ctx: click.Context) -> bool:
    """Return whether summaries are to be left out (--quiet, or --json)."""
    obj = ctx.obj or {}
    return bool(obj.get("quiet") or obj.get("json"))


def wants_json(ctx: click.Context) -> bool:
    """Return whether the command was given --json."""
    return bool((ctx.obj or {}).get("json"))


def progress(ctx: click.Context, command: str) -> Progress:
    """Return the command's progress reporter, its open line ended if the command fails."""
    return ctx.with_resource(progress_for(command, quiet=bool((ctx.obj or {}).get("quiet"))))


def say(ctx: click.Context, text: str = "") -> None:
    """Print information a planner may skip: silent with --quiet and --json."""
    if not quiet(ctx):
        click.echo(text)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["json"] = True


def json_option(command: F) -> F:
    """Add --json: print the result as one JSON document on standard output."""
    return click.option("--json", "as_json", is_flag=True, expose_value=False,
                        callback=_set_json, is_eager=True,
                        help="Print the result as one JSON document (docs/JSON.md).")(command)


def print_json(data: Any) -> None:
    """Print one JSON document: UTF-8, keys in the result's order, two-space indent."""
    click.echo(json.dumps(json_value(data), ensure_ascii=False, indent=2))


def emit(ctx: click.Context, result: object, lines: Iterable[str], *,
         ok: bool = True) -> None:
    """Print `result` as JSON (with --json) or its lines; exit 1 when not `ok`."""
    if wants_json(ctx):
        print_json(result.as_json() if isinstance(result, JsonResult) else result)
    else:
        for line in lines:
            click.echo(line)
    if not ok:
        sys.exit(1)


def fail(ctx: click.Context | None, exc: BaseException) -> NoReturn:
    """Report an expected failure in one message (and as JSON with --json); exit 1."""
    if ctx is not None and wants_json(ctx):
        problems = [str(p) for p in exc.problems] if isinstance(exc, InvalidInputError) else []
        print_json({"ok": False, "error": type(exc).__name__, "message": str(exc),
                    "problems": problems})
    message = str(exc)
    if isinstance(exc, InvalidInputError) and len(exc.problems) > PROBLEMS_SHOWN:
        listing = Path(PROBLEMS_FILE)
        try:
            listing.write_text(exc.full_list(), encoding="utf-8")
            message += f"\nthe full list of {len(exc.problems):,} problems: {listing.resolve()}"
        except OSError as error:
            message += f"\n(the full list could not be written to {listing}: {error.strerror})"
    click.echo(f"spotcheck: {message}", err=True)
    sys.exit(1)


class Group(click.Group):
    """Turns every expected failure into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpotcheckError as exc:
            fail(ctx, exc)
