"""Shared paths for the drill tests: the seeded wrong implementations live in fixtures/<drill>/."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixture_file():
    def find(folder: str, name: str) -> Path:
        path = FIXTURES / folder / f"{name}.py"
        assert path.exists(), path
        return path

    return find
