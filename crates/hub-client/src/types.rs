//! Typed answers of the Hub API (whoami, repo info, tree entries, refs, commits).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::HubError;
use crate::repo::validate_repo_path;
use crate::sha::Sha256;

/// The answer of `whoami`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WhoAmI {
    /// The user (or organisation) name; hf-hub also accepts `login` and `user`.
    #[serde(alias = "login", alias = "user")]
    pub name: String,
    /// `user` or `org`, when given.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The full name, when given.
    #[serde(default)]
    pub fullname: Option<String>,
    /// Organisations the user belongs to.
    #[serde(default)]
    pub orgs: Vec<Organization>,
    /// The token's role (`read`, `write`, `fineGrained`), from `auth.accessToken.role`.
    #[serde(skip)]
    pub token_role: Option<String>,
}

/// An organisation in [`WhoAmI::orgs`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Organization {
    /// The organisation name.
    pub name: String,
}

/// The answer of `create_repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRepo {
    /// The repository's web URL as the server gave it.
    pub url: String,
    /// True when the repository already existed (the server answered 409).
    pub existed: bool,
}

/// The LFS part of a sibling in [`ModelInfo`] (`blobs=true` only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SiblingLfs {
    /// The sha256 of the content (the LFS object id).
    pub sha256: Sha256,
    /// The content size in bytes.
    pub size: u64,
    /// The size of the pointer file, when given.
    #[serde(rename = "pointerSize", default)]
    pub pointer_size: Option<u64>,
}

/// A file of a repository as listed in [`ModelInfo::siblings`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Sibling {
    /// The path in the repository (validated as safe).
    pub rfilename: String,
    /// The size in bytes (`blobs=true` only).
    #[serde(default)]
    pub size: Option<u64>,
    /// The git blob id (`blobs=true` only).
    #[serde(rename = "blobId", default)]
    pub blob_id: Option<String>,
    /// LFS details when the file is stored in LFS (`blobs=true` only).
    #[serde(default)]
    pub lfs: Option<SiblingLfs>,
}

/// The answer of `model_info` (also used for datasets and Spaces).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ModelInfo {
    /// `ns/name`.
    pub id: String,
    /// The commit the revision resolves to.
    #[serde(default)]
    pub sha: Option<String>,
    /// Whether the repository is private.
    #[serde(default)]
    pub private: Option<bool>,
    /// The repository's tags (from the model card and the Hub).
    #[serde(default)]
    pub tags: Vec<String>,
    /// ISO-8601 time of the last change.
    #[serde(rename = "lastModified", default)]
    pub last_modified: Option<String>,
    /// The model card's YAML front matter as JSON.
    #[serde(rename = "cardData", default)]
    pub card_data: Option<serde_json::Value>,
    /// The files.
    #[serde(default)]
    pub siblings: Vec<Sibling>,
    /// Every other key, kept as it came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Whether a tree entry is a file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A file.
    File,
    /// A directory.
    Directory,
}

/// The LFS pointer details of a file in a tree listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LfsPointer {
    /// The sha256 of the content (the tree calls it `oid`).
    pub oid: Sha256,
    /// The content size in bytes.
    pub size: u64,
}

/// One entry of a tree listing or a paths-info answer, with a validated safe path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TreeEntry {
    /// The path in the repository (relative, `/`-separated, checked by [`validate_repo_path`]).
    pub path: String,
    /// File or directory.
    pub kind: EntryKind,
    /// The git object id (blob sha1 for files, tree id for directories).
    pub oid: String,
    /// The size in bytes (the content size for LFS files, 0 for directories).
    pub size: u64,
    /// LFS details when the file is stored in LFS.
    pub lfs: Option<LfsPointer>,
}

/// A tree entry as the server sends it, before validation.
#[derive(Debug, Deserialize)]
pub(crate) struct RawTreeEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    oid: String,
    #[serde(default)]
    size: Option<u64>,
    path: String,
    #[serde(default)]
    lfs: Option<RawLfs>,
}

#[derive(Debug, Deserialize)]
struct RawLfs {
    oid: String,
    size: u64,
}

impl RawTreeEntry {
    /// Validates the entry; a hostile or broken entry is an error naming the problem.
    pub(crate) fn validate(self, request: &str) -> Result<TreeEntry, HubError> {
        validate_repo_path(&self.path)?;
        let invalid = |detail: String| HubError::InvalidResponse {
            request: request.to_owned(),
            detail,
        };
        let kind = match self.kind.as_str() {
            "file" => EntryKind::File,
            "directory" => EntryKind::Directory,
            other => {
                return Err(invalid(format!(
                    "expected a tree entry of type \"file\" or \"directory\", got {:?}",
                    http_transport::truncate_chars(other, 40)
                )));
            }
        };
        let lfs = match self.lfs {
            Some(raw) => {
                let oid = raw.oid.parse::<Sha256>().map_err(|_| {
                    invalid(format!(
                        "the LFS oid of {:?} is not a sha256 (64 hex digits)",
                        self.path
                    ))
                })?;
                Some(LfsPointer {
                    oid,
                    size: raw.size,
                })
            }
            None => None,
        };
        let size = match (kind, self.size, &lfs) {
            (_, Some(size), _) => size,
            (EntryKind::Directory, None, _) => 0,
            (EntryKind::File, None, Some(lfs)) => lfs.size,
            (EntryKind::File, None, None) => {
                return Err(invalid(format!(
                    "the file entry {:?} has no size",
                    self.path
                )));
            }
        };
        if let Some(lfs) = &lfs
            && lfs.size != size
        {
            return Err(invalid(format!(
                "the file entry {:?} has size {} but its LFS pointer says {}",
                self.path, size, lfs.size
            )));
        }
        Ok(TreeEntry {
            path: self.path,
            kind,
            oid: self.oid,
            size,
            lfs,
        })
    }
}

/// A branch or tag in [`Refs`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct GitRef {
    /// The short name (`main`, `v1.0`).
    pub name: String,
    /// The full ref (`refs/heads/main`).
    #[serde(rename = "ref", default)]
    pub full_ref: String,
    /// The commit it points at.
    #[serde(rename = "targetCommit")]
    pub target_commit: String,
}

/// The answer of `list_refs`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct Refs {
    /// The branches.
    #[serde(default)]
    pub branches: Vec<GitRef>,
    /// The tags.
    #[serde(default)]
    pub tags: Vec<GitRef>,
    /// Conversion refs (kept for completeness).
    #[serde(default)]
    pub converts: Vec<GitRef>,
}

impl Refs {
    /// The commit a branch points at.
    pub fn branch(&self, name: &str) -> Option<&str> {
        self.branches
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.target_commit.as_str())
    }

    /// The commit a tag points at.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.target_commit.as_str())
    }
}

/// An author of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CommitAuthor {
    /// The user name.
    #[serde(default)]
    pub user: String,
}

/// One commit of `list_commits` (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CommitInfo {
    /// The commit id.
    pub id: String,
    /// The title (the summary line).
    #[serde(default)]
    pub title: String,
    /// The message body.
    #[serde(default)]
    pub message: String,
    /// ISO-8601 date.
    #[serde(default)]
    pub date: Option<String>,
    /// The authors.
    #[serde(default)]
    pub authors: Vec<CommitAuthor>,
}

/// The answer of `validate_yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YamlValidation {
    /// Errors: the model card would be refused or misread.
    pub errors: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// HEAD metadata of a file at a revision (see `file_metadata`).
#[derive(Clone, PartialEq, Eq)]
pub struct FileMetadata {
    /// The commit the revision resolved to (`X-Repo-Commit`).
    pub commit: String,
    /// `X-Linked-Etag`, else `ETag`, with `W/` and quotes removed: the sha256 for LFS
    /// files, the git blob id for regular files.
    pub etag: String,
    /// The size (`X-Linked-Size`, else `Content-Length` of a non-redirect answer).
    pub size: Option<u64>,
    /// Where the content is (`Location` of a redirect, else the resolve URL). It may be a
    /// presigned URL: do not log it.
    pub location: url::Url,
    /// The file's Xet hash and token route, when the Hub stores it in Xet (`X-Xet-Hash`).
    pub xet: Option<crate::xet::XetFileInfo>,
}

impl std::fmt::Debug for FileMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMetadata")
            .field("commit", &self.commit)
            .field("etag", &self.etag)
            .field("size", &self.size)
            .field("location", &http_transport::without_query(&self.location))
            .field("xet", &self.xet)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> Result<TreeEntry, HubError> {
        serde_json::from_str::<RawTreeEntry>(json)
            .unwrap()
            .validate("GET x")
    }

    #[test]
    fn tree_entries_validate() {
        let sha = "a".repeat(64);
        let e = entry(&format!(
            r#"{{"type":"file","oid":"abc","size":5,"path":"sub/m.gguf","lfs":{{"oid":"{sha}","size":5,"pointerSize":132}}}}"#
        ))
        .unwrap();
        assert_eq!(e.kind, EntryKind::File);
        assert_eq!(e.lfs.unwrap().oid.to_hex(), sha);
        let d = entry(r#"{"type":"directory","oid":"t","size":0,"path":"sub"}"#).unwrap();
        assert_eq!((d.kind, d.size, d.lfs), (EntryKind::Directory, 0, None));

        for bad in [
            r#"{"type":"file","oid":"x","size":1,"path":"../evil"}"#,
            r#"{"type":"file","oid":"x","size":1,"path":"/etc/passwd"}"#,
            r#"{"type":"file","oid":"x","size":1,"path":"a\\b"}"#,
            r#"{"type":"file","oid":"x","size":1,"path":"a\u0000b"}"#,
            r#"{"type":"symlink","oid":"x","size":1,"path":"a"}"#,
            r#"{"type":"file","oid":"x","path":"a"}"#,
            r#"{"type":"file","oid":"x","size":1,"path":"a","lfs":{"oid":"nothex","size":1}}"#,
            r#"{"type":"file","oid":"x","size":2,"path":"a","lfs":{"oid":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":1}}"#,
        ] {
            assert!(entry(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            entry(r#"{"type":"file","oid":"x","size":1,"path":"../evil"}"#),
            Err(HubError::UnsafePath { .. })
        ));
    }

    #[test]
    fn model_info_parses_real_shape() {
        let json = r#"{"id":"ns/m","sha":"c0ffee","private":false,"siblings":[
            {"rfilename":"README.md","size":10,"blobId":"b1"},
            {"rfilename":"m.gguf","size":7,"blobId":"b2","lfs":{"sha256":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":7,"pointerSize":132}}
        ],"downloads":3,"cardData":{"license":"apache-2.0"}}"#;
        let info: ModelInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.sha.as_deref(), Some("c0ffee"));
        assert_eq!(info.siblings[1].lfs.as_ref().unwrap().size, 7);
        assert_eq!(info.extra["downloads"], 3);
        let who: WhoAmI = serde_json::from_str(r#"{"login":"ruv","orgs":[{"name":"o"}]}"#).unwrap();
        assert_eq!(who.name, "ruv");
    }
}
