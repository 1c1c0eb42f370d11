//! `cargo xtask modelfile ID`: prints the Ollama Modelfile the publisher puts at
//! `ollama/<ID>/Modelfile` in the repository, so it can be checked or used locally.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `cargo xtask modelfile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Id of a GGUF model of the registry (`ruvltra-small-0.5b-q4_k_m`).
    id: String,
    /// The registry to read.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
}

/// Prints the Modelfile on stdout; exit 2 when the registry is unreadable or invalid or the
/// id is not a GGUF model of it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let registry = ruvltra_registry::load(&args.registry)?;
    let text = ruvltra_card::modelfile(&registry, &args.id)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
