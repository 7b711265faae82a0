"""`--help` as an operator reads it: flags carry no type label, value options a plain word,
and paragraphs wrap evenly at any terminal width."""

from __future__ import annotations

import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from api.cli.main import app


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def _help(path: list[str], columns: int = 100) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def test_no_help_page_labels_an_option_with_a_python_type() -> None:
    paths = _command_paths()
    assert len(paths) > 40  # every group and command
    for path in paths:
        text = _help(path)
        for label in ("<bool>", "<str>", "<int>", "<float>"):
            assert label not in text, (path, label)


def test_a_flag_shows_no_value_and_an_option_its_kind() -> None:
    text = _help(["registry", "import"])
    (json_line,) = [line for line in text.splitlines() if "--json" in line]
    assert json_line.split("--json")[1].split()[0] == "Print"
    (dir_line,) = [line for line in text.splitlines() if "--data-dir" in line]
    assert dir_line.split("--data-dir")[1].split()[0] == "PATH"
    serve = _help(["serve"])
    (port_line,) = [line for line in serve.splitlines() if "--port" in line]
    assert port_line.split("--port")[1].split()[0] == "INTEGER"


def test_a_docstring_paragraph_wraps_as_one_at_a_narrow_terminal() -> None:
    text = _help(["registry", "import"], columns=80)
    prose = " ".join(line.strip() for line in text.splitlines())
    assert "optional nik (16 digits), postcode" in prose
    # Lines are filled: none of the paragraph's lines is cut short where the source broke it.
    lines = [line.rstrip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if "Columns:" in line)
    paragraph = lines[start : lines.index("", start)]
    assert all(len(line) > 60 for line in paragraph[:-1])
