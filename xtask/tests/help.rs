//! `cargo xtask --help` and the help of the commands that work on both registries say so:
//! `sync`, `publish` and `verify` take `--from`/`--to modelscope`, and a user reading the
//! help must not conclude they are Hub-only.

mod support;

use test_support::{CliRun, cli_snapshot, workspace_root};

/// What `xtask ARGS` prints on stdout; the run must succeed.
fn help(args: &[&str]) -> String {
    let run = CliRun::of(support::xtask(&workspace_root()).args(args));
    assert!(
        run.status.success(),
        "xtask {args:?} failed: {}",
        run.render()
    );
    run.stdout
}

#[test]
fn the_command_list_names_modelscope_for_sync_publish_and_verify() {
    let root = workspace_root();
    let run = cli_snapshot!(support::filters(&root), support::xtask(&root).arg("--help"), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    RuvLTRA registry, publishing, Hub and ModelScope tools

    Usage: xtask <COMMAND>

    Commands:
      validate   Check registry.json: exit 0 when valid, 1 listing every problem, 2 when unreadable
      hub        Run the local Hub-compatible server, with ModelScope's API on the same port (`hub serve --addr .. --data .. --token ..`)
      gguf       Inspect GGUF files (`gguf inspect FILE [--json]`): exit 1 when the file is not valid GGUF
      card       Print the model card (README.md) generated from the registry (`--modelscope` for ModelScope's)
      modelfile  Print the Ollama Modelfile of one GGUF model (`modelfile ID`)
      sync       Reconcile registry.json with the Hub or ModelScope (`--from hub|modelscope|all`; `--check` for CI: exit 1 listing every difference)
      bench      Benchmarks: `bench hash|publish|xet|download|codegen|all` (figures beside their references)
      publish    Publish the registry's models found in `--files DIR` to the Hub or ModelScope (`--to hub|modelscope|all`), then verify
      verify     Verify that the Hub or ModelScope (`--to hub|modelscope|all`) holds every published model with the registry's sizes and sha256s
      demo       Run the main job end to end on a local server's Hub and ModelScope modes: publish samples, tag, verify, re-publish
      fuzz       Run every cargo-fuzz target for `--seconds N` each and keep the new interesting inputs
      test       Run the whole test suite (sets up the Python virtualenv the cross-checks need)
      help       Print this message or the help of the given subcommand(s)

    Options:
      -h, --help  Print help
    ----- stderr -----
    ");
    let text = run.stdout;
    for command in ["sync", "publish", "verify"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("no {command} line in:\n{text}"));
        assert!(line.contains("ModelScope"), "{line}");
        assert!(
            line.contains("modelscope"),
            "the flag value is shown: {line}"
        );
    }
}

#[test]
fn each_command_help_opens_with_both_registries() {
    for (command, flag) in [("sync", "--from"), ("publish", "--to"), ("verify", "--to")] {
        let text = help(&[command, "--help"]);
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("Hub") && first.contains("ModelScope"),
            "{command}: {first}"
        );
        assert!(
            text.contains(flag),
            "{command} --help has no {flag}:\n{text}"
        );
    }
}
