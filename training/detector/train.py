"""Fine-tuning the shipped detector: the loop, checkpoint selection, export.

Everything random (data, order, initial state of the optimiser) follows one seed, and the run
is a fixed number of steps (not a time budget), so the same command gives the same model on the
same machine. Every `eval_every` steps the weights are exported to ONNX and scored on the
development photos (`devset.py`, recall in one plain pass); the best export is the result.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from camera_ingest.recognition.yolov5 import SCORE_THRESHOLD_KEY
from training.detector import data
from training.detector.devset import DevFrame, DevScore, choose_threshold, load_dev, score
from training.detector.distractors import paste_distractors
from training.detector.loss import yolo_loss
from training.detector.model import export_onnx, load, set_metadata
from training.schedule import minutes_since, warmup_cosine

MODEL_NAME = "etle_detector_v1"


@dataclass
class Config:
    base: Path
    scenes: Path
    out: Path
    dev: Path | None = None
    extra: tuple[Path, ...] = ()
    seed: int = 14
    steps: int = 3000
    batch: int = 4
    size: int = 512  # training crops (the network is convolutional: plates keep their size)
    input_size: int = 640  # the exported model's input
    lr: float = 5e-4
    warmup: int = 100
    eval_every: int = 250
    views: tuple[str, ...] = ("plain",)
    inverted: float = 0.4  # probability a plate is turned white-on-black
    # Probability an image gets signs and lamps (distractors.py). Off in the recipe: measured,
    # they cost recall on the development photos more than the score threshold does (models.md).
    distractors: float = 0.0
    scene_limit: int = 0
    dev_limit: int = 0
    threads: int = 2
    synth_pool: int = 400
    mix: dict[str, float] = field(
        default_factory=lambda: {"mosaic": 0.6, "close": 0.15, "synthetic": 0.25, "frame": 0.3}
    )


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def makers(
    cfg: Config, rng: np.random.Generator, log: Callable[[str], None]
) -> tuple[list[Callable[[np.random.Generator], data.Sample]], list[float]]:
    scenes = data.read_yolo_folder(cfg.scenes, limit=cfg.scene_limit)
    log(f"scenes: {len(scenes)} from {cfg.scenes}")
    size, inv = cfg.size, cfg.inverted
    table: dict[str, Callable[[np.random.Generator], data.Sample]] = {
        "mosaic": lambda r: data.mosaic(r, scenes, size, inv),
        "close": lambda r: data.close(r, scenes, size, inv),
    }
    synthetic = _synthetic(scenes, cfg, rng, log)
    if synthetic is not None:
        table["synthetic"] = synthetic
    if cfg.extra:
        frames = [scene for folder in cfg.extra for scene in data.read_yolo_folder(folder)]
        log(f"extra frames: {len(frames)} from {', '.join(map(str, cfg.extra))}")
        table["frame"] = lambda r: data.frame(r, frames, size, inv)
    names = [n for n in cfg.mix if n in table]
    weights = np.array([cfg.mix[n] for n in names])
    log(
        "mix: "
        + ", ".join(f"{n} {w / weights.sum():.2f}" for n, w in zip(names, weights, strict=True))
    )
    return [table[n] for n in names], list(weights / weights.sum())


def _synthetic(
    scenes: list[data.Scene], cfg: Config, rng: np.random.Generator, log: Callable[[str], None]
) -> Callable[[np.random.Generator], data.Sample] | None:
    try:
        from training.detector.synthetic import SyntheticPlates
    except ImportError as exc:  # the renderer (training/synth) is not in this checkout
        log(f"synthetic plates: not available ({exc})")
        return None
    started = time.monotonic()
    plates = SyntheticPlates(scenes, cfg.size, cfg.inverted, rng, pool=cfg.synth_pool)
    log(f"synthetic plates: {len(plates.pool)} rendered in {time.monotonic() - started:.1f} s")
    return plates.sample


def batch_tensors(samples: list[data.Sample]) -> tuple[torch.Tensor, torch.Tensor]:
    images = np.stack([s.image[:, :, ::-1] for s in samples]).transpose(0, 3, 1, 2)
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    rows = []
    for n, s in enumerate(samples):
        b = s.boxes
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        rows.append(np.stack([np.full_like(cx, n), cx, cy, w, h], 1))
    targets = torch.from_numpy(np.concatenate(rows)).float()
    return x, targets


def train(cfg: Config, log: Callable[[str], None] = print) -> dict[str, object]:
    started = time.monotonic()
    torch.set_num_threads(cfg.threads)
    rng = seed_everything(cfg.seed)
    cfg.out.mkdir(parents=True, exist_ok=True)
    backbone, template = load(cfg.base)
    anchors = backbone.info.anchors
    make, weights = makers(cfg, rng, log)
    dev: list[DevFrame] = load_dev(cfg.dev, limit=cfg.dev_limit) if cfg.dev else []
    params = list(backbone.parameters())
    optimiser = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=5e-4)
    history: list[dict[str, object]] = []
    best: tuple[float, int, DevScore | None] = (-1.0, 0, None)
    checkpoint = cfg.out / "checkpoint.onnx"
    result = cfg.out / f"{MODEL_NAME}.onnx"

    def evaluate(step: int) -> None:
        nonlocal best
        export_onnx(backbone, template, checkpoint, size=cfg.input_size)
        if not dev:
            shutil.copyfile(checkpoint, result)
            best = (0.0, step, None)
            return
        found = score(checkpoint, dev, cfg.views)
        history.append({"step": step, **asdict(found), "minutes": minutes_since(started)})
        log(
            f"step {step}: dev recall {found.recall:.3f} iou {found.mean_iou:.3f} "
            f"boxes/frame {found.boxes_per_frame} ({minutes_since(started):.1f} min)"
        )
        if found.key > best[0]:
            best = (found.key, step, found)
            shutil.copyfile(checkpoint, result)

    evaluate(0)
    backbone.train()
    losses: list[float] = []
    for step in range(1, cfg.steps + 1):
        lr = warmup_cosine(cfg.lr, step, cfg.warmup, cfg.steps)
        for group in optimiser.param_groups:
            group["lr"] = lr
        picks = rng.choice(len(make), size=cfg.batch, p=weights)
        samples = [data.degrade(rng, _with_distractors(cfg, rng, make[int(k)](rng))) for k in picks]
        x, targets = batch_tensors(samples)
        loss, parts = yolo_loss(backbone(x), targets, anchors)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        if step % 50 == 0:
            log(
                f"step {step}/{cfg.steps} loss {np.mean(losses[-50:]):.3f} "
                f"box {parts['box']:.3f} obj {parts['obj']:.3f} lr {lr:.2e} "
                f"({minutes_since(started):.1f} min)"
            )
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluate(step)
            backbone.train()
    checkpoint.unlink(missing_ok=True)
    thresholds: list[dict[str, object]] = []
    if dev:
        chosen, table = choose_threshold(result, dev, cfg.views)
        for t, s in table:
            thresholds.append({"threshold": t, **asdict(s)})
            log(f"threshold {t:.2f}: dev recall {s.recall:.3f} boxes/frame {s.boxes_per_frame}")
        set_metadata(result, {SCORE_THRESHOLD_KEY: f"{chosen:g}"})
        log(f"score threshold {chosen:g} written into {result.name}")
    summary: dict[str, object] = {
        "model": str(result),
        "best_step": best[1],
        "best": asdict(best[2]) if best[2] else None,
        "minutes": round(minutes_since(started), 1),
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "history": history,
        "thresholds": thresholds,
    }
    (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2))
    log(f"best step {best[1]}: {summary['best']} -> {result} ({summary['minutes']} min)")
    return summary


def _with_distractors(cfg: Config, rng: np.random.Generator, sample: data.Sample) -> data.Sample:
    if cfg.distractors > 0 and rng.random() < cfg.distractors:
        paste_distractors(rng, sample.image, sample.boxes, int(rng.integers(1, 5)))
    return sample
