//! Snapshot and property tests of the generated card, Modelfiles and compatibility report,
//! on fixture registries (and the real `registry.json` at the workspace root).

use std::path::{Path, PathBuf};

use dev_python::Python;
use ruvltra_card::compat::{self, Tool};
use ruvltra_card::{CardError, CardFacts, FileFacts, front_matter, model_card, modelfile};
use ruvltra_registry::Registry;

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads and validates a registry: the card is only ever generated from a valid one.
fn load(path: &Path) -> Registry {
    let reg = ruvltra_registry::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ruvltra_registry::validate(&reg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reg
}

fn fixture(name: &str) -> Registry {
    load(&fixture_path(name))
}

fn repo_paths(reg: &Registry) -> Vec<&str> {
    reg.models
        .iter()
        .filter(|m| m.status != ruvltra_registry::Status::Planned && m.repo(reg) == reg.repo)
        .flat_map(|m| m.all_files().map(|(p, _, _)| p))
        .collect()
}

/// The real catalog at the workspace root: its card and every Modelfile.
#[test]
fn real_registry_snapshots() {
    let path = test_support::workspace_file("registry.json");
    let reg = load(&path);
    insta::assert_snapshot!("registry_card", model_card(&reg, &CardFacts::default()));
    let (count, modelfiles) = all_modelfiles(&reg);
    assert!(count > 0, "the real registry has GGUF models");
    insta::assert_snapshot!("registry_modelfiles", modelfiles);
    // The front matter of the real card is valid YAML with the Hub's keys.
    let yaml = yaml_to_json(&front_matter(&reg));
    assert_eq!(yaml["library_name"], "gguf");
    assert_eq!(yaml["pipeline_tag"], "text-generation");
}

#[test]
fn catalog_card_snapshot() {
    let reg = fixture("catalog.json");
    insta::assert_snapshot!("catalog_card", model_card(&reg, &CardFacts::default()));
}

#[test]
fn catalog_modelfiles_snapshot() {
    let reg = fixture("catalog.json");
    let (count, modelfiles) = all_modelfiles(&reg);
    assert!(count > 0, "the catalog fixture has GGUF models");
    insta::assert_snapshot!("catalog_modelfiles", modelfiles);
}

/// The Modelfile of every GGUF model of `reg`, each under a `==> ID <==` line, in one text:
/// one snapshot per registry (not one per model), so a renamed model changes the snapshot
/// instead of leaving a model-named file behind. Returns how many there are, and the text.
fn all_modelfiles(reg: &Registry) -> (usize, String) {
    let texts: Vec<String> = reg
        .models
        .iter()
        .filter(|m| m.kind.is_gguf())
        .map(|m| format!("==> {} <==\n{}", m.id, modelfile(reg, &m.id).unwrap()))
        .collect();
    (texts.len(), texts.join("\n"))
}

#[test]
fn adapters_card_snapshot() {
    let reg = fixture("adapters.json");
    insta::assert_snapshot!("adapters_card", model_card(&reg, &CardFacts::default()));
    insta::assert_snapshot!(
        "adapters_modelscope_card",
        ruvltra_card::modelscope_card(&reg, &CardFacts::default())
    );
    insta::assert_snapshot!(
        "adapters_modelfile_small",
        modelfile(&reg, "ruvltra-small-0.5b-q4_k_m").unwrap()
    );
}

#[test]
fn sizes_card_and_report_snapshot() {
    let reg = fixture("sizes.json");
    insta::assert_snapshot!("sizes_card", model_card(&reg, &CardFacts::default()));
    insta::assert_snapshot!(
        "sizes_modelfile_split_f16",
        modelfile(&reg, "ruvltra-3b-f16").unwrap()
    );
    let paths = repo_paths(&reg);
    let report = compat::report(&paths);
    insta::assert_snapshot!("sizes_compat_report", format!("{report:#?}"));
    insta::assert_snapshot!(
        "sizes_warnings",
        compat::warnings("ruv/ruvltra", &paths).join("\n")
    );
}

#[test]
fn sizes_report_flags_the_documented_ambiguities() {
    let reg = fixture("sizes.json");
    let paths = repo_paths(&reg);
    let ambiguous = compat::ambiguous_tags(&paths);
    let tags: Vec<&str> = ambiguous.iter().map(|a| a.tag.as_str()).collect();
    // Several sizes in one repository: the bare quant tags collide.
    assert!(tags.contains(&"Q4_K_M"), "{tags:?}");
    assert!(tags.contains(&"Q8_0"), "{tags:?}");
    // `:F16` also matches `-bf16.gguf` (the regex is unanchored).
    let f16 = ambiguous
        .iter()
        .find(|a| a.tag == "F16")
        .expect("F16 is ambiguous");
    assert!(f16.files.iter().any(|f| f.ends_with("-bf16.gguf")));
    assert!(f16.files.iter().any(|f| f.contains("-f16")));
    // Only the first shard of the split model is selectable.
    let report = compat::report(&paths);
    assert!(report.iter().all(|r| !r.file.contains("-00002-of-")));
    let split = report
        .iter()
        .find(|r| r.file == "ruvltra-3b-f16-00001-of-00002.gguf")
        .unwrap();
    assert_eq!(split.shards, 2);
    assert!(
        split.ollama_tags.is_empty(),
        "no Ollama tag for a split model"
    );
    // Every proposed tag, run through the simulation, reaches its own file.
    for r in &report {
        for tag in &r.llama_tags {
            assert_eq!(
                compat::pick(&paths, Some(tag), Tool::LlamaCpp).as_deref(),
                Some(r.file.as_str())
            );
        }
        for tag in &r.ollama_tags {
            assert_eq!(
                compat::pick(&paths, Some(tag), Tool::Ollama).as_deref(),
                Some(r.file.as_str())
            );
        }
        assert!(r.commands[0].ends_with(&format!("--hf-file {}", r.file)));
    }
    // The default (no tag) is the first Q4_K_M in tree order.
    assert_eq!(
        compat::pick(&paths, None, Tool::LlamaCpp).as_deref(),
        Some("ruvltra-3b-q4_k_m.gguf")
    );
}

/// Every command in the card's per-file table, run through the simulation, reaches the
/// row's file: the card never shows a command that lands elsewhere.
#[test]
fn card_commands_reach_their_files() {
    for name in ["catalog.json", "adapters.json", "sizes.json"] {
        let reg = fixture(name);
        let card = model_card(&reg, &CardFacts::default());
        let paths = repo_paths(&reg);
        let table = card
            .split("### Commands for every file")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_else(|| panic!("{name}: no command table"));
        let mut rows = 0;
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            rows += 1;
            let file = line.split('`').nth(1).unwrap();
            for (marker, tool) in [
                ("llama-cli -hf ruv/ruvltra:", Tool::LlamaCpp),
                ("ollama run hf.co/ruv/ruvltra:", Tool::Ollama),
            ] {
                if let Some(rest) = line.split(marker).nth(1) {
                    let tag = rest.split('`').next().unwrap();
                    assert_eq!(
                        compat::pick(&paths, Some(tag), tool).as_deref(),
                        Some(file),
                        "{name}: {marker}{tag}"
                    );
                    let others = paths
                        .iter()
                        .filter(|p| compat::is_selectable(p) && compat::tag_matches(tag, p))
                        .count();
                    assert_eq!(others, 1, "{name}: {marker}{tag} is ambiguous");
                }
            }
            if line.contains("--hf-file") {
                assert!(line.contains(&format!("--hf-file {file}`")), "{line}");
            }
        }
        let expected = reg
            .models
            .iter()
            .filter(|m| m.kind.is_gguf() && m.status != ruvltra_registry::Status::Planned)
            .filter(|m| m.repo(&reg) == reg.repo)
            .count();
        assert_eq!(rows, expected, "{name}: one row per available GGUF model");
    }
}

#[test]
fn constant_names_match_the_code_generator() {
    for name in ["catalog.json", "adapters.json", "sizes.json"] {
        for model in &fixture(name).models {
            assert_eq!(
                ruvltra_card::const_name(&model.id),
                ruvltra_codegen::const_name(&model.id)
            );
        }
    }
    assert_eq!(
        ruvltra_card::const_name("9x--y"),
        ruvltra_codegen::const_name("9x--y")
    );
}

#[test]
fn planned_models_are_not_claimed_until_their_file_is_published() {
    let reg = fixture("catalog.json");
    let planned = "ruvltra-small-0.5b-q8_0.gguf";
    let card = model_card(&reg, &CardFacts::default());
    let (before_planned, planned_section) = card.split_once("## Planned").unwrap();
    assert!(
        !before_planned.contains(planned),
        "a planned file is not offered for download"
    );
    assert!(planned_section.contains(planned));

    let mut facts = CardFacts::default();
    facts.files.insert(
        planned.to_owned(),
        FileFacts {
            bytes: Some(531_068_416),
            sha256: Some("ab".repeat(32)),
            context_length: Some(32768),
            has_chat_template: Some(false),
        },
    );
    let card = model_card(&reg, &facts);
    assert!(!card.contains("## Planned"));
    assert!(card.contains(&format!(
        "| `{planned}` | RuvLTRA Small 0.5B (Q8_0) | Q8_0 | 531.1 MB | `abababababab…` |"
    )));
    assert!(card.contains(&format!("{}  {planned}", "ab".repeat(32))));
    assert!(card.contains("has no embedded chat template"));
    // Once there is one Q8_0 file, `:Q8_0` reaches it for both tools.
    assert!(card.contains("ollama run hf.co/ruv/ruvltra:Q8_0"));
}

#[test]
fn registry_values_win_over_file_facts() {
    let reg = fixture("adapters.json");
    let mut facts = CardFacts::default();
    facts.files.insert(
        "ruvltra-small-0.5b-q4_k_m.gguf".to_owned(),
        FileFacts {
            bytes: Some(1),
            sha256: Some("cd".repeat(32)),
            ..FileFacts::default()
        },
    );
    let card = model_card(&reg, &facts);
    assert!(card.contains("397.8 MB"));
    assert!(!card.contains("cdcdcdcdcdcd"));
}

#[test]
fn modelfile_errors() {
    let reg = fixture("adapters.json");
    assert_eq!(
        modelfile(&reg, "nope"),
        Err(CardError::UnknownModel("nope".to_owned()))
    );
    let err = modelfile(&reg, "sona-small-coding").unwrap_err();
    assert!(
        matches!(err, CardError::NotGguf { ref kind, .. } if kind == "adapter"),
        "{err}"
    );

    let mut reg = fixture("catalog.json");
    reg.models[0].description = Some("Say \"\"\"hi\"\"\" please".to_owned());
    let err = modelfile(&reg, &reg.models[0].id).unwrap_err();
    assert!(matches!(
        err,
        CardError::Unrepresentable {
            what: "system prompt",
            ..
        }
    ));
}

#[test]
fn modelfile_points_from_its_folder_to_the_file() {
    let reg = fixture("catalog.json");
    let model = &reg.models[0];
    let path = ruvltra_card::modelfile_path(model);
    assert_eq!(path, format!("ollama/{}/Modelfile", model.id));
    let text = modelfile(&reg, &model.id).unwrap();
    let from = text.lines().find_map(|l| l.strip_prefix("FROM ")).unwrap();
    // Resolve FROM relative to the Modelfile's folder, as Ollama does.
    let mut resolved: Vec<&str> = path.split('/').collect();
    resolved.pop();
    for part in from.split('/') {
        match part {
            ".." => {
                resolved.pop();
            }
            part => resolved.push(part),
        }
    }
    assert_eq!(resolved.join("/"), model.file);
    assert!(text.contains("PARAMETER num_ctx 32768"));
    assert!(text.contains("PARAMETER stop \"<|im_end|>\""));
}

/// Parses front matter with PyYAML's `safe_load` and returns it as JSON.
fn yaml_to_json(front: &str) -> serde_json::Value {
    let body = front
        .strip_prefix("---\n")
        .and_then(|s| s.strip_suffix("---\n"))
        .expect("front matter is framed by --- lines");
    // The workspace's Python (venv with PyYAML, a dependency of huggingface_hub).
    let output = Python::find()
        .snippet("import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.argv[1])))")
        .arg(body)
        .output();
    assert!(
        output.status.success(),
        "PyYAML rejected the front matter:\n{front}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_licence_the_hub_does_not_know_is_written_as_other() {
    // Validation refuses such a registry; a card made from one anyway must not be refused.
    let mut reg = fixture("catalog.json");
    reg.catalog.license = Some("ruvltra-community-1.0".to_owned());
    let yaml = yaml_to_json(&front_matter(&reg));
    assert_eq!(yaml["license"], "other");
    assert_eq!(yaml["license_name"], "ruvltra-community-1-0");
    reg.catalog.license = Some("llama3.1".to_owned());
    let yaml = yaml_to_json(&front_matter(&reg));
    assert_eq!(yaml["license"], "llama3.1");
}

#[test]
fn front_matter_is_valid_yaml_with_hub_keys() {
    let reg = fixture("catalog.json");
    let yaml = yaml_to_json(&front_matter(&reg));
    assert_eq!(yaml["license"], "apache-2.0");
    assert_eq!(yaml["language"], serde_json::json!(["en"]));
    assert_eq!(yaml["library_name"], "gguf");
    assert_eq!(yaml["pipeline_tag"], "text-generation");
    assert_eq!(yaml["base_model"], "Qwen/Qwen2.5-0.5B-Instruct");
    assert_eq!(yaml["base_model_relation"], "quantized");
    let tags = yaml["tags"].as_array().unwrap();
    for tag in ["gguf", "quantized", "llama-cpp", "qwen2", "code", "qwen2.5"] {
        assert!(tags.iter().any(|t| t == tag), "{tag} in {tags:?}");
    }
    // The card starts with exactly this front matter.
    assert!(model_card(&reg, &CardFacts::default()).starts_with(&front_matter(&reg)));

    let reg = fixture("adapters.json");
    let yaml = yaml_to_json(&front_matter(&reg));
    assert_eq!(yaml["license"], "other");
    assert_eq!(yaml["license_name"], "ruvltra-community");
    assert_eq!(
        yaml["base_model"],
        serde_json::json!(["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-3B-Instruct"])
    );
    assert_eq!(yaml["language"], serde_json::json!(["de", "en"]));
    let tags = yaml["tags"].as_array().unwrap();
    assert!(tags.iter().any(|t| t == "sona"));

    let yaml = yaml_to_json(&ruvltra_card::modelscope_front_matter(&reg));
    assert_eq!(yaml["tasks"], serde_json::json!(["text-generation"]));
    assert_eq!(yaml["frameworks"], serde_json::json!(["gguf"]));

    // Strings YAML would read as something else are quoted and come back as strings.
    let mut reg = fixture("catalog.json");
    reg.catalog.tags = vec![
        "yes".into(),
        "1.0".into(),
        "a: b".into(),
        "#x".into(),
        "é \"q\"".into(),
    ];
    let yaml = yaml_to_json(&front_matter(&reg));
    let tags = yaml["tags"].as_array().unwrap();
    for tag in ["yes", "1.0", "a: b", "#x", "é \"q\""] {
        assert!(tags.iter().any(|t| t == tag), "{tag} in {tags:?}");
    }
}

/// The official client (`huggingface_hub.ModelCard`) reads the whole card: the front matter
/// becomes its card data and the body starts with the title.
#[test]
fn official_client_reads_the_card() {
    let python = Python::find();
    for name in ["catalog.json", "adapters.json", "sizes.json"] {
        let card = model_card(&fixture(name), &CardFacts::default());
        let output = python
            .snippet(
                "import json, sys\n\
                 from huggingface_hub import ModelCard\n\
                 card = ModelCard(sys.stdin.read())\n\
                 print(json.dumps({'data': card.data.to_dict(), 'text': card.text.lstrip()[:2]}))",
            )
            .stdin(card)
            .output();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(parsed["data"]["library_name"], "gguf", "{name}");
        assert_eq!(parsed["data"]["pipeline_tag"], "text-generation", "{name}");
        assert_eq!(parsed["data"]["base_model_relation"], "quantized", "{name}");
        assert_eq!(
            parsed["text"], "# ",
            "{name}: the body starts with the title"
        );
    }
}

#[test]
fn output_is_deterministic() {
    let reg = fixture("adapters.json");
    let facts = CardFacts::default();
    assert_eq!(model_card(&reg, &facts), model_card(&reg.clone(), &facts));
}
