//! `cargo xtask fuzz --seconds N`: runs every cargo-fuzz target of the workspace (the GGUF
//! header parser, the registry loader, the local server's NDJSON commit and LFS batch
//! handlers) for N seconds each, then merges the new interesting inputs into the kept corpus,
//! which the normal test suite replays on stable.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::test::workspace_root;

/// Every fuzz target: its harness folder (relative to the workspace root), its name and
/// whether new interesting inputs are merged into the kept corpus. The GGUF harness keeps
/// only its hand-made `seed-*` files (its replay test expects each of them to parse), so its
/// new inputs stay in `target/fuzz-scratch/parse_header`.
const TARGETS: &[(&str, &str, bool)] = &[
    ("crates/ruvltra-gguf/fuzz", "parse_header", false),
    ("tests/fuzz", "registry", true),
    ("tests/fuzz", "server_commit", true),
    ("tests/fuzz", "server_lfs_batch", true),
    ("tests/fuzz", "xet_xorb", true),
    ("tests/fuzz", "xet_shard", true),
];

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How long each target runs, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Run only these targets (by name); every target when absent. May repeat.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Install cargo-fuzz with `cargo install cargo-fuzz --locked` when it is missing.
    #[arg(long)]
    install: bool,
}

/// Runs the targets one after the other; exit 1 when any target found a crash (the input is
/// left under `<harness>/artifacts/<target>/`, and the stable replay then fails on it too).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    for name in &args.targets {
        if !TARGETS.iter().any(|(_, t, _)| t == name) {
            let known: Vec<&str> = TARGETS.iter().map(|(_, t, _)| *t).collect();
            bail!(
                "unknown fuzz target {name}; the targets are {}",
                known.join(", ")
            );
        }
    }
    check_tools(args.install)?;
    let root = workspace_root();
    let mut failed = Vec::new();
    for (dir, target, merge) in TARGETS {
        if !args.targets.is_empty() && !args.targets.iter().any(|t| t == target) {
            continue;
        }
        eprintln!("fuzzing {target} for {} s ({dir})", args.seconds);
        if !fuzz_one(&root.join(dir), target, args.seconds, *merge)? {
            failed.push(*target);
        }
    }
    if failed.is_empty() {
        eprintln!("no crash found; new interesting inputs were merged into the kept corpora");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "crashes found in: {}; see the artifacts/ folder of each harness",
            failed.join(", ")
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Checks for the nightly toolchain and cargo-fuzz, installing cargo-fuzz when asked.
fn check_tools(install: bool) -> anyhow::Result<()> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .context("cannot run rustup; cargo-fuzz needs rustup and a nightly toolchain")?;
    if !nightly.status.success() {
        bail!("cargo-fuzz needs a nightly toolchain: run `rustup toolchain install nightly`");
    }
    let fuzz = Command::new("cargo").args(["fuzz", "--version"]).output();
    if fuzz.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    if !install {
        bail!(
            "cargo-fuzz is not installed: run `cargo install cargo-fuzz --locked` or pass --install"
        );
    }
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("cannot run cargo install")?;
    if !status.success() {
        bail!("`cargo install cargo-fuzz --locked` failed; install it by hand and try again");
    }
    Ok(())
}

/// Runs one target with new inputs going to a scratch folder, then (when `merge`) merges the
/// ones adding coverage into the kept corpus. Returns false when the target crashed.
fn fuzz_one(harness: &Path, target: &str, seconds: u64, merge: bool) -> anyhow::Result<bool> {
    let kept = harness.join("corpus").join(target);
    let scratch: PathBuf = workspace_root().join("target/fuzz-scratch").join(target);
    std::fs::create_dir_all(&kept).with_context(|| format!("cannot create {}", kept.display()))?;
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let status = Command::new("cargo")
        .current_dir(harness)
        .args(["+nightly", "fuzz", "run", "-O", target])
        .arg(&scratch)
        .arg(&kept)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .status()
        .with_context(|| format!("cannot run cargo fuzz for {target}"))?;
    let ok = status.success();
    if !merge {
        return Ok(ok);
    }
    let merged = Command::new("cargo")
        .current_dir(harness)
        .args(["+nightly", "fuzz", "run", "-O", target])
        .arg("--")
        .arg("-merge=1")
        .arg(&kept)
        .arg(&scratch)
        .status()
        .with_context(|| format!("cannot merge the corpus of {target}"))?;
    if !merged.success() {
        eprintln!(
            "warning: merging new inputs of {target} into {} failed",
            kept.display()
        );
    }
    Ok(ok)
}
