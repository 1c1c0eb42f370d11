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
