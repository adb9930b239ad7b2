import pytest

# The shared checks assert too: show their values when one fails, as in the test modules.
pytest.register_assert_rewrite("tests.incidents.transcripts.examples")
