//! `registry.schema.json` at the repository root is generated from the types; this test
//! fails when it is stale and says how to regenerate it. With `UPDATE_SCHEMA` set it rewrites
//! a stale file and still fails, as the other generated-file checks do, so that a run can
//! never pass on a file that was stale when it started.

use std::path::{Path, PathBuf};

fn schema_path() -> PathBuf {
    test_support::workspace_file(ruvltra_registry::SCHEMA_FILE_NAME)
}

/// The check of the schema file at `path`: `Ok` when it is current, else the failure's message,
/// after rewriting the file when `update` is set.
fn check_schema_file(path: &Path, update: bool) -> Result<(), String> {
    let expected = ruvltra_registry::json_schema_text();
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        return Ok(());
    }
    if update {
        ruvltra_registry::write_file_atomically(path, expected.as_bytes())
            .map_err(|err| err.to_string())?;
        return Err(format!(
            "{} was stale and is rewritten now by `UPDATE_SCHEMA=1 cargo test -p \
             ruvltra-registry --test schema`; commit it and run the tests again without \
             UPDATE_SCHEMA",
            path.display()
        ));
    }
    Err(format!(
        "{} is stale or missing; regenerate it with `cargo xtask validate --write-schema` \
         (or `UPDATE_SCHEMA=1 cargo test -p ruvltra-registry --test schema`) and commit it",
        path.display()
    ))
}

#[test]
fn checked_in_schema_is_up_to_date() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some();
    if let Err(message) = check_schema_file(&schema_path(), update) {
        panic!("{message}");
    }
}

/// A stale file is rewritten under `UPDATE_SCHEMA`, and that run fails all the same, naming
/// the command that was run and saying to commit the result; the next run passes.
#[test]
fn a_stale_schema_is_rewritten_and_the_run_still_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(ruvltra_registry::SCHEMA_FILE_NAME);
    std::fs::write(&path, "{}\n").unwrap();

    let message = check_schema_file(&path, false).unwrap_err();
    assert!(message.contains("is stale or missing"), "{message}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");

    let message = check_schema_file(&path, true).unwrap_err();
    assert!(
        message.contains("UPDATE_SCHEMA=1 cargo test -p ruvltra-registry --test schema")
            && message.contains("commit it"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        ruvltra_registry::json_schema_text()
    );
    assert_eq!(check_schema_file(&path, true), Ok(()));
}
