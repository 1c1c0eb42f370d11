//! Generates `OUT_DIR/registry.rs`, the typed model constants, from `registry.json` (or the
//! file named by `RUVLLM_REGISTRY`); an invalid registry stops the build with a message
//! naming the file, the model and the problem.

use std::path::{Path, PathBuf};
use std::process::exit;

#[path = "build/registry_source.rs"]
mod registry_source;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let registry =
        registry_source::registry_path(&manifest_dir, std::env::var_os(registry_source::ENV_VAR));

    // Every input is listed, so an unchanged registry never re-runs this script.
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build/registry_source.rs");
    println!("cargo::rerun-if-env-changed={}", registry_source::ENV_VAR);
    println!("cargo::rerun-if-changed={}", registry.display());

    let source = match registry_source::generate_source(&registry) {
        Ok(source) => source,
        Err(message) => fail(&message),
    };
    let target = out_dir.join("registry.rs");
    if let Err(err) = registry_source::write_if_changed(&target, &source) {
        fail(&format!(
            "error: ruvllm cannot write its generated registry {}: {err}",
            Path::new(&target).display()
        ));
    }
}

/// Prints the message and stops the build without a panic backtrace.
fn fail(message: &str) -> ! {
    eprintln!("{message}");
    exit(1)
}
