//! Cross-check against llama.cpp's reference gguf-py: files written by `gguf.GGUFWriter` must read
//! here exactly as `gguf.GGUFReader` reads them, and files from our writer must read in gguf-py
//! exactly as they read here.
//!
//! Python comes from `RUVLTRA_PYTHON`, else `<workspace>/.venv/bin/python` (`.ci/run` creates it
//! with the `gguf` package). Without it these tests fail, they never skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dev_python::Python;
use ruvltra_gguf::writer::{GgufWriter, SampleModel};
use ruvltra_gguf::{
    Array, GgmlType, GgufError, Header, Limits, Summary, Value, quant::FILE_TYPES, read_header,
    read_header_from, read_model_header, split_name,
};
use serde_json::{Value as Json, json};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gguf_py/make_fixtures.py")
}

/// Runs the fixture script and returns its stdout (a missing `gguf` or `numpy` package fails
/// with how to install it).
fn run_script(args: &[&std::ffi::OsStr]) -> String {
    Python::find().script(script()).args(args).run().stdout
}

/// What gguf-py reads from each file.
fn gguf_py_dump(files: &[PathBuf]) -> BTreeMap<String, Json> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["dump".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    serde_json::from_str(&run_script(&args)).expect("the dump is JSON")
}

/// A value in the dump's typed form.
fn typed(value: &Value) -> Json {
    let t = value.value_type().name();
    match value {
        Value::U8(v) => json!({"type": t, "value": v}),
        Value::I8(v) => json!({"type": t, "value": v}),
        Value::U16(v) => json!({"type": t, "value": v}),
        Value::I16(v) => json!({"type": t, "value": v}),
        Value::U32(v) => json!({"type": t, "value": v}),
        Value::I32(v) => json!({"type": t, "value": v}),
        Value::F32(v) => json!({"type": t, "value": v.to_bits()}),
        Value::Bool(v) => json!({"type": t, "value": v}),
        Value::String(v) => json!({"type": t, "value": v}),
        Value::Array(a) => typed_array(a),
        Value::U64(v) => json!({"type": t, "value": v}),
        Value::I64(v) => json!({"type": t, "value": v}),
        Value::F64(v) => json!({"type": t, "value": v.to_bits()}),
    }
}

fn typed_array(a: &Array) -> Json {
    fn all<T: Clone>(items: &[T], f: impl Fn(T) -> Value) -> Vec<Json> {
        items.iter().cloned().map(|x| typed(&f(x))).collect()
    }
    let items = match a {
        Array::U8(v) => all(v, Value::U8),
        Array::I8(v) => all(v, Value::I8),
        Array::U16(v) => all(v, Value::U16),
        Array::I16(v) => all(v, Value::I16),
        Array::U32(v) => all(v, Value::U32),
        Array::I32(v) => all(v, Value::I32),
        Array::F32(v) => all(v, Value::F32),
        Array::Bool(v) => all(v, Value::Bool),
        Array::String(v) => all(v, Value::String),
        Array::Array(v) => v.iter().map(typed_array).collect(),
        Array::U64(v) => all(v, Value::U64),
        Array::I64(v) => all(v, Value::I64),
        Array::F64(v) => all(v, Value::F64),
    };
    json!({"type": "ARRAY", "elem": a.element_type().name(), "value": items})
}

/// Compares our reading of `path` with gguf-py's, field by field.
#[track_caller]
fn compare(path: &Path, py: &Json, ours: &Header) {
    let name = path.display();
    assert_eq!(
        py["error"],
        Json::Null,
        "{name}: gguf-py failed: {}",
        py["error"]
    );
    assert_eq!(py["version"], json!(ours.version), "{name}: version");
    assert_eq!(py["kv_count"], json!(ours.kv_count()), "{name}: kv_count");
    assert_eq!(
        py["tensor_count"],
        json!(ours.tensor_count()),
        "{name}: tensor_count"
    );
    assert_eq!(py["alignment"], json!(ours.alignment), "{name}: alignment");
    assert_eq!(
        py["data_offset"],
        json!(ours.data_offset),
        "{name}: data_offset"
    );

    let py_kvs = py["kvs"].as_array().expect("kvs");
    assert_eq!(py_kvs.len(), ours.metadata.len(), "{name}: number of kvs");
    for (p, o) in py_kvs.iter().zip(&ours.metadata) {
        assert_eq!(p[0], json!(o.key), "{name}: key order");
        assert_eq!(p[1], typed(&o.value), "{name}: value of {}", o.key);
    }

    let py_tensors = py["tensors"].as_array().expect("tensors");
    assert_eq!(
        py_tensors.len(),
        ours.tensors.len(),
        "{name}: number of tensors"
    );
    for (p, o) in py_tensors.iter().zip(&ours.tensors) {
        let t = &o.name;
        assert_eq!(p["name"], json!(o.name), "{name}: tensor order");
        assert_eq!(p["dims"], json!(o.dims), "{name}: dims of {t}");
        assert_eq!(p["type_id"], json!(o.ggml_type.id()), "{name}: type of {t}");
        assert_eq!(p["offset"], json!(o.offset), "{name}: offset of {t}");
        match o.ggml_type {
            GgmlType::Unknown(_) => {
                assert!(p.get("n_bytes").is_none());
                assert!(
                    py["tensor_build_error"].is_string(),
                    "{name}: gguf-py accepted unknown type of {t}"
                );
            }
            _ => {
                assert_eq!(p["n_bytes"], json!(o.data_size()), "{name}: bytes of {t}");
                assert_eq!(
                    p["data_offset"],
                    json!(ours.data_offset + o.offset),
                    "{name}: absolute data offset of {t}"
                );
            }
        }
    }
}

fn gguf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    files.sort();
    files
}

#[test]
fn reads_gguf_py_fixtures_like_gguf_py() {
    let dir = tempfile::tempdir().unwrap();
    run_script(&["make".as_ref(), dir.path().as_os_str()]);
    let files = gguf_files(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "bf16.gguf",
            "f16.gguf",
            "iq4_xs.gguf",
            "no_file_type.gguf",
            "q4_k_m.gguf",
            "q8_0.gguf",
            "split-00001-of-00002.gguf",
            "split-00002-of-00002.gguf",
            "unknown_type.gguf"
        ]
    );
    let dumps = gguf_py_dump(&files);
    let mut summaries = BTreeMap::new();
    for file in &files {
        let header = read_header(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        compare(file, &dumps[&file.display().to_string()], &header);
        let key = file.file_name().unwrap().to_string_lossy().into_owned();
        summaries.insert(key, Summary::from_header(&header));
    }

    let label = |f: &str| {
        let q = summaries[f].quant.as_ref().expect("a label");
        (q.label, q.guessed)
    };
    assert_eq!(label("q4_k_m.gguf"), ("Q4_K_M", false));
    assert_eq!(label("q8_0.gguf"), ("Q8_0", false));
    assert_eq!(label("f16.gguf"), ("F16", false));
    assert_eq!(label("bf16.gguf"), ("BF16", false));
    assert_eq!(label("iq4_xs.gguf"), ("IQ4_XS", false));
    assert_eq!(label("no_file_type.gguf"), ("Q5_K_M", true));
    assert_eq!(summaries["no_file_type.gguf"].file_type, None);
    assert_eq!(label("unknown_type.gguf"), ("F16", false));

    let q4 = &summaries["q4_k_m.gguf"];
    assert_eq!(q4.architecture.as_deref(), Some("qwen2"));
    assert_eq!(q4.name.as_deref(), Some("RuvLTRA Fixture"));
    assert_eq!(q4.size_label.as_deref(), Some("1M"));
    assert_eq!(q4.context_length, Some(32768));
    assert_eq!(q4.license.as_deref(), Some("apache-2.0"));
    assert!(q4.has_chat_template);
    assert_eq!(
        q4.parameter_count,
        256 * 8 + 256 + 256 * 256 + 256 * 64 + 512 * 256 + 256 * 8
    );
    assert_eq!(summaries["q8_0.gguf"].alignment, 64);

    let shard1 = dir.path().join("split-00001-of-00002.gguf");
    let shard2 = dir.path().join("split-00002-of-00002.gguf");
    for (shard, no) in [(&shard1, 0), (&shard2, 1)] {
        let s = &summaries[shard.file_name().unwrap().to_str().unwrap()];
        let split = s.split.expect("split keys");
        assert_eq!(
            (split.no, split.count, split.tensors_count),
            (no, 2, Some(6))
        );
        assert!(split.matches_name(&split_name(shard).unwrap()));
    }
    let (first, header) = read_model_header(&shard2).unwrap();
    assert_eq!(first, shard1);
    let s = Summary::from_header(&header);
    assert_eq!(
        s.quant.map(|q| (q.label, q.guessed)),
        Some(("Q4_K_M", false))
    );
    assert_eq!(s.context_length, Some(32768));

    // Every cut of a gguf-py header is refused as truncated.
    let bytes = std::fs::read(dir.path().join("q4_k_m.gguf")).unwrap();
    let data_offset = summaries["q4_k_m.gguf"].data_offset as usize;
    for cut in 0..data_offset {
        let result = read_header_from(&bytes[..cut], &Limits::default());
        assert!(
            matches!(result, Err(GgufError::Truncated { .. })),
            "cut at {cut}: {result:?}"
        );
    }

    let unknown = read_header(dir.path().join("unknown_type.gguf")).unwrap();
    assert_eq!(unknown.tensors[0].ggml_type, GgmlType::Unknown(200));
    assert_eq!(unknown.tensors[1].ggml_type, GgmlType::F16);
}

#[test]
fn gguf_py_reads_our_files_like_we_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut every = GgufWriter::new();
    every
        .kv("general.architecture", "llama")
        .kv("t.u8", 200u8)
        .kv("t.i8", -100i8)
        .kv("t.u16", 60_000u16)
        .kv("t.i16", -30_000i16)
        .kv("t.u32", 4_000_000_000u32)
        .kv("t.i32", -2_000_000_000i32)
        .kv("t.f32", -1.5e-7f32)
        .kv("t.bool", true)
        .kv("t.string", "héllo κόσμε")
        .kv("t.u64", u64::MAX - 1)
        .kv("t.i64", i64::MIN + 1)
        .kv("t.f64", std::f64::consts::E)
        .kv("t.arr_i16", Array::I16(vec![-1, 2]))
        .kv("t.arr_empty", Array::F64(vec![]))
        .kv(
            "t.nested",
            Array::Array(vec![
                Array::U8(vec![1]),
                Array::Array(vec![Array::String(vec!["z".into()])]),
            ]),
        )
        .alignment(128)
        .tensor("a.weight", &[256, 3], GgmlType::Q4_K)
        .tensor("b.weight", &[64, 2], GgmlType::IQ4_NL)
        .tensor("c", &[7], GgmlType::F32)
        .tensor_with_size("d.weight", &[16], GgmlType::Unknown(777), 10)
        .tensor("e.weight", &[32, 2, 2, 2], GgmlType::BF16);
    let every_path = dir.path().join("every.gguf");
    every.write_file(&every_path).unwrap();

    let mut paths = vec![every_path];
    for (name, file_type) in [("q4_k_m", 15), ("q8_0", 7), ("f16", 1), ("iq4_xs", 30)] {
        let mut sample = SampleModel::new("qwen2", file_type, 3_000_000);
        sample.vocab_size = 300;
        let path = dir.path().join(format!("sample-{name}.gguf"));
        sample.build().unwrap().write_file(&path).unwrap();
        paths.push(path);
    }

    let dumps = gguf_py_dump(&paths);
    for path in &paths {
        let header = read_header(path).unwrap();
        compare(path, &dumps[&path.display().to_string()], &header);
    }
    let every = &dumps[&paths[0].display().to_string()];
    assert!(
        every["tensor_build_error"].is_string(),
        "gguf-py refuses type 777"
    );
    for path in &paths[1..] {
        let dump = &dumps[&path.display().to_string()];
        assert_eq!(dump["tensor_build_error"], Json::Null, "{}", path.display());
    }
}

#[test]
fn tables_agree_with_gguf_py() {
    let tables: Json = serde_json::from_str(&run_script(&["tables".as_ref()])).unwrap();
    let py_ftypes = tables["file_types"].as_object().unwrap();
    let ours: BTreeMap<String, Json> = FILE_TYPES
        .iter()
        .map(|(v, l)| (v.to_string(), json!(l)))
        .collect();
    let theirs: BTreeMap<String, Json> = py_ftypes.clone().into_iter().collect();
    assert_eq!(ours, theirs, "llama_ftype table");

    let py_sizes = tables["quant_sizes"].as_object().unwrap();
    let ours: BTreeMap<String, Json> = GgmlType::KNOWN
        .iter()
        .map(|t| {
            let (block, bytes) = t.block_layout().unwrap();
            (t.id().to_string(), json!([t.name().unwrap(), block, bytes]))
        })
        .collect();
    let theirs: BTreeMap<String, Json> = py_sizes.clone().into_iter().collect();
    assert_eq!(ours, theirs, "ggml type table");
}
