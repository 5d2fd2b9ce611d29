"""Fixtures of the reliability tests: an app over a copy of the web fixture content with its own
progress file. Helpers live in reliability_kit.py; the counts of what was tried are printed at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib puts no test folder on sys.path

from reliability_kit import BASE, TRIED, copy_fixture  # noqa: E402

from peprep.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def content_dir(tmp_path_factory) -> Path:
    return copy_fixture(tmp_path_factory.mktemp("content") / "content")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("db") / "progress.sqlite3"


@pytest.fixture(scope="module")
def app(content_dir, db_path, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("PEPREP_EXPORT_DIR", str(tmp_path_factory.mktemp("exports")))
    return create_app(content_dir, db_path=db_path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False)


@pytest.fixture(scope="module")
def live(content_dir):
    """The real `peprep serve` in a subprocess over the fixture copy: (base URL, port, process)."""
    from peprep.bench.web import running_server

    with running_server(content_dir) as (base, _ready_s, process):
        yield base, int(base.rsplit(":", 1)[1]), process


def pytest_terminal_summary(terminalreporter):
    if TRIED:
        terminalreporter.section("reliability: bad inputs and faults tried")
        for kind, n in sorted(TRIED.items()):
            terminalreporter.write_line(f"{n:6d}  {kind}")
        terminalreporter.write_line(f"{sum(TRIED.values()):6d}  total")
