//! `cargo xtask validate` as a user sees it: its output and its three exit codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `xtask validate` with `args`; returns the exit code, stdout and stderr, with the
/// scratch directory shown as `[DIR]`.
fn validate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let redact = |bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .unwrap()
            .replace(&dir.display().to_string(), "[DIR]")
    };
    (
        output.status.code().unwrap(),
        redact(output.stdout),
        redact(output.stderr),
    )
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("xtask-validate")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn the_checked_in_registry_is_valid() {
    let (code, stdout, stderr) = validate(&workspace_root(), &[]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (0, "valid: 9 models\n", "")
    );
}

#[test]
fn problems_are_all_listed_with_exit_code_1() {
    let dir = scratch("invalid");
    fs::write(
        dir.join("registry.json"),
        r#"{"schema_version": 1, "repo": "ruv", "revision": "main", "models": [
             {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
              "size": "0.5b", "sha256": "ABC"}]}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = validate(&dir, &[]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "/repo: `ruv` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)\n\
         /models/0/sha256 (ruvltra-0.5b-q4_k_m): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it\n\
         registry.json: 2 problems; fix them and run `cargo xtask validate` again\n"
    );
}

/// A value of the wrong type is a problem of its model, listed with the id and JSON path next to
/// the other problems (exit 1), not a malformed file (exit 2).
#[test]
fn wrong_types_are_listed_with_their_models_and_exit_code_1() {
    let dir = scratch("wrong-types");
    fs::write(
        dir.join("registry.json"),
        r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": [
             {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
              "size": "0.5b", "bytes": -5},
             {"id": "ruvltra-0.5b-q8_0", "file": "ruvltra-0.5b-q8_0.gguf", "quant": "q8_0",
              "size": "0.5b", "bytes": "12", "sha256": "ABC"}]}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = validate(&dir, &[]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "/models/0/bytes (ruvltra-0.5b-q4_k_m): invalid value: integer `-5`, expected u64; fix the value (registry.schema.json says what each key takes)\n\
         /models/1/bytes (ruvltra-0.5b-q8_0): invalid type: string \"12\", expected u64; fix the value (registry.schema.json says what each key takes)\n\
         /models/1/sha256 (ruvltra-0.5b-q8_0): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it\n\
         registry.json: 3 problems; fix them and run `cargo xtask validate` again\n"
    );
}

#[test]
fn an_unreadable_file_exits_with_2() {
    let dir = scratch("unreadable");
    let (code, stdout, stderr) = validate(&dir, &["--registry", "missing.json"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with("error: cannot read registry missing.json: "),
        "{stderr}"
    );
}

#[test]
fn malformed_json_exits_with_2_naming_line_and_column() {
    let dir = scratch("malformed");
    fs::write(
        dir.join("r.json"),
        "{\n  \"schema_version\": 1\n  \"repo\": \"ruv/ruvltra\"\n}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = validate(&dir, &["--registry", "r.json"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: malformed registry r.json at line 3, column 3: expected `,` or `}` (fix the JSON at that position)\n"
    );
}

#[test]
fn write_schema_writes_the_schema_next_to_the_registry() {
    let dir = scratch("schema");
    fs::copy(
        workspace_root().join("registry.json"),
        dir.join("registry.json"),
    )
    .unwrap();
    let (code, stdout, _) = validate(&dir, &["--write-schema"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "wrote registry.schema.json\nvalid: 9 models\n")
    );
    let written = fs::read_to_string(dir.join("registry.schema.json")).unwrap();
    assert_eq!(
        written,
        fs::read_to_string(workspace_root().join("registry.schema.json")).unwrap()
    );

    let (code, stdout, _) = validate(&dir, &["--write-schema"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "registry.schema.json is up to date\nvalid: 9 models\n")
    );
}
