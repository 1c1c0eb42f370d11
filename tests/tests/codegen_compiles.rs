//! The generated code of every fixture registry and of `registry.json` compiles next to
//! `ruvllm`'s hand-written types, and its lookups answer correctly at run time.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen_fixtures.rs"));
}

use generated::{
    fixture_adapters as adapters, fixture_empty as empty, fixture_every_quant as every_quant,
    fixture_odd_names as odd, fixture_one_model as one, fixture_split_model as split,
    workspace_registry,
};
use ruvllm::hub::registry::{ArtifactKind, ModelSpec, Quant, Status};

/// Lookups work in `const` context: a typo here would be a compile error.
const CLAUDE_CODE: &ModelSpec = match one::by_id("ruvltra-claude-code-0.5b-q4_k_m") {
    Some(spec) => spec,
    None => panic!("the one-model fixture lost its model"),
};

fn ids(specs: impl Iterator<Item = &'static ModelSpec>) -> Vec<&'static str> {
    specs.map(|spec| spec.id).collect()
}

#[test]
fn one_model() {
    let spec = one::RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M;
    assert_eq!(CLAUDE_CODE, &spec);
    assert_eq!(one::MODELS.len(), 1);
    assert_eq!(one::REPO, "ruv/ruvltra");
    assert_eq!(spec.quant, Quant::Q4_K_M);
    assert_eq!(spec.kind, ArtifactKind::Gguf);
    assert_eq!(spec.status, Status::Published);
    assert_eq!(spec.sha256, None, "no digest in the fixture, none invented");
    // Catalog defaults are resolved into the spec.
    assert_eq!(spec.license, Some("apache-2.0"));
    assert_eq!(spec.languages, ["en"]);
    assert_eq!(
        spec.download_url(),
        "https://huggingface.co/ruv/ruvltra/resolve/main/ruvltra-claude-code-0.5b-q4_k_m.gguf"
    );
    assert_eq!(
        spec.download_url_at("http://127.0.0.1:8080/"),
        "http://127.0.0.1:8080/ruv/ruvltra/resolve/main/ruvltra-claude-code-0.5b-q4_k_m.gguf"
    );
    assert_eq!(
        one::by_file("ruvltra-claude-code-0.5b-q4_k_m.gguf"),
        Some(CLAUDE_CODE)
    );
    assert_eq!(one::by_file("ruvltra-claude-code-0.5b-q4_k_m"), None);
    assert_eq!(one::by_id("ruvltra-claude-code-0.5b-q8_0"), None);
    assert_eq!(one::Variant::ALL, [one::Variant::ClaudeCode]);
    assert_eq!(one::Variant::of(&spec), Some(one::Variant::ClaudeCode));
    assert_eq!(one::Variant::ClaudeCode.as_str(), "claude-code");
    assert_eq!(ids(one::by_variant(one::Variant::ClaudeCode)), [spec.id]);
    assert_eq!(ids(one::by_quant(Quant::Q8_0)), Vec::<&str>::new());
    // 397,808,576 bytes is 380 MiB, below the stated 1024 MiB minimum.
    assert_eq!(spec.ram_needed_mib(), Some(1024));
    assert_eq!(one::largest_fitting(1023), None);
    assert_eq!(one::largest_fitting(1024), Some(CLAUDE_CODE));
}

#[test]
fn empty_catalog() {
    assert!(empty::MODELS.is_empty());
    assert!(empty::Variant::ALL.is_empty());
    assert_eq!(empty::Variant::from_label("small"), None);
    assert_eq!(empty::by_id("anything"), None);
    assert_eq!(empty::largest_fitting(u64::MAX), None);
    assert_eq!(empty::CATALOG.repo, "ruv/ruvltra");
}

#[test]
fn adapters() {
    assert_eq!(
        ids(adapters::adapters_of("ruvltra-small-0.5b-q4_k_m")),
        ["sona-small-coding", "sona-small-writing"]
    );
    assert_eq!(
        ids(adapters::adapters_of("ruvltra-medium-1.1b-q4_k_m")),
        ["sona-medium-coding"]
    );
    assert_eq!(
        ids(adapters::adapters_of("sona-small-coding")),
        Vec::<&str>::new()
    );
    let coding = adapters::SONA_SMALL_CODING;
    assert!(coding.is_adapter());
    assert_eq!(coding.base, Some("ruvltra-small-0.5b-q4_k_m"));
    assert_eq!(coding.sha256, Some([0xaa; 32]));
    assert_eq!(coding.files().count(), 3);
    assert_eq!(coding.total_bytes(), None, "patterns.jsonl has no size yet");
    assert_eq!(
        adapters::by_file("sona/ruvltra-small-0.5b-q4_k_m/coding/adapter_config.json"),
        Some(&adapters::SONA_SMALL_CODING)
    );
    assert_eq!(
        adapters::RUVLTRA_SMALL_0_5B_Q4_K_M.sha256_hex().as_deref(),
        Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    );
    // Adapters never count as models that fit; the largest GGUF that fits wins.
    assert_eq!(adapters::largest_fitting(100), None);
    assert_eq!(
        adapters::largest_fitting(1500).map(|m| m.id),
        Some("ruvltra-small-0.5b-q4_k_m")
    );
    assert_eq!(
        adapters::largest_fitting(4096).map(|m| m.id),
        Some("ruvltra-medium-1.1b-q4_k_m")
    );
    assert_eq!(
        adapters::Variant::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
        ["medium", "small"]
    );
}

#[test]
fn every_quant() {
    assert_eq!(every_quant::MODELS.len(), Quant::ALL.len());
    for &quant in Quant::ALL {
        let found = ids(every_quant::by_quant(quant));
        assert_eq!(found, [format!("ruvltra-0.5b-{quant}")], "{quant}");
        let spec = every_quant::by_id(found[0]).expect("looked up by its own id");
        let expected_kind = if quant.is_full_precision() {
            ArtifactKind::GgufFullPrecision
        } else {
            ArtifactKind::Gguf
        };
        assert_eq!(spec.kind, expected_kind, "{quant}");
    }
    assert_eq!(every_quant::RUVLTRA_0_5B_MXFP4_MOE.quant, Quant::MXFP4_MOE);
    let sorted = every_quant::MODELS
        .windows(2)
        .all(|pair| pair[0].id < pair[1].id);
    assert!(sorted, "MODELS is sorted by id");
}

#[test]
fn odd_names() {
    let notes = odd::M_7B_NOTES_V2_FINAL;
    assert_eq!(notes.kind, ArtifactKind::File);
    assert_eq!(
        notes.description,
        Some(
            "Quotes \" and backslashes \\ and a */ and a \"# and unicode: é ü 日本.\n\
             Second line with `code`."
        )
    );
    assert_eq!(notes.languages, ["en", "fr"]);
    assert_eq!(
        notes.download_url(),
        "https://huggingface.co/ruv/ruvltra/resolve/v1.0.0/docs/7B%20Notes%20%28v2%29.md"
    );
    let pinned = odd::RUVLTRA_CLAUDE_CODE_V2_0_5B_Q4_K_M;
    assert_eq!(pinned.status, Status::Deprecated);
    assert_eq!(pinned.license, Some("mit"));
    assert_eq!(pinned.languages, ["de"]);
    assert_eq!(
        pinned.download_url(),
        "https://huggingface.co/someone-else/ruvltra.mirror/resolve/refs%2Fpr%2F1/\
         ruvltra-claude-code-v2-0.5b-q4_k_m.gguf"
    );
    assert_eq!(
        pinned.fallback_urls,
        ["https://example.com/a%20b/ruvltra.gguf?x=1&y=2"]
    );
    assert_eq!(odd::Variant::of(&pinned), Some(odd::Variant::ClaudeCodeV2));
    assert_eq!(odd::Variant::from_label("v2"), Some(odd::Variant::V2));
    assert_eq!(odd::RUVLTRA_1B_Q8_0.variant, None);
    assert_eq!(odd::Variant::of(&odd::RUVLTRA_1B_Q8_0), None);
    assert_eq!(
        odd::RUVLTRA_V2_494M_IQ4_XS.revision,
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(odd::REVISION, "v1.0.0");
}

#[test]
fn split_model() {
    let large = split::RUVLTRA_LARGE_7B_F16;
    assert!(large.is_multi_file());
    let files: Vec<&str> = large.files().map(|f| f.file).collect();
    assert_eq!(
        files,
        [
            "large/ruvltra-large-7b-f16-00001-of-00003.gguf",
            "large/ruvltra-large-7b-f16-00002-of-00003.gguf",
            "large/ruvltra-large-7b-f16-00003-of-00003.gguf",
        ]
    );
    assert_eq!(large.total_bytes(), Some(14_000_000_000));
    assert_eq!(large.extra_files[0].sha256, Some([0xdc; 32]));
    assert_eq!(large.extra_files[1].sha256, None);
    assert_eq!(split::by_file(files[2]), Some(&split::RUVLTRA_LARGE_7B_F16));
    assert_eq!(
        large.file_url_at("https://huggingface.co", files[1]),
        "https://huggingface.co/ruv/ruvltra/resolve/main/large/ruvltra-large-7b-f16-00002-of-00003.gguf"
    );
    // Planned models are not offered even when they fit.
    assert_eq!(split::largest_fitting(u64::MAX), None);
}

#[test]
fn workspace_registry_lookups_are_consistent() {
    assert!(
        !workspace_registry::MODELS.is_empty(),
        "registry.json lists models"
    );
    for spec in workspace_registry::MODELS {
        assert_eq!(workspace_registry::by_id(spec.id), Some(spec));
        assert_eq!(workspace_registry::by_file(spec.file), Some(spec));
        assert!(spec.download_url().starts_with("https://huggingface.co/"));
        if let Some(variant) = spec.variant {
            let parsed = workspace_registry::Variant::from_label(variant).expect("known variant");
            assert!(workspace_registry::by_variant(parsed).any(|m| m == spec));
        }
    }
}
