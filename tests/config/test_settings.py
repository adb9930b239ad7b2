"""Configuration comes from the environment; a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"], env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"DEBUG": "true", "TRANSCRIPT_MAX_BYTES": "twenty"}, "TRANSCRIPT_MAX_BYTES"),
        ({"DEBUG": "true", "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
    ],
)
def test_it_refuses_to_start_with_a_bad_value(env, variable):
    result = start(**env)
    assert result.returncode != 0
    assert variable in result.stderr


def test_it_starts_with_the_embedded_default():
    result = start(DEBUG="true")
    assert result.returncode == 0, result.stderr
