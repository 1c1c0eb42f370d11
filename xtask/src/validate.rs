//! `cargo xtask validate`: checks a registry file and lists every problem.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cargo xtask validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry to check.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
}

/// Runs the check.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args.registry;
    anyhow::bail!("validate is not implemented yet")
}
