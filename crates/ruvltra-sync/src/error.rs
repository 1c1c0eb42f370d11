//! The one error type of the crate: what can go wrong while reading the Hub or ModelScope.

use std::path::PathBuf;

use hub_client::HubError;
use modelscope_client::ModelScopeError;
use ruvltra_registry::{LoadError, Problems};

/// Why a Hub or ModelScope snapshot could not be read. Any of these leaves the registry untouched.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A Hub request failed (network, 404, 500 after retries, bad JSON, ...).
    #[error("cannot read {repo}{} from the Hub", at(revision.as_deref()))]
    Hub {
        /// The repository being read.
        repo: String,
        /// The revision being read, when the request was about one.
        revision: Option<String>,
        /// What the client reported.
        #[source]
        source: HubError,
    },
    /// The Hub answered, but with something sync cannot use.
    #[error(
        "the Hub's answer for {repo}{} is unusable: {detail}; check that the endpoint is a Hugging Face Hub",
        at(revision.as_deref())
    )]
    InvalidAnswer {
        /// The repository being read.
        repo: String,
        /// The revision being read, when the answer was about one.
        revision: Option<String>,
        /// What is wrong with it.
        detail: String,
    },
    /// A ModelScope request failed (network, 500 after retries, bad JSON, ...).
    #[error(
        "cannot read {repo}{} from ModelScope; check MODELSCOPE_ENDPOINT (or MODELSCOPE_DOMAIN) and run sync again",
        at(revision.as_deref())
    )]
    ModelScope {
        /// The repository being read.
        repo: String,
        /// The revision being read, when the request was about one.
        revision: Option<String>,
        /// What the client reported.
        #[source]
        source: ModelScopeError,
    },
    /// ModelScope answered, but with something sync cannot use (or it changed while it was
    /// read).
    #[error(
        "ModelScope's answer for {repo}{} is unusable: {detail}",
        at(revision.as_deref())
    )]
    InvalidModelScopeAnswer {
        /// The repository being read.
        repo: String,
        /// The revision being read, when the answer was about one.
        revision: Option<String>,
        /// What is wrong with it, and what to do.
        detail: String,
    },
    /// The registry file cannot be read, is malformed or breaks validation rules.
    #[error(transparent)]
    Registry(#[from] LoadError),
    /// The synced registry would break validation rules (a bug in sync); nothing was written.
    #[error(
        "the synced registry {} would break validation rules, so it was not written; please report this bug:\n{problems}",
        path.display()
    )]
    InvalidResult {
        /// The registry file.
        path: PathBuf,
        /// What would be wrong.
        problems: Problems,
    },
    /// Writing the synced registry failed; the old file is still in place.
    #[error("cannot write the synced registry {}; the old file is unchanged (check permissions and free space)", path.display())]
    Write {
        /// The registry file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn at(revision: Option<&str>) -> String {
    revision
        .map(|r| format!(" at revision {r}"))
        .unwrap_or_default()
}
