"""Small-cell suppression: primary and complementary, proven on random tables."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import suppression
from incidents.suppression import Equation


def test_it_hides_counts_from_one_to_ten_and_shows_zero_and_eleven():
    hidden = suppression.suppress_vector([0, 11, 25, 40], 76, protected=True)
    assert hidden == [False, False, False, False]
    hidden = suppression.suppress_vector([0, 10, 25, 40], 75, protected=True)
    assert hidden[1] is True and hidden[0] is False


def test_it_hides_a_second_cell_so_the_total_does_not_give_the_first_away():
    hidden = suppression.suppress_vector([500, 5, 300], 805, protected=True)
    assert hidden == [False, True, True]  # the next smallest, 300, protects the 5


def test_it_prefers_a_nonzero_complement_but_uses_a_zero_when_it_must():
    assert suppression.suppress_vector([0, 5, 0], 5, protected=True) == [True, True, False]


def test_it_protects_a_pair_of_ones_that_the_rest_would_pin():
    # 1 + 1 hidden with a visible rest of 2 would pin both to 1.
    hidden = suppression.suppress_vector([1, 1, 30, 40], 72, protected=True)
    assert hidden == [True, True, True, False]


def test_it_leaves_unprotected_breakdowns_alone():
    assert suppression.suppress_vector([3, 4, 50], 57, protected=False) == [False, False, False]


def test_it_breaks_a_bridge_between_rows_in_a_cross_tab():
    cells = [[5, 20, 30], [20, 5, 30], [30, 30, 30]]
    rows = [sum(r) for r in cells]
    columns = [sum(c) for c in zip(*cells, strict=True)]
    hidden = suppression.suppress_table(
        cells,
        row_totals=rows,
        row_hidden=[False] * 3,
        column_totals=columns,
        column_hidden=[False] * 3,
        total=sum(rows),
        total_hidden=False,
    )
    assert hidden[0][0] and hidden[1][1]
    _assert_nothing_derivable(cells, hidden)


# A reader's attack: every equation a table publishes, solved exactly over the rationals.


def _determined(values: list[int], equations: list[Equation], hidden: list[bool]) -> set[int]:
    unknown = [i for i, h in enumerate(hidden) if h]
    index = {cell: n for n, cell in enumerate(unknown)}
    rows = []
    for eq in equations:
        row = [Fraction(0)] * len(unknown)
        for i in eq.parts:
            if hidden[i]:
                row[index[i]] += 1
        if hidden[eq.whole]:
            row[index[eq.whole]] -= 1
        if any(row):
            rows.append(row)
    # Reduced row echelon form; a row with a single nonzero entry fixes that cell.
    pivot_row = 0
    for column in range(len(unknown)):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [x / lead for x in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return {unknown[row.index(next(x for x in row if x))] for row in rows if sum(1 for x in row if x) == 1}


def _table_equations(cells: list[list[int]]) -> tuple[list[int], list[Equation]]:
    r, c = len(cells), len(cells[0])
    values = [v for row in cells for v in row]
    rows = [sum(row) for row in cells]
    columns = [sum(col) for col in zip(*cells, strict=True)]
    values += rows + columns + [sum(rows)]
    inside = r * c
    equations = [Equation(tuple(i * c + j for j in range(c)), inside + i) for i in range(r)]
    equations += [Equation(tuple(i * c + j for i in range(r)), inside + r + j) for j in range(c)]
    equations += [Equation(tuple(range(inside, inside + r)), inside + r + c)]
    equations += [Equation(tuple(range(inside + r, inside + r + c)), inside + r + c)]
    return values, equations


def _given_by_totals(values: list[int], equations: list[Equation], inside: int, margins_hidden: list[bool]) -> set[int]:
    """Cells the published totals alone give away, whatever is hidden: a line totalling 0, a one-cell line."""
    flags = [True] * inside + list(margins_hidden)
    for eq in equations:
        if not flags[eq.whole] and values[eq.whole] == 0:
            for i in eq.parts:
                flags[i] = False
    return _determined(values, equations, flags) | {i for i in range(inside) if not flags[i]}


def _assert_nothing_derivable(cells: list[list[int]], hidden: list[list[bool]]) -> None:
    r, c = len(cells), len(cells[0])
    values, equations = _table_equations(cells)
    flags = [h for row in hidden for h in row] + [False] * (r + c + 1)
    # Every small cell is hidden, unless the published totals alone give it (a one-row table).
    given_by_totals = _given_by_totals(values, equations, r * c, [False] * (r + c + 1))
    for i in range(r * c):
        if suppression.is_small(values[i]) and i not in given_by_totals:
            assert flags[i], f"cell {i} = {values[i]} is shown"
    # No hidden cell is the total minus the visible cells of any row or column …
    for eq in equations:
        hidden_parts = [i for i in eq.parts if flags[i]]
        assert len(hidden_parts) != 1, f"{hidden_parts} = total − visible"
    # … nor fixed by any combination of the published equations.
    assert not _determined(values, equations, flags)


small_or_large = st.one_of(st.integers(0, 12), st.integers(0, 400))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda c: st.lists(st.lists(small_or_large, min_size=c, max_size=c), min_size=1, max_size=6)
    )
)
def test_it_never_publishes_a_figure_that_reveals_a_suppressed_count(cells):
    rows = [sum(r) for r in cells]
    columns = [sum(c) for c in zip(*cells, strict=True)]
    hidden = suppression.suppress_table(
        cells,
        row_totals=rows,
        row_hidden=[False] * len(rows),
        column_totals=columns,
        column_hidden=[False] * len(columns),
        total=sum(rows),
        total_hidden=False,
    )
    _assert_nothing_derivable(cells, hidden)


@settings(max_examples=300, deadline=None)
@given(st.lists(small_or_large, min_size=2, max_size=8))
def test_it_never_lets_a_vector_total_reveal_a_suppressed_count(values):
    hidden = suppression.suppress_vector(values, sum(values), protected=True)
    assert all(h for v, h in zip(values, hidden, strict=True) if suppression.is_small(v))
    shown = sum(v for v, h in zip(values, hidden, strict=True) if not h)
    assert sum(hidden) != 1, "the one hidden count would be the total minus the rest"
    if any(hidden):
        assert sum(values) - shown > 0


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda c: st.lists(st.lists(small_or_large, min_size=c, max_size=c), min_size=2, max_size=5)
    )
)
def test_it_keeps_protection_when_margins_were_suppressed_elsewhere(cells):
    """Margins come in already suppressed (as on the statistics page under a filter)."""
    rows = [sum(r) for r in cells]
    columns = [sum(c) for c in zip(*cells, strict=True)]
    total = sum(rows)
    row_hidden = suppression.suppress_vector(rows, total, protected=True)
    column_hidden = suppression.suppress_vector(columns, total, protected=True)
    hidden = suppression.suppress_table(
        cells,
        row_totals=rows,
        row_hidden=row_hidden,
        column_totals=columns,
        column_hidden=column_hidden,
        total=total,
        total_hidden=False,
    )
    r, c = len(rows), len(columns)
    values, equations = _table_equations(cells)
    flags = [h for row in hidden for h in row] + list(row_hidden) + list(column_hidden) + [False]
    given_by_totals = _given_by_totals(values, equations, r * c, flags[r * c :])
    for i in range(r * c):
        if suppression.is_small(values[i]) and i not in given_by_totals:
            assert flags[i]
    assert not (_determined(values, equations, flags) & {i for i, f in enumerate(flags) if f})
