//! Cross-check against the reference implementation (the `safetensors` Python package, which
//! wraps the Rust `safetensors` crate): files from `safetensors.numpy.save_file` read here exactly
//! as their headers say, files from our writer load in `safetensors.numpy.load_file`, and on a
//! corpus of broken and mutated files we accept only what the reference accepts.
//!
//! Python comes from `RUVLTRA_PYTHON`, else `<workspace>/.venv/bin/python` (`cargo xtask test`
//! and `.ci/run` install `tests/python/requirements.txt` into it). Without it, or without the
//! `safetensors` package, these tests fail; they never skip.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use dev_python::Python;
use ruvltra_safetensors::adapter::ADAPTER_MODEL;
use ruvltra_safetensors::writer::{encode_header, sample_sona_export, write_adapter_safetensors};
use ruvltra_safetensors::{Dtype, SafetensorsError, SafetensorsHeader, read_header};
use serde_json::{Value as Json, json};

/// Runs the reference script and parses its JSON output (a missing `safetensors` or `numpy`
/// package fails with how to install it).
fn reference(args: &[&OsStr]) -> BTreeMap<String, Json> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/safetensors_py/reference.py");
    let out = Python::find().script(script).args(args).run();
    serde_json::from_str(&out.stdout).expect("the script prints json")
}

/// Our reading of a header in the script's `describe` form (tensors and metadata).
fn describe(h: &SafetensorsHeader) -> Json {
    let tensors: serde_json::Map<String, Json> = h
        .tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                json!({"dtype": t.dtype.name(), "shape": t.shape}),
            )
        })
        .collect();
    json!({"tensors": tensors, "metadata": h.metadata})
}

#[test]
fn files_saved_by_the_reference_read_as_their_headers_say() {
    let dir = tempfile::tempdir().unwrap();
    let report = reference(&["save".as_ref(), dir.path().as_os_str()]);
    assert_eq!(report.len(), 3);
    for (name, expected) in &report {
        let ours = read_header(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Some(ours.header_len),
            expected["header_len"].as_u64(),
            "{name}"
        );
        assert_eq!(
            Some(ours.file_len()),
            expected["file_len"].as_u64(),
            "{name}"
        );
        // Names, dtypes, shapes and offsets against the header JSON exactly as stored.
        let mut stored = expected["header"].as_object().unwrap().clone();
        let metadata = stored.remove("__metadata__");
        assert_eq!(ours.tensors.len(), stored.len(), "{name}");
        for t in &ours.tensors {
            let s = &stored[&t.name];
            assert_eq!(s["dtype"], t.dtype.name(), "{name} {}", t.name);
            assert_eq!(s["shape"], json!(t.shape), "{name} {}", t.name);
            assert_eq!(
                s["data_offsets"],
                json!([t.data_offsets.0, t.data_offsets.1]),
                "{name} {}",
                t.name
            );
        }
        assert_eq!(
            metadata.unwrap_or(Json::Null),
            json!(ours.metadata),
            "{name}"
        );
        // And against what the reference reader itself reports.
        assert_eq!(describe(&ours), expected["reference"], "{name}");
    }
    let all = read_header(dir.path().join("all_dtypes.safetensors")).unwrap();
    assert_eq!(all.tensors.len(), 14);
    assert_eq!(all.tensor("f64").unwrap().shape, Vec::<u64>::new());
}

#[test]
fn files_from_our_writer_load_in_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    // Every dtype NumPy can load, and every dtype the format has (header only for those).
    let numpy: Vec<(String, Dtype, Vec<u64>)> = [
        (Dtype::BOOL, "bool"),
        (Dtype::U8, "uint8"),
        (Dtype::I8, "int8"),
        (Dtype::I16, "int16"),
        (Dtype::U16, "uint16"),
        (Dtype::F16, "float16"),
        (Dtype::I32, "int32"),
        (Dtype::U32, "uint32"),
        (Dtype::F32, "float32"),
        (Dtype::F64, "float64"),
        (Dtype::I64, "int64"),
        (Dtype::U64, "uint64"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (d, np))| (np.to_string(), *d, vec![i as u64 % 3 + 1, 5]))
    .chain([
        ("scalar".to_owned(), Dtype::F32, vec![]),
        ("empty".to_owned(), Dtype::F16, vec![4, 0]),
    ])
    .collect();
    let every: Vec<(String, Dtype, Vec<u64>)> = Dtype::ALL
        .iter()
        .map(|d| (format!("t_{d}"), *d, vec![2, 4]))
        .collect();
    let meta = BTreeMap::from([
        ("format".to_owned(), "pt".to_owned()),
        (
            "quoted \"key\"".to_owned(),
            "line\nbreak \u{2713}".to_owned(),
        ),
    ]);
    let numpy_path = dir.path().join("numpy.safetensors");
    let every_path = dir.path().join("every.safetensors");
    let numpy_header = write_adapter_safetensors(&numpy_path, &numpy, &meta).unwrap();
    let every_header = write_adapter_safetensors(&every_path, &every, &BTreeMap::new()).unwrap();
    let sona = dir.path().join("sona");
    let sona_summary = sample_sona_export(&sona, "Qwen/Qwen2.5-0.5B-Instruct", 8).unwrap();
    let sona_path = sona.join(ADAPTER_MODEL);

    let report = reference(&[
        "dump".as_ref(),
        numpy_path.as_os_str(),
        every_path.as_os_str(),
        sona_path.as_os_str(),
    ]);
    for (path, header) in [
        (&numpy_path, &numpy_header),
        (&every_path, &every_header),
        (&sona_path, &sona_summary.header),
    ] {
        let entry = &report[path.to_str().unwrap()];
        let ok = entry
            .get("ok")
            .unwrap_or_else(|| panic!("{}: {entry}", path.display()));
        assert_eq!(
            ok["tensors"],
            describe(header)["tensors"],
            "{}",
            path.display()
        );
        assert_eq!(
            ok["metadata"],
            describe(header)["metadata"],
            "{}",
            path.display()
        );
    }
    // load_file gives every array, with the right NumPy dtype and shape, all zero.
    let loaded = &report[numpy_path.to_str().unwrap()]["ok"]["loaded"];
    assert_eq!(loaded.as_object().unwrap().len(), numpy.len());
    for (name, _, shape) in &numpy {
        let np = if name == "scalar" {
            "float32"
        } else if name == "empty" {
            "float16"
        } else {
            name
        };
        assert_eq!(
            loaded[name],
            json!({"numpy_dtype": np, "shape": shape, "all_zero": true}),
            "{name}"
        );
    }
    let every_entry = &report[every_path.to_str().unwrap()]["ok"];
    assert!(
        every_entry["load_error"]
            .as_str()
            .unwrap()
            .contains("bfloat16"),
        "NumPy cannot load BF16, so only the header is compared: {every_entry}"
    );
    let sona_loaded = report[sona_path.to_str().unwrap()]["ok"]["loaded"]
        .as_object()
        .unwrap();
    assert_eq!(sona_loaded.len(), 8);
    assert!(
        sona_loaded
            .values()
            .all(|v| v["numpy_dtype"] == "float32" && v["all_zero"] == true)
    );
}

/// A file made of the 8-byte length, `json` as the header and `data_len` zero bytes.
fn file(json: &str, data_len: usize) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json.as_bytes());
    bytes.resize(bytes.len() + data_len, 0);
    bytes
}

/// Where we are deliberately stricter than the reference (which accepts these): the format says
/// the header MUST begin with `{` and that duplicate keys are disallowed, and we cap dimensions.
fn stricter_than_reference(e: &SafetensorsError) -> bool {
    matches!(
        e,
        SafetensorsError::HeaderStart { .. }
            | SafetensorsError::DuplicateKey { .. }
            | SafetensorsError::TooManyDims { .. }
    )
}

#[test]
fn we_accept_only_what_the_reference_accepts() {
    let t = |dtype: &str, shape: &str, b: u64, e: u64| {
        format!("{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{b},{e}]}}")
    };
    let mut corpus: Vec<Vec<u8>> = vec![
        file("{}", 0),
        file("{}      ", 0),
        file(" {}", 0),
        file("\n{}", 0),
        file(
            &format!(
                "{{\"a\":{}}}",
                t("U8", &format!("[{}]", vec!["1"; 65].join(",")), 0, 1)
            ),
            1,
        ),
        file("{}\0", 0),
        file("{}", 1),
        file("", 0),
        file("[]", 0),
        file(&format!("{{\"a\":{}}}", t("F32", "[2,3]", 0, 24)), 24),
        file(&format!("{{\"a\":{}}}", t("F32", "[2,3]", 0, 23)), 23),
        file(&format!("{{\"a\":{}}}", t("F32", "[2,3]", 0, 24)), 23),
        file(&format!("{{\"a\":{}}}", t("F32", "[2,3]", 0, 24)), 25),
        file(&format!("{{\"a\":{}}}", t("Q4_K", "[2]", 0, 2)), 2),
        file(
            &format!("{{\"a\":{}}}", t("U8", "[18446744073709551615,2]", 0, 0)),
            0,
        ),
        file(&format!("{{\"a\":{}}}", t("U8", "[0]", 4, 0)), 4),
        file(
            &format!(
                "{{\"a\":{},\"b\":{}}}",
                t("U8", "[4]", 0, 4),
                t("U8", "[4]", 2, 6)
            ),
            6,
        ),
        file(
            &format!(
                "{{\"a\":{},\"b\":{}}}",
                t("U8", "[2]", 0, 2),
                t("U8", "[2]", 3, 5)
            ),
            5,
        ),
        file(
            &format!(
                "{{\"b\":{},\"a\":{}}}",
                t("U8", "[2]", 2, 4),
                t("U8", "[2]", 0, 2)
            ),
            4,
        ),
        file(
            &format!(
                "{{\"a\":{},\"a\":{}}}",
                t("U8", "[0]", 0, 0),
                t("U8", "[0]", 0, 0)
            ),
            0,
        ),
        file(&format!("{{\"a\":{}}}", t("F4", "[3]", 0, 2)), 2),
        file(&format!("{{\"a\":{}}}", t("F6_E3M2", "[4]", 0, 3)), 3),
        file("{\"__metadata__\":{\"k\":1}}", 0),
        file("{\"__metadata__\":null}", 0),
        file("{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":{}}", 0),
    ];
    let mut long = 100_000_001u64.to_le_bytes().to_vec();
    long.extend_from_slice(b"{}");
    corpus.push(long);
    corpus.push(b"\x02\0\0\0".to_vec());

    // Mutations of a valid file, as in the header tests.
    let tensors: [(&str, Dtype, Vec<u64>); 3] = [
        ("w", Dtype::F32, vec![2, 3]),
        ("b", Dtype::I8, vec![3]),
        ("e", Dtype::BF16, vec![0, 4]),
    ];
    let (mut base, h) = encode_header(&tensors, &BTreeMap::new()).unwrap();
    base.resize(h.file_len() as usize, 0);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]\":,0123456789 FUIB_abe";
    for _ in 0..400 {
        let mut bytes = base.clone();
        let at = (next() % bytes.len() as u64) as usize;
        match next() % 3 {
            0 => bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize],
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
        }
        if next() % 2 == 0 && bytes.len() > 8 + 30 {
            // Keep the length consistent with the edited header half of the time.
            let n = (bytes.len() - 8 - 27) as u64;
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        corpus.push(bytes);
    }

    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = corpus
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let p = dir.path().join(format!("{i:04}.safetensors"));
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    let mut args: Vec<&OsStr> = vec!["dump".as_ref()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let report = reference(&args);

    let (mut both_ok, mut both_err, mut stricter) = (0, 0, 0);
    for p in &paths {
        let theirs = &report[p.to_str().unwrap()];
        match (read_header(p), theirs.get("ok")) {
            (Ok(ours), Some(ok)) => {
                both_ok += 1;
                assert_eq!(ok["tensors"], describe(&ours)["tensors"], "{}", p.display());
            }
            (Err(_), None) => both_err += 1,
            (Err(e), Some(_)) if stricter_than_reference(e.root()) => stricter += 1,
            (ours, _) => panic!(
                "{} ({:?}): we say {ours:?}, the reference says {theirs}",
                p.display(),
                std::fs::read(p).unwrap()
            ),
        }
    }
    eprintln!("agree ok {both_ok}, agree error {both_err}, stricter {stricter}");
    assert!(
        both_ok >= 10 && both_err >= 100 && stricter == 4,
        "{both_ok} {both_err} {stricter}"
    );
}
