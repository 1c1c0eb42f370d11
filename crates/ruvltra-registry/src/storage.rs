//! Reading and writing `registry.json`: parsing with positions, the canonical text form and
//! the atomic save that never leaves a half-written registry behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::Registry;
use crate::type_errors::{ParseError, Read, merge, read_registry};
use crate::validate::{Problems, validate};

/// Why [`load`] could not produce a valid registry. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read registry {}: {error} (check that the file exists and is readable)", path.display())]
    Read {
        /// The registry file.
        path: PathBuf,
        /// The underlying error, in the message already: not a `source`, so an error chain
        /// (`{:#}`) does not print it twice.
        error: io::Error,
    },
    /// The file is not JSON, or its top level is no JSON object.
    #[error("malformed registry {} at {error} (fix the JSON at that position)", path.display())]
    Parse {
        /// The registry file.
        path: PathBuf,
        /// Where and what.
        error: ParseError,
    },
    /// The file is JSON but has values of the wrong type, or breaks validation rules; every
    /// problem is listed, each with its JSON path and model id.
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
///
/// This stops at the first value of the wrong type; [`load`] lists them all.
pub fn parse_bytes(bytes: &[u8]) -> Result<Registry, ParseError> {
    serde_json::from_slice(without_bom(bytes)).map_err(|err| ParseError::from_json(&err))
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads, parses and validates a registry file.
///
/// A file that cannot be read, is not JSON, or whose top level is no object is a
/// [`LoadError::Read`] or [`LoadError::Parse`]. Everything else that is wrong, values of the
/// wrong type (`"bytes": -5`) included, is one [`LoadError::Invalid`] that lists every problem
/// with its JSON path and model id.
pub fn load(path: &Path) -> Result<Registry, LoadError> {
    let bytes = fs::read(path).map_err(|error| LoadError::Read {
        path: path.to_owned(),
        error,
    })?;
    let read = read_registry(without_bom(&bytes)).map_err(|error| LoadError::Parse {
        path: path.to_owned(),
        error,
    })?;
    let invalid = |problems| LoadError::Invalid {
        path: path.to_owned(),
        problems: Problems(problems),
    };
    match read {
        Read::Clean(registry) => {
            validate(&registry).map_err(|problems| invalid(problems.0))?;
            Ok(registry)
        }
        Read::Typed { registry, problems } => {
            let validation = registry
                .and_then(|registry| validate(&registry).err())
                .map_or_else(Vec::new, |problems| problems.0);
            Err(invalid(merge(problems, validation)))
        }
    }
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
/// or the whole new one, never a mix: [`atomic_file::write`] (temporary file in the same
/// directory, fsync, rename, fsync of the directory; permissions kept, symbolic links written
/// through), with the path in the error.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    atomic_file::write(path, contents).map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("cannot write {}: {err}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crash and symlink cases are tested in `atomic-file`; here the error names the file.
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
}
