"""onnxruntime sessions (and OpenCV) set up for a worker process.

Workers scale by processes, not threads: each session uses one intra-op thread, and OpenCV one
thread, so N worker processes on N cores do not fight over the same cores.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import onnxruntime as ort


def session_options(threads: int = 1) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def onnx_session(model_path: Path, threads: int = 1) -> ort.InferenceSession:
    return ort.InferenceSession(
        str(model_path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
    )


def single_threaded_opencv() -> None:
    cv2.setNumThreads(1)
