"""Seeded noise for piper voices, so a phrase always sounds the same.

A piper voice (VITS) draws Gaussian noise twice per sentence, in two
``RandomNormalLike`` nodes: for the length of each sound and for the sound itself.
onnxruntime's generator lives in the session and moves on with every draw, so a
phrase's samples depended on which phrases the same worker had said before it, and
a build from an empty cache never repeated the last. Zero noise repeats exactly but
flattens the voice.

Here each such node is replaced, in the model's bytes before the session is made, by
a read from a fixed table of standard normal noise (made from a PCG64 stream, whose
output numpy keeps stable across versions), starting at an offset the caller feeds in
``noise_offset``. :class:`SeededSession` feeds an offset hashed from the sentence's
own inputs (phoneme ids, scales, speaker), so a sentence's audio depends on nothing
else. The noise keeps its distribution, so the voice keeps its life.

The model is edited at the protobuf wire level (ONNX is a protobuf), which needs no
``onnx`` package: only the graph's nodes, initializers and inputs are touched.
"""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

__all__ = ["NOISE_SCHEME", "OFFSET_INPUT", "SeededSession", "seed_noise"]

# Part of the engine's identity in the speech cache: clips made before (with
# onnxruntime's own noise) or with another table are not mixed with these.
NOISE_SCHEME = "seeded-noise-1"
OFFSET_INPUT = "noise_offset"
# 4 MB: more than a 30-second sentence draws (192 values a frame, 86 frames a second);
# a longer one reads the table round again.
_TABLE_SIZE = 1 << 20
_TABLE_SEED = 17
_RANDOM_NORMAL_LIKE = b"RandomNormalLike"

# ONNX protobuf field numbers (onnx/onnx.proto) and types.
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT = 1, 5, 11
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP_TYPE, _NODE_ATTRIBUTE = 1, 2, 3, 4, 5
_ATTRIBUTE_NAME, _ATTRIBUTE_TENSOR, _ATTRIBUTE_TYPE, _TENSOR_ATTRIBUTE = 1, 5, 20, 4
_TENSOR_DIMS, _TENSOR_DATA_TYPE, _TENSOR_NAME, _TENSOR_RAW_DATA = 1, 2, 8, 9
_FLOAT, _INT64 = 1, 7
_WIRE_VARINT, _WIRE_BYTES = 0, 2


def _read_varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


_Field = tuple[int, int, "bytes | memoryview"]


def _fields(message: bytes | memoryview) -> list[_Field]:
    """A message's fields in order: (number, wire type, raw value or bytes); views, not
    copies, of a model's tens of megabytes."""
    view = memoryview(message)
    fields: list[_Field] = []
    at = 0
    while at < len(message):
        key, at = _read_varint(message, at)
        number, wire = key >> 3, key & 7
        start = at
        if wire == _WIRE_VARINT:
            _, at = _read_varint(message, at)
            fields.append((number, wire, bytes(view[start:at])))
            continue
        if wire == _WIRE_BYTES:
            size, at = _read_varint(message, at)
            start, at = at, at + size
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        fields.append((number, wire, view[start:at]))
    return fields


def _field(number: int, value: bytes | int | str) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3 | _WIRE_VARINT) + _varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | _WIRE_BYTES) + _varint(len(raw)) + raw


def _message(fields: list[_Field]) -> bytes:
    parts: list[bytes | memoryview] = []
    for number, wire, value in fields:
        parts.append(_varint(number << 3 | wire))
        if wire == _WIRE_BYTES:
            parts.append(_varint(len(value)))
        parts.append(value)
    return b"".join(parts)


def _tensor(name: str, data_type: int, dims: list[int], raw: bytes) -> bytes:
    dims_fields = b"".join(_field(_TENSOR_DIMS, dim) for dim in dims)
    return (
        dims_fields
        + _field(_TENSOR_DATA_TYPE, data_type)
        + _field(_TENSOR_NAME, name)
        + _field(_TENSOR_RAW_DATA, raw)
    )


def _int64(name: str, value: int, dims: list[int] | None = None) -> bytes:
    return _tensor(name, _INT64, dims or [], struct.pack("<q", value))


def _node(op_type: str, inputs: list[str], output: str, attributes: bytes = b"") -> bytes:
    return (
        b"".join(_field(_NODE_INPUT, name) for name in inputs)
        + _field(_NODE_OUTPUT, output)
        + _field(_NODE_NAME, output)
        + _field(_NODE_OP_TYPE, op_type)
        + attributes
    )


def _noise_table() -> bytes:
    """Standard normal float32 noise, the same on every run (Box-Muller on PCG64)."""
    import numpy as np

    generator = np.random.Generator(np.random.PCG64(_TABLE_SEED))
    uniform = generator.random((2, _TABLE_SIZE // 2))
    radius = np.sqrt(-2.0 * np.log1p(-uniform[0]))  # 1 - u is in (0, 1]: no log(0)
    angle = 2.0 * math.pi * uniform[1]
    noise = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])
    return noise.astype("<f4").tobytes()


def _noise_nodes(index: int, like: str, output: str) -> list[bytes]:
    """Nodes giving ``output`` the shape of ``like``, read from the table at the fed offset
    (each replaced node starts half a table further on, so the two draws never match)."""
    prefix = f"/seeded_noise_{index}"
    one = (
        _field(_ATTRIBUTE_NAME, "value")
        + _field(_ATTRIBUTE_TENSOR, _int64("one", 1, [1]))
        + _field(_ATTRIBUTE_TYPE, _TENSOR_ATTRIBUTE)
    )
    return [
        _node("Shape", [like], f"{prefix}/shape"),
        _node(
            "ConstantOfShape", [f"{prefix}/shape"], f"{prefix}/ones", _field(_NODE_ATTRIBUTE, one)
        ),
        _node("Reshape", [f"{prefix}/ones", "/seeded_noise/flat"], f"{prefix}/flat_ones"),
        _node("CumSum", [f"{prefix}/flat_ones", "/seeded_noise/axis"], f"{prefix}/count"),
        _node("Add", [f"{prefix}/count", OFFSET_INPUT], f"{prefix}/moved"),
        _node("Add", [f"{prefix}/moved", f"{prefix}/start"], f"{prefix}/position"),
        _node("Mod", [f"{prefix}/position", "/seeded_noise/size"], f"{prefix}/index"),
        _node("Gather", ["/seeded_noise/table", f"{prefix}/index"], f"{prefix}/values"),
        _node("Reshape", [f"{prefix}/values", f"{prefix}/shape"], output),
    ]


def seed_noise(model: bytes) -> bytes:
    """The piper voice ``model`` (ONNX bytes) with its random draws read from the noise
    table at the offset fed as ``noise_offset``.

    A model that draws no noise comes back unchanged.

    Raises:
        ValueError: the model is not an ONNX model.
    """
    try:
        top = _fields(model)
    except IndexError:  # a length or varint running past the end
        raise ValueError("not an ONNX model") from None
    [graph_at] = [at for at, (number, _, _) in enumerate(top) if number == _MODEL_GRAPH]
    graph: list[_Field] = []
    starts: list[bytes] = []
    for number, wire, value in _fields(top[graph_at][2]):
        node = _fields(value) if number == _GRAPH_NODE else []
        if not any(n == _NODE_OP_TYPE and v == _RANDOM_NORMAL_LIKE for n, _, v in node):
            graph.append((number, wire, value))
            continue
        [like] = [bytes(v).decode() for n, _, v in node if n == _NODE_INPUT]
        [output] = [bytes(v).decode() for n, _, v in node if n == _NODE_OUTPUT]
        index = len(starts)
        starts.append(_int64(f"/seeded_noise_{index}/start", index * _TABLE_SIZE // 2))
        graph += [(_GRAPH_NODE, _WIRE_BYTES, part) for part in _noise_nodes(index, like, output)]
    if not starts:  # a voice without noise repeats itself already
        return model
    constants = [
        _tensor("/seeded_noise/table", _FLOAT, [_TABLE_SIZE], _noise_table()),
        _int64("/seeded_noise/size", _TABLE_SIZE),
        _int64("/seeded_noise/flat", -1, [1]),
        _int64("/seeded_noise/axis", 0),
        *starts,
    ]
    scalar_int64 = _field(1, _field(1, _INT64) + _field(2, b""))  # TypeProto.tensor_type
    graph += [(_GRAPH_INITIALIZER, _WIRE_BYTES, constant) for constant in constants]
    graph.append((_GRAPH_INPUT, _WIRE_BYTES, _field(1, OFFSET_INPUT) + _field(2, scalar_int64)))
    top[graph_at] = (_MODEL_GRAPH, _WIRE_BYTES, _message(graph))
    return _message(top)


class SeededSession:
    """An onnxruntime session of a :func:`seed_noise` model that feeds each run the noise
    offset hashed from that run's other inputs: the same sentence, the same noise."""

    def __init__(self, session: Any) -> None:  # noqa: ANN401 - onnxruntime has no stubs
        self.session = session
        self.seeded = OFFSET_INPUT in {given.name for given in session.get_inputs()}

    def run(self, output_names: Any, feeds: dict[str, Any]) -> Any:  # noqa: ANN401
        import numpy as np

        if not self.seeded:
            return self.session.run(output_names, feeds)
        digest = hashlib.sha256()
        for name in sorted(feeds):
            value = np.ascontiguousarray(feeds[name])
            digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
            digest.update(value.tobytes())
        offset = int.from_bytes(digest.digest()[:8], "little") % _TABLE_SIZE
        return self.session.run(
            output_names, {**feeds, OFFSET_INPUT: np.array(offset, dtype=np.int64)}
        )
