"""The project's error types. All are picklable so failures survive worker processes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InputError(ValueError):
    """One problem in the inputs, located precisely.

    Parameters
    ----------
    file : str
        The file (relative to the project) or ``"command line"``.
    row : int or str
        1-based line in the file (the header is line 1), or the option / YAML
        entry the value came from.
    field : str
        The column, option or key.
    expected : str
        What a valid value looks like.
    found : str
        What was there.
    """

    file: str
    row: int | str
    field: str
    expected: str
    found: str

    def __post_init__(self) -> None:
        ValueError.__init__(self, str(self))

    def __str__(self) -> str:
        where = f"line {self.row}" if isinstance(self.row, int) else str(self.row)
        return (f"{self.file}, {where}, field '{self.field}': "
                f"expected {self.expected}, found {self.found}")

    def __reduce__(self):  # picklable through worker processes
        return (InputError, (self.file, self.row, self.field, self.expected, self.found))


class InputErrors(ValueError):
    """Every problem found in one pass over the inputs.

    Loading collects all problems before raising so a user can fix them at once.
    """

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} in the inputs:"
        return "\n".join([head] + [f"  - {e}" for e in self.errors])

    def __reduce__(self):
        return (InputErrors, (self.errors,))


class ResultSetError(RuntimeError):
    """A result set cannot be written or read (exists already, missing, corrupt)."""


class SolverError(RuntimeError):
    """HiGHS failed or stopped without a usable answer."""
