//! `cargo xtask bench <what>`: benchmarks of the tool chain, one module per subject
//! (`bench_<what>.rs`; `bench_suite.rs` holds what hash, publish, download and all share).
//!
//! Performance goals are measured here and printed next to the goal, never asserted with
//! wall-clock time in tests.

use std::process::ExitCode;

use clap::Subcommand;

use crate::bench_codegen;
use crate::bench_suite::{self, AllArgs, Common, ExecArgs, Which};

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
    /// The uploader's streaming sha256 of a large file vs `openssl dgst` and `sha256sum`.
    Hash(Common),
    /// `xtask publish` of a generated GGUF into a fresh `hub serve` vs `huggingface_hub`'s
    /// `upload_file` into another, and vs one hash + one transfer.
    Publish(Common),
    /// `ruvllm pull` (verified) vs `curl -o /dev/null` and `hf_hub_download`, same server.
    Download(Common),
    /// hash, publish, download and codegen, with one table of every figure.
    All(AllArgs),
    /// Runs a command and reports its wall time and peak RSS (used by the other benchmarks).
    #[command(hide = true)]
    Exec(ExecArgs),
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Codegen(args) => bench_codegen::run(args),
        What::Hash(common) => bench_suite::run_one(Which::Hash, common),
        What::Publish(common) => bench_suite::run_one(Which::Publish, common),
        What::Download(common) => bench_suite::run_one(Which::Download, common),
        What::All(args) => bench_suite::run_all(args),
        What::Exec(args) => bench_suite::run_exec(args),
    }
}
