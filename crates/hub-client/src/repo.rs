//! Repository ids, repository types and the validation of revisions and repo file paths.

use std::fmt;
use std::str::FromStr;

use crate::error::HubError;

/// The kind of a Hub repository; it selects the URL prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RepoType {
    /// A model repository (the default).
    #[default]
    Model,
    /// A dataset repository.
    Dataset,
    /// A Space.
    Space,
}

impl RepoType {
    /// The plural used in API paths: `models`, `datasets`, `spaces`.
    pub fn api_segment(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Dataset => "datasets",
            Self::Space => "spaces",
        }
    }

    /// The prefix of web, resolve and LFS paths: empty for models, `datasets/`, `spaces/`.
    pub fn url_prefix(self) -> &'static str {
        match self {
            Self::Model => "",
            Self::Dataset => "datasets/",
            Self::Space => "spaces/",
        }
    }

    /// The singular sent in JSON bodies: `model`, `dataset`, `space`.
    pub fn singular(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Dataset => "dataset",
            Self::Space => "space",
        }
    }
}

/// A validated repository id, `namespace/name`, with its [`RepoType`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    namespace: String,
    name: String,
    repo_type: RepoType,
}

impl RepoId {
    /// Parses `ns/name` as a model repository.
    pub fn new(id: &str) -> Result<Self, HubError> {
        id.parse()
    }

    /// The same id with another repository type.
    pub fn with_type(mut self, repo_type: RepoType) -> Self {
        self.repo_type = repo_type;
        self
    }

    /// The namespace (user or organisation).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The repository name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The repository type.
    pub fn repo_type(&self) -> RepoType {
        self.repo_type
    }

    /// `ns/name`; both parts contain only URL-safe characters, so this is also the path form.
    pub fn as_path(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Validates one part of a repo id with the Hub's rules.
fn validate_id_part(part: &str, what: &str, whole: &str) -> Result<(), HubError> {
    let bad = |reason: &str| HubError::InvalidInput {
        what: "repo id".into(),
        reason: format!(
            "{what} of {whole:?} {reason}; use `namespace/name` with letters, digits, '-', '_', '.'"
        ),
    };
    if part.is_empty() {
        return Err(bad("is empty"));
    }
    if part.len() > 96 {
        return Err(bad("is longer than 96 characters"));
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(bad(
            "has a character other than letters, digits, '-', '_', '.'",
        ));
    }
    if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
        return Err(bad("starts or ends with '-' or '.'"));
    }
    if part.contains("--") || part.contains("..") {
        return Err(bad("contains '--' or '..'"));
    }
    Ok(())
}

impl FromStr for RepoId {
    type Err = HubError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        let shown: String = id.chars().take(200).collect();
        let Some((namespace, name)) = id.split_once('/') else {
            return Err(HubError::InvalidInput {
                what: "repo id".into(),
                reason: format!("{shown:?} has no namespace; write it as `namespace/name`"),
            });
        };
        validate_id_part(namespace, "the namespace", &shown)?;
        validate_id_part(name, "the name", &shown)?;
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            repo_type: RepoType::Model,
        })
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}/{}",
            self.repo_type.url_prefix(),
            self.namespace,
            self.name
        )
    }
}

impl fmt::Debug for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoId({self})")
    }
}

/// Checks a revision (branch, tag, commit id or `refs/pr/N`) before it goes into a URL.
pub fn validate_revision(revision: &str) -> Result<(), HubError> {
    let bad = |reason: &str| HubError::InvalidInput {
        what: "revision".into(),
        reason: format!(
            "{:?} {reason}; use a branch, tag or commit id",
            revision.chars().take(100).collect::<String>()
        ),
    };
    if revision.is_empty() {
        return Err(bad("is empty"));
    }
    if revision.len() > 255 {
        return Err(bad("is longer than 255 bytes"));
    }
    if revision
        .chars()
        .any(|c| c.is_control() || c == ' ' || c == '\\')
    {
        return Err(bad("contains a space, backslash or control character"));
    }
    if revision
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(bad("has an empty, '.' or '..' component"));
    }
    Ok(())
}

/// The longest repo file path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 4096;
/// The longest single path component accepted, in bytes.
pub const MAX_COMPONENT_LEN: usize = 255;

/// Checks that a repo file path is safe to use as a relative file system path anywhere.
///
/// Refused: empty paths, absolute paths (`/x`), backslashes, drive letters (`C:`), NUL and
/// control characters, empty, `.` and `..` components, paths over [`MAX_PATH_LEN`] bytes
/// and components over [`MAX_COMPONENT_LEN`] bytes. The error says what is wrong and shows
/// the path with control characters escaped.
pub fn validate_repo_path(path: &str) -> Result<(), HubError> {
    let unsafe_path = |reason: &'static str| HubError::UnsafePath {
        path: path
            .chars()
            .take(300)
            .flat_map(char::escape_debug)
            .collect(),
        reason,
    };
    if path.is_empty() {
        return Err(unsafe_path("it is empty"));
    }
    if path.len() > MAX_PATH_LEN {
        return Err(unsafe_path("it is longer than 4096 bytes"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(unsafe_path("it contains a NUL or control character"));
    }
    if path.contains('\\') {
        return Err(unsafe_path("it contains a backslash"));
    }
    if path.starts_with('/') {
        return Err(unsafe_path("it is absolute"));
    }
    let first = path.split('/').next().unwrap_or_default();
    let bytes = first.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(unsafe_path("it starts with a drive letter"));
    }
    for component in path.split('/') {
        match component {
            "" => {
                return Err(unsafe_path(
                    "it has an empty component (`//` or a trailing `/`)",
                ));
            }
            "." | ".." => return Err(unsafe_path("it has a `.` or `..` component")),
            c if c.len() > MAX_COMPONENT_LEN => {
                return Err(unsafe_path("a component is longer than 255 bytes"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        let id: RepoId = "ruv/ruvltra-claude-code".parse().unwrap();
        assert_eq!(id.namespace(), "ruv");
        assert_eq!(id.name(), "ruvltra-claude-code");
        assert_eq!(id.to_string(), "ruv/ruvltra-claude-code");
        assert_eq!(
            id.clone().with_type(RepoType::Dataset).to_string(),
            "datasets/ruv/ruvltra-claude-code"
        );
        assert_eq!(format!("{id:?}"), "RepoId(ruv/ruvltra-claude-code)");
        for bad in [
            "noslash", "a/b/c", "/b", "a/", "a/-b", "a/b.", "a/b..c", "a/b--c", "a b/c", "a/%2e",
            "../x", "a/b?x",
        ] {
            assert!(RepoId::new(bad).is_err(), "{bad} accepted");
        }
        assert!(RepoId::new(&format!("a/{}", "x".repeat(97))).is_err());
        assert!(RepoId::new("Org_1/Model.v2").is_ok());
    }

    #[test]
    fn revisions() {
        for ok in [
            "main",
            "v1.0.0",
            "refs/pr/1",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            validate_revision(ok).unwrap();
        }
        for bad in ["", "a b", "a\\b", "a//b", "../x", "a/..", "x\n", "/main"] {
            assert!(validate_revision(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn repo_paths() {
        for ok in [
            "README.md",
            "sub/m.gguf",
            "a/b/c.d",
            ".gitattributes",
            "dir.with.dots/x",
            "..foo",
            "é/ü",
        ] {
            validate_repo_path(ok).unwrap();
        }
        let long_component = "x".repeat(256);
        let long_path = format!("{}/x", "a/".repeat(2100));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "..\\x",
            "C:/x",
            "c:x",
            "a\0b",
            "a\nb",
            "a\u{7f}b",
            "..",
            ".",
            &long_component,
            &long_path,
        ] {
            let err = validate_repo_path(bad).unwrap_err();
            assert!(matches!(err, HubError::UnsafePath { .. }), "{bad:?}: {err}");
        }
        let err = validate_repo_path("a\0b").unwrap_err().to_string();
        assert!(err.contains("a\\0b"), "{err}");
    }
}
