"""Synthetic Indonesian plates (`plates.py`) and camera effects (`augment.py`) for training.

Shared by the plate reader and the plate detector trainers; keep the API stable.
"""

from training.synth.augment import augment, surround
from training.synth.fonts import FontsMissing, font_paths
from training.synth.plates import (
    SynthPlate,
    random_date_line,
    random_plate,
    random_plate_text,
    random_scheme,
    render_plate,
)

__all__ = [
    "FontsMissing",
    "SynthPlate",
    "augment",
    "font_paths",
    "random_date_line",
    "random_plate",
    "random_plate_text",
    "random_scheme",
    "render_plate",
    "surround",
]
