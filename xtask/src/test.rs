//! `cargo xtask test`: the whole test suite, with everything it needs installed first.
//!
//! It creates `.venv` (Python packages of `tests/python/requirements.txt`), then runs
//! `cargo test --workspace` with `RUVLTRA_PYTHON` pointing at that venv and insta in
//! check-only mode, so a stale snapshot fails instead of being rewritten.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// Arguments of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip the Python virtualenv set-up (it must already exist).
    #[arg(long)]
    no_setup: bool,
    /// Extra arguments passed to `cargo test` (after `--`).
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

/// The workspace root (the parent of xtask's manifest directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Creates `.venv` and installs the test requirements into it, when they are not there yet.
pub fn ensure_python_env(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(".venv");
    let python = venv.join("bin/python");
    let requirements = root.join("tests/python/requirements.txt");
    let stamp = venv.join(".requirements-installed");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    if !python.exists() {
        eprintln!("setting up {}", venv.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .context("python3 -m venv failed; install python3 with the venv module")?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .context("pip install of tests/python/requirements.txt failed")?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} exited with {status}");
    }
    Ok(())
}

/// Runs the suite.
pub fn run_tests(args: Args) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let python = if args.no_setup {
        root.join(".venv/bin/python")
    } else {
        ensure_python_env(&root)?
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A publish that names no index folder keeps its local Xet index in the user's cache: the
    // suite gets a fresh one of its own, so it neither reads nor grows the machine's.
    let xet_index = root.join("target/test-xet-index");
    if xet_index.exists() {
        std::fs::remove_dir_all(&xet_index)
            .with_context(|| format!("cannot clear {}", xet_index.display()))?;
    }
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(&args.cargo_args)
        .env("RUVLTRA_PYTHON", &python)
        .env("RUVLTRA_XET_CACHE", &xet_index)
        .env("INSTA_UPDATE", "no")
        .env("CI", std::env::var("CI").unwrap_or_else(|_| "true".into()))
        .status()
        .context("cannot start cargo test")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
