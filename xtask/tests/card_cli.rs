//! `cargo xtask card` and `cargo xtask modelfile ID` as a user sees them: they print exactly
//! what ruvltra-card generates for the registry, and fail with exit 2 and a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap()
}

fn registry() -> ruvltra_registry::Registry {
    ruvltra_registry::load(&workspace_root().join("registry.json")).unwrap()
}

#[test]
fn card_prints_the_generated_card() {
    let output = xtask(&["card", "--registry", "registry.json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let expected = ruvltra_card::model_card(&registry(), &ruvltra_card::CardFacts::default());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);

    let output = xtask(&["card", "--registry", "registry.json", "--modelscope"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("tasks:\n- text-generation\n")
    );
}

#[test]
fn modelfile_prints_the_generated_modelfile() {
    let reg = registry();
    let model = reg.models.iter().find(|m| m.kind.is_gguf()).unwrap();
    let output = xtask(&["modelfile", &model.id, "--registry", "registry.json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        ruvltra_card::modelfile(&reg, &model.id).unwrap()
    );
}

#[test]
fn modelfile_of_an_unknown_id_fails_clearly() {
    let output = xtask(&["modelfile", "no-such-model", "--registry", "registry.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no model with id `no-such-model`"),
        "{stderr}"
    );
}

#[test]
fn card_of_a_missing_registry_fails_clearly() {
    let output = xtask(&["card", "--registry", "does-not-exist.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("does-not-exist.json")
    );
}
