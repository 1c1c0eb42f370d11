//! The workspace root and the workspace's own files, for tests that read checked-in files
//! (`registry.json`, sources, snapshots) whatever crate they run in.

use std::path::{Path, PathBuf};

/// The workspace root (the folder of the top `Cargo.toml`): `dev-python`'s finder, the one
/// place that knows where the root is.
pub fn workspace_root() -> PathBuf {
    dev_python::workspace_root()
}

/// `relative` (for example `registry.json`) under the workspace root.
pub fn workspace_file(relative: impl AsRef<Path>) -> PathBuf {
    workspace_root().join(relative)
}

/// Folders that hold no file of the workspace's own: build output, the Python venv, git.
const NOT_OURS: &[&str] = &["target", ".venv", ".git"];

/// Every file under `root` whose name ends in `.{extension}`, skipping `target/`, `.venv/`
/// and `.git/` folders at any depth and never following symbolic links; sorted.
pub fn workspace_files(root: &Path, extension: &str) -> Vec<PathBuf> {
    let suffix = format!(".{extension}");
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()));
            let kind = entry.file_type().unwrap();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                if !NOT_OURS.contains(&name.as_ref()) {
                    folders.push(entry.path());
                }
            } else if kind.is_file() && name.ends_with(&suffix) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}
