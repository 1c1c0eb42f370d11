"""The reference side of the ruvltra-safetensors cross-check (run by tests/safetensors_py.rs).

`save DIR` writes files with safetensors.numpy.save_file and prints, for each, the header JSON
exactly as stored in the file plus what safe_open reports. `dump FILE...` prints what the
reference reader makes of each file: its tensors, dtypes, shapes and metadata (and whether the
data loads with load_file and is all zero, or why NumPy cannot load it), or the header's error.
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def raw_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return n, json.loads(f.read(n).decode("utf-8"))


def describe(path, load):
    with safe_open(str(path), framework="numpy") as f:
        tensors = {}
        for name in f.keys():
            s = f.get_slice(name)
            tensors[name] = {"dtype": s.get_dtype(), "shape": list(s.get_shape())}
        out = {"tensors": tensors, "metadata": f.metadata()}
    if load:
        # NumPy has no bfloat16, FP8, F4/F6 or complex-of-f32 layout the reference maps to, so
        # loading such files fails while their header is fine: report that separately.
        try:
            arrays = load_file(str(path))
        except Exception as e:
            out["load_error"] = f"{type(e).__name__}: {e}"
            return out
        out["loaded"] = {
            name: {
                "numpy_dtype": str(a.dtype),
                "shape": list(a.shape),
                "all_zero": bool(not np.any(a)),
            }
            for name, a in arrays.items()
        }
    return out


def save(out_dir):
    out_dir = Path(out_dir)
    rng = np.random.default_rng(7)
    files = {
        "all_dtypes.safetensors": (
            {
                "bool": rng.integers(0, 2, (3, 5)).astype(np.bool_),
                "u8": rng.integers(0, 255, (7,)).astype(np.uint8),
                "i8": rng.integers(-100, 100, (2, 2, 2)).astype(np.int8),
                "i16": np.arange(6, dtype=np.int16).reshape(3, 2),
                "u16": np.arange(5, dtype=np.uint16),
                "f16": rng.standard_normal((4, 3)).astype(np.float16),
                "i32": np.arange(9, dtype=np.int32).reshape(3, 3),
                "u32": np.arange(1, dtype=np.uint32),
                "f32": rng.standard_normal((2, 3, 4)).astype(np.float32),
                "f64": np.array(3.25),
                "i64": np.arange(4, dtype=np.int64),
                "u64": np.arange(2, dtype=np.uint64),
                "empty_f32": np.zeros((0, 3), dtype=np.float32),
                "name with spaces and \u00fcn\u00efc\u00f8de": np.ones((2,), dtype=np.float32),
            },
            {"format": "np", "note": "written by safetensors.numpy \u2713"},
        ),
        "lora.safetensors": (
            {
                f"base_model.model.model.layers.{i}.self_attn.{m}.lora_{ab}.weight": np.zeros(
                    shape, dtype=np.float32
                )
                for i in range(2)
                for m, out in [("q_proj", 896), ("v_proj", 128)]
                for ab, shape in [("A", (8, 896)), ("B", (out, 8))]
            },
            {"format": "pt"},
        ),
        "empty.safetensors": ({}, None),
    }
    report = {}
    for name, (tensors, metadata) in files.items():
        path = out_dir / name
        save_file(tensors, str(path), metadata=metadata)
        n, header = raw_header(path)
        report[name] = {
            "header_len": n,
            "file_len": path.stat().st_size,
            "header": header,
            "reference": describe(path, load=False),
        }
    print(json.dumps(report, sort_keys=True))


def dump(paths):
    report = {}
    for p in paths:
        try:
            report[p] = {"ok": describe(p, load=True)}
        except Exception as e:  # The reference's own error, whatever its type.
            report[p] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "save":
        save(args[0])
    elif command == "dump":
        dump(args)
    else:
        sys.exit(f"unknown command {command}")
