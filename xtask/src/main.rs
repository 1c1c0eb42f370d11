//! `cargo xtask`: the project's one task runner (see `cargo xtask --help`).
//!
//! Each subcommand lives in its own module with an `Args` struct and a `run` function that
//! returns the process exit code; `main` only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod card;
mod demo;
mod fuzz;
mod gguf;
mod hub;
mod modelfile;
mod publish;
mod sync;
mod test;
mod validate;
mod verify;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "RuvLTRA registry, publishing, Hub and ModelScope tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check registry.json: exit 0 when valid, 1 listing every problem, 2 when unreadable.
    Validate(validate::Args),
    /// Run the local Hub-compatible server, with ModelScope's API on the same port (`hub serve --addr .. --data .. --token ..`).
    Hub(hub::Args),
    /// Inspect GGUF files (`gguf inspect FILE [--json]`): exit 1 when the file is not valid GGUF.
    Gguf(gguf::Args),
    /// Print the model card (README.md) generated from the registry (`--modelscope` for ModelScope's).
    Card(card::Args),
    /// Print the Ollama Modelfile of one GGUF model (`modelfile ID`).
    Modelfile(modelfile::Args),
    /// Reconcile registry.json with the Hub or ModelScope (`--from hub|modelscope|all`; `--check` for CI: exit 1 listing every difference).
    Sync(sync::Args),
    /// Benchmarks: `bench hash|publish|xet|download|codegen|all` (figures beside their references).
    Bench(bench::Args),
    /// Publish the registry's models found in `--files DIR` to the Hub or ModelScope (`--to hub|modelscope|all`), then verify.
    Publish(publish::Args),
    /// Verify that the Hub or ModelScope (`--to hub|modelscope|all`) holds every published model with the registry's sizes and sha256s.
    Verify(verify::Args),
    /// Run the main job end to end on a local server's Hub and ModelScope modes: publish samples, tag, verify, re-publish.
    Demo(demo::Args),
    /// Run every cargo-fuzz target for `--seconds N` each and keep the new interesting inputs.
    Fuzz(fuzz::Args),
    /// Run the whole test suite (sets up the Python virtualenv the cross-checks need).
    Test(test::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Hub(args) => hub::run(args),
        Command::Gguf(args) => gguf::run(args),
        Command::Card(args) => card::run(args),
        Command::Modelfile(args) => modelfile::run(args),
        Command::Sync(args) => sync::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Test(args) => test::run_tests(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
