//! What a crash or a failed write leaves behind: the old file, whole, and no temporary file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// A crash half way through writing the new file leaves the old one untouched and no
/// temporary file behind.
#[test]
fn a_failure_during_the_write_keeps_the_old_file() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("registry.json");
    fs::write(&path, "old contents\n").unwrap();

    let err = atomic_file::write_with(&path, |file| {
        file.write_all(b"{\"schema_version\": 1, \"half")?;
        Err(io::Error::other("simulated crash"))
    })
    .unwrap_err();

    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "old contents\n");
    assert_eq!(file_names(dir), ["registry.json"]);
}

/// While the new contents are being written the path still holds the old file: the bytes go
/// to a separate temporary file in the same directory.
#[test]
fn the_file_is_never_half_written() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("registry.json");
    fs::write(&path, "old contents\n").unwrap();

    atomic_file::write_with(&path, |file| {
        file.write_all(b"new ")?;
        file.flush()?;
        assert_eq!(fs::read_to_string(&path).unwrap(), "old contents\n");
        let names = file_names(dir);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].starts_with(".registry.json.") && names[0].ends_with(".tmp"));
        file.write_all(b"contents\n")
    })
    .unwrap();

    assert_eq!(fs::read_to_string(&path).unwrap(), "new contents\n");
    assert_eq!(file_names(dir), ["registry.json"]);
}

#[test]
fn a_missing_file_is_created_and_a_missing_directory_reported() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let path = dir.join("new.json");
    atomic_file::write(&path, b"{}\n").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "{}\n");

    let err = atomic_file::write(&dir.join("no/such/dir/r.json"), b"{}").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(file_names(dir), ["new.json"]);
}

#[test]
fn a_path_without_a_file_name_is_refused() {
    let err = atomic_file::write(Path::new("/"), b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("names no file"), "{err}");
}

#[cfg(unix)]
#[test]
fn permissions_are_kept_and_symlinks_written_through() {
    use std::os::unix::fs::{PermissionsExt, symlink};

    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let real = dir.join("real.json");
    fs::write(&real, "old").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("registry.json");
    symlink(&real, &link).unwrap();

    atomic_file::write(&link, b"new").unwrap();

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

#[test]
fn sync_dir_flushes_an_existing_directory_and_reports_a_missing_one() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    atomic_file::sync_dir(dir).unwrap();
    if cfg!(unix) {
        assert!(atomic_file::sync_dir(&dir.join("missing")).is_err());
    }
}
