//! The values the store keeps: repository ids and kinds, repo metadata, refs, and commits
//! with the manifest of their files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

    /// The same id in ASCII lowercase: one value for every spelling of a case-insensitive id.
    pub fn folded(&self) -> RepoId {
        RepoId {
            kind: self.kind,
            namespace: self.namespace.to_ascii_lowercase(),
            name: self.name.to_ascii_lowercase(),
        }
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
    /// How access requests to a gated repo are approved (`auto` or `manual`); `None` when the
    /// repo is not gated. Absent from files written before gating existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gated: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
