//! CI rejects unreferenced insta snapshots: a `.snap` file that no test asserts any more (its
//! test renamed or gone, or a model renamed while its snapshot stayed) fails here, so stale
//! files cannot pile up unnoticed.
//!
//! A snapshot `PREFIX__NAME.snap` is referenced when the test file its `source:` header names
//! exists and asserts NAME: as a string literal (`assert_snapshot!("NAME", …)` or a literal
//! the test loops over), or as the name of a test function, whose unnamed snapshots insta
//! names after it (`NAME`, `NAME-2`, …, without a `test_` prefix). Snapshot names built at run
//! time (`format!("modelfile_{}", id)`) cannot be seen and are reported: name them with
//! literals, or put the generated pieces into one snapshot.

use std::path::Path;

/// Every `.snap` file under `root` that no test references, each with the reason; sorted.
fn unreferenced_snapshots(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for path in test_support::workspace_files(root, "snap") {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let Some(source) = source_of(&text) else {
            problems.push(format!(
                "{shown}: no `source:` line in its header, so no test can be found for it; \
                 delete it, or accept it again from its test"
            ));
            continue;
        };
        let Ok(test) = std::fs::read_to_string(root.join(&source)) else {
            problems.push(format!(
                "{shown}: its test file {source} is gone; delete the snapshot (or move it with \
                 the test)"
            ));
            continue;
        };
        let stem = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".snap")
            .to_owned();
        if !candidate_names(&stem).any(|name| asserts(&test, name)) {
            problems.push(format!(
                "{shown}: no test in {source} asserts a snapshot of this name any more; delete \
                 it if its test or model was renamed or removed"
            ));
        }
    }
    problems
}

/// The `source:` value of a snapshot's header (between the first two `---` lines).
fn source_of(snapshot: &str) -> Option<String> {
    let mut lines = snapshot.lines();
    if lines.next()? != "---" {
        return None;
    }
    lines
        .take_while(|line| *line != "---")
        .find_map(|line| line.strip_prefix("source:"))
        .map(|value| value.trim().trim_matches('"').to_owned())
}

/// The names a snapshot file stem may stand for: insta writes `MODULE__NAME`, and module
/// paths hold `__` themselves, so every part after a `__` is a candidate (the whole stem too).
fn candidate_names(stem: &str) -> impl Iterator<Item = &str> {
    std::iter::once(stem).chain(stem.match_indices("__").map(|(i, _)| &stem[i + 2..]))
}

/// Whether the test source `test` asserts a snapshot named `name`: as a string literal, or as
/// a function's automatic name (with insta's `-N` counter and without a `test_` prefix).
fn asserts(test: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    if test.contains(&format!("\"{name}\"")) {
        return true;
    }
    let function = match name.rsplit_once('-') {
        Some((base, counter)) if counter.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    };
    [format!("fn {function}("), format!("fn test_{function}(")]
        .iter()
        .any(|signature| test.contains(signature.as_str()))
}

#[test]
fn every_snapshot_of_the_workspace_is_referenced() {
    let root = test_support::workspace_root();
    let problems = unreferenced_snapshots(&root);
    assert!(
        problems.is_empty(),
        "{} unreferenced snapshot(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The walk does find the workspace's snapshots.
    let found = test_support::workspace_files(&root, "snap").len();
    assert!(
        found >= 10,
        "only {found} snapshots found under {}",
        root.display()
    );
}

#[test]
fn orphans_are_found_on_a_sample_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let header = |source: &str| format!("---\nsource: {source}\nexpression: text\n---\nbody\n");
    write(
        "crates/card/tests/card.rs",
        "//! Sample.\n#[test]\nfn modelfiles() {\n    insta::assert_snapshot!(\"registry_card\", \
         text);\n    insta::assert_snapshot!(a);\n    insta::assert_snapshot!(b);\n}\n\
         #[test]\nfn test_prefixed() { insta::assert_snapshot!(c); }\n",
    );
    let card = header("crates/card/tests/card.rs");
    // Referenced: a literal name, an automatic name, its counter, a `test_` function.
    write(
        "crates/card/tests/snapshots/card__registry_card.snap",
        &card,
    );
    write("crates/card/tests/snapshots/card__modelfiles.snap", &card);
    write("crates/card/tests/snapshots/card__modelfiles-2.snap", &card);
    write("crates/card/tests/snapshots/card__prefixed.snap", &card);
    // A unit test's module path holds `__` itself.
    write(
        "crates/card/src/lib.rs",
        "//! Sample.\nfn modelfiles() {}\n",
    );
    write(
        "crates/card/src/snapshots/card__tests__modelfiles.snap",
        &header("crates/card/src/lib.rs"),
    );
    // Orphans: a model renamed, a test file gone, no header, a counter on a literal name.
    write(
        "crates/card/tests/snapshots/card__registry_modelfile_ruvltra-old-0.5b-q4_k_m.snap",
        &card,
    );
    write(
        "crates/gone/tests/snapshots/gone__it.snap",
        &header("crates/gone/tests/gone.rs"),
    );
    write("crates/card/tests/snapshots/card__bare.snap", "no header\n");
    // Build output is not the workspace's.
    write("target/snapshots/x__y.snap", &header("nowhere.rs"));

    let problems = unreferenced_snapshots(root);
    assert_eq!(
        problems,
        [
            "crates/card/tests/snapshots/card__bare.snap: no `source:` line in its header, so no \
             test can be found for it; delete it, or accept it again from its test",
            "crates/card/tests/snapshots/card__registry_modelfile_ruvltra-old-0.5b-q4_k_m.snap: \
             no test in crates/card/tests/card.rs asserts a snapshot of this name any more; \
             delete it if its test or model was renamed or removed",
            "crates/gone/tests/snapshots/gone__it.snap: its test file crates/gone/tests/gone.rs \
             is gone; delete the snapshot (or move it with the test)",
        ]
    );
}
