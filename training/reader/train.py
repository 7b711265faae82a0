"""Fine-tuning the shipped reader: the loop, checkpoint selection, export.

Everything random (the held-out split, the crops, the synthetic plates, the order) follows one
seed and the run is a fixed number of steps, so the same command gives the same model on the
same machine. Every `eval_every` steps the weights (or their moving average, `ema`) are scored
on the held-out slice of the training plates (`devset.score_held_out`); the best scoring ones
are exported, or the last ones (`keep="last"`, the full recipe). The development photos are
read by the exported files for the log only.
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from training.reader import data
from training.reader.devset import (
    HeldOutScore,
    dev_frames,
    held_out_crops,
    score_dev,
    score_held_out,
)
from training.reader.model import OnnxReader, export_onnx, load
from training.schedule import minutes_since, warmup_cosine

MODEL_NAME = "etle_reader_v1"


@dataclass
class Config:
    base: Path  # the ONNX reader to start from
    base_config: Path  # its fast-plate-ocr plate config (copied: same input and alphabet)
    ocr: tuple[Path, ...]  # folders with labels.csv and crops
    scenes: tuple[Path, ...]  # folders of photos with YOLO labels and plate text
    out: Path
    extra: tuple[Path, ...] = ()  # `etle training export` folders
    dev: Path | None = None  # development photos: reported, never trained on
    detector: Path | None = None  # for the end-to-end development figures
    seed: int = 15
    steps: int = 1200
    batch: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup: int = 50
    # Checkpoints are the exponential moving average of the weights with this decay (0: the
    # weights as they are): the average of the last few hundred steps reads more plates right
    # than any one step's weights on a training set this small.
    ema: float = 0.0
    # Which checkpoint is exported: the best on the held-out slice, or the last one (the
    # held-out slice holds some wrong labels of its sources, and a few plates up or down
    # between checkpoints is noise there).
    keep: Literal["best", "last"] = "best"
    eval_every: int = 100
    held_out: float = 0.1  # share of distinct real plate texts held out (the log; `keep`)
    threads: int = 2
    limit: int = 0  # plates per source (the smoke run)
    dev_limit: int = 0
    dev_every_eval: bool = True  # read the development photos at every checkpoint (the log)
    # Shares of a batch: real plates (training set crops and photos), synthetic plates, and
    # `extra` plates when given (the real share shrinks by theirs).
    mix: dict[str, float] = field(
        default_factory=lambda: {"real": 0.6, "synthetic": 0.4, "extra": 0.25}
    )


class MovingAverage:
    """An exponential moving average of a model's weights. Early on the decay is lower
    ((1 + n) / (10 + n) after n updates), so the average does not hold on to the starting
    weights for the first thousand steps."""

    def __init__(self, model: OnnxReader, decay: float) -> None:
        self.model = copy.deepcopy(model).eval()
        self.decay = decay
        self.updates = 0

    def update(self, model: OnnxReader) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for averaged, current in zip(self.model.parameters(), model.parameters(), strict=True):
                averaged.lerp_(current, 1 - decay)


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def load_plates(
    cfg: Config, log: Callable[[str], None]
) -> tuple[list[data.Plate], list[data.Plate], list[data.Plate]]:
    """(training plates, held-out plates, extra plates)."""
    real: list[data.Plate] = []
    for folder in cfg.ocr:
        found = data.load_ocr_folder(folder, limit=cfg.limit)
        log(f"crops: {len(found)} from {folder}")
        real += found
    for folder in cfg.scenes:
        found = data.load_scenes(folder, limit=cfg.limit)
        log(f"photos: {len(found)} plates from {folder}")
        real += found
    extra = [p for folder in cfg.extra for p in data.load_extra(folder)]
    if cfg.extra:
        log(f"extra plates: {len(extra)} from {', '.join(map(str, cfg.extra))}")
    train = [p for p in real if not data.held_out(p.text, cfg.held_out, cfg.seed)]
    held = [p for p in real if data.held_out(p.text, cfg.held_out, cfg.seed)]
    log(
        f"real plates: {len(train)} for training, {len(held)} held out "
        f"({len(data.texts(held))} distinct texts, no text on both sides)"
    )
    return train, held, extra


def make_batch(
    rng: np.random.Generator,
    cfg: Config,
    train: list[data.Plate],
    extra: list[data.Plate],
) -> tuple[torch.Tensor, torch.Tensor]:
    shares = {"real": cfg.mix["real"], "synthetic": cfg.mix["synthetic"]}
    if extra:
        shares["extra"] = cfg.mix["extra"]
    names = list(shares)
    weights = np.array([shares[n] for n in names])
    picks = rng.choice(len(names), size=cfg.batch, p=weights / weights.sum())
    images, targets = [], []
    for k in picks:
        name = names[int(k)]
        if name == "synthetic":
            image, text = data.synthetic_sample(rng)
        else:
            pool = train if name == "real" else extra
            plate = pool[int(rng.integers(len(pool)))]
            image, text = data.real_sample(plate, rng), plate.text
        images.append(data.to_input(image))
        targets.append(data.encode(text))
    return torch.from_numpy(np.stack(images)), torch.tensor(targets, dtype=torch.long)


def write_plate_config(cfg: Config, path: Path) -> None:
    """The base model's plate config: same input size, alphabet, slots and padding."""
    shutil.copyfile(cfg.base_config, path)


def train(cfg: Config, log: Callable[[str], None] = print) -> dict[str, object]:
    started = time.monotonic()
    torch.set_num_threads(cfg.threads)
    rng = seed_everything(cfg.seed)
    cfg.out.mkdir(parents=True, exist_ok=True)
    reader, template = load(cfg.base)
    training, held, extra = load_plates(cfg, log)
    if not training and not extra:
        raise ValueError("no training plates found")
    held_crops = held_out_crops(held, cfg.seed)
    frames = dev_frames(cfg.dev, limit=cfg.dev_limit)
    if cfg.dev:
        log(f"development photos: {len(frames)} frames (reported only, never trained on)")
    result = cfg.out / f"{MODEL_NAME}.onnx"
    config_path = cfg.out / f"{MODEL_NAME}_plate_config.yaml"
    write_plate_config(cfg, config_path)
    checkpoint = cfg.out / "checkpoint.onnx"
    shutil.copyfile(cfg.base_config, cfg.out / "checkpoint_plate_config.yaml")
    params = [p for p in reader.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    history: list[dict[str, object]] = []
    best: tuple[float, int, HeldOutScore | None] = (-math.inf, -1, None)
    average = MovingAverage(reader, cfg.ema) if cfg.ema else None

    def evaluate(step: int) -> None:
        nonlocal best
        chosen = average.model if average is not None else reader
        found = score_held_out(chosen, held, held_crops) if held else None
        entry: dict[str, object] = {"step": step, "minutes": minutes_since(started)}
        message = f"step {step}:"
        if found is not None:
            entry["held_out"] = asdict(found)
            message += (
                f" held-out exact {found.exact:.3f} mean log p {found.mean_log_p:.3f}"
                f" wrong p>=0.6 {found.wrong_above}"
            )
        key = found.key if found is not None else float(step)
        improved = key > best[0] or (cfg.keep == "last" and step == cfg.steps)
        if improved or (frames and cfg.dev_every_eval):
            export_onnx(chosen, template, checkpoint)
        if improved:
            best = (key, step, found)
            shutil.copyfile(checkpoint, result)
        if frames and cfg.dev_every_eval:
            dev = score_dev(checkpoint, cfg.out / "checkpoint_plate_config.yaml", frames)
            entry["dev_true_boxes"] = dev
            message += (
                f" | dev, labelled boxes: exact {dev['exact_read_rate']:.3f}"
                f" accepted {dev['accepted']} wrong {dev['wrong_accepted']}"
            )
        history.append(entry)
        log(f"{message} ({minutes_since(started):.1f} min){' *' if improved else ''}")

    evaluate(0)
    reader.train()
    losses: list[float] = []
    for step in range(1, cfg.steps + 1):
        lr = warmup_cosine(cfg.lr, step, cfg.warmup, cfg.steps)
        for group in optimiser.param_groups:
            group["lr"] = lr
        x, y = make_batch(rng, cfg, training, extra)
        logits = reader(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimiser.step()
        if average is not None:
            average.update(reader)
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == cfg.steps:
            log(
                f"step {step}/{cfg.steps} loss {np.mean(losses[-50:]):.4f} lr {lr:.2e} "
                f"({minutes_since(started):.1f} min)"
            )
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluate(step)
            reader.train()
    checkpoint.unlink(missing_ok=True)
    (cfg.out / "checkpoint_plate_config.yaml").unlink(missing_ok=True)
    final: dict[str, object] = {}
    if frames:
        final["dev_true_boxes"] = score_dev(result, config_path, frames)
        base_dev = score_dev(cfg.base, cfg.base_config, frames)
        final["base_dev_true_boxes"] = base_dev
        if cfg.detector is not None:
            final["dev_end_to_end"] = score_dev(
                result, config_path, frames, detector_path=cfg.detector
            )
        log(f"development photos, chosen model: {json.dumps(final)}")
    summary: dict[str, object] = {
        "model": str(result),
        "plate_config": str(config_path),
        "best_step": best[1],
        "best_held_out": asdict(best[2]) if best[2] else None,
        "minutes": round(minutes_since(started), 1),
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "history": history,
        **final,
    }
    (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2))
    log(f"best step {best[1]}: {summary['best_held_out']} -> {result} ({summary['minutes']} min)")
    return summary
