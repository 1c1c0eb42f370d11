//! The Hugging Face cache on disk, laid out exactly as `huggingface_hub` 2.4 and `hf-hub` do,
//! so a file fetched by any of them is reused by the others.
//!
//! ```text
//! <root>/models--ns--name/blobs/<etag>                 content (sha256 name for LFS files)
//! <root>/models--ns--name/snapshots/<commit>/<path>    relative symlink to ../../blobs/<etag>
//! <root>/models--ns--name/refs/<revision>              the commit a branch or tag pointed to
//! <root>/.locks/models--ns--name/<etag>.lock           one lock per blob (flock, shared with Python)
//! ```
//!
//! ruvllm adds three things of its own, all ignored by the other clients:
//! * `blobs/<etag>.ruvllm-partial`, the resumable partial download of a blob. It is only ever
//!   written while holding the blob's lock, so a new process can safely continue it.
//! * `.locks/models--ns--name/<etag>.ruvllm-verified`, a marker recording that the blob of
//!   that size and modification time was hashed and had that sha256; it makes re-checking a
//!   cached file cheap (the `.locks` tree is skipped by `huggingface_hub`'s cache scanner).
//! * `models--ns--name/ruvllm-fallback/<revision>/<path>`, symlinks for files obtained from a
//!   fallback URL while the Hub was unreachable and the commit unknown; a snapshot directory
//!   must be named by a commit, so such files cannot go there.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use hub_client::{RepoId, RepoType, quote_segment};

/// Suffix of the resumable partial file of a blob, next to it in `blobs/`.
pub const PARTIAL_SUFFIX: &str = ".ruvllm-partial";
/// Suffix of the verification marker of a blob, next to its lock file.
pub const MARKER_SUFFIX: &str = ".ruvllm-verified";
/// The folder (inside a repo folder) holding links to files obtained from fallback URLs when
/// the commit was unknown.
pub const FALLBACK_DIR: &str = "ruvllm-fallback";

/// Where the cache lives: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`, read through `var` (pass `|k| std::env::var(k).ok()`).
pub fn resolve_cache_dir(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(dir) = set("HF_HUB_CACHE") {
        return expand_home(&dir, &var);
    }
    if let Some(home) = set("HF_HOME") {
        return expand_home(&home, &var).join("hub");
    }
    let base = match set("XDG_CACHE_HOME") {
        Some(xdg) => PathBuf::from(xdg),
        None => home_dir(&var).join(".cache"),
    };
    base.join("huggingface").join("hub")
}

/// True when `HF_HUB_OFFLINE` is set to a true value (`1`, `true`, `yes`, `on`), as
/// `huggingface_hub` reads it.
pub fn offline_from_env(var: impl Fn(&str) -> Option<String>) -> bool {
    var("HF_HUB_OFFLINE").is_some_and(|v| is_true(&v))
}

/// A true value of a boolean variable, as `huggingface_hub` reads them.
fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// True when `HF_HUB_DISABLE_XET` is set to a true value, as `huggingface_hub` reads it:
/// downloads then never go through Xet.
pub fn xet_disabled_from_env(var: impl Fn(&str) -> Option<String>) -> bool {
    var("HF_HUB_DISABLE_XET").is_some_and(|v| is_true(&v))
}

fn home_dir(var: &impl Fn(&str) -> Option<String>) -> PathBuf {
    var("HOME")
        .or_else(|| var("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn expand_home(path: &str, var: &impl Fn(&str) -> Option<String>) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home_dir(var).join(rest),
        None if path == "~" => home_dir(var),
        None => PathBuf::from(path),
    }
}

/// True for 40 lowercase hex digits, the form of a git commit id.
pub fn is_commit_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for 64 lowercase hex digits, the form of a sha256 (the etag of an LFS file).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True when `name` (an etag or commit id from a server) is safe as one file name: ASCII
/// letters, digits, `-`, `_` and `.`, not starting with a dot, at most 128 bytes.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// One cache root and the paths inside it. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfCache {
    root: PathBuf,
}

/// What a verification marker records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The blob's size in bytes when it was hashed.
    pub size: u64,
    /// The blob's modification time (nanoseconds since the Unix epoch) when it was hashed.
    pub mtime_ns: u128,
    /// The sha256 found, as lowercase hex.
    pub sha256: String,
}

impl HfCache {
    /// A cache rooted at `root` (the `HF_HUB_CACHE` directory).
    pub fn new(root: impl Into<PathBuf>) -> HfCache {
        HfCache { root: root.into() }
    }

    /// The cache of the process environment (see [`resolve_cache_dir`]).
    pub fn from_env() -> HfCache {
        HfCache::new(resolve_cache_dir(|k| std::env::var(k).ok()))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `models--ns--name` (`datasets--` and `spaces--` for the other repository types).
    pub fn folder_name(repo: &RepoId) -> String {
        let kind = match repo.repo_type() {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        };
        format!("{kind}--{}--{}", repo.namespace(), repo.name())
    }

    /// The repository's folder.
    pub fn repo_dir(&self, repo: &RepoId) -> PathBuf {
        self.root.join(Self::folder_name(repo))
    }

    /// `blobs/<etag>`.
    pub fn blob_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.repo_dir(repo).join("blobs").join(etag)
    }

    /// `blobs/<etag>.ruvllm-partial`.
    pub fn partial_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.repo_dir(repo)
            .join("blobs")
            .join(format!("{etag}{PARTIAL_SUFFIX}"))
    }

    /// `snapshots/<commit>/<file>` (the file keeps its folders).
    pub fn snapshot_path(&self, repo: &RepoId, commit: &str, file: &str) -> PathBuf {
        join_repo_path(self.repo_dir(repo).join("snapshots").join(commit), file)
    }

    /// `ruvllm-fallback/<quoted revision>/<file>`.
    pub fn fallback_path(&self, repo: &RepoId, revision: &str, file: &str) -> PathBuf {
        join_repo_path(
            self.repo_dir(repo)
                .join(FALLBACK_DIR)
                .join(quote_segment(revision)),
            file,
        )
    }

    /// `refs/<revision>` (`refs/pr/1` nests, as in `huggingface_hub`).
    pub fn ref_path(&self, repo: &RepoId, revision: &str) -> PathBuf {
        join_repo_path(self.repo_dir(repo).join("refs"), revision)
    }

    /// `.locks/models--ns--name/<etag>.lock`.
    pub fn lock_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.root
            .join(".locks")
            .join(Self::folder_name(repo))
            .join(format!("{etag}.lock"))
    }

    /// `.locks/models--ns--name/<etag>.ruvllm-verified`.
    pub fn marker_path(&self, repo: &RepoId, etag: &str) -> PathBuf {
        self.root
            .join(".locks")
            .join(Self::folder_name(repo))
            .join(format!("{etag}{MARKER_SUFFIX}"))
    }

    /// The commit `refs/<revision>` holds, if the file exists and holds a commit id.
    pub fn read_ref(&self, repo: &RepoId, revision: &str) -> io::Result<Option<String>> {
        match fs::read_to_string(self.ref_path(repo, revision)) {
            Ok(text) => {
                let commit = text.trim();
                Ok(is_safe_name(commit).then(|| commit.to_owned()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `refs/<revision>` atomically (unchanged files are left alone).
    pub fn write_ref(&self, repo: &RepoId, revision: &str, commit: &str) -> io::Result<()> {
        if self.read_ref(repo, revision)?.as_deref() == Some(commit) {
            return Ok(());
        }
        write_atomic(&self.ref_path(repo, revision), commit.as_bytes())
    }

    /// Makes `link` a relative symlink to `blobs/<etag>` (atomically replacing anything there)
    /// and returns `link`. `link` must be a path from [`snapshot_path`](Self::snapshot_path)
    /// or [`fallback_path`](Self::fallback_path) of `file`.
    pub fn link_blob(
        &self,
        repo: &RepoId,
        link: &Path,
        file: &str,
        etag: &str,
    ) -> io::Result<PathBuf> {
        // snapshots/<commit>/<a>/<b> needs one `..` per folder of the file, plus two.
        let depth = file.split('/').count() + 1;
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(etag);
        let dir = link
            .parent()
            .ok_or_else(|| io::Error::other("a snapshot path has no parent folder"))?;
        fs::create_dir_all(dir)?;
        if fs::read_link(link).is_ok_and(|t| t == target) {
            return Ok(link.to_owned());
        }
        let tmp = temp_sibling(link);
        make_link(&target, &self.blob_path(repo, etag), &tmp)?;
        if let Err(e) = fs::rename(&tmp, link) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        sync_dir(dir);
        Ok(link.to_owned())
    }

    /// `file` as the snapshots of commits other than `commit` hold it (links into `blobs/`, or
    /// copies where links are unavailable), newest first: the older revisions an update can
    /// copy unchanged parts from. Missing or dangling entries are left out.
    pub fn other_snapshots(
        &self,
        repo: &RepoId,
        file: &str,
        commit: &str,
    ) -> Vec<(String, PathBuf)> {
        let Ok(entries) = fs::read_dir(self.repo_dir(repo).join("snapshots")) else {
            return Vec::new();
        };
        let mut found: Vec<(std::time::SystemTime, String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|c| c != commit && is_safe_name(c))
            .filter_map(|c| {
                let path = self.snapshot_path(repo, &c, file);
                let modified = fs::metadata(&path).ok()?.modified().ok()?;
                Some((modified, c, path))
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, c, p)| (c, p)).collect()
    }

    /// Reads a blob's verification marker, if there is a well-formed one.
    pub fn read_marker(&self, repo: &RepoId, etag: &str) -> Option<Marker> {
        let text = fs::read_to_string(self.marker_path(repo, etag)).ok()?;
        let mut parts = text.split_whitespace();
        let size = parts.next()?.parse().ok()?;
        let mtime_ns = parts.next()?.parse().ok()?;
        let sha256 = parts.next()?.to_owned();
        is_sha256_hex(&sha256).then_some(Marker {
            size,
            mtime_ns,
            sha256,
        })
    }

    /// Records that the blob, as it is now, hashed to `sha256`.
    pub fn write_marker(&self, repo: &RepoId, etag: &str, sha256: &str) -> io::Result<()> {
        let (size, mtime_ns) = size_and_mtime(&self.blob_path(repo, etag))?;
        let text = format!("{size} {mtime_ns} {sha256}\n");
        write_atomic(&self.marker_path(repo, etag), text.as_bytes())
    }
}

/// Appends a repo path (`a/b.gguf`) to `base`, one component at a time.
fn join_repo_path(mut base: PathBuf, file: &str) -> PathBuf {
    for part in file.split('/') {
        base.push(part);
    }
    base
}

/// The size and modification time (ns since the epoch) of a file, following symlinks.
pub fn size_and_mtime(path: &Path) -> io::Result<(u64, u128)> {
    let meta = fs::metadata(path)?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok((meta.len(), mtime))
}

/// A unique temporary name next to `path` (same folder, so a rename is atomic).
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut random = [0u8; 6];
    let suffix = match getrandom::fill(&mut random) {
        Ok(()) => hex::encode(random),
        Err(_) => format!("{:x}", std::process::id()),
    };
    path.with_file_name(format!(".{name}.{suffix}.ruvllm-tmp"))
}

#[cfg(unix)]
fn make_link(target: &Path, _blob: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Without symlinks the blob is copied, as `huggingface_hub` does on such systems.
#[cfg(not(unix))]
fn make_link(_target: &Path, blob: &Path, link: &Path) -> io::Result<()> {
    fs::copy(blob, link).map(|_| ())
}

/// Writes a small file atomically, creating its folder first: [`atomic_file::write`]
/// (a temporary file in the same folder, fsync, rename, and an fsync of the folder).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the path has no parent folder"))?;
    fs::create_dir_all(dir)?;
    atomic_file::write(path, bytes)
}

/// Flushes a folder's entries to disk; best effort (not every platform can open folders).
pub fn sync_dir(dir: &Path) {
    let _ = atomic_file::sync_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn cache_dir_resolution_order() {
        let all = env(&[
            ("HF_HUB_CACHE", "/c"),
            ("HF_HOME", "/h"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(resolve_cache_dir(all), PathBuf::from("/c"));
        let home = env(&[
            ("HF_HUB_CACHE", " "),
            ("HF_HOME", "/h"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(resolve_cache_dir(home), PathBuf::from("/h/hub"));
        let tilde = env(&[("HF_HOME", "~/hf"), ("HOME", "/home/u")]);
        assert_eq!(resolve_cache_dir(tilde), PathBuf::from("/home/u/hf/hub"));
        let none = env(&[("HOME", "/home/u")]);
        assert_eq!(
            resolve_cache_dir(none),
            PathBuf::from("/home/u/.cache/huggingface/hub")
        );
        let xdg = env(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(resolve_cache_dir(xdg), PathBuf::from("/x/huggingface/hub"));
    }

    #[test]
    fn offline_values() {
        for on in ["1", "true", "YES", " on "] {
            let v = on.to_owned();
            assert!(offline_from_env(move |_| Some(v.clone())), "{on}");
        }
        for off in ["0", "", "false", "no"] {
            let v = off.to_owned();
            assert!(!offline_from_env(move |_| Some(v.clone())), "{off}");
        }
        assert!(!offline_from_env(|_| None));
        let disabled =
            |v: &'static str| move |k: &str| (k == "HF_HUB_DISABLE_XET").then(|| v.to_owned());
        assert!(xet_disabled_from_env(disabled("1")));
        assert!(!xet_disabled_from_env(disabled("0")));
        assert!(!xet_disabled_from_env(
            |k| (k == "HF_HUB_OFFLINE").then(|| "1".to_owned())
        ));
    }

    #[test]
    fn layout_matches_huggingface_hub() {
        let cache = HfCache::new("/c");
        let repo = RepoId::new("ruv/ruvltra").unwrap();
        assert_eq!(
            cache.blob_path(&repo, "ab"),
            PathBuf::from("/c/models--ruv--ruvltra/blobs/ab")
        );
        assert_eq!(
            cache.snapshot_path(&repo, "c0", "sub/m.gguf"),
            PathBuf::from("/c/models--ruv--ruvltra/snapshots/c0/sub/m.gguf")
        );
        assert_eq!(
            cache.ref_path(&repo, "refs/pr/1"),
            PathBuf::from("/c/models--ruv--ruvltra/refs/refs/pr/1")
        );
        assert_eq!(
            cache.lock_path(&repo, "ab"),
            PathBuf::from("/c/.locks/models--ruv--ruvltra/ab.lock")
        );
        assert_eq!(
            cache.fallback_path(&repo, "refs/pr/1", "m.gguf"),
            PathBuf::from("/c/models--ruv--ruvltra/ruvllm-fallback/refs%2Fpr%2F1/m.gguf")
        );
    }

    #[test]
    fn names_from_servers_are_checked() {
        assert!(is_safe_name("0123abcdef"));
        assert!(is_safe_name("W-x_y.z"));
        for bad in ["", ".hidden", "..", "a/b", "a\\b", "a b", &"x".repeat(129)] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(!is_commit_id(&"A".repeat(40)));
        assert!(is_sha256_hex(&"0".repeat(64)));
        assert!(!is_sha256_hex(&"0".repeat(63)));
    }

    #[test]
    fn links_are_relative_and_refs_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HfCache::new(dir.path());
        let repo = RepoId::new("ns/name").unwrap();
        let blob = cache.blob_path(&repo, "e1");
        fs::create_dir_all(blob.parent().unwrap()).unwrap();
        fs::write(&blob, b"data").unwrap();
        let commit = "c".repeat(40);
        let link = cache.snapshot_path(&repo, &commit, "a/b/m.gguf");
        cache.link_blob(&repo, &link, "a/b/m.gguf", "e1").unwrap();
        assert_eq!(
            fs::read_link(&link).unwrap(),
            PathBuf::from("../../../../blobs/e1")
        );
        assert_eq!(fs::read(&link).unwrap(), b"data");
        let top = cache.snapshot_path(&repo, &commit, "m.gguf");
        cache.link_blob(&repo, &top, "m.gguf", "e1").unwrap();
        assert_eq!(
            fs::read_link(&top).unwrap(),
            PathBuf::from("../../blobs/e1")
        );

        cache.write_ref(&repo, "refs/pr/1", &commit).unwrap();
        assert_eq!(
            cache.read_ref(&repo, "refs/pr/1").unwrap(),
            Some(commit.clone())
        );
        assert_eq!(cache.read_ref(&repo, "main").unwrap(), None);
        let leftovers: Vec<_> = fs::read_dir(cache.repo_dir(&repo).join("refs/refs/pr"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");

        // Another commit's snapshot of the same file is an older revision; a dangling link
        // and the commit itself are not.
        let older = "d".repeat(40);
        let old_link = cache.snapshot_path(&repo, &older, "m.gguf");
        cache.link_blob(&repo, &old_link, "m.gguf", "e1").unwrap();
        let dangling = "e".repeat(40);
        let gone = cache.snapshot_path(&repo, &dangling, "m.gguf");
        cache.link_blob(&repo, &gone, "m.gguf", "missing").unwrap();
        assert_eq!(
            cache.other_snapshots(&repo, "m.gguf", &commit),
            vec![(older.clone(), old_link)]
        );
        assert_eq!(cache.other_snapshots(&repo, "m.gguf", &older).len(), 1);
        assert!(
            cache
                .other_snapshots(&repo, "other.gguf", &commit)
                .is_empty()
        );

        let sha = "f".repeat(64);
        cache.write_marker(&repo, "e1", &sha).unwrap();
        let marker = cache.read_marker(&repo, "e1").unwrap();
        assert_eq!((marker.size, marker.sha256.as_str()), (4, sha.as_str()));
    }
}
