"""The README's first two commands are the real setup; CI runs the second; every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from peprep.cli import app

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < text.index("\n## "), "the README opens with the commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    serve, test = readme_commands()
    assert serve.startswith("bin/setup") and serve.endswith("peprep serve")
    assert test.startswith("bin/setup") and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_every_cli_command_is_documented_in_the_readme_and_its_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = get_command(app).commands
    assert set(commands) >= {"serve", "check", "stats", "search"}
    for name, command in commands.items():
        assert f"`peprep {name}" in readme, f"peprep {name} is missing from the README"
        assert "Example: peprep " + name in (command.help or ""), f"peprep {name} --help has no example"
