"""The error hierarchy: every expected failure is a SpotcheckError the CLI turns into exit 1."""

from __future__ import annotations

from dataclasses import dataclass


class SpotcheckError(Exception):
    """Root of every failure spotcheck expects and explains to its user."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad value in an input file: where it is and why it is refused."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        if self.column is None:
            return f"{where}: {self.reason}"
        shown = "" if self.value is None else f" value {shown_value(self.value)}"
        return f"{where}: column {shown_value(self.column)}{shown}: {self.reason}"


SHOWN_CHARACTERS = 80  # a value longer than this is cut when echoed in a message


def shown_value(value: str) -> str:
    """Return a value as a message shows it: quoted, and cut if long (saying how long)."""
    if len(value) <= SHOWN_CHARACTERS:
        return repr(value)
    return f"{value[:SHOWN_CHARACTERS]!r}… ({len(value):,} characters)"


PROBLEMS_SHOWN = 200  # problems in a message; the CLI writes the full list to a file


class InvalidInputError(SpotcheckError):
    """An input file, policy or argument is refused; lists every problem found."""

    def __init__(self, problems: list[RowProblem] | str, *, headline: str | None = None) -> None:
        if isinstance(problems, str):
            headline, problems = problems if headline is None else f"{headline}: {problems}", []
        self.problems = problems
        self.headline = headline
        lines = [headline] if headline else []
        lines += [str(p) for p in problems[:PROBLEMS_SHOWN]]
        if len(problems) > PROBLEMS_SHOWN:
            lines.append(f"... and {len(problems) - PROBLEMS_SHOWN:,} more problem(s)")
        super().__init__("\n".join(lines))

    def full_list(self) -> str:
        """Return every problem, one per line (the message shows the first PROBLEMS_SHOWN)."""
        return "\n".join([*([self.headline] if self.headline else []),
                          *(str(p) for p in self.problems)]) + "\n"


class PolicyError(InvalidInputError):
    """The policy file is refused; each problem names the key."""


class DatabaseError(SpotcheckError):
    """The database cannot be used: a bad URL, an unsupported kind, or it cannot be reached."""


class InfeasiblePlanError(SpotcheckError):
    """The request cannot be planned at all (for example, a plan already exists)."""


class VerificationError(SpotcheckError):
    """An audit bundle does not reproduce; carries every mismatch found."""

    def __init__(self, mismatches: list[str]) -> None:
        self.mismatches = mismatches
        super().__init__("\n".join(mismatches))
