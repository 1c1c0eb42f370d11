//! The logic of `ruvllm`'s build script, in a module of its own so that tests can call it:
//! find the registry file, turn it into Rust source, and write that source atomically.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that names another registry file to build against.
pub const ENV_VAR: &str = "RUVLLM_REGISTRY";

/// The registry file to read: `$RUVLLM_REGISTRY` when set and not empty, else the
/// workspace's `registry.json` two levels above the crate.
///
/// A relative `$RUVLLM_REGISTRY` is taken from the workspace root, because cargo runs build
/// scripts in the crate's own directory rather than where `cargo build` was typed.
pub fn registry_path(manifest_dir: &Path, env_value: Option<OsString>) -> PathBuf {
    let workspace_root = manifest_dir.join("..").join("..");
    match env_value.filter(|value| !value.is_empty()) {
        Some(value) => {
            let path = PathBuf::from(value);
            if path.is_absolute() {
                path
            } else {
                workspace_root.join(path)
            }
        }
        None => workspace_root.join("registry.json"),
    }
}

/// Reads, validates and renders the registry at `path`.
///
/// The error is the whole message for the person running `cargo build`: it names the file,
/// each model id and each problem, and says what to do.
pub fn generate_source(path: &Path) -> Result<String, String> {
    let failure = |detail: String| {
        format!(
            "error: ruvllm cannot build its model registry from {}\n{detail}\n\
             (fix the file, or set {ENV_VAR} to another registry file)",
            path.display()
        )
    };
    let registry = ruvltra_registry::load(path).map_err(|err| failure(err.to_string()))?;
    ruvltra_codegen::render(&registry).map_err(|err| failure(err.for_registry_file(path)))
}

/// Writes `source` to `path` atomically, leaving the file untouched when it already holds
/// exactly these bytes.
pub fn write_if_changed(path: &Path, source: &str) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == source.as_bytes()) {
        return Ok(());
    }
    ruvltra_registry::write_file_atomically(path, source.as_bytes())
}
