"""`python -m training.reader --out DIR`: reproduce the shipped plate reader.

    python -m training.reader --out runs/reader              # the full recipe (docs/models.md)
    python -m training.reader --out /tmp/smoke --smoke       # the pipeline in under a minute
    python -m training.reader --out runs/mine --extra EXPORT # plus officer-confirmed plates

Needs the `[train]` extra (`pip install -e ".[train]"`: PyTorch, ONNX) and the plate fonts
(training/synth/fonts.py). Data: the training set's plate crops (`--ocr`, default
../shared/datasets/id-plates-train/ocr) and street photos (`--scenes`), synthetic plates
(training/synth), and `--extra` folders written by `etle training export`. A slice of the
training plates is held out to choose the checkpoint; the development photos (`--dev`) are only
read by the chosen model, for the log.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from camera_ingest.recognition.loading import DETECTOR_DEFAULTS, PACKAGED_MODELS
from training.cli import override, require_paths
from training.reader.train import MODEL_NAME, Config, train

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# The published fast-plate-ocr reader, shipped in the package: the starting point.
BASE_MODEL = PACKAGED_MODELS / "cct_xs_v1_global.onnx"
BASE_CONFIG = PACKAGED_MODELS / "cct_xs_v1_global_plate_config.yaml"
TRAIN_SET = SHARED / "datasets" / "id-plates-train"
DEV = SHARED / "datasets" / "id-plates-dev"
DETECTOR = PACKAGED_MODELS / f"{DETECTOR_DEFAULTS['yolov5'][0]}.onnx"

# The full recipe: measured to finish within the hour on the development machine's 2 cores
# (docs/models.md has the run's log). The exported weights are the moving average at the last
# step: the held-out slice is too small and too noisy (wrong labels of its sources) to choose
# between checkpoints that differ by a plate or two.
FULL: dict[str, Any] = {
    "steps": 2400,
    "batch": 64,
    "eval_every": 100,
    "ema": 0.998,
    "keep": "last",
}
# The smoke run: every stage once, on a handful of plates and frames, in well under a minute.
SMOKE: dict[str, Any] = {
    "steps": 4,
    "batch": 16,
    "eval_every": 4,
    "warmup": 2,
    "limit": 40,
    "dev_limit": 2,
    "held_out": 0.25,
    "ema": 0.9,
    "keep": "last",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.reader", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the model and log")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that proves the pipeline")
    parser.add_argument(
        "--extra",
        "--with-confirmed",
        type=Path,
        action="append",
        default=[],
        help="officer-confirmed plates to add (an `etle training export` folder); repeatable",
    )
    parser.add_argument("--base", type=Path, default=BASE_MODEL, help="reader to start from")
    parser.add_argument(
        "--base-config", type=Path, default=BASE_CONFIG, help="the base reader's plate config"
    )
    parser.add_argument(
        "--ocr", type=Path, default=TRAIN_SET / "ocr", help="plate crops with labels.csv"
    )
    parser.add_argument(
        "--scenes", type=Path, default=TRAIN_SET / "scenes", help="photos with plate boxes"
    )
    parser.add_argument(
        "--dev", type=Path, default=DEV, help="development photos, read for the log only"
    )
    parser.add_argument("--no-dev", action="store_true", help="do not read the development photos")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--steps", type=int, help="override the recipe's step count")
    parser.add_argument("--lr", type=float, help="override the recipe's learning rate")
    parser.add_argument("--synthetic", type=float, help="override the synthetic share (0-1)")
    parser.add_argument(
        "--ema", type=float, help="override the recipe's weight averaging (decay; 0: none)"
    )
    parser.add_argument(
        "--keep",
        choices=("best", "last"),
        help="override which checkpoint is exported: best on the held-out slice, or the last",
    )
    args = parser.parse_args(argv)
    require_paths(
        parser,
        (
            ("--base", args.base),
            ("--base-config", args.base_config),
            ("--ocr", args.ocr),
            ("--scenes", args.scenes),
            *(("--extra", p) for p in args.extra),
        ),
    )
    dev = None if args.no_dev or not args.dev.is_dir() else args.dev
    recipe = dict(SMOKE if args.smoke else FULL)
    override(recipe, args, ("steps", "lr", "ema", "keep"))
    cfg = Config(
        base=args.base,
        base_config=args.base_config,
        ocr=(args.ocr,),
        scenes=(args.scenes,),
        out=args.out,
        extra=tuple(args.extra),
        dev=dev,
        detector=None if args.smoke or not DETECTOR.is_file() else DETECTOR,
        seed=args.seed,
        **recipe,
    )
    if args.synthetic is not None:
        cfg.mix = {**cfg.mix, "real": 1 - args.synthetic, "synthetic": args.synthetic}
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "train.log").open("w") as log_file:

        def log(message: str) -> None:
            line = f"{time.strftime('%H:%M:%S')} {message}"
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            log_file.write(line + "\n")
            log_file.flush()

        log(f"python -m training.reader {' '.join(sys.argv[1:] if argv is None else argv)}")
        if dev is None:
            log("no development photos: nothing is reported on them")
        train(cfg, log)
    sys.stdout.write(f"model: {args.out / (MODEL_NAME + '.onnx')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
