"""YOLOv5's loss for the plate detector, on the head's raw outputs.

The assignment is YOLOv5's: a labelled box is given to every anchor whose shape is within a
factor 4 of it, at its centre cell and the two neighbouring cells nearest the centre, on each
of the three strides. Box loss 1 - CIoU on the decoded box; objectness BCE towards the CIoU of
the box (so a loose box scores lower); class BCE towards *single-row plate* (the shipped model's
class 0; Indonesian plates are one row with the date line under it). Objectness is weighed per
stride as YOLOv5 does (small-object stride most).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from training.detector.model import ROW, STRIDES

ANCHOR_T = 4.0
BALANCE = (4.0, 1.0, 0.4)
OFFSETS = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=torch.float32) * 0.5


@dataclass(frozen=True)
class LossWeights:
    box: float = 0.05
    obj: float = 1.0
    cls: float = 0.0125  # YOLOv5's 0.5 scaled by classes / 80


def yolo_loss(
    raw: list[torch.Tensor],
    targets: torch.Tensor,
    anchors: torch.Tensor,
    weights: LossWeights = LossWeights(),
) -> tuple[torch.Tensor, dict[str, float]]:
    """`targets`: (n, 5) rows (image index, cx, cy, w, h) in input pixels."""
    device = raw[0].device
    lbox = torch.zeros((), device=device)
    lobj = torch.zeros((), device=device)
    lcls = torch.zeros((), device=device)
    batch = raw[0].shape[0]
    for level, (head, stride) in enumerate(zip(raw, STRIDES, strict=True)):
        b, _, h, w = head.shape
        p = head.view(b, 3, ROW, h, w).permute(0, 1, 3, 4, 2)
        tobj = torch.zeros(p.shape[:4], device=device)
        anchor = anchors[level] / stride  # grid units
        if targets.shape[0]:
            image, a, gj, gi, tbox = _assign(targets, anchor, stride, w, h)
            if image.numel():
                ps = p[image, a, gj, gi]
                pxy = torch.sigmoid(ps[:, 0:2]) * 2 - 0.5
                pwh = (torch.sigmoid(ps[:, 2:4]) * 2) ** 2 * anchor[a]
                iou = ciou(torch.cat((pxy, pwh), 1), tbox)
                lbox = lbox + (1.0 - iou).mean()
                tobj[image, a, gj, gi] = iou.detach().clamp(0).to(tobj.dtype)
                tcls = torch.zeros_like(ps[:, 13:15])
                tcls[:, 0] = 1.0
                lcls = lcls + F.binary_cross_entropy_with_logits(ps[:, 13:15], tcls)
        lobj = lobj + F.binary_cross_entropy_with_logits(p[..., 4], tobj) * BALANCE[level]
    total = (weights.box * lbox + weights.obj * lobj + weights.cls * lcls) * batch
    parts = {"box": float(lbox.detach()), "obj": float(lobj.detach()), "cls": float(lcls.detach())}
    return total, parts


def _assign(
    targets: torch.Tensor, anchor: torch.Tensor, stride: int, w: int, h: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    n = targets.shape[0]
    t = targets[:, 1:5] / stride  # cx, cy, w, h in grid units
    # Every (anchor, target) pair whose shapes agree within ANCHOR_T.
    ratio = t[None, :, 2:4] / anchor[:, None]
    ok = torch.max(ratio, 1 / ratio).max(2).values < ANCHOR_T  # (3, n)
    a_idx = torch.arange(3)[:, None].expand(3, n)[ok]
    t_idx = torch.arange(n)[None, :].expand(3, n)[ok]
    tt = t[t_idx]
    # The centre cell and its two neighbours nearest the centre.
    gxy = tt[:, 0:2]
    gxi = torch.tensor([w, h], dtype=torch.float32) - gxy
    j, k = ((gxy % 1 < 0.5) & (gxy > 1)).T
    left, top = ((gxi % 1 < 0.5) & (gxi > 1)).T
    mask = torch.stack((torch.ones_like(j), j, k, left, top))  # (5, m)

    def rep(x: torch.Tensor) -> torch.Tensor:
        return x.repeat((5,) + (1,) * (x.dim() - 1))[mask.reshape(-1)]

    offsets = (torch.zeros_like(gxy)[None] + OFFSETS[:, None])[mask]
    tt, a_idx, t_idx = rep(tt), rep(a_idx), rep(t_idx)
    gij = (tt[:, 0:2] - offsets).long()
    gi = gij[:, 0].clamp(0, w - 1)
    gj = gij[:, 1].clamp(0, h - 1)
    tbox = torch.cat((tt[:, 0:2] - torch.stack((gi, gj), 1), tt[:, 2:4]), 1)
    image = targets[t_idx, 0].long()
    return image, a_idx, gj, gi, tbox


def ciou(box1: torch.Tensor, box2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Complete IoU of (cx, cy, w, h) rows."""
    b1x1, b1x2 = box1[:, 0] - box1[:, 2] / 2, box1[:, 0] + box1[:, 2] / 2
    b1y1, b1y2 = box1[:, 1] - box1[:, 3] / 2, box1[:, 1] + box1[:, 3] / 2
    b2x1, b2x2 = box2[:, 0] - box2[:, 2] / 2, box2[:, 0] + box2[:, 2] / 2
    b2y1, b2y2 = box2[:, 1] - box2[:, 3] / 2, box2[:, 1] + box2[:, 3] / 2
    inter = (torch.min(b1x2, b2x2) - torch.max(b1x1, b2x1)).clamp(0) * (
        torch.min(b1y2, b2y2) - torch.max(b1y1, b2y1)
    ).clamp(0)
    w1, h1 = box1[:, 2], box1[:, 3] + eps
    w2, h2 = box2[:, 2], box2[:, 3] + eps
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.max(b1x2, b2x2) - torch.min(b1x1, b2x1)
    ch = torch.max(b1y2, b2y2) - torch.min(b1y1, b2y1)
    c2 = cw**2 + ch**2 + eps
    rho2 = ((b2x1 + b2x2 - b1x1 - b1x2) ** 2 + (b2y1 + b2y2 - b1y1 - b1y2) ** 2) / 4
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)
