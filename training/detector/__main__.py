"""`python -m training.detector --out DIR`: reproduce the shipped plate detector.

    python -m training.detector --out runs/detector            # the full recipe (docs/models.md)
    python -m training.detector --out /tmp/smoke --smoke       # the pipeline in under a minute
    python -m training.detector --out runs/mine --extra EXPORT # plus officer-confirmed frames

Needs the `[train]` extra (`pip install -e ".[train]"`: PyTorch, ONNX). Data: the training
photos (`--scenes`, default ../shared/datasets/id-plates-train/scenes), synthetic plates
(training/synth), and `--extra` folders exported by `etle training export` (frames with YOLO
labels `class cx cy w h PLATE`). The development photos (`--dev`) only choose the checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from camera_ingest.recognition.loading import BASELINE_DETECTOR, PACKAGED_MODELS
from training.cli import override, require_paths
from training.detector.train import MODEL_NAME, Config, train

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# The published HyperLPR3 detector, shipped in the package: the starting point.
BASE_MODEL = PACKAGED_MODELS / f"{BASELINE_DETECTOR}.onnx"
SCENES = SHARED / "datasets" / "id-plates-train" / "scenes"
DEV = SHARED / "datasets" / "id-plates-dev"

# The full recipe: measured to finish within 90 minutes on the development machine's 2 cores
# (docs/models.md has the run's log).
FULL = {"steps": 1000, "batch": 4, "size": 512, "eval_every": 100, "warmup": 50}
# The smoke run: every stage once, on a handful of scenes and frames, in well under a minute.
SMOKE = {
    "steps": 6,
    "batch": 2,
    "size": 256,
    "eval_every": 6,
    "warmup": 2,
    "scene_limit": 24,
    "dev_limit": 2,
    "synth_pool": 12,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.detector", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the model and log")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that proves the pipeline")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="frames with YOLO labels to add (etle training export); repeatable",
    )
    parser.add_argument("--base", type=Path, default=BASE_MODEL, help="detector to start from")
    parser.add_argument("--scenes", type=Path, default=SCENES, help="labelled training photos")
    parser.add_argument(
        "--dev", type=Path, default=DEV, help="development photos, for checkpoint selection only"
    )
    parser.add_argument(
        "--no-dev", action="store_true", help="no checkpoint selection: keep the last step"
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--distractors",
        type=float,
        help="probability an image gets unlabelled signs and lamps (default 0: see models.md)",
    )
    parser.add_argument("--steps", type=int, help="override the recipe's step count")
    parser.add_argument(
        "--input-size", type=int, help="the exported model's input side (multiple of 32)"
    )
    args = parser.parse_args(argv)
    require_paths(
        parser,
        (
            ("--base", args.base),
            ("--scenes", args.scenes),
            *(("--extra", p) for p in args.extra),
        ),
    )
    dev = None if args.no_dev or not args.dev.is_dir() else args.dev
    recipe = dict(SMOKE if args.smoke else FULL)
    override(recipe, args, ("steps", "distractors", "input_size"))
    cfg = Config(
        base=args.base,
        scenes=args.scenes,
        out=args.out,
        dev=dev,
        extra=tuple(args.extra),
        seed=args.seed,
        **recipe,  # type: ignore[arg-type]
    )
    args.out.mkdir(parents=True, exist_ok=True)
    log_path = args.out / "train.log"
    with log_path.open("w") as log_file:

        def log(message: str) -> None:
            line = f"{time.strftime('%H:%M:%S')} {message}"
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            log_file.write(line + "\n")
            log_file.flush()

        if dev is None:
            log("no development photos: the last step is kept")
        train(cfg, log)
    sys.stdout.write(f"model: {args.out / (MODEL_NAME + '.onnx')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
