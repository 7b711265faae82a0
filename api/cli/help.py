"""How `etle ... --help` reads.

Typer labels every option with its Python type: `--json <bool>`, `--host <str>`. On a flag the
label suggests it takes a value (`--json true`), and `<str>` says nothing an operator needs. So
the root group tidies the whole command tree once, as Typer builds it: flags get no label,
options that take a value get the usual upper-case word (TEXT, INTEGER, PATH; choices keep
their list), and docstring paragraphs hard-wrapped in the source are joined so the terminal
wraps them evenly instead of line by line.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

LABELS = {
    "str": "TEXT",
    "int": "INTEGER",
    "int range": "INTEGER",
    "float": "NUMBER",
    "float range": "NUMBER",
    "path": "PATH",
    "dir": "DIR",
    "file": "FILE",
    "datetime": "DATE",
}
_LIST = re.compile(r"^list\[(.+)\]$")
_KEEP_LINES = re.compile(r"^\s*([-*] |\d+[.)] |\x08)")


class TidyGroup(TyperGroup):
    """The root `etle` group: tidies its command tree when Typer builds it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tidy(self)


def tidy(command: Any) -> None:
    for param in command.params:
        if isinstance(param, TyperOption):
            _tidy_option(param)
        elif isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = (param.name or "").upper()
            param.__class__ = _NamedArgument
    # The --help option is made on first use and kept on the command: make it now, tidied.
    help_option = command.get_help_option(command.context_class(command))
    if help_option is not None:
        help_option.metavar = ""
    if command.help:
        command.help = reflow(inspect.cleandoc(command.help))
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            tidy(sub)


class _NamedArgument(TyperArgument):
    """An argument shown by its name alone (`FILE`), without Typer's `<path>` beside it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _tidy_option(option: TyperOption) -> None:
    if option.metavar is not None:
        return
    if option.is_flag or option.count:
        option.metavar = ""  # nothing follows a flag
        return
    if option.type_descriptor.is_choice:
        return  # Typer lists the choices: that is the useful label
    label = option.display_type(None).strip("<>")  # type: ignore[arg-type]
    inner = _LIST.match(label)
    if inner:
        label = inner.group(1)
    option.metavar = LABELS.get(label.lower(), label.upper())


def reflow(text: str) -> str:
    """Join the lines of each paragraph (blank-line separated) into one, except paragraphs of
    list items or marked `\\b` (kept as written)."""
    paragraphs = text.split("\n\n")
    joined = []
    for paragraph in paragraphs:
        lines = paragraph.strip("\n").split("\n")
        if len(lines) > 1 and all(_KEEP_LINES.match(line) is None for line in lines[1:]):
            paragraph = " ".join(line.strip() for line in lines)
        joined.append(paragraph)
    return "\n\n".join(joined)
