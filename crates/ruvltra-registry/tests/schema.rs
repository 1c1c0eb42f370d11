//! `registry.schema.json` at the repository root is generated from the types; this test
//! fails when it is stale and says how to regenerate it.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(ruvltra_registry::SCHEMA_FILE_NAME)
}

#[test]
fn checked_in_schema_is_up_to_date() {
    let path = schema_path();
    let expected = ruvltra_registry::json_schema_text();
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual == expected {
        return;
    }
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        ruvltra_registry::write_file_atomically(&path, expected.as_bytes()).unwrap();
        return;
    }
    panic!(
        "{} is stale or missing; regenerate it with `cargo xtask validate --write-schema` \
         (or `UPDATE_SCHEMA=1 cargo test -p ruvltra-registry --test schema`) and commit it",
        path.display()
    );
}
