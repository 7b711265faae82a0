"""The shipped plate reader (fast-plate-ocr `cct_xs_v1_global`) as a trainable PyTorch module,
and back to ONNX.

Why not onnx2torch: it needs torchvision, and PyPI's torchvision does not import beside the CPU
build of torch this project pins (training/detector/model.py met the same wall). The reader's
graph (a Keras CCT exported by tf2onnx: a convolutional stem, four transformer blocks with
DyT normalisation, a token reducer, one dense projection per slot) uses about twenty operator
types, so a small interpreter that runs its nodes with torch operators is simpler:

* `OnnxReader` runs every node of the graph except the final softmax and returns its input,
  the (N, 9, 37) logits, so the loss is a log-softmax cross-entropy. Every float initializer
  with more than one value (convolution and dense weights, biases, DyT scales, the position
  embedding, the reducer's queries) is a parameter; scalars (the 1/255 rescale, GELU's
  constants, attention scales, DyT alphas) stay constants.
* `export_onnx` writes the trained values back into a copy of the original graph: same input
  (`input`, uint8 N x 64 x 128 x 3, RGB), same output (`Identity:0`, N x 9 x 37 probabilities),
  same operators, so the service loads it with fast-plate-ocr as it loads the original and a
  crop costs what it cost (docs/models.md).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

# ONNX TensorProto element types that Cast targets in this graph.
_CAST = {1: torch.float32, 6: torch.int32, 7: torch.int64}


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxReader(nn.Module):
    """(N, 64, 128, 3) uint8 or float RGB crops -> (N, slots, alphabet) logits."""

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        graph = model.graph
        self.input_name = graph.input[0].name
        self.output_name = graph.output[0].name
        last = next(n for n in graph.node if self.output_name in n.output)
        if last.op_type != "Softmax":
            raise ValueError(f"expected the graph to end in a Softmax, not {last.op_type}")
        self.logits_name = last.input[0]
        self.nodes = [n for n in graph.node if n is not last]
        self.attrs = [_attrs(n) for n in self.nodes]
        self.params = nn.ParameterDict()
        self.keys: dict[str, str] = {}  # initializer name -> parameter key
        self.consts: dict[str, torch.Tensor] = {}
        for n, init in enumerate(graph.initializer):
            value = numpy_helper.to_array(init)
            if value.dtype == np.float32 and value.size > 1:
                key = f"p{n}"  # initializer names hold characters a ParameterDict refuses
                self.keys[init.name] = key
                self.params[key] = nn.Parameter(torch.from_numpy(value.copy()))
            else:
                self.consts[init.name] = torch.from_numpy(np.array(value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env: dict[str, torch.Tensor] = {self.input_name: x}
        for node, attrs in zip(self.nodes, self.attrs, strict=True):
            env[node.output[0]] = self._run(node, attrs, env)
        return env[self.logits_name]

    def trained(self) -> dict[str, np.ndarray]:
        """Initializer name -> its trained value."""
        return {
            name: self.params[key].detach().cpu().numpy().astype(np.float32)
            for name, key in self.keys.items()
        }

    def _value(self, name: str, env: dict[str, torch.Tensor]) -> torch.Tensor:
        if name in env:
            return env[name]
        key = self.keys.get(name)
        if key is not None:
            param: torch.Tensor = self.params[key]
            return param
        return self.consts[name]

    def _run(
        self, node: onnx.NodeProto, attrs: dict[str, object], env: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        op = node.op_type
        args = [self._value(i, env) for i in node.input if i]
        x = args[0]
        if op == "Cast":
            return x.to(_CAST[int(attrs["to"])])  # type: ignore[call-overload]
        if op in ("Mul", "Add"):
            return x * args[1] if op == "Mul" else x + args[1]
        if op == "Transpose":
            return x.permute(*attrs["perm"])  # type: ignore[misc]
        if op == "Conv":
            return _conv(x, args, attrs)
        if op == "MaxPool":
            pads = _ints(attrs.get("pads", [0, 0, 0, 0]))
            x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=float("-inf"))
            return F.max_pool2d(
                x, kernel_size=_ints(attrs["kernel_shape"]), stride=_ints(attrs["strides"])
            )
        if op == "Relu":
            return F.relu(x)
        if op == "Erf":
            return torch.erf(x)
        if op == "Tanh":
            return torch.tanh(x)
        if op == "MatMul":
            return torch.matmul(x, args[1])
        if op == "Gemm":
            return _gemm(x, args, attrs)
        if op == "Softmax":
            return torch.softmax(x, dim=int(attrs.get("axis", -1)))  # type: ignore[call-overload]
        if op == "Reshape":
            shape = [int(v) for v in args[1].tolist()]
            return x.reshape([x.shape[i] if v == 0 else v for i, v in enumerate(shape)])
        if op == "Shape":
            return torch.tensor(list(x.shape), dtype=torch.int64)
        if op == "Slice":
            starts, ends, axes = (int(a[0]) for a in args[1:4])
            index = [slice(None)] * x.dim()
            index[axes] = slice(starts, ends)
            return x[tuple(index)]
        if op == "Concat":
            return torch.cat(args, dim=int(attrs["axis"]))  # type: ignore[call-overload]
        if op == "Expand":
            return x.expand(*[int(v) for v in args[1].tolist()])
        if op == "Tile":
            return x.repeat(*[int(v) for v in args[1].tolist()])
        if op == "Unsqueeze":
            for axis in sorted(int(a) for a in args[1].tolist()):
                x = x.unsqueeze(axis)
            return x
        if op == "Squeeze":
            for axis in sorted((int(a) for a in args[1].tolist()), reverse=True):
                x = x.squeeze(axis)
            return x
        if op == "Gather":
            return x[args[1].long()]
        if op == "ReduceProd":
            return torch.prod(x).reshape(1) if attrs.get("keepdims", 1) else torch.prod(x)
        raise NotImplementedError(f"ONNX operator {op} is not supported by the interpreter")


def _ints(value: object) -> list[int]:
    assert isinstance(value, list)
    return [int(v) for v in value]


def _conv(x: torch.Tensor, args: list[torch.Tensor], attrs: dict[str, object]) -> torch.Tensor:
    pads = _ints(attrs.get("pads", [0, 0, 0, 0]))  # top, left, bottom, right
    if pads[0] != pads[2] or pads[1] != pads[3]:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        padding: tuple[int, int] = (0, 0)
    else:
        padding = (pads[0], pads[1])
    return F.conv2d(
        x,
        args[1],
        args[2] if len(args) > 2 else None,
        stride=tuple(_ints(attrs.get("strides", [1, 1]))),
        padding=padding,
        dilation=tuple(_ints(attrs.get("dilations", [1, 1]))),
        groups=int(attrs.get("group", 1)),  # type: ignore[call-overload]
    )


def _gemm(x: torch.Tensor, args: list[torch.Tensor], attrs: dict[str, object]) -> torch.Tensor:
    a = x.t() if attrs.get("transA", 0) else x
    b = args[1].t() if attrs.get("transB", 0) else args[1]
    out: torch.Tensor = torch.matmul(a, b) * float(attrs.get("alpha", 1.0))  # type: ignore[arg-type]
    beta = float(attrs.get("beta", 1.0))  # type: ignore[arg-type]
    if len(args) > 2 and beta:
        out = out + beta * args[2]
    return out


def load(path: Path) -> tuple[OnnxReader, onnx.ModelProto]:
    model = onnx.load(str(path))
    return OnnxReader(model), model


def export_onnx(reader: OnnxReader, template: onnx.ModelProto, path: Path) -> None:
    """The template graph with the trained values in place of its own; nothing else changes."""
    model = copy.deepcopy(template)
    trained = reader.trained()
    for init in model.graph.initializer:
        if init.name in trained:
            init.CopyFrom(numpy_helper.from_array(trained[init.name], init.name))
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
