//! The on-disk store: repos, refs, commits with their file manifests, and content-addressed
//! objects. The bottom layer of the server: it knows nothing of HTTP, requests or either API.
//!
//! Layout under the data directory (the ModelScope mode keeps a second store of the same shape
//! under `modelscope/`):
//! ```text
//! repos/{models|datasets|spaces}/{ns}/{name}/repo.json      repo metadata
//! repos/.../refs.json                                        branches, tags, pull requests
//! repos/.../commits/{commit id}.json                         one commit and its full manifest
//! objects/xet/...                                            large files as xorbs (xet/mod.rs)
//! objects/lfs/{aa}/{sha256}                                  whole LFS objects of older versions
//! objects/blobs/{aa}/{git sha1}                              regular file contents
//! secrets/                                                   keys signing CAS tokens and URLs
//! tmp/                                                       uploads in progress (cleared at start)
//! ```
//! Large files (LFS objects) are stored as Xet files, chunked and deduplicated; whole objects
//! an older version wrote under `objects/lfs/` are still read, and moved into xorbs by
//! [`Store::migrate_whole_objects`].
//! Every metadata file is written to a temporary file in the same directory, fsynced, renamed
//! over the target and the directory fsynced, so a crash never leaves a half-written file.

mod files;
mod git;
mod gitattributes;
mod gitignore;
mod model;
mod paths;
mod refs;
mod xet;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ServerError;

pub use files::{TempFile, random_hex, sha256_file, sync_dir, write_atomic};
pub use git::{
    git_blob_id, is_sha1_hex, is_sha256_hex, lfs_pointer, new_commit, tree_ids, unix_now, unix_secs,
};
pub use gitattributes::{DEFAULT_GITATTRIBUTES, lfs_patterns, pattern_matches};
pub use gitignore::Gitignore;
pub use model::{CommitRecord, FileEntry, Refs, RepoId, RepoKind, RepoMeta};
pub use paths::{check_addition, check_repo_path};
pub use refs::{check_ref_name, is_short_commit_id};
pub use xet::{
    Ingested, ReceiveError, XetFile, XetReader, XetTerm, XorbReceiver, XorbTable, out_buffer,
};

/// Where the bytes of an LFS object are.
#[derive(Debug, Clone)]
pub enum LfsObject {
    /// In xorbs, as a Xet file.
    Xet(XetFile),
    /// In one whole file (written by an older version, not migrated yet).
    Whole {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
}

/// The store rooted at a data directory.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    xet: xet::XetState,
}

impl Store {
    /// Opens (creating if needed) a store and clears leftovers of interrupted uploads.
    pub fn open(root: PathBuf) -> Result<Store, ServerError> {
        let store = Store {
            root,
            xet: xet::XetState::default(),
        };
        for dir in [
            store.root.join("repos"),
            store.root.join("objects/lfs"),
            store.root.join("objects/blobs"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| ServerError::io(&dir, e))?;
        }
        let tmp = store.tmp_dir();
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
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

    /// Where an older version kept the whole LFS object `sha256`.
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

    /// The size of a stored LFS object, if it is stored (as a Xet file or whole).
    pub fn lfs_size(&self, sha256: &str) -> Option<u64> {
        if !is_sha256_hex(sha256) {
            return None;
        }
        if let Some((_, size)) = self.xet_link(sha256) {
            return Some(size);
        }
        std::fs::metadata(self.lfs_path(sha256))
            .ok()
            .map(|m| m.len())
    }

    /// Where the bytes of LFS object `sha256` are, if it is stored.
    pub fn lfs_object(&self, sha256: &str) -> io::Result<Option<LfsObject>> {
        if !is_sha256_hex(sha256) {
            return Ok(None);
        }
        if let Some(file) = self.xet_file_of(sha256)? {
            return Ok(Some(LfsObject::Xet(file)));
        }
        let path = self.lfs_path(sha256);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(LfsObject::Whole {
                path,
                size: m.len(),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether whole LFS objects of an older version are left to move into xorbs.
    pub fn has_whole_objects(&self) -> bool {
        let dir = self.root.join("objects/lfs");
        read_dir_names(&dir).is_ok_and(|fans| {
            fans.iter()
                .any(|f| read_dir_names(&dir.join(f)).is_ok_and(|n| !n.is_empty()))
        })
    }

    /// Runs [`Store::migrate_whole_objects`] on a thread of its own when there is anything to
    /// move; the objects are served from where they are until then, and a failure is logged
    /// (the next start resumes).
    pub fn migrate_in_background(store: &std::sync::Arc<Store>) {
        if !store.has_whole_objects() {
            return;
        }
        let store = store.clone();
        let spawned = std::thread::Builder::new()
            .name("hub-server-migrate".to_owned())
            .spawn(move || match store.migrate_whole_objects() {
                Ok(n) => tracing::info!("moved {n} whole LFS objects into xorbs"),
                Err(e) => tracing::error!(
                    "moving whole LFS objects into xorbs stopped: {e}; they are still served, \
                     and the next start resumes"
                ),
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start moving whole LFS objects into xorbs: {e}");
        }
    }

    /// Moves every whole LFS object an older version stored into xorbs, one at a time: the
    /// object is ingested and linked, then its whole file removed, so an interrupted run
    /// resumes where it stopped and a reader finds the object one way or the other throughout.
    /// Returns how many objects were moved.
    pub fn migrate_whole_objects(&self) -> io::Result<usize> {
        let dir = self.root.join("objects/lfs");
        let mut moved = 0;
        for fan in read_dir_names(&dir)? {
            for name in read_dir_names(&dir.join(&fan))? {
                if !is_sha256_hex(&name) {
                    continue;
                }
                let path = dir.join(&fan).join(&name);
                if self.xet_link(&name).is_none() {
                    let ingested = self.ingest_path(&path, "migrate")?;
                    if ingested.sha256 != name {
                        tracing::error!(
                            "{} does not hash to its name ({}); left where it is",
                            path.display(),
                            ingested.sha256
                        );
                        continue;
                    }
                    self.commit_ingest(ingested)?;
                }
                std::fs::remove_file(&path)?;
                sync_dir(&dir.join(&fan))?;
                moved += 1;
            }
        }
        Ok(moved)
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

    /// The stored repo `id` names, compared without regard to ASCII case, as the Hub resolves
    /// repo ids (`Me/MyRepo` and `me/myrepo` are one repo, shown with its stored case); `None`
    /// when none matches. An exact match costs one file read; otherwise the namespaces of the
    /// kind are scanned.
    pub fn find_repo(&self, id: &RepoId) -> io::Result<Option<RepoId>> {
        if self.repo_meta(id)?.is_some() {
            return Ok(Some(id.clone()));
        }
        let dir = self.root.join("repos").join(id.kind.plural());
        for ns in read_dir_names(&dir)? {
            if !ns.eq_ignore_ascii_case(&id.namespace) {
                continue;
            }
            for name in read_dir_names(&dir.join(&ns))? {
                if !name.eq_ignore_ascii_case(&id.name) {
                    continue;
                }
                if let Some(found) = RepoId::new(id.kind, &ns, &name)
                    && self.repo_meta(&found)?.is_some()
                {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
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

    /// Creates a repo whose first commit, on `default_branch` and by `author`, holds the
    /// default `.gitattributes` and `extra`, a file of the caller's (a Space's `README.md`).
    /// `repo.json` is written last: it marks the repo as existing, so a repo left half-created
    /// by a crash (no `repo.json`) is cleared and made again.
    pub fn create_repo(
        &self,
        id: &RepoId,
        default_branch: &str,
        author: &str,
        private: bool,
        extra: Option<(&str, &[u8])>,
    ) -> io::Result<RepoMeta> {
        let dir = self.repo_dir(id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let content = DEFAULT_GITATTRIBUTES.as_bytes();
        let oid = self.put_blob(content)?;
        let mut files = BTreeMap::new();
        files.insert(
            ".gitattributes".to_owned(),
            FileEntry::regular(oid, content.len() as u64),
        );
        if let Some((path, content)) = extra {
            let oid = self.put_blob(content)?;
            files.insert(
                path.to_owned(),
                FileEntry::regular(oid, content.len() as u64),
            );
        }
        let record = new_commit(Vec::new(), files, author, "initial commit", "");
        self.write_commit(id, &record)?;
        let mut refs = Refs::default();
        refs.branches
            .insert(default_branch.to_owned(), record.id.clone());
        self.write_refs(id, &refs)?;
        let meta = RepoMeta {
            private,
            created_at: record.date,
            gated: None,
        };
        self.write_repo_meta(id, &meta)?;
        Ok(meta)
    }

    /// Deletes a repo: renamed into `tmp/` first so it disappears atomically, then removed.
    pub fn delete_repo(&self, id: &RepoId) -> io::Result<()> {
        let dir = self.repo_dir(id);
        let grave = self.tmp_dir().join(format!("deleted-{}", random_hex(8)));
        std::fs::rename(&dir, &grave)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        std::fs::remove_dir_all(&grave)
    }
}

/// The bytes of a stored LFS object, whole in memory (for tests and checks).
pub fn read_lfs_object(store: &Store, sha256: &str) -> io::Result<Option<Vec<u8>>> {
    match store.lfs_object(sha256)? {
        None => Ok(None),
        Some(LfsObject::Whole { path, .. }) => std::fs::read(path).map(Some),
        Some(LfsObject::Xet(file)) => {
            let size = file.size;
            let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            store.xet_reader(file).read(0, size, &mut |b| {
                out.extend_from_slice(&b);
                Ok(b)
            })?;
            Ok(Some(out))
        }
    }
}

/// Checks a data directory's stored LFS objects without changing anything (a server may be
/// using it): every object linked to a Xet file must reassemble, from its xorbs, to bytes
/// whose sha256 is its name, and so must every whole object of an older version. Returns how
/// many objects there are; the error names the first one that is not whole.
pub fn verify_stored_objects(data_dir: &Path) -> Result<usize, String> {
    use sha2::Digest as _;
    let store = Store {
        root: data_dir.to_owned(),
        xet: xet::XetState::default(),
    };
    let links = store.xet_links().map_err(|e| e.to_string())?;
    let mut count = 0;
    for (sha, file) in links {
        let file =
            file.ok_or_else(|| format!("object {sha} is linked to a missing file record"))?;
        let size = file.size;
        let mut hasher = sha2::Sha256::new();
        store
            .xet_reader(file)
            .read(0, size, &mut |b| {
                hasher.update(&b);
                Ok(b)
            })
            .map_err(|e| format!("object {sha} cannot be read back: {e}"))?;
        let got = hex::encode(hasher.finalize());
        if got != sha {
            return Err(format!(
                "object {sha} reassembles to bytes whose sha256 is {got}"
            ));
        }
        count += 1;
    }
    let dir = data_dir.join("objects/lfs");
    for fan in read_dir_names(&dir).map_err(|e| e.to_string())? {
        for name in read_dir_names(&dir.join(&fan)).map_err(|e| e.to_string())? {
            let (_, got) = sha256_file(&dir.join(&fan).join(&name)).map_err(|e| e.to_string())?;
            if got != name {
                return Err(format!("whole object {name} has the sha256 {got}"));
            }
            count += 1;
        }
    }
    Ok(count)
}

fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
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
