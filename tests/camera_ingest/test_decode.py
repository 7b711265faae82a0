"""The grammar decoder and the decision on synthetic probability arrays (no model needed)."""

from dataclasses import replace

import numpy as np
import pytest

from camera_ingest.recognition.decode import GrammarDecoder, Reading
from camera_ingest.recognition.pipeline import cut_side
from camera_ingest.recognition.policy import DecisionPolicy
from etle.frames.models import ReadDecision
from etle.plates import REGION_CODES

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
SLOTS = 9


def probs(slots: list[dict[str, float]]) -> np.ndarray:
    """Per-slot distributions; unspecified slots are padding; leftover mass spread evenly."""
    out = np.zeros((SLOTS, len(ALPHABET)))
    for i in range(SLOTS):
        wanted = slots[i] if i < len(slots) else {"_": 0.999}
        rest = (1 - sum(wanted.values())) / (len(ALPHABET) - len(wanted))
        out[i] = rest
        for ch, p in wanted.items():
            out[i, ALPHABET.index(ch)] = p
    return out


def certain(text: str) -> list[dict[str, float]]:
    return [{c: 0.99} for c in text]


decoder = GrammarDecoder(ALPHABET, "_")
policy = DecisionPolicy()


def decide(*crops: list[dict[str, float]]) -> ReadDecision:
    return policy.decide(decoder.read([probs(c) for c in crops]))


def test_a_clear_plate_reads_as_itself_and_is_accepted() -> None:
    reading = decoder.read([probs(certain("B1234ABC"))])
    assert reading.text == "B1234ABC"
    assert reading.p > 0.9
    assert reading.slot_confidence == pytest.approx([0.99] * 8)
    assert policy.decide(reading) is ReadDecision.ACCEPT


def test_digits_the_model_saw_in_letter_slots_become_letters() -> None:
    # The model's best string is L158800, but a plate's suffix holds letters: the letter O is
    # the second choice in the last two slots.
    slots = certain("L1588") + [{"0": 0.6, "O": 0.39}, {"0": 0.6, "O": 0.39}]
    decoded = decoder.decode(probs(slots))
    assert decoded.raw == "L158800"
    assert decoded.text == "L1588OO"
    assert decide(slots) is ReadDecision.REVIEW


def test_a_letter_the_model_saw_in_the_number_becomes_a_digit() -> None:
    slots = certain("B12") + [{"B": 0.55, "8": 0.44}] + certain("4ABC")
    assert decoder.decode(probs(slots)).text == "B1284ABC"


def test_candidates_keep_the_alternatives_with_probabilities() -> None:
    slots = certain("B1234AB") + [{"C": 0.45, "G": 0.40}]
    reading = decoder.read([probs(slots)])
    texts = [c.text for c in reading.candidates]
    assert texts[:2] == ["B1234ABC", "B1234ABG"]
    assert reading.candidates[0].p > reading.candidates[1].p > 0
    assert policy.decide(reading) is ReadDecision.REVIEW


def test_a_plate_without_region_letters_is_unreadable() -> None:
    assert decide(certain("9840VU")) is ReadDecision.UNREADABLE


def test_a_partial_plate_is_never_accepted_even_when_the_model_is_sure() -> None:
    # The grammar could complete 4039NHR with a region letter, but no crop showed one.
    assert decide(certain("4039NHR"), certain("4039NHR")) is ReadDecision.UNREADABLE


def test_a_crop_that_lost_the_region_letter_sends_the_plate_to_review() -> None:
    assert decide(certain("L1560JQ"), certain("1560JQ")) is ReadDecision.REVIEW


def test_crops_that_disagree_lower_the_confidence() -> None:
    # The tight crop clipped the last letter and reads a shorter, grammatical plate.
    clipped, whole = certain("B2634UZ"), certain("B2634UZF")
    reading = decoder.read([probs(clipped), probs(whole)])
    assert reading.p < 0.6
    assert {c.text for c in reading.candidates[:2]} == {"B2634UZ", "B2634UZF"}
    assert policy.decide(reading) is ReadDecision.REVIEW
    assert decide(whole, whole) is ReadDecision.ACCEPT


def test_a_plate_clipped_by_its_box_is_not_accepted() -> None:
    # Three crops lost the last letters and read a shorter plate the grammar allows, with
    # every character certain; the widest crop saw a further character.
    clipped = certain("W8774")
    wider = [*clipped, {"2": 0.5, "A": 0.4}]
    reading = decoder.read([probs(clipped), probs(clipped), probs(clipped), probs(wider)])
    assert reading.text == "W8774"
    assert reading.p > policy.accept_p
    assert policy.decide(reading) is ReadDecision.REVIEW


def test_a_letter_doubled_in_most_crops_is_not_accepted() -> None:
    # Three crops doubled the one-letter suffix and are sure of it, one saw it once: the
    # mixture sides with the doubled letter at a probability the threshold alone would accept.
    doubled, single = certain("N1342TT"), certain("N1342T")
    reading = decoder.read([probs(doubled)] * 3 + [probs(single)])
    assert reading.text == "N1342TT"
    assert reading.p > policy.accept_p
    assert policy.decide(reading) is ReadDecision.REVIEW
    assert decide(single, single, single, single) is ReadDecision.ACCEPT


def test_only_real_region_codes_are_read() -> None:
    # "XB" is no region; the decoder must not invent it even if the model leans that way.
    slots = [{"X": 0.6, "K": 0.39}, {"B": 0.99}] + certain("1234AB")
    assert decoder.decode(probs(slots)).text == "KB1234AB"


@pytest.mark.parametrize("code", sorted(REGION_CODES))
def test_every_region_code_can_be_read(code: str) -> None:
    assert decoder.decode(probs(certain(f"{code}1234AB"))).text == f"{code}1234AB"


def test_a_number_never_starts_with_zero() -> None:
    slots = certain("B") + [{"0": 0.6, "8": 0.3}] + certain("12AB")
    assert decoder.decode(probs(slots)).text == "B812AB"


def test_a_crop_with_no_characters_is_unreadable() -> None:
    reading = decoder.read([probs([{"_": 0.99}] * SLOTS)])
    assert reading.p < 0.01
    assert policy.decide(reading) is ReadDecision.UNREADABLE


def test_a_plate_read_again_after_its_box_cut_it_is_reviewed() -> None:
    reading = replace(decoder.read([probs(certain("B1234ABC"))]), clipped=True)
    assert reading.p > policy.accept_p
    assert policy.decide(reading) is ReadDecision.REVIEW


def test_a_plate_at_the_frame_border_is_reviewed() -> None:
    reading = decoder.read([probs(certain("B1234ABC"))])
    assert policy.decide(reading, at_frame_edge=True) is ReadDecision.REVIEW


class _EveryPairDecoder(GrammarDecoder):
    """The decoder extending every prefix by every option (k x k sums): the reference."""

    def _extend(
        self, beam: list[tuple[float, str]], options: list[tuple[float, str]]
    ) -> list[tuple[float, str]]:
        return sorted(((s + o, t + c) for s, t in beam for o, c in options), reverse=True)[:5]


def test_the_decoder_finds_the_same_best_readings_as_trying_every_pair() -> None:
    # Model-like outputs: each slot peaked on one to three characters, often a plate's worth.
    rng = np.random.default_rng(15)
    reference = _EveryPairDecoder(ALPHABET, "_")
    for _ in range(300):
        alpha = np.full(len(ALPHABET), 0.05)
        out = rng.dirichlet(alpha, size=SLOTS)
        fast, slow = decoder.decode(out), reference.decode(out)
        assert [c.text for c in fast.candidates] == [c.text for c in slow.candidates]
        assert [c.p for c in fast.candidates] == pytest.approx([c.p for c in slow.candidates])


def _raws(*raws: str) -> Reading:
    return Reading("B1234AA", 0.3, [], [], list(raws))


def test_a_plate_cut_on_the_right_is_looked_at_again_though_its_crops_differ_at_the_end() -> None:
    # Each crop made something else of the cut letters; all agree on `B 1234`.
    assert cut_side(_raws("B1234A", "B1234AA", "B1234ABG", "B1234AB")) == "right"
    # Crops that agree on nothing are no plate worth a second look.
    assert cut_side(_raws("B1234AB", "H77", "TT12", "AB9")) is None
    assert cut_side(_raws("B1234AA", "B1234AA", "B1234AA", "B1234AA")) is None
