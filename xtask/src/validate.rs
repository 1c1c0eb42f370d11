//! `cargo xtask validate`: checks a registry file and lists every problem, and regenerates
//! `registry.schema.json` on request.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ruvltra_registry::{LoadError, SCHEMA_FILE_NAME};

/// Arguments of `cargo xtask validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry to check.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
    /// First (re)write registry.schema.json, next to the registry, from the registry types.
    #[arg(long)]
    write_schema: bool,
}

/// Runs the check: exit 0 when valid, 1 listing every problem (values of the wrong type
/// included, each with its model id and JSON path), 2 when the file cannot be read, is not
/// JSON, or its top level is no JSON object.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.write_schema {
        write_schema(&args)?;
    }
    match ruvltra_registry::load(&args.registry) {
        Ok(registry) => {
            println!("valid: {} models", registry.models.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid { path, problems }) => {
            for problem in &problems.0 {
                eprintln!("{problem}");
            }
            let count = problems.0.len();
            eprintln!(
                "{}: {count} problem{}; fix them and run `cargo xtask validate` again",
                path.display(),
                if count == 1 { "" } else { "s" }
            );
            Ok(ExitCode::from(1))
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Writes the schema atomically, and only when it changed.
fn write_schema(args: &Args) -> anyhow::Result<()> {
    let path = args.registry.with_file_name(SCHEMA_FILE_NAME);
    let text = ruvltra_registry::json_schema_text();
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        println!("{} is up to date", path.display());
        return Ok(());
    }
    ruvltra_registry::write_file_atomically(&path, text.as_bytes())
        .with_context(|| format!("cannot write the schema to {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
