//! `cargo xtask card`: prints the model card (`README.md`) the publisher commits to the
//! repository, from the registry alone, and warns on stderr about ambiguous download tags.

use std::path::PathBuf;
use std::process::ExitCode;

use ruvltra_card::{CardFacts, compat};
use ruvltra_registry::Status;

/// Arguments of `cargo xtask card`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry to read.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
    /// Print the ModelScope variant of the card instead.
    #[arg(long)]
    modelscope: bool,
}

/// Prints the card on stdout; exit 2 when the registry is unreadable or invalid.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let registry = ruvltra_registry::load(&args.registry)?;
    let facts = CardFacts::default();
    let text = if args.modelscope {
        ruvltra_card::modelscope_card(&registry, &facts)
    } else {
        ruvltra_card::model_card(&registry, &facts)
    };
    print!("{text}");
    let paths: Vec<&str> = registry
        .models
        .iter()
        .filter(|m| m.status != Status::Planned && m.repo(&registry) == registry.repo)
        .flat_map(|m| m.all_files().map(|(path, _, _)| path))
        .collect();
    for warning in compat::warnings(&registry.repo, &paths) {
        eprintln!("warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}
