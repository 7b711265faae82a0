"""The shipped YOLOv5 plate detector as a trainable PyTorch module, and back to ONNX.

Why not onnx2torch: it needs torchvision, and PyPI's torchvision does not import beside the CPU
build of torch this project pins (`operator torchvision::nms does not exist`). The detector's
graph uses a dozen operator types, so a small interpreter is simpler than a second converter:

* `OnnxBackbone` runs the ONNX graph's nodes up to the three head convolutions with torch ops.
  Every weight is a convolution's weight or bias (batch norm is folded in), held as a
  parameter. Its reshapes (ShuffleNet's channel shuffle) had the batch size and the 640 x 640
  feature sizes frozen in; here they take them from the tensor, so it trains on batches of any
  size and on crops smaller than 640.
* `decode` is YOLOv5's box decoding (the same arithmetic the ONNX graph does after the head).
* `export_onnx` writes the trained weights back into a copy of the original graph: same input
  (`input`, float32 1 x 3 x 640 x 640), same output rows (1 x 25200 x 15), nothing else
  changed, so the service loads it as it loads the original (camera_ingest/recognition/yolov5.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

STRIDES = (8, 16, 32)
ROW = 15  # cx, cy, w, h, objectness, 8 corner values, 2 class scores


@dataclass(frozen=True)
class HeadInfo:
    outputs: tuple[str, str, str]  # names of the three head convolutions' outputs
    anchors: torch.Tensor  # (3 levels, 3 anchors, 2) in input pixels


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def head_info(graph: onnx.GraphProto) -> HeadInfo:
    """The head convolutions (the 45-channel ones: 3 anchors x 15 values) and the anchors, read
    from the anchor-grid constants the graph multiplies the decoded sizes by."""
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    heads = [
        n.output[0]
        for n in graph.node
        if n.op_type == "Conv" and inits.get(n.input[1], np.empty(0)).shape[:1] == (3 * ROW,)
    ]
    if len(heads) != 3:
        raise ValueError(f"expected three YOLOv5 head convolutions, found {len(heads)}")
    grids: list[tuple[int, np.ndarray]] = []
    for node in graph.node:
        if node.op_type != "Mul":
            continue
        for name in node.input:
            value = inits.get(name)
            if (
                value is not None
                and value.ndim == 5
                and value.shape[-1] == 2
                and value[0, 0, 0, 0, 0] > 0
            ):
                key = value.shape[2]
                if all(g[0] != key for g in grids):
                    grids.append((key, value[0, :, 0, 0, :]))
    grids.sort(key=lambda g: -g[0])  # 80 x 80 (stride 8) first
    anchors = torch.tensor(np.stack([g[1] for g in grids]), dtype=torch.float32)
    return HeadInfo((heads[0], heads[1], heads[2]), anchors)


class OnnxBackbone(nn.Module):
    """Runs the ONNX graph up to the head convolutions; returns their raw outputs, one
    (B, 45, H, W) tensor per stride."""

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        graph = model.graph
        self.info = head_info(graph)
        self.input_name = graph.input[0].name
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        producer = {out: n for n in graph.node for out in n.output}
        needed: set[str] = set()
        stack = list(self.info.outputs)
        while stack:
            name = stack.pop()
            node = producer.get(name)
            if node is None or node.name + node.output[0] in needed:
                continue
            needed.add(node.name + node.output[0])
            stack += [i for i in node.input if i]
        self.nodes = [n for n in graph.node if n.name + n.output[0] in needed]
        self.params = nn.ParameterDict()
        self.consts: dict[str, torch.Tensor] = {}
        for node in self.nodes:
            for name in node.input[1:]:
                if name not in inits:
                    continue
                if node.op_type == "Conv":
                    self.params[_key(name)] = nn.Parameter(torch.from_numpy(inits[name].copy()))
                else:
                    self.consts[name] = torch.from_numpy(inits[name].copy())
        self.attrs = [_attrs(n) for n in self.nodes]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        env: dict[str, torch.Tensor] = {self.input_name: x}
        for node, attrs in zip(self.nodes, self.attrs, strict=True):
            env[node.output[0]] = self._run(node, attrs, env)
        return [env[name] for name in self.info.outputs]

    def _value(self, name: str, env: dict[str, torch.Tensor]) -> torch.Tensor:
        if name in env:
            return env[name]
        if _key(name) in self.params:
            param: torch.Tensor = self.params[_key(name)]
            return param
        return self.consts[name]

    def _run(
        self, node: onnx.NodeProto, attrs: dict[str, object], env: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        op = node.op_type
        args = [self._value(i, env) if i else None for i in node.input]
        x = args[0]
        assert x is not None
        if op == "Conv":
            weight = args[1]
            assert weight is not None
            pads = attrs.get("pads", [0, 0, 0, 0])
            assert isinstance(pads, list)
            assert pads[0] == pads[2]
            assert pads[1] == pads[3]
            return F.conv2d(
                x,
                weight,
                args[2] if len(args) > 2 else None,
                stride=tuple(attrs.get("strides", [1, 1])),  # type: ignore[arg-type]
                padding=(pads[0], pads[1]),
                dilation=tuple(attrs.get("dilations", [1, 1])),  # type: ignore[arg-type]
                groups=int(attrs.get("group", 1)),  # type: ignore[call-overload]
            )
        if op == "Sigmoid":
            return torch.sigmoid(x)
        if op == "Relu":
            return F.relu(x)
        if op in ("Mul", "Add", "Sub", "Div"):
            y = args[1]
            assert y is not None
            if op == "Mul":
                return x * y
            if op == "Add":
                return x + y
            return x - y if op == "Sub" else x / y
        if op == "Concat":
            return torch.cat([a for a in args if a is not None], dim=int(attrs["axis"]))  # type: ignore[call-overload]
        if op == "MaxPool":
            return F.max_pool2d(
                x,
                kernel_size=tuple(attrs["kernel_shape"]),  # type: ignore[arg-type]
                stride=tuple(attrs.get("strides", [1, 1])),  # type: ignore[arg-type]
                ceil_mode=bool(attrs.get("ceil_mode", 0)),
                padding=tuple(attrs.get("pads", [0, 0, 0, 0])[:2]),  # type: ignore[index]
            )
        if op == "Resize":
            scales = args[2]
            assert scales is not None
            assert attrs.get("mode", b"nearest") == b"nearest"
            return F.interpolate(x, scale_factor=(float(scales[2]), float(scales[3])))
        if op == "Transpose":
            return x.permute(*attrs["perm"])  # type: ignore[misc]
        if op == "Reshape":
            return x.reshape(_live_shape(x, args[1]))
        if op == "Slice":
            return _slice(x, *[a for a in args[1:]])
        raise NotImplementedError(f"ONNX operator {op} is not supported by the interpreter")


def _key(name: str) -> str:
    return "w" + name.replace(".", "_")


def _live_shape(x: torch.Tensor, shape: torch.Tensor | None) -> list[int]:
    """A frozen reshape target (batch 1, 640 x 640 feature sizes) made to follow the tensor:
    the channel shuffle goes (B, C, H, W) -> (B, g, C/g, H, W) and back."""
    assert shape is not None
    target = [int(v) for v in shape.tolist()]
    target[0] = x.shape[0]
    if len(target) == 5 and x.dim() == 4:
        target[3], target[4] = x.shape[2], x.shape[3]
    elif len(target) == 4 and x.dim() == 5:
        target[2], target[3] = x.shape[3], x.shape[4]
    return target


def _slice(x: torch.Tensor, *args: torch.Tensor | None) -> torch.Tensor:
    starts, ends = args[0], args[1]
    axes = args[2] if len(args) > 2 else None
    steps = args[3] if len(args) > 3 else None
    assert starts is not None
    assert ends is not None
    index: list[slice] = [slice(None)] * x.dim()
    axis_list = axes.tolist() if axes is not None else list(range(len(starts)))
    for n, axis in enumerate(axis_list):
        step = int(steps[n]) if steps is not None else 1
        end = min(int(ends[n]), x.shape[axis])
        index[axis] = slice(int(starts[n]), end, step)
    return x[tuple(index)]


def decode(raw: list[torch.Tensor], anchors: torch.Tensor) -> list[torch.Tensor]:
    """Per stride, (B, 3, H, W, 15) rows as the ONNX graph outputs them: xywh in input pixels,
    objectness and class scores through a sigmoid, corner points relative to the anchor."""
    out = []
    for level, (head, stride) in enumerate(zip(raw, STRIDES, strict=True)):
        b, _, h, w = head.shape
        p = head.view(b, 3, ROW, h, w).permute(0, 1, 3, 4, 2)
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        grid = torch.stack((xs, ys), dim=-1).view(1, 1, h, w, 2).float()
        anchor = anchors[level].view(1, 3, 1, 1, 2)
        xy = (torch.sigmoid(p[..., 0:2]) * 2 - 0.5 + grid) * stride
        wh = (torch.sigmoid(p[..., 2:4]) * 2) ** 2 * anchor
        corners = p[..., 5:13] * anchor.repeat(1, 1, 1, 1, 4) + (grid * stride).repeat(
            1, 1, 1, 1, 4
        )
        rows = torch.cat(
            (xy, wh, torch.sigmoid(p[..., 4:5]), corners, torch.sigmoid(p[..., 13:15])), dim=-1
        )
        out.append(rows)
    return out


def load(path: Path) -> tuple[OnnxBackbone, onnx.ModelProto]:
    model = onnx.load(str(path))
    return OnnxBackbone(model), model


def export_onnx(
    backbone: OnnxBackbone, template: onnx.ModelProto, path: Path, *, size: int = 640
) -> None:
    """The template graph with the trained convolution weights in place of its own, for a
    `size` x `size` input (the template's constants are rewritten for another size)."""
    model = copy.deepcopy(template)
    trained = {k: v.detach().cpu().numpy() for k, v in backbone.params.items()}
    for init in model.graph.initializer:
        key = _key(init.name)
        if key in trained:
            init.CopyFrom(numpy_helper.from_array(trained[key].astype(np.float32), init.name))
    old = int(model.graph.input[0].type.tensor_type.shape.dim[2].dim_value)
    if size != old:
        resize_graph(model, old, size)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def set_metadata(path: Path, values: dict[str, str]) -> None:
    """Add metadata (e.g. the calibrated score threshold) to an ONNX file in place."""
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key not in values]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in values.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.save(model, str(path))


def resize_graph(model: onnx.ModelProto, old: int, new: int) -> None:
    """Rewrite the constants that froze the input size: reshape targets holding feature sizes,
    the decoding grids (cell index, cell index x stride, anchor sizes), the input and output
    shapes. The service reads the input size from the file (`YoloV5BoxModel`)."""
    if new % STRIDES[-1]:
        raise ValueError(f"input size must be a multiple of {STRIDES[-1]}, not {new}")
    sides = {old // s: new // s for s in STRIDES}
    graph = model.graph
    reshape_shapes = {n.input[1] for n in graph.node if n.op_type == "Reshape"}
    for init in graph.initializer:
        value = numpy_helper.to_array(init)
        if init.name in reshape_shapes and value.ndim == 1 and value.size in (4, 5):
            if value[-1] in sides and value[-2] == value[-1]:
                value = value.copy()
                value[-2:] = sides[int(value[-1])]
                init.CopyFrom(numpy_helper.from_array(value, init.name))
        elif value.ndim == 5 and value.shape[:2] == (1, 3) and value.shape[2] in sides:
            init.CopyFrom(numpy_helper.from_array(_regrid(value, sides[value.shape[2]]), init.name))
    graph.input[0].type.tensor_type.shape.dim[2].dim_value = new
    graph.input[0].type.tensor_type.shape.dim[3].dim_value = new
    rows = 3 * sum((new // s) ** 2 for s in STRIDES)
    graph.output[0].type.tensor_type.shape.dim[1].dim_value = rows
    del graph.value_info[:]


def _regrid(value: np.ndarray, side: int) -> np.ndarray:
    """A (1, 3, h, w, k) decoding constant for a side x side feature map."""
    k = value.shape[-1]
    if k != 2 or not value.any():
        return np.zeros((1, 3, side, side, k), value.dtype)
    if np.all(value == value[:, :, :1, :1, :]):  # anchor sizes: the same in every cell
        return np.ascontiguousarray(np.broadcast_to(value[:, :, :1, :1, :], (1, 3, side, side, 2)))
    step = float(value[0, 0, 0, 1, 0])  # 1: cell index; the stride: cell index x stride
    ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    grid = np.stack((xs, ys), -1)[None, None].astype(value.dtype) * step
    return np.ascontiguousarray(np.broadcast_to(grid, (1, 3, side, side, 2)))
