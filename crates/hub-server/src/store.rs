//! The on-disk store: repos, refs, commits with their file manifests, and content-addressed objects.
//!
//! Layout under the data directory:
//! ```text
//! repos/{models|datasets|spaces}/{ns}/{name}/repo.json      repo metadata
//! repos/.../refs.json                                        branches, tags, pull requests
//! repos/.../commits/{commit id}.json                         one commit and its full manifest
//! objects/lfs/{aa}/{sha256}                                  verified LFS objects
//! objects/blobs/{aa}/{git sha1}                              regular file contents
//! tmp/                                                       uploads in progress (cleared at start)
//! ```
//! Every metadata file is written to a temporary file in the same directory, fsynced, renamed
//! over the target and the directory fsynced, so a crash never leaves a half-written file.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha1::{Digest as _, Sha1};

use crate::ServerError;

/// The kind of a repository, as it appears in `/api/{models|datasets|spaces}/...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoKind {
    /// A model repository (`/api/models/...`, no URL prefix).
    Model,
    /// A dataset repository (`/api/datasets/...`, URL prefix `datasets/`).
    Dataset,
    /// A Space (`/api/spaces/...`, URL prefix `spaces/`).
    Space,
}

impl RepoKind {
    /// The plural used in API paths and in the store layout.
    pub fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
            RepoKind::Space => "spaces",
        }
    }

    /// The prefix used in repo URLs (`""`, `datasets/` or `spaces/`).
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
            RepoKind::Space => "spaces/",
        }
    }

    /// Parses the plural form (`models`) used in API paths.
    pub fn from_plural(s: &str) -> Option<RepoKind> {
        match s {
            "models" => Some(RepoKind::Model),
            "datasets" => Some(RepoKind::Dataset),
            "spaces" => Some(RepoKind::Space),
            _ => None,
        }
    }

    /// Parses the singular form (`model`) used in create/delete payloads.
    pub fn from_singular(s: &str) -> Option<RepoKind> {
        match s {
            "model" => Some(RepoKind::Model),
            "dataset" => Some(RepoKind::Dataset),
            "space" => Some(RepoKind::Space),
            _ => None,
        }
    }

    /// The singular form (`model`).
    pub fn singular(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
            RepoKind::Space => "space",
        }
    }
}

/// A repository identifier: kind, namespace and name, all validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    /// Model, dataset or Space.
    pub kind: RepoKind,
    /// The user or organisation.
    pub namespace: String,
    /// The repository name.
    pub name: String,
}

impl RepoId {
    /// Builds an id, checking both parts against the Hub's naming rules.
    pub fn new(kind: RepoKind, namespace: &str, name: &str) -> Option<RepoId> {
        if valid_name_part(namespace) && valid_name_part(name) {
            Some(RepoId {
                kind,
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            })
        } else {
            None
        }
    }

    /// `ns/name`.
    pub fn full(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// `{prefix}ns/name`, the path of the repo's web page.
    pub fn url_path(&self) -> String {
        format!("{}{}/{}", self.kind.url_prefix(), self.namespace, self.name)
    }
}

/// Whether a namespace or repo name follows the Hub's rules: 1 to 96 characters from
/// `[A-Za-z0-9._-]`, not starting or ending with `.` or `-`, no `..` or `--`, no `.git` suffix.
pub fn valid_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 96
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !s.starts_with(['.', '-'])
        && !s.ends_with(['.', '-'])
        && !s.contains("..")
        && !s.contains("--")
        && !s.ends_with(".git")
}

/// Metadata of one repository (`repo.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoMeta {
    /// Whether only token holders may see it.
    pub private: bool,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// Branches, tags and pull-request refs of one repository (`refs.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Refs {
    /// Branch name to commit id.
    pub branches: BTreeMap<String, String>,
    /// Tag name to commit id.
    pub tags: BTreeMap<String, String>,
    /// Pull request number to commit id (`refs/pr/N`).
    #[serde(default)]
    pub pulls: BTreeMap<u64, String>,
}

/// The LFS part of a manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LfsInfo {
    /// The sha256 of the content, lowercase hex.
    pub sha256: String,
    /// The content size in bytes.
    pub size: u64,
}

/// One file in a commit's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The git blob id: of the content for regular files, of the pointer for LFS files.
    pub oid: String,
    /// The size of the content in bytes (not of the pointer).
    pub size: u64,
    /// Present for LFS files.
    pub lfs: Option<LfsInfo>,
}

impl FileEntry {
    /// The value the Hub puts in `ETag`/`X-Linked-Etag`: sha256 for LFS, git sha1 otherwise.
    pub fn etag(&self) -> &str {
        match &self.lfs {
            Some(lfs) => &lfs.sha256,
            None => &self.oid,
        }
    }
}

/// One commit and the full manifest of its tree (`commits/{id}.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitRecord {
    /// The 40-hex commit id.
    pub id: String,
    /// Parent commit ids (empty for the first commit).
    pub parents: Vec<String>,
    /// The git tree id of the root directory.
    pub tree: String,
    /// The summary line.
    pub title: String,
    /// The description (may be empty).
    pub message: String,
    /// The author's user name.
    pub author: String,
    /// RFC 3339 time with milliseconds.
    pub date: String,
    /// Path to file entry, sorted.
    pub files: BTreeMap<String, FileEntry>,
}

/// Writes `bytes` to `path` atomically: temporary file in the same directory, fsync, rename,
/// fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent directory"))?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        random_hex(8)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// `n` random bytes as lowercase hex, from the operating system's generator.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS generator only fails on exotic platforms; fall back to the clock and a counter there.
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{:?}{}",
            std::time::SystemTime::now(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let digest = sha2::Sha256::digest(seed.as_bytes());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = digest[i % digest.len()];
        }
    }
    hex::encode(buf)
}

/// The git blob id of some content: sha1 of `blob {len}\0{content}`.
pub fn git_blob_id(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex::encode(h.finalize())
}

/// The git-lfs pointer text of an object.
pub fn lfs_pointer(sha256: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n")
}

/// Whether `s` is 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `s` is 40 lowercase hex characters.
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A directory in the nested view of a manifest, used to compute git tree ids.
#[derive(Default)]
struct DirNode<'a> {
    dirs: BTreeMap<&'a str, DirNode<'a>>,
    files: BTreeMap<&'a str, &'a FileEntry>,
}

/// Computes the git tree id of every directory in a manifest; `""` is the root.
pub fn tree_ids(files: &BTreeMap<String, FileEntry>) -> BTreeMap<String, String> {
    let mut root = DirNode::default();
    for (path, entry) in files {
        let mut node = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                node.files.insert(part, entry);
            } else {
                node = node.dirs.entry(part).or_default();
            }
        }
    }
    let mut out = BTreeMap::new();
    hash_dir(&root, "", &mut out);
    out
}

fn hash_dir(node: &DirNode<'_>, prefix: &str, out: &mut BTreeMap<String, String>) -> [u8; 20] {
    // Git sorts entries by name, comparing directory names as if they ended with '/'.
    let mut entries: Vec<(Vec<u8>, &'static str, [u8; 20], &str)> = Vec::new();
    for (name, child) in &node.dirs {
        let path = if prefix.is_empty() {
            (*name).to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let id = hash_dir(child, &path, out);
        entries.push((format!("{name}/").into_bytes(), "40000", id, name));
    }
    for (name, entry) in &node.files {
        let mut id = [0u8; 20];
        if hex::decode_to_slice(&entry.oid, &mut id).is_err() {
            id = [0u8; 20];
        }
        entries.push((name.as_bytes().to_vec(), "100644", id, name));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut body = Vec::new();
    for (_, mode, id, name) in &entries {
        body.extend_from_slice(mode.as_bytes());
        body.push(b' ');
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(id);
    }
    let mut h = Sha1::new();
    h.update(format!("tree {}\0", body.len()).as_bytes());
    h.update(&body);
    let id: [u8; 20] = h.finalize().into();
    out.insert(prefix.to_owned(), hex::encode(id));
    id
}

/// The id of a commit: sha1 of a git-like commit object over tree, parents, author and message.
pub fn commit_id(
    tree: &str,
    parents: &[String],
    author: &str,
    unix_secs: u64,
    title: &str,
    message: &str,
) -> String {
    let mut text = format!("tree {tree}\n");
    for p in parents {
        text.push_str(&format!("parent {p}\n"));
    }
    text.push_str(&format!(
        "author {author} <{author}@users.noreply.localhost> {unix_secs} +0000\n\
         committer {author} <{author}@users.noreply.localhost> {unix_secs} +0000\n\n{title}\n"
    ));
    if !message.is_empty() {
        text.push_str(&format!("\n{message}\n"));
    }
    let mut h = Sha1::new();
    h.update(format!("commit {}\0", text.len()).as_bytes());
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

/// The content of a new repo's `.gitattributes`, as the Hub writes it.
pub const DEFAULT_GITATTRIBUTES: &str = "*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
";

/// The `filter=lfs` patterns of a `.gitattributes` text.
pub fn lfs_patterns(gitattributes: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in gitattributes.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(pattern) = parts.next() else {
            continue;
        };
        if parts.any(|attr| attr == "filter=lfs") {
            out.push(pattern.to_owned());
        }
    }
    out
}

/// Whether `path` matches a gitattributes pattern: a pattern without `/` matches the file name,
/// one with `/` matches the whole path; `*` and `?` stay inside one segment, `**` crosses them.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    if pattern.contains('/') {
        glob(pattern.as_bytes(), path.as_bytes())
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        glob(pattern.as_bytes(), name.as_bytes())
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => {
            // `**/` also matches zero directories.
            let rest = &p[2..];
            let rest_no_slash = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=s.len()).any(|i| glob(rest, &s[i..]))
                || (0..=s.len()).any(|i| glob(rest_no_slash, &s[i..]))
        }
        Some(b'*') => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob(rest, &s[i..]) {
                    return true;
                }
                if i == s.len() || s[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        Some(b'?') => !s.is_empty() && s[0] != b'/' && glob(&p[1..], &s[1..]),
        Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..]),
    }
}

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
    if trimmed.contains('\\') {
        return bad("backslashes are not allowed");
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

/// The store rooted at a data directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) a store and clears leftovers of interrupted uploads.
    pub fn open(root: PathBuf) -> Result<Store, ServerError> {
        let store = Store { root };
        for dir in [
            store.root.join("repos"),
            store.root.join("objects/lfs"),
            store.root.join("objects/blobs"),
        ] {
            fs::create_dir_all(&dir).map_err(|e| ServerError::io(&dir, e))?;
        }
        let tmp = store.tmp_dir();
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
        Ok(store)
    }

    /// Where uploads in progress are written; same file system as `objects/`.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The directory of a repo.
    pub fn repo_dir(&self, id: &RepoId) -> PathBuf {
        self.root
            .join("repos")
            .join(id.kind.plural())
            .join(&id.namespace)
            .join(&id.name)
    }

    /// The final path of an LFS object.
    pub fn lfs_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("objects/lfs")
            .join(&sha256[..2])
            .join(sha256)
    }

    /// The final path of a regular file blob.
    pub fn blob_path(&self, oid: &str) -> PathBuf {
        self.root.join("objects/blobs").join(&oid[..2]).join(oid)
    }

    /// The size of a stored LFS object, if it is stored.
    pub fn lfs_size(&self, sha256: &str) -> Option<u64> {
        if !is_sha256_hex(sha256) {
            return None;
        }
        fs::metadata(self.lfs_path(sha256)).ok().map(|m| m.len())
    }

    /// Stores a regular file's content under its git blob id and returns the id.
    pub fn put_blob(&self, content: &[u8]) -> io::Result<String> {
        let oid = git_blob_id(content);
        let path = self.blob_path(&oid);
        if !path.exists() {
            write_atomic(&path, content)?;
        }
        Ok(oid)
    }

    /// Reads a repo's metadata; `None` if the repo does not exist.
    pub fn repo_meta(&self, id: &RepoId) -> io::Result<Option<RepoMeta>> {
        read_json(&self.repo_dir(id).join("repo.json"))
    }

    /// Every repo of one kind, sorted by namespace and name.
    pub fn list_repos(&self, kind: RepoKind) -> io::Result<Vec<(RepoId, RepoMeta)>> {
        let dir = self.root.join("repos").join(kind.plural());
        let mut out = Vec::new();
        for ns in read_dir_names(&dir)? {
            for name in read_dir_names(&dir.join(&ns))? {
                if let Some(id) = RepoId::new(kind, &ns, &name)
                    && let Some(meta) = self.repo_meta(&id)?
                {
                    out.push((id, meta));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Writes a repo's metadata.
    pub fn write_repo_meta(&self, id: &RepoId, meta: &RepoMeta) -> io::Result<()> {
        write_json(&self.repo_dir(id).join("repo.json"), meta)
    }

    /// Reads a repo's refs.
    pub fn refs(&self, id: &RepoId) -> io::Result<Refs> {
        Ok(read_json(&self.repo_dir(id).join("refs.json"))?.unwrap_or_default())
    }

    /// Writes a repo's refs.
    pub fn write_refs(&self, id: &RepoId, refs: &Refs) -> io::Result<()> {
        write_json(&self.repo_dir(id).join("refs.json"), refs)
    }

    /// Reads one commit of a repo.
    pub fn commit(&self, id: &RepoId, commit: &str) -> io::Result<Option<CommitRecord>> {
        if !is_sha1_hex(commit) {
            return Ok(None);
        }
        read_json(
            &self
                .repo_dir(id)
                .join("commits")
                .join(format!("{commit}.json")),
        )
    }

    /// Writes one commit of a repo.
    pub fn write_commit(&self, id: &RepoId, record: &CommitRecord) -> io::Result<()> {
        write_json(
            &self
                .repo_dir(id)
                .join("commits")
                .join(format!("{}.json", record.id)),
            record,
        )
    }

    /// Deletes a repo: renamed into `tmp/` first so it disappears atomically, then removed.
    pub fn delete_repo(&self, id: &RepoId) -> io::Result<()> {
        let dir = self.repo_dir(id);
        let grave = self.tmp_dir().join(format!("deleted-{}", random_hex(8)));
        fs::rename(&dir, &grave)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        fs::remove_dir_all(&grave)
    }
}

fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::other(format!("corrupt {}: {e}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn tree_id_matches_git() {
        // `git init; printf 'hello\n' > a.txt; mkdir d; printf 'hello\n' > d/b.txt;
        //  git add .; git write-tree`
        let mut files = BTreeMap::new();
        let entry = FileEntry {
            oid: git_blob_id(b"hello\n"),
            size: 6,
            lfs: None,
        };
        files.insert("a.txt".to_owned(), entry.clone());
        files.insert("d/b.txt".to_owned(), entry);
        let ids = tree_ids(&files);
        // Tree of `d` holds one entry "100644 b.txt".
        let mut body = b"100644 b.txt\0".to_vec();
        body.extend(hex::decode(git_blob_id(b"hello\n")).unwrap());
        let mut h = Sha1::new();
        h.update(format!("tree {}\0", body.len()).as_bytes());
        h.update(&body);
        assert_eq!(ids["d"], hex::encode(h.finalize()));
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn lfs_pointer_is_132_bytes_for_seven_digit_sizes() {
        let sha = "a".repeat(64);
        assert_eq!(lfs_pointer(&sha, 1_500_008).len(), 132);
    }

    #[test]
    fn gitattributes_patterns() {
        let pats = lfs_patterns(DEFAULT_GITATTRIBUTES);
        let lfs = |p: &str| pats.iter().any(|pat| pattern_matches(pat, p));
        assert!(lfs("m.gguf"));
        assert!(lfs("sub/dir/m.gguf"));
        assert!(lfs("a.tar.gz"));
        assert!(lfs("saved_model/x/y.pb"));
        assert!(lfs("saved_model/v"));
        assert!(lfs("runs/events.out.tfevents.123"));
        assert!(!lfs("README.md"));
        assert!(!lfs("gguf.txt"));
    }

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
    fn names() {
        assert!(valid_name_part("tiny-gguf"));
        assert!(valid_name_part("A_b.c"));
        assert!(!valid_name_part("../x"));
        assert!(!valid_name_part("x.git"));
        assert!(!valid_name_part(""));
        assert!(!valid_name_part("a b"));
    }
}
