"""What the trainers' command lines share: refusing missing inputs, and recipe overrides."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def require_paths(parser: argparse.ArgumentParser, named: Iterable[tuple[str, Path]]) -> None:
    """Exit with the usage line when an input folder or file does not exist."""
    for name, path in named:
        if not path.exists():
            parser.error(f"{name}: {path} does not exist")


def override(recipe: dict[str, Any], args: argparse.Namespace, names: Iterable[str]) -> None:
    """Put each option given on the command line (its value is not None) into the recipe."""
    for name in names:
        value = getattr(args, name)
        if value is not None:
            recipe[name] = value
