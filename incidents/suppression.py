"""Small-cell suppression for published tables.

A count of 1 to 10 in a protected figure is hidden (primary suppression). Hiding it is not enough
when the totals are published: a hidden cell that is the only hidden one in its row could be
worked out as the row total minus the visible cells. So more cells are hidden (complementary
suppression) until no hidden cell can be derived from the published figures.

Every hidden cell is shown with the same marker, whether it was hidden for being small or to
protect a small one: a marker that told the two apart would tell a reader that the other cell is
11 or more, which can pin the small one (a hidden pair summing to 12 would be 1 and 11).

The figures of a table are described as cells plus equations ``sum(parts) == whole`` (rows,
columns, totals). A hidden cell counts as derivable when

- it is fixed by the equations alone: the unit vector of that cell lies in the row space of the
  equations restricted to hidden cells (checked by Gaussian elimination modulo a large prime), or
- an equation's hidden parts sum to 0, or to their number while none of them is 0 (a reader who
  assumes hidden counts are positive would then pin each of them to 1, and be right). This one is
  best effort: when no visible cell is left to hide with them, they stay hidden.

Cells can be ``fixed``: their hidden or visible state was decided elsewhere (a table's totals are
the one-dimensional breakdowns published next to it, suppressed once and shown the same way in
every table), so the search never changes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 11  # counts from 1 to THRESHOLD - 1 are hidden
MARKER = "suppressed"
EXPLANATION = (
    "“suppressed” marks a count of fewer than 11 incidents, or a count hidden so that such a small count "
    "cannot be worked out from the totals."
)
_PRIME = (1 << 61) - 1


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


@dataclass(frozen=True)
class Equation:
    """``sum(values[i] for i in parts) == values[whole]``."""

    parts: tuple[int, ...]
    whole: int


def solve(
    values: Sequence[int],
    equations: Sequence[Equation],
    *,
    protected: Sequence[bool],
    fixed: dict[int, bool] | None = None,
) -> list[bool]:
    """Which cells to hide: small protected cells, and enough others that none can be derived.

    ``fixed`` maps cell indexes to a hidden state decided elsewhere; those are never changed.
    """
    fixed = dict(fixed or {})
    hidden = [fixed.get(i, protected[i] and is_small(v)) for i, v in enumerate(values)]
    while True:
        exposed = derivable(values, equations, hidden)
        if not exposed:
            return hidden
        # Protect the first exposed cell that can be protected here; a cell exposed only through
        # another one (its line fully hidden) is covered once that other one is.
        for cell in sorted(exposed):
            extra = _complement(cell, values, equations, hidden, fixed)
            if extra is not None:
                hidden[extra] = True
                break
        else:
            determined = sorted(_linearly_determined(equations, hidden) - set(fixed))
            if not determined:
                # Only the positive-counts guess pins what is left, and nothing more can be hidden
                # to stop it: keep what is hidden (revealing it would turn the guess into a fact).
                return hidden
            # Fixed by figures published (fixed) elsewhere: hiding it would protect nothing.
            hidden[determined[0]] = False
            fixed[determined[0]] = False


def derivable(values: Sequence[int], equations: Sequence[Equation], hidden: Sequence[bool]) -> set[int]:
    """Hidden cells a reader could work out from the visible cells and the equations."""
    exposed = _linearly_determined(equations, hidden)
    for equation in equations:
        if hidden[equation.whole]:
            continue
        hidden_parts = [i for i in equation.parts if hidden[i]]
        if not hidden_parts:
            continue
        rest = values[equation.whole] - sum(values[i] for i in equation.parts if not hidden[i])
        # A reader who assumes hidden counts are positive pins them all to 1 when the rest equals
        # their number; that guess is right exactly when none of them is really 0.
        if rest == 0 or (rest == len(hidden_parts) and all(values[i] > 0 for i in hidden_parts)):
            exposed.update(hidden_parts)
    return exposed


def _linearly_determined(equations: Sequence[Equation], hidden: Sequence[bool]) -> set[int]:
    basis: dict[int, dict[int, int]] = {}  # pivot column -> reduced row (pivot coefficient 1)
    for equation in equations:
        row: dict[int, int] = {}
        for i in equation.parts:
            if hidden[i]:
                row[i] = (row.get(i, 0) + 1) % _PRIME
        if hidden[equation.whole]:
            row[equation.whole] = (row.get(equation.whole, 0) - 1) % _PRIME
        row = {k: v for k, v in row.items() if v}
        for pivot in [k for k in row if k in basis]:
            factor = row.get(pivot, 0)
            if factor:
                _subtract(row, basis[pivot], factor)
        if not row:
            continue
        pivot = min(row)
        inverse = pow(row[pivot], _PRIME - 2, _PRIME)
        row = {k: v * inverse % _PRIME for k, v in row.items()}
        for other in basis.values():
            factor = other.get(pivot, 0)
            if factor:
                _subtract(other, row, factor)
        basis[pivot] = row
    return {pivot for pivot, row in basis.items() if len(row) == 1}


def _subtract(row: dict[int, int], other: dict[int, int], factor: int) -> None:
    for k, v in other.items():
        value = (row.get(k, 0) - factor * v) % _PRIME
        if value:
            row[k] = value
        else:
            row.pop(k, None)


def _complement(
    cell: int,
    values: Sequence[int],
    equations: Sequence[Equation],
    hidden: Sequence[bool],
    fixed: dict[int, bool],
) -> int | None:
    """The cell to hide next to protect ``cell``: the smallest visible one sharing an equation.

    Counts above zero come first (hiding a zero protects nothing when readers assume hidden
    counts are positive), and among equal counts the lowest index, so the choice is repeatable.
    """
    candidates = {
        i
        for equation in equations
        if cell == equation.whole or cell in equation.parts
        for i in (*equation.parts, equation.whole)
        if not hidden[i] and i not in fixed
    }
    if not candidates:
        return None
    return min(candidates, key=lambda i: (values[i] == 0, values[i], i))


# Shapes used by the statistics: a vector with its total, and a table with its margins.


def suppress_vector(values: Sequence[int], total: int, *, protected: bool, total_hidden: bool = False) -> list[bool]:
    """Hidden flags for a one-dimensional breakdown whose total is published (or hidden)."""
    cells = [*values, total]
    n = len(values)
    hidden = solve(
        cells,
        [Equation(tuple(range(n)), n)],
        protected=[protected] * n + [False],
        fixed={n: total_hidden},
    )
    return hidden[:n]


def suppress_table(
    cells: Sequence[Sequence[int]],
    *,
    row_totals: Sequence[int],
    row_hidden: Sequence[bool],
    column_totals: Sequence[int],
    column_hidden: Sequence[bool],
    total: int,
    total_hidden: bool,
) -> list[list[bool]]:
    """Hidden flags for the inside of a cross-tab whose margins were suppressed already."""
    rows, columns = len(row_totals), len(column_totals)
    inside = rows * columns
    values = [value for row in cells for value in row] + list(row_totals) + list(column_totals) + [total]
    row_total_index = [inside + r for r in range(rows)]
    column_total_index = [inside + rows + c for c in range(columns)]
    total_index = inside + rows + columns
    equations = [Equation(tuple(r * columns + c for c in range(columns)), row_total_index[r]) for r in range(rows)]
    equations += [Equation(tuple(r * columns + c for r in range(rows)), column_total_index[c]) for c in range(columns)]
    equations += [Equation(tuple(row_total_index), total_index), Equation(tuple(column_total_index), total_index)]
    fixed = {total_index: total_hidden}
    fixed.update({row_total_index[r]: bool(row_hidden[r]) for r in range(rows)})
    fixed.update({column_total_index[c]: bool(column_hidden[c]) for c in range(columns)})
    hidden = solve(values, equations, protected=[True] * inside + [False] * (rows + columns + 1), fixed=fixed)
    return [hidden[r * columns : (r + 1) * columns] for r in range(rows)]
