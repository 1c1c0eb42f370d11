//! The hidden `cargo xtask bench exec`, the child side of the harness: it runs one command
//! as its only child and reports the child's wall time and peak RSS, which a parent cannot
//! measure for one child among several.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;

/// Arguments of the hidden `cargo xtask bench exec`: runs one command and reports its wall
/// time and peak RSS (`getrusage(RUSAGE_CHILDREN)` of this process, whose only child it is).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Where to write the JSON report (`wall_s`, `max_rss_kib`, `code`).
    #[arg(long)]
    report: PathBuf,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<OsString>,
}

/// Runs `bench exec`: the command as the only child, then its wall time and peak RSS.
pub fn run(args: ExecArgs) -> anyhow::Result<ExitCode> {
    let (program, rest) = args
        .command
        .split_first()
        .context("bench exec needs a command")?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .status()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let wall = start.elapsed();
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage failed")?;
    let report = json!({
        "wall_s": wall.as_secs_f64(),
        // Linux gives ru_maxrss in KiB.
        "max_rss_kib": usage.max_rss(),
        "code": status.code(),
    });
    ruvltra_registry::write_file_atomically(&args.report, report.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", args.report.display()))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
