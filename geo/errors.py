"""One exception family for everything a user can get wrong.

The CLI catches :class:`GeoError` and prints its message as one line per problem on stderr;
anything else is a bug and keeps its traceback. Each subclass also has the standard base that
says what went wrong, so ``except ValueError`` catches a malformed file or spec and
``except LookupError`` a place or route that is not there:

>>> issubclass(ValidationError, ValueError), issubclass(RouteError, LookupError)
(True, True)

A programming error (a wrong argument type, an element used outside its page) is not a
GeoError: it raises :class:`TypeError` or :class:`ValueError` with its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where, which field, what is wrong and how to fix it."""

    file: str
    message: str
    feature_id: str | None = None
    index: int | None = None
    field: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.feature_id is not None or self.index is not None:
            fid = self.feature_id if self.feature_id is not None else "?"
            num = f" (#{self.index})" if self.index is not None else ""
            where += f": feature {fid}{num}"
        field = f": {self.field}" if self.field else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{where}{field}: {self.message}{fix}"


class GeoError(Exception):
    """Base class of every error caused by input: a file, an option, a query."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message as the lines the CLI prints."""
        return [str(self)]


class UnreadableError(GeoError, ValueError):
    """A file that cannot be read at all (missing, binary, not the format it claims)."""

    exit_code = 2


class ValidationError(GeoError, ValueError):
    """A readable file whose content breaks the layer schema; carries every problem at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid layer"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)

    def lines(self) -> list[str]:
        """Every problem as one line of text (file, feature, field, what was found), in order."""
        return [str(p) for p in self.problems]


class RouteError(GeoError, LookupError):
    """A route query that cannot be answered: unknown place, or no path under the constraints.

    A :class:`LookupError`: what was asked for (a place, a route) is not in the network.
    """


class SpecError(GeoError, ValueError):
    """A map spec or route definition that is malformed."""


class LayerStoreError(GeoError):
    """A problem with the user layer directory (name taken, unknown layer)."""
