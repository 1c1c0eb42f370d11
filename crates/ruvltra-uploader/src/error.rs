//! The one error type of the uploader: every way a publish can be refused or fail.

use std::path::PathBuf;

use hub_client::HubError;

/// A problem found while checking a local file, before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckProblem {
    /// The path of the file in the repository.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for CheckProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn list(problems: &[CheckProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why a publish, upload or verify did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No token was configured for a command that writes to a destination (see
    /// [`Destination::missing_token`](crate::Destination::missing_token)).
    #[error("no {destination} token found: set {variables} to a token with write access")]
    MissingToken {
        /// Where the publish was going: `Hub` or `ModelScope`.
        destination: &'static str,
        /// The variables (or file) that give that destination its token.
        variables: &'static str,
    },
    /// One or more files failed their checks; nothing was sent.
    #[error(
        "{} problem(s) found in the local files, nothing was uploaded:\n{}",
        .0.len(),
        list(.0)
    )]
    Checks(Vec<CheckProblem>),
    /// A local file could not be read.
    #[error("cannot read {}: {source}; check the path and its permissions", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The Hub refused or failed a request.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// Someone else kept committing to the branch while this publish ran.
    #[error(
        "conflict on {repo}@{branch}: another commit landed while publishing ({detail}); the plan was redone once and the branch moved again; run the publish again when the other publisher is done"
    )]
    Conflict {
        /// The repository.
        repo: String,
        /// The branch.
        branch: String,
        /// What the Hub said.
        detail: String,
    },
    /// The tag exists and points at another commit.
    #[error(
        "tag `{tag}` of {repo} already points at {existing}, not at {wanted}; pick a new version tag (tags are never moved)"
    )]
    TagConflict {
        /// The repository.
        repo: String,
        /// The tag.
        tag: String,
        /// The commit it points at.
        existing: String,
        /// The commit this publish wanted to tag.
        wanted: String,
    },
    /// The Hub's YAML validation refused the model card's front matter.
    #[error(
        "the Hub refused the model card's front matter: {0}; fix the catalog fields in registry.json"
    )]
    InvalidCard(String),
    /// The input (registry, options, paths) cannot be used.
    #[error("{0}")]
    InvalidInput(String),
    /// The uploader could not be set up (endpoint, HTTP client).
    #[error("cannot set up the Hub client: {0}")]
    Setup(String),
    /// A ModelScope request failed (publishing with `--to modelscope`).
    #[error(transparent)]
    ModelScope(#[from] modelscope_client::ModelScopeError),
}
