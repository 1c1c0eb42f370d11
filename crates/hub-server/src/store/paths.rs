//! Which paths a repo may hold, checked once for every payload that names one (commits and
//! preupload, in both modes), and which additions a manifest can take.

use std::collections::BTreeMap;

use super::model::FileEntry;

/// Checks a path from a commit or preupload payload. Returns the normalised path (a trailing
/// `/` removed when `allow_trailing_slash`) or a message saying what is wrong.
pub fn check_repo_path(path: &str, allow_trailing_slash: bool) -> Result<String, String> {
    let trimmed = if allow_trailing_slash {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    };
    let bad = |why: &str| Err(format!("invalid path {path:?}: {why}"));
    if trimmed.is_empty() {
        return bad("it is empty");
    }
    if trimmed.len() > 1024 {
        return bad("it is longer than 1024 bytes");
    }
    if trimmed.starts_with('/') {
        return bad("it must be relative to the repo root");
    }
    // A deliberate difference from the Hub, which stores such paths: a `\` is a folder
    // separator to a client writing the file on Windows, so `a\..\x` would leave its
    // snapshot folder and `a\b` would collide with `a/b`. The official client and this
    // project's clients cannot use such a file safely, so it is refused here (422 InvalidPath,
    // in commits and preupload), as the registry and hub-client refuse it.
    if trimmed.contains('\\') {
        return bad(
            "backslashes are not allowed (unlike the Hub, this server refuses them so that no \
             client writes them as folder separators): use '/' between folders",
        );
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return bad("control characters are not allowed");
    }
    // A leading drive letter (`C:x`, `C:/x`) would escape the snapshot folder of a client
    // that writes the file on Windows; the Hub client and the registry refuse it too.
    let bytes = trimmed.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return bad("a drive letter is not allowed");
    }
    for segment in trimmed.split('/') {
        if segment.is_empty() {
            return bad("it contains an empty segment");
        }
        if segment.len() > 255 {
            return bad("a segment is longer than 255 bytes, which no file system can store");
        }
        if segment == "." || segment == ".." {
            return bad("'.' and '..' segments are not allowed");
        }
        if segment == ".git" {
            return bad("'.git' is reserved");
        }
    }
    Ok(trimmed.to_owned())
}

/// Checks that a file can be added at `path` to a manifest: a file cannot replace a directory
/// or live under a file. The error says which.
pub fn check_addition(files: &BTreeMap<String, FileEntry>, path: &str) -> Result<(), String> {
    let under = format!("{path}/");
    if files
        .range(under.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&under))
    {
        return Err(format!(
            "{path} is a directory in the repo: delete it first"
        ));
    }
    let mut ancestor = path;
    while let Some((up, _)) = ancestor.rsplit_once('/') {
        if files.contains_key(up) {
            return Err(format!(
                "{up} is a file, so {path} cannot be added under it"
            ));
        }
        ancestor = up;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_paths_are_rejected() {
        for bad in [
            "../x", "a/../b", "/abs", "a\\b", "a\0b", "a\nb", "", "a//b", ".git/x",
        ] {
            assert!(check_repo_path(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(check_repo_path("dir/", true).unwrap(), "dir");
        assert_eq!(check_repo_path("a/b.txt", false).unwrap(), "a/b.txt");
    }

    #[test]
    fn additions_never_mix_files_and_directories() {
        let entry = FileEntry {
            oid: "0".repeat(40),
            size: 0,
            lfs: None,
        };
        let files: BTreeMap<String, FileEntry> = [("a/b.txt", &entry), ("c", &entry)]
            .into_iter()
            .map(|(p, e)| (p.to_owned(), e.clone()))
            .collect();
        assert!(check_addition(&files, "a/c.txt").is_ok());
        assert!(
            check_addition(&files, "a/b.txt").is_ok(),
            "replacing a file"
        );
        assert!(
            check_addition(&files, "a")
                .unwrap_err()
                .contains("is a directory")
        );
        assert!(
            check_addition(&files, "c/d")
                .unwrap_err()
                .contains("c is a file")
        );
        // A sibling whose name starts like the directory is not inside it.
        assert!(check_addition(&files, "a.txt").is_ok());
    }
}
