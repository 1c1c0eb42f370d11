//! Scratch folders: fresh ones a test owns, and listings of what a run left in them.

use std::path::{Path, PathBuf};

/// Empties (or creates) the folder at `path` and returns it. For folders that should outlive
/// a failed test so that it can be looked at; see [`scratch_dir!`](crate::scratch_dir).
#[track_caller]
pub fn fresh_dir(path: impl Into<PathBuf>) -> PathBuf {
    let path = path.into();
    match std::fs::remove_dir_all(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot empty {}: {e}", path.display()),
    }
    std::fs::create_dir_all(&path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    path
}

/// A fresh folder `target/tmp/NAME` of the calling test crate (`CARGO_TARGET_TMPDIR`),
/// emptied first; it stays after the run for a look at what a failed test left.
#[macro_export]
macro_rules! scratch_dir {
    ($name:expr) => {
        $crate::fresh_dir(::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join($name))
    };
}

/// Every regular file under `dir`, recursively, as paths relative to `dir` with `/`
/// separators, sorted. A missing folder lists nothing.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    out
}
