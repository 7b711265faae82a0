"""Render the synthetic roadside frames in this folder.

Each frame is a simple road scene seen from a pole-mounted camera behind the traffic, with one
vehicle whose Indonesian plate is drawn in plate proportions: a 395 x 135 mm car plate with the
registration on the first row and the validity month.year on the second, white text on black
(older plates) or black text on white (issued since 2022). Nothing here is read back by the
project: the recognition pipeline has to find and read these plates with the real models.

    python sample_frames/generate.py        # rewrites the *.jpg and frames.json beside it

Needs DejaVu Sans Condensed Bold (Debian: fonts-dejavu-core), close to the plate typeface.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).parent
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf")
WIDTH, HEIGHT = 1920, 1080


@dataclass(frozen=True)
class Shot:
    file: str
    plate: str  # as printed, with spaces
    style: str  # "black" (white on black) or "white" (black on white)
    camera: str
    captured_at: str
    violation: str
    body: tuple[int, int, int]  # BGR colour of the vehicle
    validity: str = "08.29"
    speed_kmh: float | None = None  # speeding: what the camera's radar measured
    x: int = 960  # centre of the vehicle
    plate_width: int = 330


SHOTS = [
    Shot(
        "frame01.jpg",
        "B 1234 ABC",
        "white",
        "CAM-JKT-001",
        "2026-11-20T07:15:04+07:00",
        "red_light",
        (40, 40, 170),
    ),
    Shot(
        "frame02.jpg",
        "D 1567 XY",
        "black",
        "CAM-JKT-001",
        "2026-11-20T07:16:41+07:00",
        "red_light",
        (180, 180, 180),
        x=820,
    ),
    Shot(
        "frame03.jpg",
        "AB 1023 KE",
        "white",
        "CAM-JKT-002",
        "2026-11-20T08:02:10+07:00",
        "speeding",
        (30, 30, 30),
        x=1100,
        speed_kmh=87.0,
    ),
    Shot(
        "frame04.jpg",
        "DK 1744 FG",
        "black",
        "CAM-JKT-002",
        "2026-11-20T08:05:55+07:00",
        "speeding",
        (150, 90, 30),
        speed_kmh=94.0,
    ),
    Shot(
        "frame05.jpg",
        "H 1290 PQ",
        "white",
        "CAM-JKT-001",
        "2026-11-20T09:30:00+07:00",
        "red_light",
        (220, 220, 225),
        x=1000,
    ),
    Shot(
        "frame06.jpg",
        "BK 1827 AM",
        "black",
        "CAM-JKT-002",
        "2026-11-20T10:12:31+07:00",
        "speeding",
        (60, 120, 60),
        x=900,
        speed_kmh=78.0,
    ),
    Shot(
        "frame07.jpg",
        "B 9120 UXT",
        "white",
        "CAM-JKT-001",
        "2026-11-20T11:47:19+07:00",
        "red_light",
        (20, 140, 200),
        plate_width=350,
    ),
    # Not in the sample registry: becomes a case flagged "plate not registered".
    Shot(
        "frame08.jpg",
        "KT 1456 NA",
        "black",
        "CAM-JKT-002",
        "2026-11-20T12:03:44+07:00",
        "speeding",
        (90, 90, 100),
        x=1040,
        speed_kmh=101.0,
    ),
]


def render_plate(text: str, validity: str, style: str, width: int) -> np.ndarray:
    """A plate image (BGR) `width` pixels wide, in 395:135 proportions."""
    height = round(width * 135 / 395)
    scale = 4  # draw large, then shrink: smooth edges like a real photograph
    w, h = width * scale, height * scale
    background, ink = (
        ((20, 20, 20), (235, 235, 235)) if style == "black" else ((238, 238, 232), (15, 15, 15))
    )
    plate = Image.new("RGB", (w, h), background)
    draw = ImageDraw.Draw(plate)
    border = max(2, h // 28)
    draw.rounded_rectangle(
        [border, border, w - border, h - border], radius=h // 12, outline=ink, width=border
    )
    size = int(h * 0.56)
    main = ImageFont.truetype(str(FONT), size=size)
    while draw.textlength(text, font=main) > w * 0.86:  # long plates get a smaller type
        size -= 4
        main = ImageFont.truetype(str(FONT), size=size)
    small = ImageFont.truetype(str(FONT), size=int(h * 0.19))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=main)
    draw.text(
        ((w - (right - left)) / 2 - left, h * 0.36 - (top + bottom) / 2), text, font=main, fill=ink
    )
    small_box = draw.textbbox((0, 0), validity, font=small)
    draw.text(((w - (small_box[2] - small_box[0])) / 2, h * 0.7), validity, font=small, fill=ink)
    rgb = np.asarray(plate.resize((width, height), Image.LANCZOS))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def road_scene(rng: np.random.Generator) -> np.ndarray:
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    horizon = 330
    for y in range(horizon):  # sky
        frame[y] = (200 - y // 6, 170 - y // 8, 140 - y // 10)
    frame[horizon:] = (88, 90, 92)  # asphalt
    noise = rng.normal(0, 6, (HEIGHT - horizon, WIDTH, 1))
    frame[horizon:] = np.clip(frame[horizon:] + noise, 0, 255).astype(np.uint8)
    vanish = (WIDTH // 2, horizon)
    for lane_x in (-900, 0, 900, 2820):  # lane markings converging on the horizon
        cv2.line(frame, vanish, (lane_x if lane_x != 0 else WIDTH // 2, HEIGHT), (220, 220, 220), 6)
    cv2.rectangle(frame, (0, horizon - 60), (WIDTH, horizon), (70, 100, 80), -1)  # trees
    cv2.line(frame, (0, 980), (WIDTH, 980), (235, 235, 235), 14)  # stop line
    return frame


def draw_vehicle(frame: np.ndarray, shot: Shot) -> tuple[int, int, int, int]:
    """Draw a car seen from behind; returns the plate box (x1, y1, x2, y2)."""
    body_w, body_h = int(shot.plate_width * 2.9), int(shot.plate_width * 1.75)
    x1, y2 = shot.x - body_w // 2, 900
    y1 = y2 - body_h
    shadow = frame.copy()
    cv2.ellipse(shadow, (shot.x, y2 + 10), (body_w // 2 + 30, 40), 0, 0, 360, (40, 40, 40), -1)
    frame[:] = cv2.addWeighted(shadow, 0.6, frame, 0.4, 0)
    cv2.rectangle(frame, (x1 + 40, y2 - 10), (x1 + 150, y2 + 25), (20, 20, 20), -1)  # tyres
    cv2.rectangle(
        frame, (x1 + body_w - 150, y2 - 10), (x1 + body_w - 40, y2 + 25), (20, 20, 20), -1
    )
    roof = np.array(
        [
            [x1 + 90, y1 + body_h // 2],
            [x1 + 190, y1],
            [x1 + body_w - 190, y1],
            [x1 + body_w - 90, y1 + body_h // 2],
        ]
    )
    cv2.fillPoly(frame, [roof], shot.body)
    window = np.array(
        [
            [x1 + 140, y1 + body_h // 2 - 15],
            [x1 + 215, y1 + 25],
            [x1 + body_w - 215, y1 + 25],
            [x1 + body_w - 140, y1 + body_h // 2 - 15],
        ]
    )
    cv2.fillPoly(frame, [window], (60, 50, 45))
    cv2.rectangle(frame, (x1, y1 + body_h // 2), (x1 + body_w, y2), shot.body, -1)
    darker = tuple(int(c * 0.7) for c in shot.body)
    cv2.rectangle(frame, (x1, y2 - 70), (x1 + body_w, y2), darker, -1)  # bumper
    for lx in (x1 + 20, x1 + body_w - 170):  # tail lights
        cv2.rectangle(
            frame, (lx, y1 + body_h // 2 + 25), (lx + 150, y1 + body_h // 2 + 75), (30, 30, 200), -1
        )
    plate = render_plate(shot.plate, shot.validity, shot.style, shot.plate_width)
    ph, pw = plate.shape[:2]
    px1, py1 = shot.x - pw // 2, y2 - 70 - ph - 25
    frame[py1 : py1 + ph, px1 : px1 + pw] = plate
    return px1, py1, px1 + pw, py1 + ph


def main() -> None:
    if not FONT.exists():
        raise SystemExit(f"font not found: {FONT} (Debian: apt install fonts-dejavu-core)")
    rng = np.random.default_rng(2026)
    index = []
    for shot in SHOTS:
        frame = road_scene(rng)
        box = draw_vehicle(frame, shot)
        frame = cv2.GaussianBlur(frame, (3, 3), 0.8)
        grain = rng.normal(0, 3, frame.shape)
        frame = np.clip(frame + grain, 0, 255).astype(np.uint8)
        cv2.imwrite(str(HERE / shot.file), frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        index.append(
            {
                "file": shot.file,
                "camera": shot.camera,
                "captured_at": shot.captured_at,
                "violation": shot.violation,
                **({"measured_speed_kmh": shot.speed_kmh} if shot.speed_kmh else {}),
                "plate": shot.plate.replace(" ", ""),
                "plate_box": list(box),
            }
        )
    (HERE / "frames.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
