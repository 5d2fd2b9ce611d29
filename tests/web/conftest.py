"""Clients for the web tests: the fixture content (exact assertions) and the real content (structure)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# pytest runs with --import-mode=importlib, which puts no test folder on sys.path; the web tests
# share two helper modules (webclient.py, live_server.py) by name, so this folder goes on it.
sys.path.insert(0, str(Path(__file__).parent))

from webclient import FIXTURE_CONTENT, client_for  # noqa: E402

from peprep.content.loader import default_content_dir  # noqa: E402

# The fixture's `verified_by` targets live under fixtures/tests/; they are data, not tests to run.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def client() -> TestClient:
    return client_for(FIXTURE_CONTENT)


@pytest.fixture(scope="session")
def real_client() -> TestClient:
    return client_for(default_content_dir())
