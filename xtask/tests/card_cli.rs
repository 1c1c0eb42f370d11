//! `cargo xtask card` and `cargo xtask modelfile ID` as a user sees them: they print exactly
//! what ruvltra-card generates for the registry, and fail with exit 2 and a clear message.

mod support;

use support::{filters, xtask};
use test_support::{CliRun, cli_snapshot, workspace_file, workspace_root};

fn registry() -> ruvltra_registry::Registry {
    ruvltra_registry::load(&workspace_file("registry.json")).unwrap()
}

/// Runs xtask at the workspace root and checks it succeeded.
#[track_caller]
fn run(args: &[&str]) -> CliRun {
    let run = CliRun::of(xtask(&workspace_root()).args(args));
    assert!(run.status.success(), "{}", run.render());
    run
}

#[test]
fn card_prints_the_generated_card() {
    let reg = registry();
    let facts = ruvltra_card::CardFacts::default();
    let card = run(&["card", "--registry", "registry.json"]);
    assert_eq!(card.stdout, ruvltra_card::model_card(&reg, &facts));
    // The tags llama.cpp and Ollama cannot tell apart are warned about on stderr.
    insta::assert_snapshot!(card.stderr, @r"
    warning: tag `ruv/ruvltra:0.5b-Q4_K_M` is ambiguous: it matches `ruvltra-claude-code-0.5b-q4_k_m.gguf`, `ruvltra-small-0.5b-q4_k_m.gguf`; llama.cpp and Ollama take `ruvltra-claude-code-0.5b-q4_k_m.gguf`; use `--hf-file` or a longer tag to reach the others
    warning: tag `ruv/ruvltra:Q4_K_M` is ambiguous: it matches `ruvltra-claude-code-0.5b-q4_k_m.gguf`, `ruvltra-medium-1.1b-q4_k_m.gguf`, `ruvltra-small-0.5b-q4_k_m.gguf`; llama.cpp and Ollama take `ruvltra-claude-code-0.5b-q4_k_m.gguf`; use `--hf-file` or a longer tag to reach the others
    ");
    let modelscope = run(&["card", "--registry", "registry.json", "--modelscope"]);
    assert_eq!(
        modelscope.stdout,
        ruvltra_card::modelscope_card(&reg, &facts)
    );
    assert!(modelscope.stdout.contains("tasks:\n- text-generation\n"));
    assert_eq!(modelscope.stderr, card.stderr);
}

#[test]
fn modelfile_prints_the_generated_modelfile() {
    let reg = registry();
    let model = reg.models.iter().find(|m| m.kind.is_gguf()).unwrap();
    let modelfile = run(&["modelfile", &model.id, "--registry", "registry.json"]);
    assert_eq!(
        modelfile.stdout,
        ruvltra_card::modelfile(&reg, &model.id).unwrap()
    );
    assert_eq!(modelfile.stderr, "");
}

#[test]
fn modelfile_of_an_unknown_id_fails_clearly() {
    let root = workspace_root();
    cli_snapshot!(
        filters(&root),
        xtask(&root).args(["modelfile", "no-such-model", "--registry", "registry.json"]),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: no model with id `no-such-model` in the registry; run `cargo xtask validate` to list the ids
        "
    );
}

#[test]
fn card_of_a_missing_registry_fails_clearly() {
    let root = workspace_root();
    cli_snapshot!(
        filters(&root),
        xtask(&root).args(["card", "--registry", "does-not-exist.json"]),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: cannot read registry does-not-exist.json: No such file or directory (os error 2) (check that the file exists and is readable)
        "
    );
}
