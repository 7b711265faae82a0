"""What the detector's and the reader's training runs share: the learning-rate schedule and the
run clock their logs print."""

from __future__ import annotations

import math
import time


def warmup_cosine(lr: float, step: int, warmup: int, steps: int) -> float:
    """Linear warm-up to `lr`, then a cosine down to 5% of it at the last step: fine-tuning a
    trained model, so the rate never drops to nothing and never starts at full strength."""
    if step <= warmup:
        return lr * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def minutes_since(started: float) -> float:
    """Minutes since `started` (a `time.monotonic()` reading)."""
    return (time.monotonic() - started) / 60
