//! SONA export folders: the sample export passes, and each way a folder, its PEFT config, its
//! jsonl files or its weights can be wrong gives its own error. Also the writer's atomicity.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use ruvltra_safetensors::adapter::{ADAPTER_CONFIG, ADAPTER_MODEL, PATTERNS, PREFERENCES};
use ruvltra_safetensors::writer::{sample_sona_export, write_adapter_safetensors};
use ruvltra_safetensors::{
    ADAPTER_FILES, AdapterLimits, Dtype, SafetensorsError, TargetModules, check_adapter_config,
    check_adapter_dir, check_adapter_dir_with, check_jsonl_from,
};

const BASE: &str = "Qwen/Qwen2.5-0.5B-Instruct";

fn sample(rank: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sample_sona_export(dir.path(), BASE, rank).unwrap();
    dir
}

/// Files in `dir` whose names start with a dot (the writer's temporary files).
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn the_sample_export_is_a_valid_adapter() {
    let dir = sample(16);
    let s = check_adapter_dir(dir.path()).unwrap();
    assert_eq!(s.config.peft_type, "LORA");
    assert_eq!(s.config.base_model_name_or_path, BASE);
    assert_eq!((s.config.r, s.config.lora_alpha), (16, 32.0));
    assert_eq!(
        s.config.target_modules,
        TargetModules::List(vec!["q_proj".into(), "v_proj".into()])
    );
    assert_eq!(s.config.task_type.as_deref(), Some("CAUSAL_LM"));
    assert_eq!((s.patterns.records, s.preferences.records), (3, 2));
    // Two layers, q_proj and v_proj, A and B.
    assert_eq!(s.header.tensors.len(), 8);
    let b = s
        .header
        .tensor("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")
        .unwrap();
    assert_eq!((b.dtype, b.shape.as_slice()), (Dtype::F32, &[128, 16][..]));
    // Per layer: q A 16x896 + q B 896x16 + v A 16x896 + v B 128x16.
    assert_eq!(s.header.parameter_count(), 2 * (3 * 16 * 896 + 128 * 16));
    let names: Vec<&str> = s.files.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ADAPTER_FILES);
    assert_eq!(s.files[0].1, s.header.file_len());
    assert_eq!(
        s.header.metadata,
        Some(BTreeMap::from([("format".into(), "pt".into())]))
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "no temporary files remain"
    );
    // Writing again over an existing export replaces it.
    let again = sample_sona_export(dir.path(), "other/base", 4).unwrap();
    assert_eq!(
        (
            again.config.r,
            again.config.base_model_name_or_path.as_str()
        ),
        (4, "other/base")
    );
}

#[test]
fn every_missing_file_is_named() {
    for name in ADAPTER_FILES {
        let dir = sample(8);
        fs::remove_file(dir.path().join(name)).unwrap();
        let err = check_adapter_dir(dir.path()).unwrap_err();
        let SafetensorsError::MissingFile { path } = &err else {
            panic!("{name}: {err:?}");
        };
        assert_eq!(path, &dir.path().join(name));
        assert!(err.to_string().contains("patterns.jsonl"), "{err}");
    }
    // A folder in place of a file.
    let dir = sample(8);
    fs::remove_file(dir.path().join(PATTERNS)).unwrap();
    fs::create_dir(dir.path().join(PATTERNS)).unwrap();
    assert!(matches!(
        check_adapter_dir(dir.path()),
        Err(SafetensorsError::MissingFile { .. })
    ));
}

#[test]
fn a_corrupt_safetensors_file_fails_the_folder() {
    let dir = sample(8);
    let path = dir.path().join(ADAPTER_MODEL);
    let len = fs::metadata(&path).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    let err = check_adapter_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, SafetensorsError::InFile { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(matches!(
        err.root(),
        SafetensorsError::OffsetOutOfBounds { .. }
    ));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: tensor ", path.display())),
        "{err}"
    );
}

#[test]
fn config_problems_are_all_reported_at_once() {
    let json = br#"{"peft_type": "IA3", "r": 0, "lora_alpha": "16", "target_modules": [],
                    "task_type": 3}"#;
    let err = check_adapter_config(json).unwrap_err();
    let SafetensorsError::AdapterConfig { problems, .. } = &err else {
        panic!("{err:?}");
    };
    let text = problems.join("\n");
    for field in [
        "peft_type is \"IA3\"",
        "base_model_name_or_path is missing",
        "r must be an integer rank above 0, found a number (0)",
        "lora_alpha must be a number above 0, found the string \"16\"",
        "target_modules must be",
        "task_type must be a string",
    ] {
        assert!(text.contains(field), "{field:?} not in:\n{text}");
    }
    assert_eq!(problems.len(), 6);
    let msg = err.to_string();
    assert!(
        msg.starts_with("adapter_config.json is not a usable PEFT LoRA config: "),
        "{msg}"
    );

    for (json, what) in [
        (&b"not json"[..], "expected"),
        (b"[1]", "the top level is an array"),
        (b"", "EOF"),
    ] {
        let err = check_adapter_config(json).unwrap_err();
        assert!(
            matches!(&err, SafetensorsError::AdapterConfigJson { reason, .. } if reason.contains(what)),
            "{err:?}"
        );
    }
    let err = check_adapter_config(br#"{"peft_type":"LORA","base_model_name_or_path":"b","r":8,"lora_alpha":16,"target_modules":["q_proj", 3]}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("target_modules[1] must be a non-empty string, found a number"),
        "{err}"
    );
}

#[test]
fn config_accepts_peft_variants() {
    let c = check_adapter_config(
        br#"{"peft_type":"LORA","base_model_name_or_path":"b","r":4,"lora_alpha":8.5,
             "target_modules":"all-linear","task_type":null,"rank_pattern":{"q_proj":8}}"#,
    )
    .unwrap();
    assert_eq!(
        c.target_modules,
        TargetModules::Pattern("all-linear".into())
    );
    assert_eq!(
        (c.r, c.lora_alpha, c.task_type, c.has_rank_pattern),
        (4, 8.5, None, true)
    );
}

#[test]
fn jsonl_lines_must_be_objects() {
    let p = Path::new("patterns.jsonl");
    let check = |text: &str, max: u64| check_jsonl_from(text.as_bytes(), p, max);

    let s = check("{\"a\":1}\n\n  \r\n{\"b\":[1,2]}\r\n{}", 100).unwrap();
    assert_eq!((s.records, s.lines, s.bytes), (3, 5, 28));
    assert_eq!(check("", 100).unwrap().records, 0);

    for (text, line, what) in [
        ("{}\n[1,2]\n", 2, "found an array"),
        ("{}\n{}\n\"x\"", 3, "found a string"),
        ("{\"a\":}\n", 1, "not valid json"),
        ("{} {}\n", 1, "not valid json"),
    ] {
        let err = check(text, 100).unwrap_err();
        let SafetensorsError::JsonlLine {
            line: l, reason, ..
        } = &err
        else {
            panic!("{text:?}: {err:?}");
        };
        assert_eq!(*l, line, "{text:?}");
        assert!(reason.contains(what), "{text:?}: {reason}");
        assert!(
            err.to_string()
                .starts_with(&format!("patterns.jsonl line {line}: "))
        );
    }

    // A line of exactly the cap passes (with either line ending); one byte more does not.
    let exact = format!("{{\"k\":\"{}\"}}", "x".repeat(10)); // 18 bytes.
    assert_eq!(exact.len(), 18);
    check(&format!("{exact}\n"), 18).unwrap();
    check(&format!("{exact}\r\n{exact}"), 18).unwrap();
    let err = check(&format!("{{}}\n{exact}\n"), 17).unwrap_err();
    assert!(
        matches!(
            err,
            SafetensorsError::JsonlLineTooLong {
                line: 2,
                max: 17,
                ..
            }
        ),
        "{err:?}"
    );
    // A huge line without newline stops at the cap instead of being read whole.
    let err = check(&"x".repeat(1 << 20), 64).unwrap_err();
    assert!(matches!(
        err,
        SafetensorsError::JsonlLineTooLong { line: 1, .. }
    ));
}

#[test]
fn jsonl_errors_in_a_folder_name_the_file() {
    let dir = sample(8);
    fs::write(dir.path().join(PREFERENCES), "{}\n{\"broken\": \n").unwrap();
    let err = check_adapter_dir(dir.path()).unwrap_err();
    let SafetensorsError::JsonlLine { path, line: 2, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, &dir.path().join(PREFERENCES));
}

#[test]
fn a_jsonl_read_error_names_the_file() {
    // A folder opens like a file on Linux but every read fails.
    let dir = tempfile::tempdir().unwrap();
    let err = ruvltra_safetensors::check_jsonl(dir.path(), 64).unwrap_err();
    let SafetensorsError::InFile { path, inner } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, dir.path());
    assert!(
        matches!(**inner, SafetensorsError::Read { offset: 0, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}: read error at byte 0", dir.path().display())),
        "{err}"
    );
}

#[test]
fn an_oversized_config_is_refused_without_reading_it_all() {
    let dir = sample(8);
    let limits = AdapterLimits {
        max_config_len: 64,
        ..AdapterLimits::default()
    };
    let err = check_adapter_dir_with(dir.path(), &limits).unwrap_err();
    let SafetensorsError::FileTooLarge { path, len, max: 64 } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, &dir.path().join(ADAPTER_CONFIG));
    assert_eq!(*len, fs::metadata(path).unwrap().len());
}

/// Rewrites the config of a sample export with `edit` applied to its JSON.
fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(ADAPTER_CONFIG);
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut v);
    fs::write(path, v.to_string()).unwrap();
}

fn mismatch(dir: &Path) -> Vec<String> {
    match check_adapter_dir(dir) {
        Err(SafetensorsError::AdapterMismatch { problems, .. }) => problems,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn weights_must_match_the_config() {
    // The rank in the config differs from the weights' (8): every LoRA matrix is reported.
    let dir = sample(8);
    edit_config(dir.path(), |v| v["r"] = 16.into());
    let problems = mismatch(dir.path());
    assert_eq!(problems.len(), 8, "{problems:#?}");
    assert!(problems[0].contains("is not r = 16"), "{}", problems[0]);
    // A rank_pattern makes per-module ranks legitimate.
    edit_config(dir.path(), |v| {
        v["rank_pattern"] = serde_json::json!({"q_proj": 8})
    });
    check_adapter_dir(dir.path()).unwrap();

    // A module the config does not target.
    let dir = sample(8);
    edit_config(dir.path(), |v| {
        v["target_modules"] = serde_json::json!(["q_proj"])
    });
    let problems = mismatch(dir.path());
    assert_eq!(problems.len(), 4);
    assert!(
        problems
            .iter()
            .all(|p| p.contains("v_proj") && p.contains("not in target_modules"))
    );
    // A pattern string is not interpreted.
    edit_config(dir.path(), |v| v["target_modules"] = "all-linear".into());
    check_adapter_dir(dir.path()).unwrap();

    // An A without its B, a 3-D matrix, and no LoRA weights at all.
    let dir = sample(8);
    let model = dir.path().join(ADAPTER_MODEL);
    let none = BTreeMap::new();
    write_adapter_safetensors(
        &model,
        &[
            (
                "m.layers.0.q_proj.lora_A.weight",
                Dtype::F32,
                &[8u64, 896][..],
            ),
            (
                "m.layers.0.v_proj.lora_A.weight",
                Dtype::F32,
                &[8, 896, 1][..],
            ),
            ("m.layers.0.v_proj.lora_B.weight", Dtype::F32, &[128, 8][..]),
        ],
        &none,
    )
    .unwrap();
    let problems = mismatch(dir.path());
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("has no matching \"m.layers.0.q_proj.lora_B.weight\""));
    assert!(problems[1].contains("must be 2-D"));
    write_adapter_safetensors(
        &model,
        &[("lm_head.weight", Dtype::F16, &[4u64, 4][..])],
        &none,
    )
    .unwrap();
    let problems = mismatch(dir.path());
    assert!(problems[0].starts_with("no LoRA weights"), "{problems:?}");
}

#[test]
fn the_writer_refuses_impossible_requests_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    let none = BTreeMap::new();
    for (tensors, what) in [
        (
            vec![("a", Dtype::F32, vec![1u64]), ("a", Dtype::F16, vec![1])],
            "given twice",
        ),
        (
            vec![("__metadata__", Dtype::F32, vec![1])],
            "cannot be a tensor name",
        ),
        (
            vec![("a", Dtype::F4, vec![3])],
            "not a whole number of bytes",
        ),
        (vec![("a", Dtype::F64, vec![u64::MAX])], "overflows"),
    ] {
        let err = write_adapter_safetensors(&path, &tensors, &none).unwrap_err();
        assert!(
            matches!(&err, SafetensorsError::InvalidWrite { reason } if reason.contains(what)),
            "{err:?}"
        );
    }
    assert!(!path.exists());
    // A missing folder: an i/o error, nothing written.
    let nested = dir.path().join("no/such/dir/a.safetensors");
    let err =
        write_adapter_safetensors(&nested, &[("a", Dtype::U8, vec![1u64])], &none).unwrap_err();
    assert!(matches!(err, SafetensorsError::Write { .. }), "{err:?}");
    assert!(leftovers(dir.path()).is_empty());

    assert!(matches!(
        sample_sona_export(dir.path().join("s"), BASE, 0),
        Err(SafetensorsError::InvalidWrite { .. })
    ));
    assert!(matches!(
        sample_sona_export(dir.path().join("s"), " ", 8),
        Err(SafetensorsError::InvalidWrite { .. })
    ));
    assert!(!dir.path().join("s").exists());
}

#[test]
fn large_sparse_files_are_cheap_to_write_and_read() {
    // A 4 GiB F16 tensor: the data is a hole, and the reader never touches it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.safetensors");
    let h = write_adapter_safetensors(
        &path,
        &[("big", Dtype::F16, vec![65_536u64, 32_768])],
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(h.data_len, 4 << 30);
    assert_eq!(fs::metadata(&path).unwrap().len(), h.file_len());
    assert_eq!(ruvltra_safetensors::read_header(&path).unwrap(), h);
}
