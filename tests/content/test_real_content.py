"""The shipped content passes every rule of `peprep check` — CI fails on any content problem."""

from peprep.content import default_content_dir
from peprep.content.check import check_content


def test_peprep_check_passes_on_the_real_content():
    root = default_content_dir()
    problems = check_content(root)
    assert not problems, "\n".join(p.format(root.parent) for p in problems[:40])
