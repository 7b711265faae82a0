"""Plate recognition on 12-megapixel frames, one core: ours against the plainest baseline.

    python bench/recognition.py [--dataset DIR] [--limit N] [--json]

The development photos are 3024x3024 (9 MP). A 12 MP camera frame is made from each, honestly
and reproducibly: scaled to 3000x3000 (plates keep 99% of their size), padded to 4000x3000 with
a mirror image of its own left and right edges (so the padding costs a decoder what real
picture content costs), and saved as a JPEG at quality 92. The labels move with the picture, so
both systems are also scored on these frames.

The systems run in the same process, pinned to one core, frame by frame in turn (so a change
in load falls on all alike), with one-thread onnxruntime sessions and OpenCV, each frame given
as the bytes a camera would send (decoding included):

* ours: `load_recognizer` with the settings' defaults (reduced decode, detector views, four
  crops per plate, grammar decoder, decision);
* previous: the same pipeline with the detector shipped before issue 14 (HyperLPR3's, trained
  on Chinese plates) on its two views (`yellow,yellow-inverted`), so a new default detector is
  compared with the old one side by side, in one run, on the same core;
* baseline: full-size decode, one detector pass, fast-plate-ocr's `LicensePlateRecognizer.run`
  on each crop (greedy string), `camera_ingest/recognition/baseline.py`.

With `--compare-ocr NAME` a fourth system is ours with another reader (default: the global
fast-plate-ocr model shipped before issue 15), and the reading alone is timed for both readers
on the labelled boxes (CPU ms per plate for crops, model, decoder, context crops and second
looks; the frame's decode subtracted), interleaved frame by frame.

It also times the decoding options for such a frame (docs/recognition.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from camera_ingest.config import IngestSettings  # noqa: E402
from camera_ingest.recognition.evaluation import (  # noqa: E402
    Label,
    LabelledFrame,
    Report,
    label_boxes,
    labelled_frames,
    score_frame,
)
from camera_ingest.recognition.framing import decode_frame  # noqa: E402
from camera_ingest.recognition.loading import (  # noqa: E402
    BASELINE_DETECTOR,
    BASELINE_OCR_MODEL,
    load_baseline,
    load_recognizer,
)
from camera_ingest.recognition.pipeline import (  # noqa: E402
    FrameRecognizer,
    FrameResult,
    Recognizer,
)
from camera_ingest.recognition.reader import PlateReader  # noqa: E402
from camera_ingest.recognition.yolov5 import YoloV5BoxModel, fit, to_tensor  # noqa: E402

WIDTH, HEIGHT = 4000, 3000


def make_12mp(frame: LabelledFrame, out_dir: Path) -> LabelledFrame:
    target = out_dir / f"{frame.path.stem}_12mp.jpg"
    image = cv2.imread(str(frame.path), cv2.IMREAD_COLOR)
    if image is None:
        sys.exit(f"cannot decode {frame.path}")
    height, width = image.shape[:2]
    scale = HEIGHT / height
    side = round(width * scale)
    pad = (WIDTH - side) // 2
    if not target.exists():
        resized = cv2.resize(image, (side, HEIGHT), interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(resized, 0, 0, pad, WIDTH - side - pad, cv2.BORDER_REFLECT_101)
        cv2.imwrite(str(target), padded, [cv2.IMWRITE_JPEG_QUALITY, 92])
    labels = [
        Label((lab.cx * side + pad) / WIDTH, lab.cy, lab.w * side / WIDTH, lab.h, lab.text)
        for lab in frame.labels
    ]
    return LabelledFrame(target, labels)


class Counting:
    """A recognizer that also counts the plates it returns (for ms per plate) and the CPU time
    this process spent per frame: on a shared machine, wall time also holds other processes'
    turns on the core, CPU time does not."""

    def __init__(self, recognizer: FrameRecognizer) -> None:
        self.inner = recognizer
        self.model_name = recognizer.model_name
        self.plates = 0
        self.cpu_ms: list[float] = []

    def recognize_bytes(self, data: bytes, box_hints: Any = None) -> FrameResult:
        started = time.process_time()
        result = self.inner.recognize_bytes(data, box_hints)
        self.cpu_ms.append((time.process_time() - started) * 1000)
        self.plates += len(result.plates)
        return result


def run(recognizers: dict[str, FrameRecognizer], frames: list[LabelledFrame]) -> dict[str, Any]:
    """Every system on every frame, interleaved frame by frame (the order rotating), so a change
    in how busy the shared machine is falls on all of them alike."""
    counted = {name: Counting(r) for name, r in recognizers.items()}
    reports = {name: Report() for name in recognizers}
    for recognizer in recognizers.values():
        recognizer.recognize_bytes(frames[0].path.read_bytes())  # warm-up: first-run allocations
    names = list(recognizers)
    for n, frame in enumerate(frames):
        data = frame.path.read_bytes()
        for name in names[n % len(names) :] + names[: n % len(names)]:
            score_frame(reports[name], frame, counted[name].recognize_bytes(data))
    results = {}
    for name in names:
        report, counter = reports[name], counted[name]
        summary: dict[str, Any] = dict(report.summary())
        summary["plates_found"] = counter.plates
        summary["ms_per_plate"] = round(sum(report.ms) / max(1, counter.plates), 1)
        summary["frames_per_second"] = round(1000 / statistics.fmean(report.ms), 2)
        summary["cpu_ms_per_frame_median"] = round(statistics.median(counter.cpu_ms), 1)
        results[name] = summary
    return results


def stages(recognizer: Recognizer, frames: list[LabelledFrame]) -> dict[str, float]:
    """Median ms of each stage of ours: decode, detect, read (crops, OCR, decoder, decision)."""
    decode, detect, total = [], [], []
    for frame in frames:
        data = frame.path.read_bytes()
        t0 = time.perf_counter()
        decoded = decode_frame(data, working_side=recognizer.working_side)
        t1 = time.perf_counter()
        recognizer.detector.detect(decoded.image)
        t2 = time.perf_counter()
        recognizer.recognize_bytes(data)
        t3 = time.perf_counter()
        decode.append((t1 - t0) * 1000)
        detect.append((t2 - t1) * 1000)
        total.append((t3 - t2) * 1000)
    # One bare detector pass on a prepared input: a yardstick of how busy the machine was
    # (about 26 ms on a quiet core of the development machine).
    model = getattr(recognizer.detector, "model", None)
    passes = []
    if isinstance(model, YoloV5BoxModel):
        resized, _, pad = fit(decode_frame(frames[0].path.read_bytes()).image, model.input_size)
        tensor = to_tensor(resized, model.input_size, pad)
        for _ in range(20):
            started = time.perf_counter()
            model._session.run(None, {model._input_name: tensor})
            passes.append((time.perf_counter() - started) * 1000)
    med = statistics.median
    return {
        "one_detector_pass_ms": round(med(passes), 1) if passes else 0.0,
        "decode_ms": round(med(decode), 1),
        "detect_ms": round(med(detect), 1),
        "read_ms": round(med(total) - med(decode) - med(detect), 1),
    }


class _CountingReader:
    """A reader that counts the crops it is given (how much model work a plate costs)."""

    def __init__(self, reader: PlateReader) -> None:
        self.reader = reader
        self.name, self.alphabet, self.pad_char = reader.name, reader.alphabet, reader.pad_char
        self.crops = 0

    def probabilities(self, crops_bgr: list[Any]) -> Any:
        self.crops += len(crops_bgr)
        return self.reader.probabilities(crops_bgr)


def reading_cost(
    recognizers: dict[str, FrameRecognizer], frames: list[LabelledFrame], rounds: int = 1
) -> dict[str, dict[str, float]]:
    """CPU ms per plate of reading the labelled boxes (the frame's decode subtracted), each
    reader in turn on every frame, the order rotating, `rounds` times over; and the crops the
    model read per plate (counted in a pass of its own, untimed)."""
    names = list(recognizers)
    cpu = {name: 0.0 for name in names}
    plates = 0
    inputs = []
    for frame in frames:
        data = frame.path.read_bytes()
        inputs.append((data, label_boxes(frame, data)))
    for _ in range(rounds):
        for n, (data, hints) in enumerate(inputs):
            plates += len(hints)
            for name in names[n % len(names) :] + names[: n % len(names)]:
                recognizer = recognizers[name]
                assert isinstance(recognizer, Recognizer)
                started = time.process_time()
                decode_frame(data, working_side=recognizer.working_side)
                decoded = time.process_time()
                recognizer.recognize_bytes(data, hints)
                done = time.process_time()
                cpu[name] += (done - decoded) - (decoded - started)
    crops = {}
    for name in names:
        recognizer = recognizers[name]
        assert isinstance(recognizer, Recognizer)
        reader = recognizer.reader
        counting = _CountingReader(reader)
        recognizer.reader = counting  # type: ignore[assignment]
        try:
            for data, hints in inputs:
                recognizer.recognize_bytes(data, hints)
        finally:
            recognizer.reader = reader
        crops[name] = counting.crops
    labelled = sum(len(hints) for _, hints in inputs)
    return {
        name: {
            "read_cpu_ms_per_plate": round(cpu[name] * 1000 / max(1, plates), 2),
            "crops_per_plate": round(crops[name] / max(1, labelled), 3),
        }
        for name in names
    }


def decoders(frames: list[LabelledFrame]) -> dict[str, float]:
    """Median ms to decode a 12 MP frame each way (docs/recognition.md)."""

    def pil_draft(data: bytes, factor: int) -> Any:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (image.width // factor, image.height // factor))
            return np.asarray(image)

    ways: dict[str, Callable[[bytes], Any]] = {
        "opencv_full": lambda d: cv2.imdecode(np.frombuffer(d, np.uint8), cv2.IMREAD_COLOR),
        "opencv_reduced_2": lambda d: cv2.imdecode(
            np.frombuffer(d, np.uint8), cv2.IMREAD_REDUCED_COLOR_2
        ),
        "opencv_reduced_4": lambda d: cv2.imdecode(
            np.frombuffer(d, np.uint8), cv2.IMREAD_REDUCED_COLOR_4
        ),
        "pillow_full": lambda d: pil_draft(d, 1),
        "pillow_draft_2": lambda d: pil_draft(d, 2),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for frame in frames:
        data = frame.path.read_bytes()
        for name, way in ways.items():
            started = time.perf_counter()
            way(data)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.median(ms), 1) for name, ms in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", type=Path, default=REPO.parent / "shared/datasets/id-plates-dev"
    )
    parser.add_argument("--frames-dir", type=Path, help="where to keep the 12 MP frames")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--compare-ocr",
        nargs="?",
        const=BASELINE_OCR_MODEL,
        metavar="NAME",
        help="also run ours with this reader (default: the global model before issue 15)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times over the labelled boxes when timing the readers (--compare-ocr)",
    )
    args = parser.parse_args()
    if not (args.dataset / "README.md").is_file():
        sys.exit(f"development photos not found at {args.dataset}")

    # One core: pin the process, and keep OpenCV to one thread (the sessions already are).
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)

    photos = labelled_frames(args.dataset)
    if args.limit:
        photos = photos[: args.limit]
    out_dir = args.frames_dir or Path(tempfile.gettempdir()) / "etle-bench-12mp"
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = [make_12mp(frame, out_dir) for frame in photos]
    sizes = [f.path.stat().st_size for f in frames]

    settings = IngestSettings()  # the shipped models, or ETLE_MODELS_DIR
    ours = load_recognizer(settings)
    previous = load_recognizer(
        settings.model_copy(
            update={
                "detector_model": BASELINE_DETECTOR,
                "detector_views": "yellow,yellow-inverted",
            }
        )
    )
    baseline = load_baseline(settings)
    systems: dict[str, FrameRecognizer] = {"ours": ours, "previous": previous, "baseline": baseline}
    if args.compare_ocr:
        systems["other_reader"] = load_recognizer(
            settings.model_copy(update={"ocr_model": args.compare_ocr})
        )
    results = run(systems, frames)
    o, p, b = results["ours"], results["previous"], results["baseline"]
    ratios = {
        "ms_per_frame_median": round(b["ms_per_frame_median"] / o["ms_per_frame_median"], 2),
        "cpu_ms_per_frame_median": round(
            b["cpu_ms_per_frame_median"] / o["cpu_ms_per_frame_median"], 2
        ),
        "exact_read_rate": round(o["exact_read_rate"] / b["exact_read_rate"], 2),
        "recall_iou50": round(o["recall_iou50"] / b["recall_iou50"], 2),
        "previous_over_ours_cpu": round(
            p["cpu_ms_per_frame_median"] / o["cpu_ms_per_frame_median"], 2
        ),
    }
    data = {
        "frames": len(frames),
        "frame_size": f"{WIDTH}x{HEIGHT}",
        "jpeg_bytes_median": int(statistics.median(sizes)),
        "model": ours.model_name,
        **results,
        "baseline_over_ours_speed": ratios["ms_per_frame_median"],
        "baseline_over_ours_cpu": ratios["cpu_ms_per_frame_median"],
        "ours_over_baseline_exact": ratios["exact_read_rate"],
        "ours_over_baseline_recall": ratios["recall_iou50"],
        "previous_over_ours_cpu": ratios["previous_over_ours_cpu"],
        "previous_model": previous.model_name,
        "ours_stages": stages(ours, frames),
        "decoding_ms": decoders(frames),
    }
    if args.compare_ocr:
        readers = {"ours": ours, "other_reader": systems["other_reader"]}
        data["other_reader_model"] = systems["other_reader"].model_name
        data["reading_labelled_boxes"] = reading_cost(readers, frames, args.rounds)
    if args.json:
        print(json.dumps(data))
        return
    print(
        f"{len(frames)} frames {WIDTH}x{HEIGHT} (median JPEG {data['jpeg_bytes_median']:,} bytes),"
        f" one core, {ours.model_name}"
    )
    keys = [
        "ms_per_frame_median",
        "cpu_ms_per_frame_median",
        "ms_per_frame_mean",
        "frames_per_second",
        "ms_per_plate",
        "plates_found",
        "recall_iou50",
        "exact_read_rate",
        "accepted",
        "wrong_accepted",
        "accepted_on_unlabelled",
    ]
    columns = [o, p, b]
    header = f"{'':28}{'ours':>10}{'previous':>10}{'baseline':>10}"
    if args.compare_ocr:
        columns.append(results["other_reader"])
        header += f"{'reader':>10}"
        print(f"'reader': ours with {data['other_reader_model']}")
    print(header)
    for key in keys:
        print(f"{key:28}" + "".join(f"{c[key]!s:>10}" for c in columns))
    if args.compare_ocr:
        cost = data["reading_labelled_boxes"]
        for key, what in (("read_cpu_ms_per_plate", "CPU ms"), ("crops_per_plate", "crops")):
            print(
                f"reading the labelled boxes, {what} per plate: ours {cost['ours'][key]}, "
                f"{data['other_reader_model']} {cost['other_reader'][key]}"
            )
    print(f"speed (baseline ms / ours ms, median): {ratios['ms_per_frame_median']}x")
    print(f"CPU time (baseline / ours, median): {ratios['cpu_ms_per_frame_median']}x")
    print(
        f"CPU time (previous default {previous.model_name} / ours, median): "
        f"{ratios['previous_over_ours_cpu']}x"
    )
    print(f"exact reads (ours / baseline): {ratios['exact_read_rate']}x")
    print(f"plate recall (ours / baseline): {ratios['recall_iou50']}x")
    print("ours, median ms by stage:", data["ours_stages"])
    print("decoding one 12 MP frame, median ms:", data["decoding_ms"])


if __name__ == "__main__":
    main()
