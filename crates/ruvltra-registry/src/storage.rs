//! Reading and writing `registry.json`: parsing with positions, the canonical text form and
//! the atomic save that never leaves a half-written registry behind.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::Registry;
use crate::validate::{Problems, validate};

/// Malformed JSON, or JSON that does not fit the registry's types, with the position where
/// the reader gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the error (0 when the reader knows no position).
    pub line: usize,
    /// 1-based column of the error (0 when the reader knows no position).
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl ParseError {
    fn from_json(err: &serde_json::Error) -> ParseError {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        // serde_json appends the position to its message; it is kept in separate fields here.
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        // serde_json says column 0 for an error before the first character of a line; people
        // count from 1.
        let column = if line > 0 { column.max(1) } else { column };
        ParseError {
            line,
            column,
            message,
        }
    }
}

/// Why [`load`] could not produce a valid registry. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read registry {}: {source} (check that the file exists and is readable)", path.display())]
    Read {
        /// The registry file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not JSON or does not fit the registry's types.
    #[error("malformed registry {} at {error} (fix the JSON at that position)", path.display())]
    Parse {
        /// The registry file.
        path: PathBuf,
        /// Where and what.
        error: ParseError,
    },
    /// The file parsed but breaks validation rules; every problem is listed.
    #[error("registry {} has {} problem{}; fix them:\n{problems}", path.display(), problems.0.len(), if problems.0.len() == 1 { "" } else { "s" })]
    Invalid {
        /// The registry file.
        path: PathBuf,
        /// Every problem found.
        problems: Problems,
    },
}

/// Parses registry JSON without validating it (see [`validate`]).
///
/// A leading UTF-8 byte order mark, which some editors add, is ignored.
pub fn parse(text: &str) -> Result<Registry, ParseError> {
    parse_bytes(text.as_bytes())
}

/// Parses registry JSON from raw bytes, reporting invalid UTF-8 with its position too.
pub fn parse_bytes(bytes: &[u8]) -> Result<Registry, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|err| ParseError::from_json(&err))
}

/// Reads, parses and validates a registry file.
pub fn load(path: &Path) -> Result<Registry, LoadError> {
    let bytes = fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let registry = parse_bytes(&bytes).map_err(|error| LoadError::Parse {
        path: path.to_owned(),
        error,
    })?;
    validate(&registry).map_err(|problems| LoadError::Invalid {
        path: path.to_owned(),
        problems,
    })?;
    Ok(registry)
}

/// The canonical text of a registry: pretty JSON with a two-space indent and a final newline.
///
/// Known keys come in the order of the types (with a `$schema` key first when present),
/// unknown keys after them in sorted order. Loading and saving a canonical file gives the
/// same bytes.
pub fn to_canonical_json(reg: &Registry) -> String {
    // Serialising plain data with string keys into a String cannot fail.
    let mut text = serde_json::to_string_pretty(reg).expect("registry serialises to JSON");
    text.push('\n');
    text
}

/// Writes the canonical form of `reg` to `path` atomically (see [`write_file_atomically`]).
pub fn save(path: &Path, reg: &Registry) -> io::Result<()> {
    write_file_atomically(path, to_canonical_json(reg).as_bytes())
}

/// Replaces `path` with `contents` so that a reader (or a crash) sees either the old file
/// or the whole new one, never a mix.
///
/// The bytes go to a temporary file in the same directory, which is flushed to disk and
/// renamed over `path`; then the directory itself is flushed so the rename survives a power
/// loss. An existing file's permissions are kept, and a symbolic link is written through.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(contents))
}

/// The body of [`write_file_atomically`], with the write itself injectable so that tests can
/// simulate a crash half way.
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let context = |err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("cannot write {}: {err}", path.display()),
        )
    };
    // Write through a symbolic link instead of replacing the link with a plain file.
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(context)?,
        _ => path.to_owned(),
    };
    let Some(file_name) = target.file_name() else {
        return Err(context(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        )));
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let (temp_path, mut file) =
        create_temp_file(&dir, &file_name.to_string_lossy()).map_err(context)?;
    let result = (|| {
        if let Ok(meta) = fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        write(&mut file)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp_path, &target)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        // The temporary file is useless now; the old registry is untouched.
        let _ = fs::remove_file(&temp_path);
    }
    result.map_err(context)
}

/// Creates a fresh hidden temporary file next to the target, never reusing an existing one.
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

/// Flushes a directory entry change (the rename) to disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open directories as files; its rename is flushed with the file system.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// A crash half way through writing the new registry leaves the old one untouched and no
    /// temporary file behind.
    #[test]
    fn a_failure_during_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        fs::write(&path, "old contents\n").unwrap();

        let err = write_atomically_with(&path, |file| {
            file.write_all(b"{\"schema_version\": 1, \"half")?;
            Err(io::Error::other("simulated crash"))
        })
        .unwrap_err();

        assert!(err.to_string().contains("simulated crash"), "{err}");
        assert!(err.to_string().contains("registry.json"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old contents\n");
        assert_eq!(file_names(dir.path()), ["registry.json"]);
    }

    /// While the new contents are being written the registry path still holds the old file:
    /// the bytes go to a separate temporary file.
    #[test]
    fn the_registry_is_never_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        fs::write(&path, "old contents\n").unwrap();

        write_atomically_with(&path, |file| {
            file.write_all(b"new ")?;
            file.flush()?;
            assert_eq!(fs::read_to_string(&path).unwrap(), "old contents\n");
            let names = file_names(dir.path());
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(names[0].starts_with(".registry.json.") && names[0].ends_with(".tmp"));
            file.write_all(b"contents\n")
        })
        .unwrap();

        assert_eq!(fs::read_to_string(&path).unwrap(), "new contents\n");
        assert_eq!(file_names(dir.path()), ["registry.json"]);
    }

    #[test]
    fn save_creates_a_missing_file_and_reports_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.json");
        write_file_atomically(&path, b"{}\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}\n");

        let err = write_file_atomically(&dir.path().join("no/such/dir/r.json"), b"{}").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("r.json"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn save_keeps_permissions_and_writes_through_symlinks() {
        use std::os::unix::fs::{PermissionsExt, symlink};

        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("registry.json");
        symlink(&real, &link).unwrap();

        write_file_atomically(&link, b"new").unwrap();

        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
