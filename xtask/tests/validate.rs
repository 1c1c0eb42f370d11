//! `cargo xtask validate` as a user sees it: its output and its three exit codes.

mod support;

use std::fs;

use support::{filters, xtask};
use test_support::{cli_snapshot, scratch_dir, workspace_root};

#[test]
fn the_checked_in_registry_is_valid() {
    let root = workspace_root();
    cli_snapshot!(filters(&root), xtask(&root).arg("validate"), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    valid: 9 models
    ----- stderr -----
    ");
}

#[test]
fn problems_are_all_listed_with_exit_code_1() {
    let dir = scratch_dir!("xtask-validate/invalid");
    fs::write(
        dir.join("registry.json"),
        r#"{"schema_version": 1, "repo": "ruv", "revision": "main", "models": [
             {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
              "size": "0.5b", "sha256": "ABC"}]}"#,
    )
    .unwrap();
    cli_snapshot!(filters(&dir), xtask(&dir).arg("validate"), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    /repo: `ruv` is not a Hub repo id: it has no namespace (expected `namespace/name` such as `ruv/ruvltra`)
    /models/0/sha256 (ruvltra-0.5b-q4_k_m): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it
    registry.json: 2 problems; fix them and run `cargo xtask validate` again
    ");
}

/// A licence the Hub would refuse in the card is a problem, with what to write instead.
#[test]
fn a_licence_the_hub_does_not_know_is_a_problem() {
    let dir = scratch_dir!("xtask-validate/licence");
    fs::write(
        dir.join("registry.json"),
        r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main",
            "catalog": {"license": "qwen-research"}, "models": []}"#,
    )
    .unwrap();
    cli_snapshot!(filters(&dir), xtask(&dir).arg("validate"), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    /catalog/license: license `qwen-research` is not one of the Hub's licence ids (such as `apache-2.0`, `mit`, `llama3.1`) and the Hub would refuse the card; set `license` to `other` and give the catalog `license_name` (a lowercase slug) and `license_link` (the licence's URL), which the card writes
    registry.json: 1 problem; fix them and run `cargo xtask validate` again
    ");
}

/// A value of the wrong type is a problem of its model, listed with the id and JSON path next to
/// the other problems (exit 1), not a malformed file (exit 2).
#[test]
fn wrong_types_are_listed_with_their_models_and_exit_code_1() {
    let dir = scratch_dir!("xtask-validate/wrong-types");
    fs::write(
        dir.join("registry.json"),
        r#"{"schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": [
             {"id": "ruvltra-0.5b-q4_k_m", "file": "ruvltra-0.5b-q4_k_m.gguf", "quant": "q4_k_m",
              "size": "0.5b", "bytes": -5},
             {"id": "ruvltra-0.5b-q8_0", "file": "ruvltra-0.5b-q8_0.gguf", "quant": "q8_0",
              "size": "0.5b", "bytes": "12", "sha256": "ABC"}]}"#,
    )
    .unwrap();
    cli_snapshot!(filters(&dir), xtask(&dir).arg("validate"), @r#"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    /models/0/bytes (ruvltra-0.5b-q4_k_m): invalid value: integer `-5`, expected u64; fix the value (registry.schema.json says what each key takes)
    /models/1/bytes (ruvltra-0.5b-q8_0): invalid type: string "12", expected u64; fix the value (registry.schema.json says what each key takes)
    /models/1/sha256 (ruvltra-0.5b-q8_0): sha256 `ABC` is not 64 lowercase hex digits; leave it out until sync or publish fills it
    registry.json: 3 problems; fix them and run `cargo xtask validate` again
    "#);
}

#[test]
fn an_unreadable_file_exits_with_2() {
    let dir = scratch_dir!("xtask-validate/unreadable");
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["validate", "--registry", "missing.json"]),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: cannot read registry missing.json: No such file or directory (os error 2) (check that the file exists and is readable)
        "
    );
}

#[test]
fn malformed_json_exits_with_2_naming_line_and_column() {
    let dir = scratch_dir!("xtask-validate/malformed");
    fs::write(
        dir.join("r.json"),
        "{\n  \"schema_version\": 1\n  \"repo\": \"ruv/ruvltra\"\n}\n",
    )
    .unwrap();
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["validate", "--registry", "r.json"]),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: malformed registry r.json at line 3, column 3: expected `,` or `}` (fix the JSON at that position)
        "
    );
}

#[test]
fn write_schema_writes_the_schema_next_to_the_registry() {
    let dir = scratch_dir!("xtask-validate/schema");
    fs::copy(
        workspace_root().join("registry.json"),
        dir.join("registry.json"),
    )
    .unwrap();
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["validate", "--write-schema"]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        wrote registry.schema.json
        valid: 9 models
        ----- stderr -----
        "
    );
    let written = fs::read_to_string(dir.join("registry.schema.json")).unwrap();
    assert_eq!(
        written,
        fs::read_to_string(workspace_root().join("registry.schema.json")).unwrap()
    );

    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["validate", "--write-schema"]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        registry.schema.json is up to date
        valid: 9 models
        ----- stderr -----
        "
    );
}
