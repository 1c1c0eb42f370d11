//! `cargo xtask bench <what>`: benchmarks of the tool chain, one module per subject.
//!
//! Performance goals are measured here and printed next to the goal, never asserted with
//! wall-clock time in tests.

use std::process::ExitCode;

use clap::Subcommand;

use crate::bench_codegen;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

/// What to benchmark.
#[derive(Debug, Subcommand)]
enum What {
    /// Time of `ruvltra_codegen::render` and compile time of the generated module for synthetic
    /// registries of 10, 1,000 and 5,000 models, and whether a no-op build re-runs build scripts.
    Codegen(bench_codegen::Args),
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Codegen(args) => bench_codegen::run(args),
    }
}
