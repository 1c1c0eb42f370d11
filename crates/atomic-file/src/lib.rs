//! The one way the project writes a file: a temporary file in the same directory, fsync,
//! rename over the target, fsync of the directory, so that a reader (or a crash) sees either
//! the old file or the whole new one, never a mix.
//!
//! The registry's canonical save, the GGUF and safetensors fixture writers and `ruvllm`'s cache
//! markers all go through [`write`] or [`write_with`].
//!
//! **Architecture invariant:** a leaf crate. It depends on nothing (std only, no workspace
//! crate, no external crate), so that any crate, the standalone readers and `ruvllm`'s runtime
//! included, can use it without pulling anything in.

#![deny(missing_docs)]

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `contents` atomically (see [`write_with`]).
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with(path, |file| file.write_all(contents))
}

/// Replaces `path` with whatever `fill` writes into a fresh file, atomically.
///
/// `fill` writes to a new temporary file in the target's directory (never an existing one),
/// which is then flushed to disk and renamed over `path`; then the directory itself is flushed
/// so that the rename survives a power loss. An existing file's permissions are kept, and a
/// symbolic link is written through rather than replaced by a plain file. When anything fails,
/// `fill` included, the temporary file is removed and `path` is untouched.
///
/// Errors are the operating system's, unchanged in kind and without the path: callers add the
/// path to their own error type.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    // Write through a symbolic link instead of replacing the link with a plain file.
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_owned(),
    };
    let Some(file_name) = target.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file; give the path of a file",
        ));
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let (temp_path, mut file) = create_temp_file(&dir, &file_name.to_string_lossy())?;
    let result = (|| {
        if let Ok(meta) = fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        fill(&mut file)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp_path, &target)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        // The temporary file is useless now; the old file is untouched.
        let _ = fs::remove_file(&temp_path);
    }
    result
}

/// Creates a fresh hidden temporary file next to the target, never reusing an existing one:
/// `.{file_name}.{pid}.{counter}.{nanos}.tmp`.
fn create_temp_file(dir: &Path, file_name: &str) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    let mut last_err = None;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp_path = dir.join(format!(".{file_name}.{pid}.{n}.{nanos:08x}.tmp"));
        match File::options()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last_err = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Flushes a directory's entries (a rename into it) to disk.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open directories as files; its rename is flushed with the file system.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
