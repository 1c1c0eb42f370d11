//! The one error type of the crate: every failure says what to do next and never shows the token.

use std::path::PathBuf;
use std::time::Duration;

use http_transport::TransportError;

/// Everything that can go wrong talking to ModelScope.
#[derive(Debug, thiserror::Error)]
pub enum ModelScopeError {
    /// An argument or setting is malformed.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was wrong (endpoint, model id, path, ...).
        what: String,
        /// Why, and what is accepted.
        reason: String,
    },
    /// The request needs a token and none was configured.
    #[error("{request} needs a ModelScope access token: set MODELSCOPE_API_TOKEN")]
    NoToken {
        /// `METHOD url` of the request.
        request: String,
    },
    /// The server refused the token (401/403).
    #[error(
        "{request} was refused with HTTP {status} ({message}): check that MODELSCOPE_API_TOKEN is valid and may write to this model"
    )]
    Unauthorized {
        /// `METHOD url` of the request.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, token removed.
        message: String,
    },
    /// The model, revision or file does not exist (404).
    #[error("{request} found nothing (HTTP 404: {message}): check the model id, revision and path")]
    NotFound {
        /// `METHOD url` of the request.
        request: String,
        /// The server's message, token removed.
        message: String,
    },
    /// A commit to a branch the model does not have was refused: the server did not create the
    /// branch on commit (the local server does; see `commit`).
    #[error(
        "ModelScope model {model} has no branch {branch} and refused to create it on commit ({detail}): nothing was committed; create the branch on ModelScope first (for example by `git push` of the branch), or publish this revision to the Hub only"
    )]
    MissingBranch {
        /// The model id.
        model: String,
        /// The branch the commit was for.
        branch: String,
        /// The server's answer, token removed.
        detail: String,
    },
    /// Any other failed answer.
    #[error("{request} failed with HTTP {status}{}: {message}; retry later or check the request", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Status {
        /// `METHOD url` of the request.
        request: String,
        /// The HTTP status.
        status: u16,
        /// ModelScope's business code, when the body had one.
        code: Option<i64>,
        /// The server's message, token removed.
        message: String,
    },
    /// The server asked to wait longer than the retry policy allows.
    #[error(
        "{request} answered HTTP {status} asking to wait {retry_after:?}, over the {limit:?} limit: try again later"
    )]
    RetryAfterTooLong {
        /// `METHOD url` of the request.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The wait asked for.
        retry_after: Duration,
        /// The longest wait honoured.
        limit: Duration,
    },
    /// The connection failed or timed out (after the retries).
    #[error(
        "{request} could not reach the server: {reason}; check the network and MODELSCOPE_ENDPOINT"
    )]
    Transport {
        /// `METHOD url` of the request.
        request: String,
        /// The transport error, token removed.
        reason: String,
    },
    /// The answer did not have the expected shape.
    #[error("{request} gave an unexpected answer: {reason}; is the endpoint a ModelScope server")]
    InvalidResponse {
        /// `METHOD url` of the request.
        request: String,
        /// What was wrong.
        reason: String,
    },
    /// A redirect was refused (downgrade to http, too many, unusable location).
    #[error("{request} was redirected badly: {reason}")]
    Redirect {
        /// `METHOD url` of the request.
        request: String,
        /// Why it was refused.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("cannot use {path}: {source}; check it exists and is readable/writable")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Bytes did not have the size or sha256 they should.
    #[error(
        "{what} has sha256 {got} and {got_size} bytes, expected {expected} and {expected_size} bytes: the file changed or the transfer was corrupted, run again"
    )]
    Integrity {
        /// The file or object.
        what: String,
        /// The expected sha256.
        expected: String,
        /// The sha256 found.
        got: String,
        /// The expected size.
        expected_size: u64,
        /// The size found.
        got_size: u64,
    },
}

impl ModelScopeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The HTTP status of an answer error, if the error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. }
            | Self::Status { status, .. }
            | Self::RetryAfterTooLong { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::MissingBranch { .. } => None,
            _ => None,
        }
    }
}

impl From<TransportError> for ModelScopeError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Network {
                request, detail, ..
            } => Self::Transport {
                request,
                reason: detail,
            },
            TransportError::RedirectRefused { from, to, reason } => Self::Redirect {
                request: format!("the request to {from}"),
                reason: format!("{reason} (to {to})"),
            },
            TransportError::RetryAfterTooLong {
                request,
                status,
                retry_after,
                limit,
            } => Self::RetryAfterTooLong {
                request,
                status,
                retry_after,
                limit,
            },
            TransportError::TooLarge { request, detail }
            | TransportError::InvalidResponse { request, detail } => Self::InvalidResponse {
                request,
                reason: detail,
            },
            TransportError::InvalidInput { what, reason } => Self::InvalidInput { what, reason },
            TransportError::Io { path, source } => Self::Io { path, source },
            // The transport's error is non-exhaustive; a new kind still reads as a failure.
            other => Self::Transport {
                request: "a request".into(),
                reason: other.to_string(),
            },
        }
    }
}
