"""The decision on one read: accept, review or unreadable.

`accept` means safe to show an officer prefilled; the officer still confirms every case.
`review` means the officer must read the plate from the image. `unreadable` means the read
cannot stand for a plate at all (for example the region letters are cut off) and never becomes
a case by itself.

Structural rules come first, because the model can be sure of a plate it only half saw: a
detector box that clipped the last letters reads as a shorter plate that the grammar allows
(`W8774` for `W 8774 PA`), with every character certain. So a read is never accepted when a
crop lost the region letters, when a crop saw more characters than the reading holds, when the
crops disagree on the number of characters, or when the plate touches the frame's border (it
may go on outside the picture).

Then the thresholds, calibrated on the labelled development photos with
`etle eval --calibrate` (docs/recognition.md): first at least 1.5 times the probability of the
most probable wrong read that passes the structural rules there (0.34); with the fine-tuned
reader (issue 15) that wrong read is at 0.44, and 0.60 stays because a higher threshold
accepts fewer reads without fewer wrong ones on the development and held-out training plates
together (1 wrong among 268 accepted at 0.60).
"""

from __future__ import annotations

from dataclasses import dataclass

from camera_ingest.recognition.decode import Reading
from etle.frames.models import ReadDecision


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    # Mixture probability of the best grammatical reading. (No separate threshold on the
    # weakest character: a reading's probability is already below each of its characters'.)
    accept_p: float = 0.60
    unreadable_p: float = 0.01

    def decide(self, reading: Reading, *, at_frame_edge: bool = False) -> ReadDecision:
        if not reading.text or reading.p < self.unreadable_p:
            return ReadDecision.UNREADABLE
        seen = reading.region_seen
        # No crop shows letters before the number: the region code is cut off or hidden.
        if not any(seen):
            return ReadDecision.UNREADABLE
        # Some crop lost the region letters (the grammar filled them in), or the box cut the
        # plate and it was read again from shifted crops: a person must look.
        if not all(seen) or reading.clipped:
            return ReadDecision.REVIEW
        # A crop saw more characters than the reading holds: the box may have clipped the plate.
        longer = any(len(raw) > len(reading.text) for raw in reading.raws + reading.context)
        if longer or at_frame_edge:
            return ReadDecision.REVIEW
        # The crops disagree on how many characters the plate has: a letter doubled or lost in
        # some of them (a fixed-slot reader's slip, most often on one-letter suffixes), and the
        # mixture may side with the wrong count at a high probability (`N1342TT` for `N1342T`).
        if len({len(raw) for raw in reading.raws}) > 1:
            return ReadDecision.REVIEW
        if reading.p >= self.accept_p:
            return ReadDecision.ACCEPT
        return ReadDecision.REVIEW
