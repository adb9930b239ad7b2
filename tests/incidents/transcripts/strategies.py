"""Hypothesis strategies shared by the transcript tests: any JSON value, and JSON shaped like a format."""

from hypothesis import strategies as st


def leaves(*, allow_nan: bool = False, text_size: int = 20) -> st.SearchStrategy:
    """JSON scalars. NaN is written by ``json.dumps`` as a bare ``NaN``, which Python's JSON reader accepts."""
    return st.none() | st.booleans() | st.integers() | st.floats(allow_nan=allow_nan) | st.text(max_size=text_size)


# Any JSON value, up to 30 scalars in lists and objects.
JSON = st.recursive(
    leaves(allow_nan=True),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
# Small odd values, for the places where a format expects something else.
ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Usually ``valid``, sometimes any JSON value: deep enough to build turns, odd enough to find gaps."""
    return st.one_of(*[valid] * 7, ANYTHING)


def shaped(keys: list[str], words: list[str], *, allow_nan: bool = False, max_keys: int = 5) -> st.SearchStrategy:
    """JSON built from a format's own keys and values, so that generated inputs reach past the first checks."""
    return st.recursive(
        leaves(allow_nan=allow_nan, text_size=12) | st.sampled_from(words),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(keys), children, max_size=max_keys)
        ),
        max_leaves=40,
    )
