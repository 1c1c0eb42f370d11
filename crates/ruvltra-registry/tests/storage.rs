//! Parsing with positions, the canonical form and its byte-identical round trip, unknown
//! keys at every level, and `load`'s errors naming the file.

use std::fs;
use std::path::Path;

use insta::assert_snapshot;
use ruvltra_registry::{LoadError, ParseError, load, parse, save, to_canonical_json};

/// A canonical registry using every level of the format, with unknown keys at each level.
const CANONICAL: &str = include_str!("fixtures/canonical.json");

#[test]
fn a_canonical_file_round_trips_byte_for_byte() {
    let registry = parse(CANONICAL).unwrap();
    assert_eq!(to_canonical_json(&registry), CANONICAL);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.json");
    fs::write(&path, CANONICAL).unwrap();
    let loaded = load(&path).unwrap();
    save(&path, &loaded).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), CANONICAL);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["registry.json"],
        "save leaves no temporary file behind"
    );
}

#[test]
fn unknown_keys_survive_at_every_level() {
    let registry = parse(CANONICAL).unwrap();
    let model = &registry.models[0];
    let keys = |map: &std::collections::BTreeMap<String, serde_json::Value>| {
        map.keys().cloned().collect::<Vec<_>>().join(",")
    };
    assert_eq!(keys(&registry.extra), "$schema,x_top");
    assert_eq!(keys(&registry.catalog.extra), "x_catalog");
    assert_eq!(keys(&model.extra), "x_model");
    assert_eq!(keys(&model.extra_files[0].extra), "x_extra_file");
    assert_eq!(keys(&model.hardware.as_ref().unwrap().extra), "x_hardware");
    assert_eq!(keys(&model.benchmarks[0].extra), "x_benchmark");
    assert_eq!(keys(&model.hub.as_ref().unwrap().extra), "x_hub");
    // Nested values of unknown keys are kept whole, too.
    assert_eq!(
        model.extra["x_model"],
        serde_json::json!({"nested": [1, 2.5, null, true, "text"]})
    );
    let saved = to_canonical_json(&registry);
    for key in [
        "x_top",
        "x_catalog",
        "x_model",
        "x_extra_file",
        "x_hardware",
        "x_benchmark",
        "x_hub",
    ] {
        assert!(saved.contains(&format!("\"{key}\"")), "{key} was dropped");
    }
}

#[test]
fn any_file_becomes_canonical_and_stays_so() {
    // Keys out of order, odd spacing, a byte order mark, and an unknown key before the known ones.
    let messy = "\u{feff}{\"models\":[{\"size\":\"0.5b\",\"quant\":\"q4_k_m\",\"zzz\":1,\"file\":\"ruvltra-0.5b-q4_k_m.gguf\",\
                 \"id\":\"ruvltra-0.5b-q4_k_m\",\"kind\":\"gguf\",\"status\":\"published\",\"needs_review\":false}],\
                 \"aaa\":{\"b\":1,\"a\":2},\"revision\":\"main\",\"repo\":\"ruv/ruvltra\",\"schema_version\":1,\
                 \"$schema\":\"./registry.schema.json\"}";
    let canonical = to_canonical_json(&parse(messy).unwrap());
    assert_snapshot!(canonical, @r#"
        {
          "$schema": "./registry.schema.json",
          "schema_version": 1,
          "repo": "ruv/ruvltra",
          "revision": "main",
          "models": [
            {
              "id": "ruvltra-0.5b-q4_k_m",
              "file": "ruvltra-0.5b-q4_k_m.gguf",
              "quant": "q4_k_m",
              "size": "0.5b",
              "zzz": 1
            }
          ],
          "aaa": {
            "a": 2,
            "b": 1
          }
        }
        "#);
    assert_eq!(to_canonical_json(&parse(&canonical).unwrap()), canonical);
}

#[test]
fn malformed_json_reports_line_and_column() {
    let text =
        "{\n  \"schema_version\": 1,\n  \"repo\": \"ruv/ruvltra\"\n  \"revision\": \"main\"\n}\n";
    let err = parse(text).unwrap_err();
    assert_eq!((err.line, err.column), (4, 3));
    assert_snapshot!(err, @"line 4, column 3: expected `,` or `}`");
}

#[test]
fn truncated_json_reports_where_it_ends() {
    let err = parse("{\n  \"models\": [\n").unwrap_err();
    assert_snapshot!(err, @"line 3, column 1: EOF while parsing a list");
}

#[test]
fn wrong_types_and_missing_keys_report_a_position() {
    let err = parse(
        "{\"schema_version\": \"one\", \"repo\": \"r/r\", \"revision\": \"main\", \"models\": []}",
    )
    .unwrap_err();
    assert_snapshot!(err, @r#"line 1, column 24: invalid type: string "one", expected u32"#);
    let err = parse("{\n  \"schema_version\": 1,\n  \"repo\": \"r/r\",\n  \"models\": []\n}")
        .unwrap_err();
    assert_snapshot!(err, @"line 5, column 1: missing field `revision`");
    let err = parse("{\"schema_version\": 1, \"repo\": \"r/r\", \"revision\": \"main\",\n\"models\": [{\"id\": \"a\"}]}")
        .unwrap_err();
    assert_snapshot!(err, @"line 2, column 22: missing field `file`");
}

#[test]
fn invalid_utf8_and_deep_nesting_are_errors_not_panics() {
    let err = ruvltra_registry::parse_bytes(b"{\"repo\": \"\xff\"}").unwrap_err();
    assert_snapshot!(err, @"line 1, column 11: invalid unicode code point");
    let deep = format!("{{\"x\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let err = parse(&deep).unwrap_err();
    assert_snapshot!(err, @"line 1, column 133: recursion limit exceeded");
}

#[test]
fn parse_error_fields_and_display_agree() {
    let err = parse("[").unwrap_err();
    assert_eq!(
        err,
        ParseError {
            line: 1,
            column: 1,
            message: err.message.clone()
        }
    );
    assert_eq!(
        err.to_string(),
        format!("line 1, column 1: {}", err.message)
    );
}

/// Replaces the temporary directory in messages so snapshots are stable.
fn redact(text: String, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let err = load(&missing).unwrap_err();
    assert!(matches!(err, LoadError::Read { .. }));
    assert_snapshot!(redact(err.to_string(), dir.path()), @"cannot read registry [DIR]/missing.json: No such file or directory (os error 2) (check that the file exists and is readable)");

    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{\n  \"schema_version\": 1,,\n}").unwrap();
    let err = load(&broken).unwrap_err();
    assert!(matches!(err, LoadError::Parse { .. }));
    assert_snapshot!(redact(err.to_string(), dir.path()), @"malformed registry [DIR]/broken.json at line 2, column 23: key must be a string (fix the JSON at that position)");

    let invalid = dir.path().join("invalid.json");
    fs::write(
        &invalid,
        r#"{"schema_version": 1, "repo": "ruv", "revision": "main", "models": [
             {"id": "x", "file": "x.gguf", "quant": "q4_k_m", "size": "0.5b"}]}"#,
    )
    .unwrap();
    let err = load(&invalid).unwrap_err();
    let LoadError::Invalid { problems, .. } = &err else {
        panic!("expected Invalid, got {err}");
    };
    assert_eq!(problems.0.len(), 2);
    assert_snapshot!(redact(err.to_string(), dir.path()), @r"
        registry [DIR]/invalid.json has 2 problems; fix them:
        /repo: `ruv` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
        /models/0/file (x): GGUF file name `x.gguf` does not follow the naming convention `ruvltra-[variant-]{size}-{quant}.gguf` (e.g. `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`
        ");
}

/// Loads `json` from a temporary file; returns the error and its message with the temporary
/// directory shown as `[DIR]`.
fn load_error(json: &str) -> (LoadError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    fs::write(&path, json).unwrap();
    let err = load(&path).unwrap_err();
    let shown = redact(err.to_string(), dir.path());
    (err, shown)
}

/// A value of the wrong type is a problem of its model, listed with its id and JSON path next
/// to every other problem, never a stop at the first one.
#[test]
fn wrong_types_are_problems_of_their_models_listed_with_the_others() {
    let (err, shown) = load_error(
        r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": [
          {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
           "size": "0.5b", "bytes": -5},
          {"id": "ruvltra-0.5b-q8_0", "file": "ruvltra-0.5b-q8_0.gguf", "quant": "q8_0",
           "size": "0.5b", "bytes": "12", "sha256": "ABC", "status": "live",
           "tags": ["ok", 7], "hardware": {"min_ram_mib": true}},
          {"id": "ruvltra-0.5b-f16", "quant": "f16", "size": "0.5b",
           "kind": "gguf-full-precision", "extra_files": [{"file": 3}]},
          {"id": "ruvltra-0.5b-q6_k", "file": "ruvltra-0.5b-q6_k.gguf", "quant": "q6_k",
           "size": 6}
        ]}"#,
    );
    let LoadError::Invalid { problems, .. } = &err else {
        panic!("expected Invalid, got {err}");
    };
    assert!(problems.0.iter().all(|p| p.model_id.is_some()), "{err}");
    assert_snapshot!(shown, @r#"
        registry [DIR]/r.json has 9 problems; fix them:
        /models/0/bytes (ruvltra-0.5b-q4_k_m): invalid value: integer `-5`, expected u64; fix the value (registry.schema.json says what each key takes)
        /models/1/bytes (ruvltra-0.5b-q8_0): invalid type: string "12", expected u64; fix the value (registry.schema.json says what each key takes)
        /models/1/hardware/min_ram_mib (ruvltra-0.5b-q8_0): invalid type: boolean `true`, expected u64; fix the value (registry.schema.json says what each key takes)
        /models/1/status (ruvltra-0.5b-q8_0): unknown variant `live`, expected one of `published`, `planned`, `deprecated`; fix the value (registry.schema.json says what each key takes)
        /models/1/tags/1 (ruvltra-0.5b-q8_0): invalid type: integer `7`, expected a string; fix the value (registry.schema.json says what each key takes)
        /models/1/sha256 (ruvltra-0.5b-q8_0): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it
        /models/2/extra_files/0/file (ruvltra-0.5b-f16): invalid type: integer `3`, expected a string; fix the value (registry.schema.json says what each key takes)
        /models/2/file (ruvltra-0.5b-f16): required key `file` is missing; add it (registry.schema.json says what it takes)
        /models/3/size (ruvltra-0.5b-q6_k): invalid type: integer `6`, expected a string; fix the value (registry.schema.json says what each key takes)
    "#);
}

#[test]
fn wrong_types_at_the_catalog_level_name_no_model() {
    let (_, shown) = load_error(
        r#"{"schema_version": "1", "repo": 5, "revision": "main", "catalog": {"tags": "x"},
            "models": {"id": "a"}}"#,
    );
    assert_snapshot!(shown, @r#"
        registry [DIR]/r.json has 4 problems; fix them:
        /catalog/tags: invalid type: string "x", expected a sequence; fix the value (registry.schema.json says what each key takes)
        /repo: invalid type: integer `5`, expected a string; fix the value (registry.schema.json says what each key takes)
        /schema_version: invalid type: string "1", expected u32; fix the value (registry.schema.json says what each key takes)
        /models: invalid type: map, expected a sequence; fix the value (registry.schema.json says what each key takes)
    "#);
    let (_, shown) =
        load_error(r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main"}"#);
    assert_snapshot!(shown, @r#"
        registry [DIR]/r.json has 1 problem; fix them:
        /models: required key `models` is missing; add it (registry.schema.json says what it takes)
    "#);
}

/// A JSON tree keeps one of two equal keys; the strict reader still reports the second.
#[test]
fn a_key_given_twice_is_a_problem_of_its_model() {
    let (_, shown) = load_error(
        r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": [
          {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
           "size": "0.5b", "bytes": 5, "bytes": 6}]}"#,
    );
    assert_snapshot!(shown, @r#"
        registry [DIR]/r.json has 1 problem; fix them:
        /models/0/bytes (ruvltra-0.5b-q4_k_m): key `bytes` is given twice; keep one
    "#);
}

/// Exit code 2 stays for files that are not JSON or not a JSON object at all.
#[test]
fn a_file_that_is_no_json_object_is_still_malformed() {
    for text in ["[1, 2]", "5", "{\"models\": [}"] {
        let (err, shown) = load_error(text);
        assert!(matches!(err, LoadError::Parse { .. }), "{text}: {shown}");
    }
}

/// A model with a hostile number of wrong values is read a bounded number of times.
#[test]
fn many_wrong_values_stay_cheap() {
    let tags: Vec<String> = (0..5_000).map(|n| n.to_string()).collect();
    let json = format!(
        r#"{{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": [
          {{"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
           "size": "0.5b", "tags": [{}]}}]}}"#,
        tags.join(",")
    );
    let started = std::time::Instant::now();
    let (err, _) = load_error(&json);
    let LoadError::Invalid { problems, .. } = &err else {
        panic!("expected Invalid, got {err}");
    };
    assert!(problems.0.len() <= 256, "{}", problems.0.len());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
