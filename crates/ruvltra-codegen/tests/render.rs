//! Snapshot, determinism and error tests of the generator over the fixture registries and
//! the workspace's real `registry.json`.
//!
//! Review snapshot changes with `cargo insta review`; CI runs with `INSTA_UPDATE=no`, so a
//! stale snapshot fails instead of being rewritten.

use std::fs;
use std::path::{Path, PathBuf};

use ruvltra_codegen::{Error, HEADER, const_name, render, variant_name};
use ruvltra_registry::Registry;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture registry, sorted by file name.
fn fixtures() -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = fs::read_dir(fixtures_dir())
        .expect("the fixtures folder is readable")
        .map(|entry| entry.expect("a fixture entry is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (stem, path)
        })
        .collect();
    found.sort();
    found
}

/// Loads and validates a registry, failing the test with the loader's message.
#[track_caller]
fn load(path: &Path) -> Registry {
    ruvltra_registry::load(path).unwrap_or_else(|err| panic!("{err}"))
}

fn registry(json: &str) -> Registry {
    ruvltra_registry::parse(json).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn fixtures_folder_covers_the_promised_cases() {
    let names: Vec<String> = fixtures().into_iter().map(|(name, _)| name).collect();
    for wanted in [
        "empty",
        "one_model",
        "adapters",
        "every_quant",
        "odd_names",
        "split_model",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "fixture {wanted}.json is missing: {names:?}"
        );
    }
}

#[test]
fn fixture_snapshots() {
    for (name, path) in fixtures() {
        let source = render(&load(&path)).unwrap_or_else(|err| panic!("{name}: {err}"));
        insta::assert_snapshot!(name, source);
    }
}

#[test]
fn workspace_registry_snapshot() {
    let path = test_support::workspace_file("registry.json");
    let source = render(&load(&path)).unwrap_or_else(|err| panic!("registry.json: {err}"));
    insta::assert_snapshot!("workspace_registry", source);
}

/// `every_quant.json`, one 0.5b model per quant of the vocabulary in table order, in canonical
/// form: generated, so adding a quant to `ruvltra_vocab`'s table needs no hand edit here.
fn every_quant_fixture_text() -> String {
    let models: Vec<serde_json::Value> = ruvltra_registry::Quant::ALL
        .iter()
        .map(|quant| {
            let id = format!("ruvltra-0.5b-{quant}");
            let mut model = serde_json::json!({
                "id": id, "file": format!("{id}.gguf"), "quant": quant.label(), "size": "0.5b"
            });
            if quant.is_full_precision() {
                model["kind"] = "gguf-full-precision".into();
            }
            model
        })
        .collect();
    let json = serde_json::json!({
        "schema_version": 1, "repo": "ruv/ruvltra", "revision": "main", "models": models
    });
    ruvltra_registry::to_canonical_json(&registry(&json.to_string()))
}

/// The checked-in fixture equals [`every_quant_fixture_text`]. With `UPDATE_FIXTURES` set a
/// stale file is rewritten, and the test still fails, so that CI can never pass on it.
#[test]
fn the_every_quant_fixture_is_generated_from_the_quant_table() {
    let path = fixtures_dir().join("every_quant.json");
    let expected = every_quant_fixture_text();
    if fs::read_to_string(&path).is_ok_and(|actual| actual == expected) {
        return;
    }
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        ruvltra_registry::write_file_atomically(&path, expected.as_bytes()).unwrap();
        panic!(
            "{} was stale and is rewritten now (UPDATE_FIXTURES is set); commit it and run the \
             tests again without UPDATE_FIXTURES",
            path.display()
        );
    }
    panic!(
        "{} is stale or missing; regenerate it with \
         `UPDATE_FIXTURES=1 cargo test -p ruvltra-codegen --test render` and commit it",
        path.display()
    );
}

#[test]
fn every_known_quant_is_in_the_every_quant_fixture() {
    let reg = load(&fixtures_dir().join("every_quant.json"));
    for quant in ruvltra_registry::Quant::ALL {
        assert!(
            reg.models.iter().any(|m| m.quant == quant.label()),
            "every_quant.json lacks {quant}; add a model for it"
        );
    }
}

#[test]
fn rendering_is_deterministic_and_independent_of_model_order() {
    for (name, path) in fixtures() {
        let reg = load(&path);
        let first = render(&reg).unwrap_or_else(|err| panic!("{name}: {err}"));
        let second = render(&reg).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(first, second, "{name}: two renders differ");
        let mut reversed = reg.clone();
        reversed.models.reverse();
        let third = render(&reversed).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(first, third, "{name}: model order changed the output");
    }
}

#[test]
fn output_starts_with_the_generated_header_and_has_lf_endings() {
    let source = render(&load(&fixtures_dir().join("one_model.json"))).expect("renders");
    assert_eq!(source.lines().next(), Some(HEADER));
    assert!(!source.contains('\r'));
    assert!(source.ends_with('\n'));
}

#[test]
fn sha256_becomes_a_byte_string_and_absence_stays_none() {
    let source = render(&load(&fixtures_dir().join("split_model.json"))).expect("renders");
    // Whitespace and trailing commas of wrapped lists are layout, not content.
    let compact: String = source
        .split_whitespace()
        .collect::<String>()
        .replace(",]", "]")
        .replace(",)", ")");
    let digest = |byte: &str| format!("sha256:Some(*b\"{}\")", [byte; 32].concat());
    assert!(compact.contains(&digest("\\xfe")), "{source}");
    assert!(compact.contains(&digest("\\xdc")), "{source}");
    // The third shard has no digest yet: it must stay None rather than be invented.
    assert_eq!(compact.matches("sha256:None").count(), 1, "{source}");
}

#[test]
fn const_name_rule() {
    #[track_caller]
    fn check(id: &str, expect: &str) {
        assert_eq!(const_name(id), expect, "const_name({id:?})");
    }
    check(
        "ruvltra-claude-code-0.5b-q4_k_m",
        "RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M",
    );
    check("ruvltra-0.5b-f16", "RUVLTRA_0_5B_F16");
    check("7b-notes.v2_final", "M_7B_NOTES_V2_FINAL");
    check("a--b..c", "A_B_C");
    check("a-", "A_");
    check("ünïcode", "_N_CODE");
}

#[test]
fn variant_name_rule() {
    assert_eq!(variant_name("claude-code"), "ClaudeCode");
    assert_eq!(variant_name("claude-code-v2"), "ClaudeCodeV2");
    assert_eq!(variant_name("small"), "Small");
    assert_eq!(variant_name("7b"), "V7b");
}

#[test]
fn clashing_constant_names_are_an_error_naming_both_models() {
    // Validation accepts both ids (kind `file` has no naming rule) but they give one name.
    let reg = registry(
        r#"{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","models":[
            {"id":"notes-1.0","file":"a.md","quant":"f16","size":"1b","kind":"file"},
            {"id":"notes-1_0","file":"b.md","quant":"f16","size":"1b","kind":"file"}]}"#,
    );
    ruvltra_registry::validate(&reg).expect("the registry itself is valid");
    let err = render(&reg).expect_err("clashing names must fail");
    let Error::Invalid(problems) = &err else {
        panic!("unexpected error {err}")
    };
    assert_eq!(problems.len(), 1, "{err}");
    insta::assert_snapshot!(err.to_string(), @"model `notes-1_0`: the id gives the constant name `NOTES_1_0`, as does model `notes-1.0`; ids must differ in more than punctuation and case");
}

#[test]
fn reserved_and_broken_entries_are_all_reported_at_once() {
    // Unvalidated input: the generator must still report instead of panicking.
    let reg = registry(
        r#"{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","models":[
            {"id":"models","file":"m.md","quant":"f16","size":"1b","kind":"file"},
            {"id":"--","file":"n.md","quant":"f16","size":"1b","kind":"file"},
            {"id":"x","file":"x.gguf","quant":"q9_z","size":"1b","sha256":"ABC"}]}"#,
    );
    let err = render(&reg).expect_err("broken entries must fail");
    insta::assert_snapshot!(err.to_string(), @r"
    model `--`: the id gives the constant name `_`, which is not a Rust identifier; use an id with at least one letter or digit
    model `models`: the id gives the constant name `MODELS`, which the generated module reserves; rename the model
    model `x`: unknown quant `q9_z`; use a llama.cpp label such as q4_k_m, q8_0 or f16
    model `x`: sha256: `ABC` is not 64 lowercase hex digits; copy the digest the Hub shows or leave it out
    ");
}

/// `render` prints big catalogs in parallel chunks; the result must be exactly the
/// single-pass `prettyplease::unparse` of `generate`'s tokens.
#[test]
fn chunked_render_equals_single_pass_unparse() {
    let mut models = Vec::new();
    for n in 0..1_300 {
        models.push(format!(
            r#"{{"id":"ruvltra-v{n}-1b-q4_k_m","file":"ruvltra-v{n}-1b-q4_k_m.gguf","quant":"q4_k_m","size":"1b","variant":"v{n}","sha256":"{n:064x}"}}"#
        ));
    }
    let json = format!(
        r#"{{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","models":[{}]}}"#,
        models.join(",")
    );
    let big = registry(&json);
    ruvltra_registry::validate(&big).expect("the synthetic registry is valid");
    let mut inputs: Vec<(String, Registry)> = fixtures()
        .into_iter()
        .map(|(name, path)| (name, load(&path)))
        .collect();
    inputs.push(("synthetic 1300".to_owned(), big));
    for (name, reg) in inputs {
        let tokens = ruvltra_codegen::generate(&reg).expect("generates");
        let file: syn::File = syn::parse2(tokens).expect("parses");
        let single = format!("{HEADER}\n{}", prettyplease::unparse(&file));
        assert!(
            render(&reg).expect("renders") == single,
            "{name}: chunked output differs"
        );
    }
}
