//! The clients' list of the Hub's licence ids (`ruvltra_vocab::HUB_LICENSES`) must equal the
//! local server's (`hub-server`'s `LICENSES` in `src/hub/yaml.rs`): the two crates share no
//! code, so this test reads the server's source to keep them from drifting apart.

use std::path::Path;

/// The string literals of `const LICENSES: &[&str] = &[...]` in the server's source.
fn server_licenses() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hub-server/src/hub/yaml.rs");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = source
        .find("const LICENSES: &[&str] = &[")
        .unwrap_or_else(|| panic!("{} no longer defines `LICENSES`", path.display()));
    let body = &source[start..];
    let body = &body[body.find("= &[").unwrap() + 4..body.find("];").unwrap()];
    body.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.strip_prefix('"')
                .and_then(|item| item.strip_suffix('"'))
                .unwrap_or_else(|| {
                    panic!("`{item}` in the server's LICENSES is not a plain string")
                })
                .to_owned()
        })
        .collect()
}

#[test]
fn the_hub_licences_equal_the_local_servers() {
    let server = server_licenses();
    assert!(server.len() > 50, "{server:?}");
    assert_eq!(
        ruvltra_vocab::HUB_LICENSES,
        server.iter().map(String::as_str).collect::<Vec<_>>(),
        "ruvltra-vocab's HUB_LICENSES and hub-server's LICENSES differ; change both"
    );
}
