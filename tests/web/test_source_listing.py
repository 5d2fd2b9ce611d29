"""Code symbols and tests are shown from their source files, found without importing them."""

import textwrap

import pytest
from webclient import FIXTURE_CONTENT, client_for, html

from peprep.web.source_listing import SourceFinder, package_dir

MODULE = '''\
"""A stand-in for peprep.encodings.sinusoidal."""
import torch  # never imported by the finder


def helper():
    return 1


@torch.no_grad()
def sinusoidal_table(n, d):
    """(n, d) table."""
    return helper()


class Rope:
    def apply(self, x):
        return x
'''


@pytest.fixture
def repo(tmp_path):
    encodings = tmp_path / "src" / "peprep" / "encodings"
    encodings.mkdir(parents=True)
    (encodings / "__init__.py").write_text("import torch\n")
    (encodings / "sinusoidal.py").write_text(MODULE)
    tests = tmp_path / "tests" / "claims"
    tests.mkdir(parents=True)
    (tests / "test_x.py").write_text(textwrap.dedent("""\
        def test_a():
            assert 1


        class TestB:
            def test_c(self, p):
                assert p
    """))
    (tmp_path / "secret.py").write_text("def test_secret():\n    pass\n")
    return tmp_path


def finder(repo):
    return SourceFinder(repo / "src" / "peprep", repo)


def test_function_with_its_decorator(repo):
    listing = finder(repo).symbol("peprep.encodings.sinusoidal.sinusoidal_table")
    assert listing.source.startswith("@torch.no_grad()\ndef sinusoidal_table(n, d):")
    assert "return helper()" in listing.source and "class Rope" not in listing.source
    assert listing.file == "src/peprep/encodings/sinusoidal.py" and listing.line == 9


def test_method_of_a_class(repo):
    listing = finder(repo).symbol("peprep.encodings.sinusoidal.Rope.apply")
    assert listing.source.strip() == "def apply(self, x):\n        return x"


@pytest.mark.parametrize("symbol", ["peprep.encodings.sinusoidal.nope", "peprep.encodings.nope.f", "numpy.zeros", "peprep.encodings"])
def test_unknown_symbols_are_none(repo, symbol):
    assert finder(repo).symbol(symbol) is None


def test_tests_by_node_id(repo):
    f = finder(repo)
    assert f.test("tests/claims/test_x.py::test_a").source.startswith("def test_a():")
    assert f.test("tests/claims/test_x.py::TestB::test_c[1-2]").source.startswith("def test_c(self, p):")
    assert f.test("tests/claims/test_x.py::test_nope") is None
    assert f.test("tests/claims/nope.py::test_a") is None


def test_node_ids_cannot_leave_the_repository(repo):
    inner = repo / "inner"
    inner.mkdir()
    assert SourceFinder(repo / "src" / "peprep", inner).test("../secret.py::test_secret") is None


def test_finding_imports_nothing(repo):
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from peprep.web.source_listing import SourceFinder; "
        f"f = SourceFinder(Path({str(repo / 'src' / 'peprep')!r}), Path({str(repo)!r})); "
        "assert f.symbol('peprep.encodings.sinusoidal.sinusoidal_table'); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
    assert package_dir("peprep").name == "peprep"


def test_chapter_page_shows_code_listing(repo):
    client = client_for(FIXTURE_CONTENT)
    client.app.state.site.sources = SourceFinder(repo / "src" / "peprep", FIXTURE_CONTENT.parent)
    code = html(client.get("/chapters/basics")).css_first("article.kp .kp-code details")
    assert "open" in code.attributes
    assert code.css_first(".where").text() == "sinusoidal.py:9"
    highlighted = code.css_first(".highlight")
    assert "def sinusoidal_table" in highlighted.text() and highlighted.css("span.nd")  # decorator token
