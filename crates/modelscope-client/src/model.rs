//! Plain data: model ids, visibility, local files to publish, listed files, revisions, reports.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::ModelScopeError;

/// A ModelScope model id, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId {
    owner: String,
    name: String,
}

impl ModelId {
    /// Parses `owner/name`: two parts of 1 to 96 characters from `A-Z a-z 0-9 . _ -`, not
    /// starting with `.` or `-`.
    pub fn new(text: &str) -> Result<Self, ModelScopeError> {
        text.parse()
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The model name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `owner/name` for URL paths (every character is URL-safe by construction).
    pub fn url_path(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

impl FromStr for ModelId {
    type Err = ModelScopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ModelScopeError::InvalidInput {
            what: "ModelScope model id".into(),
            reason: format!(
                "{text:?} {reason}; use owner/name with letters, digits, '.', '_', '-'"
            ),
        };
        let (owner, name) = text.split_once('/').ok_or_else(|| bad("has no '/'"))?;
        for part in [owner, name] {
            if part.is_empty() || part.len() > 96 {
                return Err(bad("has an empty or over-long part"));
            }
            if part.starts_with(['.', '-']) || part.contains("..") {
                return Err(bad(
                    "has a part starting with '.' or '-' or containing '..'",
                ));
            }
            if !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(bad("has a character outside the allowed set"));
            }
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Who may see a model (ModelScope's wire values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Visibility {
    /// Only the owner.
    Private = 1,
    /// Members of the organisation.
    Internal = 3,
    /// Everyone.
    Public = 5,
}

/// A local file to publish at `path_in_repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// The path inside the model repo.
    pub path_in_repo: String,
    /// The file on disk.
    pub local: PathBuf,
}

/// A file of a revision as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    /// The path inside the repo (checked).
    pub path: String,
    /// The content size in bytes.
    pub size: u64,
    /// The sha256 of the content, lowercase, when the server gives it.
    pub sha256: Option<String>,
    /// Whether the file is stored through LFS.
    pub lfs: bool,
    /// The git blob id (`Id`), when the server gives it: of the content for inline files.
    pub blob_id: Option<String>,
}

/// Branches and tags of a model, name to commit id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revisions {
    /// Branch name to commit id.
    pub branches: BTreeMap<String, String>,
    /// Tag name to commit id.
    pub tags: BTreeMap<String, String>,
}

/// What one [`upload_files`](crate::ModelScopeClient::upload_files) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// The new commit id.
    pub commit: String,
    /// sha256 of the LFS objects sent (the server lacked them).
    pub uploaded_objects: Vec<String>,
    /// Paths of LFS files whose object the server already had.
    pub reused: Vec<String>,
    /// Paths sent inline in the commit.
    pub inline: Vec<String>,
}
