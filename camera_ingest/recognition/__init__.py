"""Plate recognition: find plates in a frame (detector), read them with doubt (reader + decoder).

    frame ──decode once, reduced (framing)──▶ detector over views/tiles (detector, views,
    yolov5 | hub_detector) or the camera's boxes ──▶ crops from the working image ──▶ reader
    (per-slot probabilities, one batch per frame) ──▶ decoder (most probable readings that fit
    the plate grammar, crops mixed) ──▶ decision (policy)

Each stage sits behind a small interface so a better model replaces it by configuration.
docs/recognition.md has the measurements behind every choice.
"""
