//! Every validation rule with a failing example: each test feeds a small registry through
//! `check` and compares the whole problem list with an inline snapshot.

use insta::assert_snapshot;
use ruvltra_registry::{Problem, Problems, parse, validate};
use serde_json::{Value, json};

/// Parses and validates `json`; returns `valid` or the problem list as the user sees it.
#[track_caller]
fn check(json: &str) -> String {
    let registry = parse(json).unwrap_or_else(|err| panic!("test input does not parse: {err}"));
    match validate(&registry) {
        Ok(()) => "valid".to_owned(),
        Err(problems) => problems.to_string(),
    }
}

/// A valid published model, `ruvltra-small-0.5b-q4_k_m`.
fn small() -> Value {
    json!({
        "id": "ruvltra-small-0.5b-q4_k_m",
        "file": "ruvltra-small-0.5b-q4_k_m.gguf",
        "quant": "q4_k_m",
        "size": "0.5b",
        "variant": "small"
    })
}

/// `base` with the keys of `patch` replaced; a `null` in the patch removes the key.
fn patched(mut base: Value, patch: Value) -> Value {
    let object = base.as_object_mut().expect("an object");
    for (key, value) in patch.as_object().expect("an object patch") {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    base
}

/// A registry holding `models`, with top-level keys replaced by `top`.
fn registry(models: Vec<Value>, top: Value) -> String {
    let base = json!({
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "models": models
    });
    serde_json::to_string_pretty(&patched(base, top)).unwrap()
}

/// A registry whose only model is `small()` patched with `patch`.
fn one_model(patch: Value) -> String {
    registry(vec![patched(small(), patch)], json!({}))
}

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn a_complete_model_is_valid() {
    let full = patched(
        small(),
        json!({
            "name": "RuvLTRA Small 0.5B",
            "description": "A small model.",
            "architecture": "qwen2",
            "parameters": 494_000_000u64,
            "context_length": 32768,
            "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
            "license": "apache-2.0",
            "languages": ["en"],
            "hardware": {"min_ram_mib": 1024, "recommended_ram_mib": 2048, "min_vram_mib": 512,
                         "accelerators": ["cpu", "metal", "ane", "cuda"]},
            "tags": ["code"],
            "benchmarks": [{"name": "tokens per second", "value": 88.5, "unit": "tok/s", "hardware": "M2"}],
            "fallback_urls": ["https://mirror.example.org/ruvltra-small-0.5b-q4_k_m.gguf",
                              "http://127.0.0.1:8080/a.gguf", "http://localhost/a.gguf", "http://[::1]/a.gguf"],
            "repo": "ruv/ruvltra-small",
            "revision": "v1.0.0",
            "bytes": 491_000_000u64,
            "sha256": SHA,
            "modelscope_repo": "ruv/ruvltra",
            "hub": {"commit": "0123456789abcdef0123456789abcdef01234567",
                    "synced_at": "2026-01-20T12:00:00.5+01:00", "tags": ["v1.0.0"]},
            "needs_review": true
        }),
    );
    let adapter = json!({
        "id": "sona-small", "file": "sona/ruvltra-small-0.5b-q4_k_m/adapter_model.safetensors",
        "quant": "f16", "size": "0.5b", "kind": "adapter", "base": "ruvltra-small-0.5b-q4_k_m",
        "extra_files": [{"file": "sona/ruvltra-small-0.5b-q4_k_m/adapter_config.json", "bytes": 512, "sha256": SHA}]
    });
    let split = json!({
        "id": "ruvltra-large-3b-f16", "file": "large/ruvltra-large-3b-f16-00001-of-00002.gguf",
        "quant": "f16", "size": "3b", "variant": "large", "kind": "gguf-full-precision", "status": "planned",
        "extra_files": [{"file": "large/ruvltra-large-3b-f16-00002-of-00002.gguf"}]
    });
    let top = json!({"catalog": {"title": "RuvLTRA", "license": "apache-2.0", "languages": ["en"], "tags": ["gguf"]}});
    // The adapter comes first: a base may be listed after its adapter.
    assert_snapshot!(check(&registry(vec![adapter, full, split], top)), @"valid");
}

#[test]
fn schema_version_must_be_supported() {
    assert_snapshot!(check(&registry(vec![small()], json!({"schema_version": 2}))), @"/schema_version: unsupported schema_version 2: this tool reads version 1; use a matching tool or convert the file");
}

#[test]
fn repo_ids_have_the_hub_form() {
    let long = "a".repeat(97);
    let models = [
        json!({"repo": "ruvltra"}),
        json!({"repo": "ruv/ruvltra/extra"}),
        json!({"repo": "ruv/ruv--ltra"}),
        json!({"repo": "ruv/ruv..ltra"}),
        json!({"repo": "-ruv/ruvltra"}),
        json!({"repo": "ruv/ruvltra."}),
        json!({"repo": "ruv/ruv ltra"}),
        json!({"repo": "/ruvltra"}),
        json!({"repo": format!("ruv/{long}")}),
        json!({"modelscope_repo": "ruv"}),
        // A base model may be a legacy id without namespace, but must still be well formed.
        json!({"base_model": "gpt2"}),
        json!({"base_model": "Qwen/Qwen2.5-0.5B-Instruct-"}),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, patch)| {
        let file = format!("ruvltra-m{n}-0.5b-q4_k_m");
        patched(
            patched(
                small(),
                json!({"id": file, "file": format!("{file}.gguf"), "variant": format!("m{n}")}),
            ),
            patch,
        )
    })
    .collect();
    let top = json!({"repo": "ruv", "catalog": {"modelscope_repo": "a/b/c"}});
    assert_snapshot!(check(&registry(models, top)), @r"
        /repo: `ruv` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
        /catalog/modelscope_repo: `a/b/c` is not a Hub repo id: it has more than one `/` (expected `namespace/name` such as `ruv/ruvltra`)
        /models/0/repo (ruvltra-m0-0.5b-q4_k_m): `ruvltra` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
        /models/1/repo (ruvltra-m1-0.5b-q4_k_m): `ruv/ruvltra/extra` is not a Hub repo id: it has more than one `/` (expected `namespace/name` such as `ruv/ruvltra`)
        /models/2/repo (ruvltra-m2-0.5b-q4_k_m): `ruv/ruv--ltra` is not a Hub repo id: `--` and `..` are not allowed (expected `namespace/name` such as `ruv/ruvltra`)
        /models/3/repo (ruvltra-m3-0.5b-q4_k_m): `ruv/ruv..ltra` is not a Hub repo id: `--` and `..` are not allowed (expected `namespace/name` such as `ruv/ruvltra`)
        /models/4/repo (ruvltra-m4-0.5b-q4_k_m): `-ruv/ruvltra` is not a Hub repo id: a part starts or ends with `-` or `.` (expected `namespace/name` such as `ruv/ruvltra`)
        /models/5/repo (ruvltra-m5-0.5b-q4_k_m): `ruv/ruvltra.` is not a Hub repo id: a part starts or ends with `-` or `.` (expected `namespace/name` such as `ruv/ruvltra`)
        /models/6/repo (ruvltra-m6-0.5b-q4_k_m): `ruv/ruv ltra` is not a Hub repo id: only letters, digits, `.`, `_` and `-` are allowed (expected `namespace/name` such as `ruv/ruvltra`)
        /models/7/repo (ruvltra-m7-0.5b-q4_k_m): `/ruvltra` is not a Hub repo id: a part is empty (expected `namespace/name` such as `ruv/ruvltra`)
        /models/8/repo (ruvltra-m8-0.5b-q4_k_m): `ruv/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…` is not a Hub repo id: a part is longer than 96 characters (expected `namespace/name` such as `ruv/ruvltra`)
        /models/9/modelscope_repo (ruvltra-m9-0.5b-q4_k_m): `ruv` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
        /models/11/base_model (ruvltra-m11-0.5b-q4_k_m): `Qwen/Qwen2.5-0.5B-Instruct-` is not a Hub repo id: a part starts or ends with `-` or `.` (expected `namespace/name` such as `ruv/ruvltra`)
        ");
}

#[test]
fn revisions_are_non_empty_without_whitespace_or_dot_dot() {
    let models = vec![
        patched(small(), json!({"revision": "my branch"})),
        patched(
            small(),
            json!({"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "variant": null,
                   "revision": "v1..2"}),
        ),
    ];
    assert_snapshot!(check(&registry(models, json!({"revision": ""}))), @r"
        /revision: revision is empty; use a branch, tag or 40-hex commit such as `main`
        /models/0/revision (ruvltra-small-0.5b-q4_k_m): revision `my branch` contains whitespace or a control character; use a branch, tag or 40-hex commit such as `main`
        /models/1/revision (ruvltra-0.5b-q4_k_m): revision `v1..2` contains `..`; use a branch, tag or 40-hex commit such as `main`
        ");
}

#[test]
fn ids_are_unique() {
    let other = patched(
        small(),
        json!({"file": "other/ruvltra-small-0.5b-q4_k_m.gguf"}),
    );
    assert_snapshot!(check(&registry(vec![small(), other], json!({}))), @"/models/1/id (ruvltra-small-0.5b-q4_k_m): duplicate id `ruvltra-small-0.5b-q4_k_m`, first used at /models/0/id; ids must be unique");
}

#[test]
fn files_are_unique_per_repo_ignoring_case_including_extra_files() {
    let adapter = |id: &str, file: &str, extra: &str| {
        json!({"id": id, "file": file, "quant": "f16", "size": "0.5b", "kind": "adapter",
               "base": "ruvltra-small-0.5b-q4_k_m", "extra_files": [{"file": extra}]})
    };
    let models = vec![
        small(),
        adapter(
            "a",
            "sona/a/adapter_model.safetensors",
            "RUVLTRA-small-0.5b-q4_k_m.gguf",
        ),
        adapter(
            "b",
            "sona/a/Adapter_Model.safetensors",
            "sona/b/config.json",
        ),
        adapter(
            "c",
            "sona/c/adapter_model.safetensors",
            "sona/b/config.json",
        ),
        // The same path in another repository is a different file.
        patched(
            adapter("d", "sona/a/adapter_model.safetensors", "sona/d/c.json"),
            json!({"repo": "ruv/other"}),
        ),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/1/extra_files/0/file (a): file `RUVLTRA-small-0.5b-q4_k_m.gguf` is already listed at /models/0/file; every file of a repository must be unique, ignoring case
        /models/2/file (b): file `sona/a/Adapter_Model.safetensors` is already listed at /models/1/file; every file of a repository must be unique, ignoring case
        /models/3/extra_files/0/file (c): file `sona/b/config.json` is already listed at /models/2/extra_files/0/file; every file of a repository must be unique, ignoring case
        ");
}

#[test]
fn gguf_files_follow_the_naming_convention() {
    let models = [
        "ruvltra-small-0.5b-q4_k_m.bin",
        "RuvLTRA-Small-0.5B-Q4_K_M.gguf",
        "small-0.5b-q4_k_m.gguf",
    ]
    .iter()
    .enumerate()
    .map(|(n, file)| patched(small(), json!({"id": format!("m{n}"), "file": file})))
    .collect();
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/file (m0): GGUF file name `ruvltra-small-0.5b-q4_k_m.bin` does not follow the naming convention `ruvltra-[variant-]{size}-{quant}.gguf` (e.g. `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`
        /models/1/file (m1): GGUF file name `RuvLTRA-Small-0.5B-Q4_K_M.gguf` does not follow the naming convention `ruvltra-[variant-]{size}-{quant}.gguf` (e.g. `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`
        /models/2/file (m2): GGUF file name `small-0.5b-q4_k_m.gguf` does not follow the naming convention `ruvltra-[variant-]{size}-{quant}.gguf` (e.g. `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`
        ");
}

#[test]
fn gguf_fields_agree_with_the_file_name() {
    let models = vec![
        patched(
            small(),
            json!({"quant": "q8_0", "size": "1.1b", "variant": "medium"}),
        ),
        patched(
            small(),
            json!({"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "variant": "small"}),
        ),
        patched(
            small(),
            json!({"id": "ruvltra-medium-0.5b-q4_k_m", "file": "ruvltra-medium-0.5b-q4_k_m.gguf"}),
        ),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/quant (ruvltra-small-0.5b-q4_k_m): quant `q8_0` disagrees with the file name, which says `q4_k_m`
        /models/0/size (ruvltra-small-0.5b-q4_k_m): size `1.1b` disagrees with the file name, which says `0.5b`
        /models/0/variant (ruvltra-small-0.5b-q4_k_m): the file name says variant `small`; set `variant` to it
        /models/1/variant (ruvltra-0.5b-q4_k_m): variant `small` is not in the file name; remove it or rename the file
        /models/2/variant (ruvltra-medium-0.5b-q4_k_m): the file name says variant `medium`; set `variant` to it
        ");
}

#[test]
fn gguf_id_is_the_file_stem_without_shard_suffix() {
    let models = vec![
        patched(small(), json!({"id": "small"})),
        json!({"id": "ruvltra-3b-q8_0-00001-of-00002", "file": "ruvltra-3b-q8_0-00001-of-00002.gguf",
               "quant": "q8_0", "size": "3b",
               "extra_files": [{"file": "ruvltra-3b-q8_0-00002-of-00002.gguf"}]}),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/id (small): id `small` must be the file stem `ruvltra-small-0.5b-q4_k_m`
        /models/1/id (ruvltra-3b-q8_0-00001-of-00002): id `ruvltra-3b-q8_0-00001-of-00002` must be the file stem `ruvltra-3b-q8_0`
        ");
}

#[test]
fn split_ggufs_start_at_the_first_shard_and_list_the_others() {
    let split = |id: &str, file: &str, extra: Value| json!({"id": id, "file": file, "quant": "q8_0", "size": "3b", "extra_files": extra});
    let models = vec![
        split(
            "ruvltra-3b-q8_0",
            "ruvltra-3b-q8_0-00002-of-00003.gguf",
            json!([{"file": "ruvltra-3b-q8_0-00001-of-00003.gguf"}, {"file": "ruvltra-3b-q8_0-00003-of-00003.gguf"}]),
        ),
        patched(
            split(
                "ruvltra-x-3b-q8_0",
                "d/ruvltra-x-3b-q8_0-00001-of-00003.gguf",
                json!([{"file": "d/ruvltra-x-3b-q8_0-00002-of-00003.gguf"}, {"file": "ruvltra-x-3b-q8_0-00003-of-00003.gguf"}]),
            ),
            json!({"variant": "x"}),
        ),
        // A huge shard count is reported without checking each shard.
        patched(
            split(
                "ruvltra-y-3b-q8_0",
                "ruvltra-y-3b-q8_0-00001-of-99999.gguf",
                json!([]),
            ),
            json!({"variant": "y"}),
        ),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/file (ruvltra-3b-q8_0): `file` of a split GGUF must be its first shard (`-00001-of-00003`); list the other shards in `extra_files`
        /models/0/extra_files (ruvltra-3b-q8_0): shard `ruvltra-3b-q8_0-00002-of-00003.gguf` of the split GGUF is missing from `extra_files`
        /models/1/extra_files (ruvltra-x-3b-q8_0): shard `d/ruvltra-x-3b-q8_0-00003-of-00003.gguf` of the split GGUF is missing from `extra_files`
        /models/2/extra_files (ruvltra-y-3b-q8_0): a split GGUF of 99999 shards needs shards 2 to 99999 in `extra_files`, but only 0 extra files are listed
        ");
}

#[test]
fn quant_labels_are_known_and_lowercase() {
    let models = vec![
        patched(small(), json!({"quant": "Q4_K_M"})),
        json!({"id": "x", "file": "x.bin", "quant": "q4_k_x", "size": "0.5b", "kind": "file"}),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/quant (ruvltra-small-0.5b-q4_k_m): quant `Q4_K_M` must be lowercase: `q4_k_m`
        /models/1/quant (x): unknown quant label `q4_k_x`; use a llama.cpp label such as q4_k_m, q8_0 or f16
        ");
}

#[test]
fn full_precision_kind_goes_with_full_precision_quants() {
    let models = vec![
        json!({"id": "ruvltra-small-0.5b-f16", "file": "ruvltra-small-0.5b-f16.gguf", "quant": "f16",
               "size": "0.5b", "variant": "small"}),
        patched(small(), json!({"kind": "gguf-full-precision"})),
        json!({"id": "ruvltra-small-0.5b-bf16", "file": "ruvltra-small-0.5b-bf16.gguf", "quant": "bf16",
               "size": "0.5b", "variant": "small", "kind": "gguf-full-precision"}),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/kind (ruvltra-small-0.5b-f16): quant f16 is full precision: set `kind` to `gguf-full-precision`
        /models/1/kind (ruvltra-small-0.5b-q4_k_m): kind `gguf-full-precision` needs an f16, bf16 or f32 quant, not q4_k_m; use kind `gguf` for quantised models
        ");
}

#[test]
fn size_and_variant_labels_have_their_form() {
    let models = vec![
        json!({"id": "x", "file": "x.bin", "quant": "f16", "size": "0.5B", "variant": "Small", "kind": "file"}),
        json!({"id": "y", "file": "y.bin", "quant": "f16", "size": "half", "variant": "-small", "kind": "file"}),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/size (x): size `0.5B` is not a parameter label; write digits, an optional fraction and `b` or `m`, lowercase (`0.5b`, `1.1b`, `3b`, `494m`)
        /models/0/variant (x): variant `Small` may only hold lowercase letters, digits and single inner hyphens (`claude-code`)
        /models/1/size (y): size `half` is not a parameter label; write digits, an optional fraction and `b` or `m`, lowercase (`0.5b`, `1.1b`, `3b`, `494m`)
        /models/1/variant (y): variant `-small` may only hold lowercase letters, digits and single inner hyphens (`claude-code`)
        ");
}

#[test]
fn ids_are_lowercase_and_safe() {
    let models = vec![
        json!({"id": "Sona Small", "file": "a.bin", "quant": "f16", "size": "0.5b", "kind": "file"}),
        json!({"id": "", "file": "b.bin", "quant": "f16", "size": "0.5b", "kind": "file"}),
        json!({"id": "-x", "file": "c.bin", "quant": "f16", "size": "0.5b", "kind": "file"}),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/id (Sona Small): id `Sona Small` may only hold lowercase letters, digits, `-`, `.` and `_`, start with a letter or digit and be at most 255 bytes
        /models/1/id: id is empty; use the file stem such as `ruvltra-small-0.5b-q4_k_m`
        /models/2/id (-x): id `-x` may only hold lowercase letters, digits, `-`, `.` and `_`, start with a letter or digit and be at most 255 bytes
        ");
}

#[test]
fn sha256_is_64_lowercase_hex() {
    let upper = SHA.to_uppercase();
    let model = patched(
        small(),
        json!({"sha256": upper, "extra_files": [{"file": "a.json", "sha256": "abc"},
                                                {"file": "b.json", "sha256": format!("{}g", &SHA[1..])}]}),
    );
    assert_snapshot!(check(&registry(vec![model], json!({}))), @r"
        /models/0/sha256 (ruvltra-small-0.5b-q4_k_m): sha256 `9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08` is not 64 lowercase hex digits; leave it out until sync or publish fills it
        /models/0/extra_files/0/sha256 (ruvltra-small-0.5b-q4_k_m): sha256 `abc` is not 64 lowercase hex digits; leave it out until sync or publish fills it
        /models/0/extra_files/1/sha256 (ruvltra-small-0.5b-q4_k_m): sha256 `f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08g` is not 64 lowercase hex digits; leave it out until sync or publish fills it
        ");
}

#[test]
fn sizes_and_counts_are_positive() {
    let model = patched(
        small(),
        json!({"bytes": 0, "parameters": 0, "context_length": 0,
               "hardware": {"min_ram_mib": 0, "recommended_ram_mib": 0, "min_vram_mib": 0},
               "extra_files": [{"file": "a.json", "bytes": 0}]}),
    );
    assert_snapshot!(check(&registry(vec![model], json!({}))), @r"
        /models/0/bytes (ruvltra-small-0.5b-q4_k_m): bytes must be positive; leave it out until sync or publish fills it
        /models/0/extra_files/0/bytes (ruvltra-small-0.5b-q4_k_m): bytes must be positive; leave it out until sync or publish fills it
        /models/0/parameters (ruvltra-small-0.5b-q4_k_m): must be positive; leave it out when unknown
        /models/0/context_length (ruvltra-small-0.5b-q4_k_m): must be positive; leave it out when unknown
        /models/0/hardware/min_ram_mib (ruvltra-small-0.5b-q4_k_m): must be positive; leave it out when unknown
        /models/0/hardware/recommended_ram_mib (ruvltra-small-0.5b-q4_k_m): must be positive; leave it out when unknown
        /models/0/hardware/min_vram_mib (ruvltra-small-0.5b-q4_k_m): must be positive; leave it out when unknown
        ");
}

#[test]
fn negative_sizes_do_not_even_parse() {
    let err = parse(&one_model(json!({"bytes": -5}))).unwrap_err();
    assert_snapshot!(err, @"line 4, column 17: invalid value: integer `-5`, expected u64");
}

#[test]
fn minimum_ram_is_at_most_the_recommended_ram() {
    let model = patched(
        small(),
        json!({"hardware": {"min_ram_mib": 4096, "recommended_ram_mib": 2048}}),
    );
    assert_snapshot!(check(&registry(vec![model], json!({}))), @"/models/0/hardware/min_ram_mib (ruvltra-small-0.5b-q4_k_m): min_ram_mib 4096 exceeds recommended_ram_mib 2048; swap or fix them");
}

#[test]
fn fallback_urls_are_https_parsed_properly() {
    let model = patched(
        small(),
        json!({"fallback_urls": [
            "http://example.org/a.gguf",
            "ftp://example.org/a.gguf",
            "example.org/a.gguf",
            "https://user:secret@example.org/a.gguf",
            // A string-prefix check would take these for loopback.
            "http://127.0.0.1.example.org/a.gguf",
            "http://localhost@example.org/a.gguf",
            "https:///a.gguf",
            "file:///etc/passwd",
            "https://example.org/b.gguf",
            "https://example.org/b.gguf",
            "HTTPS://EXAMPLE.ORG/c.gguf",
            "http://[::1]:9/a.gguf",
            "https://example.org",
            "https://example.org/a b.gguf",
            "https://example.org\\a.gguf"
        ]}),
    );
    assert_snapshot!(check(&registry(vec![model], json!({}))), @r"
        /models/0/fallback_urls/0 (ruvltra-small-0.5b-q4_k_m): fallback URL `http://example.org/a.gguf` uses plain http; use https (http is only allowed for loopback hosts)
        /models/0/fallback_urls/1 (ruvltra-small-0.5b-q4_k_m): fallback URL `ftp://example.org/a.gguf` uses the scheme `ftp`; use https
        /models/0/fallback_urls/2 (ruvltra-small-0.5b-q4_k_m): fallback URL `example.org/a.gguf` is not a URL (relative URL without a base); write an absolute https URL
        /models/0/fallback_urls/3 (ruvltra-small-0.5b-q4_k_m): fallback URL `https://user:secret@example.org/a.gguf` carries credentials; never put secrets in the registry
        /models/0/fallback_urls/4 (ruvltra-small-0.5b-q4_k_m): fallback URL `http://127.0.0.1.example.org/a.gguf` uses plain http; use https (http is only allowed for loopback hosts)
        /models/0/fallback_urls/5 (ruvltra-small-0.5b-q4_k_m): fallback URL `http://localhost@example.org/a.gguf` carries credentials; never put secrets in the registry
        /models/0/fallback_urls/6 (ruvltra-small-0.5b-q4_k_m): fallback URL `https:///a.gguf` is not in normal form; write it as `https://a.gguf/`
        /models/0/fallback_urls/7 (ruvltra-small-0.5b-q4_k_m): fallback URL `file:///etc/passwd` has no host; write an absolute https URL
        /models/0/fallback_urls/9 (ruvltra-small-0.5b-q4_k_m): fallback URL `https://example.org/b.gguf` is listed twice
        /models/0/fallback_urls/10 (ruvltra-small-0.5b-q4_k_m): fallback URL `HTTPS://EXAMPLE.ORG/c.gguf` is not in normal form; write it as `https://example.org/c.gguf`
        /models/0/fallback_urls/12 (ruvltra-small-0.5b-q4_k_m): fallback URL `https://example.org` is not in normal form; write it as `https://example.org/`
        /models/0/fallback_urls/13 (ruvltra-small-0.5b-q4_k_m): fallback URL `https://example.org/a b.gguf` is not in normal form; write it as `https://example.org/a%20b.gguf`
        /models/0/fallback_urls/14 (ruvltra-small-0.5b-q4_k_m): fallback URL `https://example.org\\a.gguf` is not in normal form; write it as `https://example.org/a.gguf`
        ");
}

#[test]
fn file_names_are_path_safe() {
    let long_segment = format!("a/{}.bin", "b".repeat(252));
    let long_path = format!("{}c.bin", "abcdefg/".repeat(128));
    let files = [
        "../evil.bin",
        "sona/../../evil.bin",
        "/etc/passwd",
        "sona\\evil.bin",
        "C:evil.bin",
        "c:/evil.bin",
        "evil\0.bin",
        "evil\n.bin",
        "evil\u{7f}.bin",
        "sona//evil.bin",
        "sona/",
        "./evil.bin",
        "",
        long_segment.as_str(),
        long_path.as_str(),
        // Allowed: folders, dots inside names, non-ASCII letters.
        "sona/v1.2/adapter..model.safetensors",
        "docs/überblick.md",
    ];
    let models = files
        .iter()
        .enumerate()
        .map(|(n, file)| json!({"id": format!("f{n}"), "file": file, "quant": "f16", "size": "0.5b", "kind": "file"}))
        .collect();
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/0/file (f0): file `../evil.bin` has a `..` segment, which would leave the repository
        /models/1/file (f1): file `sona/../../evil.bin` has a `..` segment, which would leave the repository
        /models/2/file (f2): file `/etc/passwd` is absolute; paths are relative to the repository root
        /models/3/file (f3): file `sona\\evil.bin` contains a backslash; separate folders with `/`
        /models/4/file (f4): file `C:evil.bin` starts with a drive letter; paths are relative to the repository root
        /models/5/file (f5): file `c:/evil.bin` starts with a drive letter; paths are relative to the repository root
        /models/6/file (f6): file `evil\0.bin` contains a NUL byte
        /models/7/file (f7): file `evil\n.bin` contains a control character
        /models/8/file (f8): file `evil\u{7f}.bin` contains a control character
        /models/9/file (f9): file `sona//evil.bin` has an empty segment (`//` or a trailing `/`)
        /models/10/file (f10): file `sona/` has an empty segment (`//` or a trailing `/`)
        /models/11/file (f11): file `./evil.bin` has a `.` segment
        /models/12/file (f12): file `` is empty
        /models/13/file (f13): file `a/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…` has a segment longer than 255 bytes
        /models/14/file (f14): file `abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/abcdefg/…` is longer than 1024 bytes
        ");
}

#[test]
fn gguf_file_paths_are_path_safe_too() {
    let model = patched(
        small(),
        json!({"file": "../ruvltra-small-0.5b-q4_k_m.gguf"}),
    );
    assert_snapshot!(check(&registry(vec![model], json!({}))), @"/models/0/file (ruvltra-small-0.5b-q4_k_m): file `../ruvltra-small-0.5b-q4_k_m.gguf` has a `..` segment, which would leave the repository");
}

#[test]
fn adapters_name_an_existing_gguf_base() {
    let adapter = |id: &str, base: Value| {
        json!({"id": id, "file": format!("sona/{id}/adapter_model.safetensors"), "quant": "f16",
               "size": "0.5b", "kind": "adapter", "base": base})
    };
    let models = vec![
        small(),
        adapter("no-base", Value::Null),
        adapter("unknown-base", json!("ruvltra-small-0.5b-q5_k_m")),
        adapter("adapter-base", json!("no-base")),
        json!({"id": "card", "file": "README.md", "quant": "f16", "size": "0.5b", "kind": "file"}),
        adapter("file-base", json!("card")),
        patched(
            small(),
            json!({"id": "ruvltra-small-0.5b-q8_0", "file": "ruvltra-small-0.5b-q8_0.gguf", "quant": "q8_0",
                   "base": "ruvltra-small-0.5b-q4_k_m"}),
        ),
    ];
    assert_snapshot!(check(&registry(models, json!({}))), @r"
        /models/1/base (no-base): an adapter must name the id of the model it applies to in `base`
        /models/2/base (unknown-base): base `ruvltra-small-0.5b-q5_k_m` is not the id of any model in this registry; add that model or fix the id
        /models/3/base (adapter-base): base `no-base` (/models/1) is of kind `adapter`; an adapter's base must be a GGUF model
        /models/5/base (file-base): base `card` (/models/4) is of kind `file`; an adapter's base must be a GGUF model
        /models/6/base (ruvltra-small-0.5b-q8_0): only adapters have `base`, this is of kind `gguf`; use `base_model` for the upstream Hub model
        ");
}

#[test]
fn hub_state_has_a_commit_id_and_a_time() {
    let model = patched(
        small(),
        json!({"hub": {"commit": "0123456789ABCDEF0123456789abcdef01234567", "synced_at": "yesterday"}}),
    );
    let short = patched(
        small(),
        json!({"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "variant": null,
               "hub": {"commit": "main", "synced_at": "2026-13-01T00:00:00Z"}}),
    );
    assert_snapshot!(check(&registry(vec![model, short], json!({}))), @r"
        /models/0/hub/commit (ruvltra-small-0.5b-q4_k_m): commit `0123456789ABCDEF0123456789abcdef01234567` is not a 40-hex lowercase git commit id; run `cargo xtask sync` to refresh it
        /models/0/hub/synced_at (ruvltra-small-0.5b-q4_k_m): synced_at `yesterday` is not an RFC 3339 time such as `2026-01-20T12:00:00Z`
        /models/1/hub/commit (ruvltra-0.5b-q4_k_m): commit `main` is not a 40-hex lowercase git commit id; run `cargo xtask sync` to refresh it
        /models/1/hub/synced_at (ruvltra-0.5b-q4_k_m): synced_at `2026-13-01T00:00:00Z` is not an RFC 3339 time such as `2026-01-20T12:00:00Z`
        ");
}

#[test]
fn descriptive_fields_are_well_formed() {
    let model = patched(
        small(),
        json!({"name": " ", "description": "", "architecture": "Qwen 2", "license": "Apache 2.0",
               "languages": ["english", "EN"], "tags": ["", "a\nb"],
               "hardware": {"accelerators": ["Metal"]},
               "benchmarks": [{"name": "", "value": 1.0, "unit": ""}]}),
    );
    let top =
        json!({"catalog": {"title": "", "license": "MIT", "languages": ["e"], "tags": ["\t"]}});
    assert_snapshot!(check(&registry(vec![model], top)), @r"
        /catalog/title: is empty; fill it or leave the key out
        /catalog/license: license `MIT` is not a Hub licence id such as `apache-2.0` (lowercase letters, digits, `-`, `.`)
        /catalog/languages/0: language `e` is not an ISO 639 code such as `en` (two or three lowercase letters)
        /catalog/tags/0: tag `\t` must be non-empty text without control characters
        /models/0/name (ruvltra-small-0.5b-q4_k_m): is empty; fill it or leave the key out
        /models/0/description (ruvltra-small-0.5b-q4_k_m): is empty; fill it or leave the key out
        /models/0/architecture (ruvltra-small-0.5b-q4_k_m): architecture `Qwen 2` is not a GGUF `general.architecture` value such as `qwen2` (lowercase letters, digits, `_`, `-`, `.`)
        /models/0/license (ruvltra-small-0.5b-q4_k_m): license `Apache 2.0` is not a Hub licence id such as `apache-2.0` (lowercase letters, digits, `-`, `.`)
        /models/0/languages/0 (ruvltra-small-0.5b-q4_k_m): language `english` is not an ISO 639 code such as `en` (two or three lowercase letters)
        /models/0/languages/1 (ruvltra-small-0.5b-q4_k_m): language `EN` is not an ISO 639 code such as `en` (two or three lowercase letters)
        /models/0/tags/0 (ruvltra-small-0.5b-q4_k_m): tag `` must be non-empty text without control characters
        /models/0/tags/1 (ruvltra-small-0.5b-q4_k_m): tag `a\nb` must be non-empty text without control characters
        /models/0/hardware/accelerators/0 (ruvltra-small-0.5b-q4_k_m): accelerator `Metal` must be a lowercase name such as `cpu`, `metal`, `ane` or `cuda`
        /models/0/benchmarks/0/name (ruvltra-small-0.5b-q4_k_m): is empty; fill it or leave the key out
        /models/0/benchmarks/0/unit (ruvltra-small-0.5b-q4_k_m): is empty; fill it or leave the key out
        ");
}

#[test]
fn misspelt_keys_are_reported_and_custom_keys_kept() {
    let model = patched(
        small(),
        json!({"sha265": SHA, "Bytes": 1, "base-model": "Qwen/Qwen2.5-0.5B-Instruct",
               "x_sha265": "custom keys start with x_", "notes": "an unknown key unlike any known one",
               "hardware": {"min_ram": 1}, "hub": {"commit": "0123456789abcdef0123456789abcdef01234567",
               "synced_at": "2026-01-20T12:00:00Z", "comit": "x"},
               "extra_files": [{"file": "a.json", "sha_256": SHA}],
               "benchmarks": [{"name": "n", "value": 1, "units": "%"}]}),
    );
    let top = json!({"revison": "v1", "catalog": {"titel": "RuvLTRA", "tag/s": ["x"]}});
    assert_snapshot!(check(&registry(vec![model], top)), @r"
        /revison: unknown key `revison` looks like a misspelling of `revision`; fix it, or start custom keys with `x_`
        /catalog/tag~1s: unknown key `tag/s` looks like a misspelling of `tags`; fix it, or start custom keys with `x_`
        /catalog/titel: unknown key `titel` looks like a misspelling of `title`; fix it, or start custom keys with `x_`
        /models/0/extra_files/0/sha_256 (ruvltra-small-0.5b-q4_k_m): unknown key `sha_256` looks like a misspelling of `sha256`; fix it, or start custom keys with `x_`
        /models/0/benchmarks/0/units (ruvltra-small-0.5b-q4_k_m): unknown key `units` looks like a misspelling of `unit`; fix it, or start custom keys with `x_`
        /models/0/hub/comit (ruvltra-small-0.5b-q4_k_m): unknown key `comit` looks like a misspelling of `commit`; fix it, or start custom keys with `x_`
        /models/0/Bytes (ruvltra-small-0.5b-q4_k_m): unknown key `Bytes` looks like a misspelling of `bytes`; fix it, or start custom keys with `x_`
        /models/0/base-model (ruvltra-small-0.5b-q4_k_m): unknown key `base-model` looks like a misspelling of `base_model`; fix it, or start custom keys with `x_`
        /models/0/sha265 (ruvltra-small-0.5b-q4_k_m): unknown key `sha265` looks like a misspelling of `sha256`; fix it, or start custom keys with `x_`
        ");
}

#[test]
fn every_problem_is_reported_at_once() {
    let models = vec![
        patched(small(), json!({"sha256": "nope", "bytes": 0})),
        json!({"id": "x", "file": "../x", "quant": "Q8", "size": "big", "kind": "adapter"}),
    ];
    let text = check(&registry(
        models,
        json!({"schema_version": 9, "repo": "ruvltra"}),
    ));
    assert_snapshot!(text, @r"
        /schema_version: unsupported schema_version 9: this tool reads version 1; use a matching tool or convert the file
        /repo: `ruvltra` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
        /models/0/bytes (ruvltra-small-0.5b-q4_k_m): bytes must be positive; leave it out until sync or publish fills it
        /models/0/sha256 (ruvltra-small-0.5b-q4_k_m): sha256 `nope` is not 64 lowercase hex digits; leave it out until sync or publish fills it
        /models/1/file (x): file `../x` has a `..` segment, which would leave the repository
        /models/1/quant (x): unknown quant label `Q8`; use a llama.cpp label such as q4_k_m, q8_0 or f16
        /models/1/size (x): size `big` is not a parameter label; write digits, an optional fraction and `b` or `m`, lowercase (`0.5b`, `1.1b`, `3b`, `494m`)
        /models/1/base (x): an adapter must name the id of the model it applies to in `base`
        ");
}

#[test]
fn problems_carry_the_model_id_and_json_pointer() {
    let registry = parse(&one_model(json!({"sha256": "x"}))).unwrap();
    let Problems(problems) = validate(&registry).unwrap_err();
    assert_eq!(
        problems,
        vec![Problem {
            model_id: Some("ruvltra-small-0.5b-q4_k_m".to_owned()),
            path: "/models/0/sha256".to_owned(),
            message: problems[0].message.clone(),
        }]
    );
    assert!(
        problems[0]
            .message
            .starts_with("sha256 `x` is not 64 lowercase hex digits")
    );
}

#[test]
fn long_hostile_values_are_cut_short_in_messages() {
    let text = check(&one_model(
        json!({"quant": format!("\u{1b}[31m{}", "x".repeat(200))}),
    ));
    assert_snapshot!(text, @r"/models/0/quant (ruvltra-small-0.5b-q4_k_m): unknown quant label `\u{1b}[31mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…`; use a llama.cpp label such as q4_k_m, q8_0 or f16");
}

/// A hundred thousand models validate in linear time; quadratic checks would not finish.
/// (The speed itself is benchmarked, not asserted.)
#[test]
fn a_huge_registry_validates() {
    const COUNT: usize = 100_000;
    let template = parse(&one_model(json!({"sha256": SHA, "bytes": 1}))).unwrap();
    let mut registry = template.clone();
    registry.models = (0..COUNT)
        .map(|n| {
            let mut model = template.models[0].clone();
            let variant = format!("v{n}");
            model.id = format!("ruvltra-{variant}-0.5b-q4_k_m");
            model.file = format!("{}.gguf", model.id);
            model.variant = Some(variant);
            model
        })
        .collect();
    assert_eq!(validate(&registry), Ok(()));

    // All duplicates: one problem per repeated id and one per repeated file.
    for model in &mut registry.models {
        *model = template.models[0].clone();
    }
    let Problems(problems) = validate(&registry).unwrap_err();
    assert_eq!(problems.len(), 2 * (COUNT - 1));
}

#[test]
fn licences_the_hub_would_refuse_are_problems() {
    let refused = patched(small(), json!({"license": "qwen-research"}));
    let other = patched(
        small(),
        json!({"id": "ruvltra-medium-1.1b-q4_k_m", "file": "ruvltra-medium-1.1b-q4_k_m.gguf",
               "size": "1.1b", "variant": "medium", "license": "other",
               "license_name": "qwen-research",
               "license_link": "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/LICENSE"}),
    );
    let top = json!({"catalog": {"license": "ruvltra-community"}});
    assert_snapshot!(check(&registry(vec![refused, other], top)), @r"
        /catalog/license: license `ruvltra-community` is not one of the Hub's licence ids (such as `apache-2.0`, `mit`, `llama3.1`) and the Hub would refuse the card; set `license` to `other` and give the catalog `license_name` (a lowercase slug) and `license_link` (the licence's URL), which the card writes
        /models/0/license (ruvltra-small-0.5b-q4_k_m): license `qwen-research` is not one of the Hub's licence ids (such as `apache-2.0`, `mit`, `llama3.1`) and the Hub would refuse the card; set `license` to `other` and give the model `license_name` (a lowercase slug) and `license_link` (the licence's URL), which the card writes
        ");
    let fine = json!({"catalog": {"license": "llama3.1"}});
    assert_eq!(check(&registry(vec![small()], fine)), "valid");
}
