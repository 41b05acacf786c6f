"""The safetensors format in numpy alone, as mt writes it (src/checkpoint/safetensors.ts).

An 8-byte little-endian header length N, N bytes of JSON header (name -> dtype, shape,
data_offsets [begin, end) into the data section; an optional "__metadata__" of strings), then
the raw little-endian tensor bytes. mt writes F32 (and reads I32), tensors in name order, the
header padded with spaces so the data starts 8-byte aligned; `write` does the same, so a file
read and written back is byte-identical.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"),
          "F16": np.dtype("<f2"), "U8": np.dtype("u1")}
NAMES = {v: k for k, v in DTYPES.items()}


class SafetensorsError(ValueError):
    pass


def decode(raw: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse a safetensors buffer -> ({name: array}, metadata). The arrays are copies."""
    if len(raw) < 8:
        raise SafetensorsError("too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise SafetensorsError(f"header length {n} exceeds the file size")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError("header is not valid JSON") from e
    base = 8 + n
    size = len(raw) - base
    tensors: dict[str, np.ndarray] = {}
    metadata: dict[str, str] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            metadata = dict(entry)
            continue
        dtype = DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"tensor {name}: unsupported dtype {entry.get('dtype')}")
        shape = [int(d) for d in entry["shape"]]
        begin, end = entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64))
        if begin < 0 or end > size or end - begin != count * dtype.itemsize:
            raise SafetensorsError(f"tensor {name}: data offsets [{begin}, {end}) do not fit shape {shape} in {size} data bytes")
        tensors[name] = np.frombuffer(raw, dtype=dtype, count=count, offset=base + begin).reshape(shape).copy()
    return tensors, metadata


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        return decode(f.read())


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """Serialize as mt does: names sorted, header padded with spaces to a multiple of 8."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    names = sorted(tensors)
    blobs = []
    offset = 0
    for name in names:
        a = np.asarray(tensors[name])
        dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        key = NAMES.get(np.dtype(dtype).newbyteorder("<"))
        if key is None:
            raise SafetensorsError(f"tensor {name}: cannot store dtype {a.dtype}")
        data = np.ascontiguousarray(a, dtype=DTYPES[key]).tobytes()
        header[name] = {"dtype": key, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write(path: str | os.PathLike, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    data = encode(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)
    return data
