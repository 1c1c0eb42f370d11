//! `ruvltra_registry!` compiles the same constants as the build script: for `registry.json`
//! the ones `ruvllm` has built in, for every generator fixture the ones `tests/build.rs`
//! renders, and both agree with the JSON read at run time.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen_fixtures.rs"));
}

use std::path::Path;

use ruvllm::hub::registry::{self as built_in, Catalog, ModelSpec};

/// One module per registry, compiled by the macro; paths are relative to `tests/Cargo.toml`.
macro_rules! registry_module {
    ($name:ident, $path:literal) => {
        #[allow(dead_code)]
        mod $name {
            use ruvllm::hub::registry::prelude::*;
            ruvltra_registry_macro::ruvltra_registry!($path);
        }
    };
}

registry_module!(workspace, "../registry.json");
registry_module!(
    adapters,
    "../crates/ruvltra-codegen/tests/fixtures/adapters.json"
);
registry_module!(empty, "../crates/ruvltra-codegen/tests/fixtures/empty.json");
registry_module!(
    every_quant,
    "../crates/ruvltra-codegen/tests/fixtures/every_quant.json"
);
registry_module!(
    odd_names,
    "../crates/ruvltra-codegen/tests/fixtures/odd_names.json"
);
registry_module!(
    one_model,
    "../crates/ruvltra-codegen/tests/fixtures/one_model.json"
);
registry_module!(
    split_model,
    "../crates/ruvltra-codegen/tests/fixtures/split_model.json"
);

/// The macro's constants work in `const` context, as the included ones do.
const CLAUDE_CODE: &ModelSpec = match workspace::by_id("ruvltra-claude-code-0.5b-q4_k_m") {
    Some(spec) => spec,
    None => panic!("the workspace registry lost its first model"),
};

/// Every spec of a catalog as (id, file, sha256 hex) triples, extra files included.
fn digests(catalog: Catalog) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for spec in catalog.models {
        for file in spec.files() {
            let hex = file.sha256.map(hex::encode);
            out.push((spec.id.to_owned(), file.file.to_owned(), hex));
        }
    }
    out
}

/// The same triples straight from the JSON file, sorted by id as the generator sorts.
fn digests_from_json(relative: &str) -> Vec<(String, String, Option<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let registry = ruvltra_registry::load(&path).expect("the registry loads");
    let mut models: Vec<_> = registry.models.iter().collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::new();
    for model in models {
        out.push((model.id.clone(), model.file.clone(), model.sha256.clone()));
        for extra in &model.extra_files {
            out.push((model.id.clone(), extra.file.clone(), extra.sha256.clone()));
        }
    }
    out
}

fn labels<V: Copy>(all: &[V], as_str: fn(V) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|&v| as_str(v)).collect()
}

#[test]
fn the_workspace_registry_matches_what_build_rs_compiled_into_ruvllm() {
    // ruvllm's build.rs reads $RUVLLM_REGISTRY when set; this test compares the default.
    assert!(
        std::env::var_os("RUVLLM_REGISTRY").is_none_or(|v| v.is_empty()),
        "unset RUVLLM_REGISTRY: ruvllm was built against another registry"
    );
    assert!(!workspace::MODELS.is_empty());
    assert_eq!(workspace::CATALOG, built_in::CATALOG);
    assert_eq!(workspace::MODELS, built_in::MODELS);
    assert_eq!(workspace::REPO, built_in::REPO);
    assert_eq!(workspace::REVISION, built_in::REVISION);
    assert_eq!(
        workspace::RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M,
        built_in::RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M
    );
    assert_eq!(CLAUDE_CODE, &built_in::RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M);
    assert_eq!(
        labels(workspace::Variant::ALL, workspace::Variant::as_str),
        labels(built_in::Variant::ALL, built_in::Variant::as_str)
    );
    for spec in workspace::MODELS {
        assert_eq!(built_in::by_id(spec.id), Some(spec));
        assert_eq!(workspace::by_file(spec.file), built_in::by_file(spec.file));
        assert_eq!(
            spec.sha256_hex(),
            built_in::by_id(spec.id).and_then(|s| s.sha256_hex())
        );
    }
    assert_eq!(
        digests(workspace::CATALOG),
        digests_from_json("../registry.json")
    );
}

#[test]
fn every_fixture_matches_the_build_script_rendering() {
    use generated::{
        fixture_adapters, fixture_empty, fixture_every_quant, fixture_odd_names, fixture_one_model,
        fixture_split_model, workspace_registry,
    };
    let pairs = [
        ("adapters", adapters::CATALOG, fixture_adapters::CATALOG),
        ("empty", empty::CATALOG, fixture_empty::CATALOG),
        (
            "every_quant",
            every_quant::CATALOG,
            fixture_every_quant::CATALOG,
        ),
        ("odd_names", odd_names::CATALOG, fixture_odd_names::CATALOG),
        ("one_model", one_model::CATALOG, fixture_one_model::CATALOG),
        (
            "split_model",
            split_model::CATALOG,
            fixture_split_model::CATALOG,
        ),
        ("registry", workspace::CATALOG, workspace_registry::CATALOG),
    ];
    for (name, from_macro, from_build_rs) in pairs {
        assert_eq!(from_macro, from_build_rs, "{name}");
    }
    // A new fixture must be added above too.
    let dir = test_support::workspace_file("crates/ruvltra-codegen/tests/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("list the fixtures")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    on_disk.sort();
    let covered: Vec<&str> = pairs
        .iter()
        .map(|(name, ..)| *name)
        .filter(|n| *n != "registry")
        .collect();
    assert_eq!(on_disk, covered);
    assert_eq!(
        labels(adapters::Variant::ALL, adapters::Variant::as_str),
        labels(
            fixture_adapters::Variant::ALL,
            fixture_adapters::Variant::as_str
        )
    );
    assert_eq!(
        labels(odd_names::Variant::ALL, odd_names::Variant::as_str),
        labels(
            fixture_odd_names::Variant::ALL,
            fixture_odd_names::Variant::as_str
        )
    );
}

#[test]
fn sha256_digests_are_the_ones_in_the_json() {
    for (name, catalog) in [
        ("adapters", adapters::CATALOG),
        ("split_model", split_model::CATALOG),
    ] {
        let path = format!("../crates/ruvltra-codegen/tests/fixtures/{name}.json");
        let expected = digests_from_json(&path);
        assert!(
            expected.iter().filter(|(_, _, sha)| sha.is_some()).count() >= 2,
            "the fixture {name} should carry digests"
        );
        assert_eq!(digests(catalog), expected, "{name}");
    }
}
