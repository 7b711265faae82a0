"""Reading with doubt: from the OCR model's per-slot probabilities to a plate the grammar allows.

The model emits, for each of its slots, a probability for every character of its alphabet plus a
pad character. A plate of length L fills slots 0..L-1 and pads the rest. Under the model's own
assumption that slots are independent, the probability of a reading is the product of its
slots' probabilities, pads included.

Instead of taking the best character per slot (which can put a digit where only a letter may
stand), the decoder scores every *structure* the grammar allows (1-2 region letters forming a
real region code, 1-4 digits not starting with 0, 0-3 suffix letters) and keeps the k most
probable readings over all of them. Slots are independent, so merging per-slot k-best lists
keeps the exact k best.

A plate is read from more than one crop (tight and wider, as is and as its negative: the
detector's boxes often clip the first or last character). `read` mixes the crops' candidate
lists with equal weight: a reading's probability is its mean probability over the crops (0 where
a crop did not list it), so crops that disagree lower the confidence instead of one winning.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from etle.plates import REGION_CODES

Probabilities = npt.NDArray[np.floating]
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_FLOOR = 1e-12  # log(0) guard


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    p: float


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str  # best grammatical reading, "" if none
    p: float  # its probability under the model
    candidates: list[Candidate]  # best first, text included
    slot_confidence: list[float]  # probability of each character of `text`
    raw: str  # the model's unconstrained best string (pads removed)
    raw_slot_confidence: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reading:
    """A plate read from one or more crops: the mixture of their decodings."""

    text: str  # best grammatical reading, "" if no crop had one
    p: float  # its mean probability over the crops
    candidates: list[Candidate]  # best first
    slot_confidence: list[float]  # per character of `text`, mean over the crops
    raws: list[str]  # each crop's unconstrained best string
    # Unconstrained strings of wider crops that are not mixed in (too much around the plate
    # to read it well) but show whether the plate goes on beyond its box.
    context: list[str] = field(default_factory=list)
    # Read again from crops shifted past the detector's box, which had cut the plate: a
    # person must look whatever the probability.
    clipped: bool = False

    @property
    def region_seen(self) -> list[bool]:
        """Per crop: did the model see letters before the number (not a partial plate)?"""
        return [bool(raw) and not raw[0].isdigit() for raw in self.raws]


class GrammarDecoder:
    def __init__(self, alphabet: str, pad_char: str, *, top_k: int = 5) -> None:
        self.alphabet = alphabet
        self.pad_index = alphabet.index(pad_char)
        self.top_k = top_k
        # Of two lists sorted best first, the pair (i, j) has at least (i + 1) * (j + 1) sums
        # at least as good as its own, so only pairs with (i + 1) * (j + 1) <= k can be among
        # the k best: 10 of the 25 for k = 5. The decoder extends 32 structures per crop, and
        # this is where reading a plate spends most of its time outside the model.
        self._pairs = [
            (i, j) for i in range(top_k) for j in range(top_k) if (i + 1) * (j + 1) <= top_k
        ]
        self._chars = np.array(list(alphabet))
        self._letters = np.array([i for i, c in enumerate(alphabet) if c in _LETTERS])
        self._digits = np.array([i for i, c in enumerate(alphabet) if c in _DIGITS])
        self._nonzero_digits = np.array([i for i in self._digits if alphabet[i] != "0"])
        index = {c: i for i, c in enumerate(alphabet)}
        # Per region length: the codes as alphabet indices (n, length), and as text.
        self._regions: dict[int, tuple[npt.NDArray[np.intp], list[str]]] = {}
        for length in (1, 2):
            codes = sorted(code for code in REGION_CODES if len(code) == length)
            indices = np.array([[index[c] for c in code] for code in codes])
            self._regions[length] = (indices, codes)

    def decode(self, probs: Probabilities) -> Decoded:
        logp = np.log(np.maximum(np.asarray(probs, dtype=np.float64), _FLOOR))
        slots = logp.shape[0]
        # pad_tail[i]: log-probability that slots i.. are all padding.
        pad_tail = np.concatenate([np.cumsum(logp[::-1, self.pad_index])[::-1], [0.0]]).tolist()
        letters = self._top(logp, self._letters)
        digits = self._top(logp, self._digits)
        first_digits = self._top(logp, self._nonzero_digits)
        best: list[tuple[float, str]] = []
        # Structures share prefixes: the k best of region+digits are extended one suffix
        # letter at a time, and every length along the way is a structure of its own.
        for region_len, (codes, texts) in self._regions.items():
            scores = logp[np.arange(region_len), codes].sum(axis=1)
            order = np.argsort(-scores, kind="stable")[: self.top_k]
            beam = [(float(scores[i]), texts[i]) for i in order]
            for digits_len in range(1, 5):
                position = region_len + digits_len - 1
                if position >= slots:
                    break
                beam = self._extend(beam, (first_digits if digits_len == 1 else digits)[position])
                grown = beam
                for suffix_len in range(0, 4):
                    end = position + 1 + suffix_len
                    if end > slots:
                        break
                    if suffix_len:
                        grown = self._extend(grown, letters[end - 1])
                    best += [(score + pad_tail[end], text) for score, text in grown]
        best = heapq.nlargest(self.top_k, best)
        raw, raw_conf = self._greedy(probs)
        if not best:
            return Decoded("", 0.0, [], [], raw, raw_conf)
        candidates = [Candidate(text, math.exp(score)) for score, text in best]
        top = candidates[0].text
        return Decoded(
            top, candidates[0].p, candidates, self.slot_confidence(probs, top), raw, raw_conf
        )

    def read(
        self,
        crops: Sequence[Probabilities] | Probabilities,
        context: Sequence[Probabilities] | Probabilities = (),
    ) -> Reading:
        """One plate seen in several crops: the mixture of their decodings (module docstring).
        `context`: wider crops, only read greedily."""
        seen = [self._greedy(probs)[0] for probs in context]
        decodings = [self.decode(probs) for probs in crops]
        raws = [d.raw for d in decodings]
        total: defaultdict[str, float] = defaultdict(float)
        for decoded in decodings:
            for candidate in decoded.candidates:
                total[candidate.text] += candidate.p / len(decodings)
        ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))[: self.top_k]
        if not ranked:
            return Reading("", 0.0, [], [], raws, seen)
        text, p = ranked[0]
        per_crop = [self.slot_confidence(probs, text) for probs in crops]
        slots = [float(np.mean(column)) for column in zip(*per_crop, strict=True)]
        return Reading(text, p, [Candidate(t, q) for t, q in ranked], slots, raws, seen)

    def with_context(self, reading: Reading, context: Sequence[Probabilities]) -> Reading:
        seen = [self._greedy(probs)[0] for probs in context]
        return replace(reading, context=reading.context + seen)

    def slot_confidence(self, probs: Probabilities, text: str) -> list[float]:
        return [float(probs[i][self.alphabet.index(c)]) for i, c in enumerate(text)]

    def _top(
        self, logp: npt.NDArray[np.float64], allowed: npt.NDArray[np.intp]
    ) -> list[list[tuple[float, str]]]:
        """Per slot, the k most probable characters among `allowed`, as (log p, char)."""
        sub = logp[:, allowed]
        order = np.argsort(-sub, axis=1, kind="stable")[:, : self.top_k]
        scores = np.take_along_axis(sub, order, axis=1).tolist()
        chars = self._chars[allowed[order]].tolist()
        return [list(zip(s, c, strict=True)) for s, c in zip(scores, chars, strict=True)]

    def _extend(
        self, beam: list[tuple[float, str]], options: list[tuple[float, str]]
    ) -> list[tuple[float, str]]:
        # Slots are independent, so the k best extensions of the k best prefixes are exact.
        # Both lists are sorted best first (`_top`, and this method's own output).
        pairs = self._pairs
        if len(beam) < self.top_k or len(options) < self.top_k:
            pairs = [(i, j) for i, j in pairs if i < len(beam) and j < len(options)]
        sums = [(beam[i][0] + options[j][0], beam[i][1] + options[j][1]) for i, j in pairs]
        sums.sort(reverse=True)
        return sums[: self.top_k]

    def _greedy(self, probs: Probabilities) -> tuple[str, list[float]]:
        chars, conf = [], []
        for row in probs:
            index = int(np.argmax(row))
            if index == self.pad_index:
                continue
            chars.append(self.alphabet[index])
            conf.append(float(row[index]))
        return "".join(chars), conf
