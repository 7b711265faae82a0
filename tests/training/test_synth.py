"""Synthetic plates for training: valid texts, both colour schemes, reproducible from a seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etle.plates import REGION_CODES, is_valid_plate
from training.synth import fonts as synth_fonts
from training.synth.augment import augment, perspective_matrix, surround
from training.synth.fonts import FontsMissing, font_paths
from training.synth.plates import (
    random_date_line,
    random_plate,
    random_plate_text,
    region_probabilities,
    render_plate,
)


@pytest.fixture(autouse=True)
def _fonts() -> None:
    try:
        font_paths()
    except FontsMissing as exc:
        pytest.skip(str(exc))


def test_random_texts_follow_the_grammar_and_cover_the_regions() -> None:
    rng = np.random.default_rng(1)
    texts = [random_plate_text(rng) for _ in range(3000)]
    assert all(is_valid_plate(t) for t in texts)
    regions = {t[:2] if t[:2] in REGION_CODES else t[0] for t in texts}
    assert len(regions) > 0.9 * len(REGION_CODES)
    # B (Jakarta) is the most common code, and no code is starved.
    codes, p = region_probabilities()
    assert codes[int(np.argmax(p))] == "B"
    assert p.min() > 0.2 / len(codes)


def test_both_schemes_render_with_the_date_line() -> None:
    rng = np.random.default_rng(2)
    black = render_plate("B1234ABC", scheme="black", rng=rng, date_line="06.28")
    white = render_plate("B1234ABC", scheme="white", rng=rng, date_line="06.28", height=64)
    assert black.dtype == np.uint8
    assert black.ndim == 3
    assert black.shape[2] == 3
    assert black.shape[0] == 96
    assert white.shape[0] == 64
    assert 2.0 < black.shape[1] / black.shape[0] < 3.5
    # White on black is mostly dark; black on white mostly light.
    assert np.median(black) < 100 < np.median(white)
    # The date line draws ink below the main line.
    lower = white[int(0.75 * 64) : int(0.95 * 64), :, 0]
    assert lower.min() < 120


def test_same_seed_same_plate_and_bad_input_refused() -> None:
    first = random_plate(np.random.default_rng(7))
    second = random_plate(np.random.default_rng(7))
    assert first.text == second.text
    assert np.array_equal(first.image, second.image)
    with pytest.raises(ValueError, match="letters"):
        render_plate("12AB", scheme="white", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="MM.YY"):
        render_plate("B1A", scheme="white", rng=np.random.default_rng(0), date_line="6/28")
    assert len(random_date_line(np.random.default_rng(0))) == 5


def test_augmentation_keeps_the_image_shape() -> None:
    rng = np.random.default_rng(3)
    plate = random_plate(rng, height=48).image
    framed = surround(plate, rng, margin=(0.2, 0.1))
    assert framed.shape[0] == plate.shape[0] + 2 * round(0.1 * plate.shape[0])
    for _ in range(20):
        out = augment(framed, rng, strength=1.5)
        assert out.shape == framed.shape
        assert out.dtype == np.uint8
    assert perspective_matrix(100, 40, rng).shape == (3, 3)


def test_missing_fonts_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synth_fonts, "FONT_PATHS", (Path("/nonexistent/BebasNeue.otf"),))
    with pytest.raises(FontsMissing, match="apt-get install -y fonts-bebas-neue fonts-opendin"):
        synth_fonts.font_paths()
