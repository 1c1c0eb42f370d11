"""Cross-check fixtures for ruvltra-gguf, made and read by llama.cpp's reference gguf-py.

Usage:
    make_fixtures.py make OUT_DIR    write the fixtures with gguf.GGUFWriter
    make_fixtures.py dump FILE...    print what gguf.GGUFReader reads from each file as JSON
    make_fixtures.py tables          print gguf-py's ggml type sizes and llama_ftype names as JSON

The dump walks the parts GGUFReader parsed (its own `contents()` flattens nested arrays), so
every value keeps its type: {"type": NAME, "value": V}; floats are given as their IEEE bits so
the comparison is exact; arrays carry "elem" and typed items.
"""

import json
import sys
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as VT


class TolerantReader(gguf.GGUFReader):
    """GGUFReader that survives unknown tensor types.

    gguf-py parses every tensor info itself, then fails in `_build_tensors` when it maps an
    unknown type id to its enum. The raw tensor-info fields it parsed are kept here so the dump
    still reports gguf-py's own reading of names, shapes, type ids and offsets.
    """

    def _build_tensors(self, start_offs, fields):
        self.raw_tensor_fields = fields
        self.tensor_build_error = None
        try:
            super()._build_tensors(start_offs, fields)
        except ValueError as err:
            # Build the tensors of known types alone so their sizes still come from gguf-py.
            self.tensor_build_error = str(err)
            known_ids = {int(t) for t in gguf.GGMLQuantizationType}
            known = [f for f in fields if int(f.parts[4][0]) in known_ids]
            super()._build_tensors(start_offs, known)


SCALAR_BITS = {VT.FLOAT32: np.uint32, VT.FLOAT64: np.uint64}


def decode(parts, i, vtype):
    """Decodes the value whose parts start at index i; returns (typed JSON value, next index)."""
    vtype = VT(int(vtype))
    if vtype == VT.STRING:
        return {"type": "STRING", "value": bytes(parts[i + 1]).decode("utf-8")}, i + 2
    if vtype == VT.ARRAY:
        elem = VT(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(count):
            item, i = decode(parts, i, elem)
            items.append(item)
        return {"type": "ARRAY", "elem": elem.name, "value": items}, i
    part = parts[i]
    if vtype in SCALAR_BITS:
        value = int(part.view(SCALAR_BITS[vtype])[0])
    elif vtype == VT.BOOL:
        value = bool(part[0])
    else:
        value = int(part[0])
    return {"type": vtype.name, "value": value}, i + 1


def dump(path):
    try:
        reader = TolerantReader(path)
    except Exception as err:  # noqa: BLE001 - the error itself is the result
        return {"error": f"{type(err).__name__}: {err}"}
    kvs = []
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        value, end = decode(field.parts, 3, field.parts[2][0])
        assert end == len(field.parts), f"{name}: {end} of {len(field.parts)} parts used"
        kvs.append([name, value])
    known = {t.name: t for t in reader.tensors}
    tensors = []
    for field in reader.raw_tensor_fields:
        _name_len, name_data, _n_dims, dims, raw_dtype, offset = field.parts
        name = bytes(name_data).decode("utf-8")
        entry = {
            "name": name,
            "dims": [int(d) for d in dims],
            "type_id": int(raw_dtype[0]),
            "offset": int(offset[0]),
        }
        if name in known:
            entry["n_bytes"] = int(known[name].n_bytes)
            entry["data_offset"] = int(known[name].data_offset)
        tensors.append(entry)
    return {
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "tensor_count": int(reader.fields["GGUF.tensor_count"].parts[0][0]),
        "kv_count": int(reader.fields["GGUF.kv_count"].parts[0][0]),
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "kvs": kvs,
        "tensors": tensors,
        "tensor_build_error": reader.tensor_build_error,
    }


def quant(rows, ggml_type, elements_per_row):
    """Zero bytes shaped (rows, bytes per row) for a quantised type; gguf-py derives the shape."""
    block, size = gguf.GGML_QUANT_SIZES[ggml_type]
    assert elements_per_row % block == 0
    return np.zeros((rows, elements_per_row // block * size), dtype=np.uint8)


def model(path, file_type, main, second=None, arch="qwen2", extra=None, **writer_args):
    """A small qwen2-like file: metadata of every kind and a few tensors of the given types."""
    w = gguf.GGUFWriter(str(path), arch, **writer_args)
    w.add_name("RuvLTRA Fixture")
    w.add_type("model")
    w.add_size_label("1M")
    w.add_license("apache-2.0")
    if file_type is not None:
        w.add_file_type(file_type)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(32768)
    w.add_embedding_length(256)
    w.add_block_count(1)
    w.add_head_count(4)
    w.add_rope_freq_base(1000000.0)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["a", "b", "<|im_end|>"])
    w.add_token_types([1, 1, 3])
    w.add_eos_token_id(2)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}{% endfor %}")
    if extra:
        extra(w)
    second = second or main
    w.add_tensor("token_embd.weight", tensor(main, 8, 256), raw_dtype=raw(main))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(256, dtype=np.float32))
    w.add_tensor("blk.0.attn_q.weight", tensor(main, 256, 256), raw_dtype=raw(main))
    w.add_tensor("blk.0.attn_v.weight", tensor(second, 64, 256), raw_dtype=raw(second))
    w.add_tensor("blk.0.ffn_down.weight", tensor(main, 256, 512), raw_dtype=raw(main))
    w.add_tensor("output.weight", tensor(second, 8, 256), raw_dtype=raw(second))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tensor(ggml_type, rows, cols):
    if ggml_type == Q.F16:
        return np.zeros((rows, cols), dtype=np.float16)
    if ggml_type == Q.F32:
        return np.zeros((rows, cols), dtype=np.float32)
    return quant(rows, ggml_type, cols)


def raw(ggml_type):
    return None if ggml_type in (Q.F16, Q.F32) else ggml_type


def every_value_type(w):
    """One key of each of the 13 value types, plus a nested array."""
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", -1.5e-7)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo κόσμε")
    w.add_uint64("test.u64", 2**64 - 2)
    w.add_int64("test.i64", -(2**63) + 1)
    w.add_float64("test.f64", 3.141592653589793)
    w.add_array("test.arr_str", ["x", "", "ç"])
    w.add_array("test.arr_f32", [0.5, -0.25])
    w.add_array("test.arr_bool", [True, False])
    w.add_key_value("test.arr_u64", [1, 2**64 - 1], VT.ARRAY, sub_type=VT.UINT64)
    w.add_array("test.nested", [[1, 2], ["a"], [[True], [False, True]]])


def make(out):
    out.mkdir(parents=True, exist_ok=True)
    model(out / "q4_k_m.gguf", 15, Q.Q4_K, Q.Q6_K, extra=every_value_type)
    model(out / "q8_0.gguf", 7, Q.Q8_0, extra=lambda w: w.add_custom_alignment(64))
    model(out / "f16.gguf", 1, Q.F16)
    model(out / "bf16.gguf", 32, Q.BF16)
    model(out / "iq4_xs.gguf", 30, Q.IQ4_XS)
    model(out / "no_file_type.gguf", None, Q.Q5_K, Q.Q6_K)
    # gguf-py names the shards split-00001-of-00002.gguf and split-00002-of-00002.gguf and
    # writes split.no / split.count / split.tensors.count into each.
    model(out / "split.gguf", 15, Q.Q4_K, Q.Q6_K, split_max_tensors=3)

    # An unknown tensor type: GGUFWriter stores any integer as the type id as long as the
    # array is not uint8 (which it would reinterpret with the type's block size).
    w = gguf.GGUFWriter(str(out / "unknown_type.gguf"), "llama")
    w.add_file_type(1)
    w.add_tensor("future.weight", np.zeros((4, 64), dtype=np.int8), raw_dtype=200)
    w.add_tensor("known.weight", np.zeros((4, 64), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tables():
    ftypes = {}
    for ft in gguf.LlamaFileType:
        if ft.value >= 1024:
            continue
        name = ft.name.removeprefix("MOSTLY_").removeprefix("ALL_")
        ftypes[str(ft.value)] = name
    sizes = {str(t.value): [t.name, *gguf.GGML_QUANT_SIZES[t]] for t in Q}
    return {"file_types": ftypes, "quant_sizes": sizes, "gguf_version": gguf.GGUF_VERSION}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(Path(args[0]))
    elif cmd == "dump":
        print(json.dumps({a: dump(a) for a in args}, ensure_ascii=False))
    elif cmd == "tables":
        print(json.dumps(tables()))
    else:
        sys.exit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main()
