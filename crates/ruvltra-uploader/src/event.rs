//! Progress and notices of a publish, handed to the caller (progress bars, log lines) as events.

use std::sync::Arc;

/// Something the uploader is doing or has noticed. The uploader never prints; the caller
/// decides how to show these (progress bars on a terminal, plain lines otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A step begins (`checking 3 files`, `committing 5 changes to ruv/ruvltra@main`).
    Step(String),
    /// Something worth knowing that needs no action (a skipped model, a created repo).
    Notice(String),
    /// Something that may need action but does not stop the publish.
    Warning(String),
    /// Hashing of a file starts.
    HashStart {
        /// Path in the repository.
        path: String,
        /// File size.
        bytes: u64,
    },
    /// Hashing progress.
    HashProgress {
        /// Path in the repository.
        path: String,
        /// Bytes hashed so far.
        done: u64,
    },
    /// A file is hashed.
    HashDone {
        /// Path in the repository.
        path: String,
        /// Its sha256 (lowercase hex).
        sha256: String,
    },
    /// An upload starts.
    UploadStart {
        /// Path in the repository.
        path: String,
        /// Bytes to send.
        bytes: u64,
    },
    /// Upload progress.
    UploadProgress {
        /// Path in the repository.
        path: String,
        /// Bytes sent so far.
        done: u64,
    },
    /// An upload is done.
    UploadDone {
        /// Path in the repository.
        path: String,
        /// False when the Hub already had the object and nothing was sent.
        sent: bool,
    },
    /// The commit is about to be sent (tests use this to race another publisher).
    Committing {
        /// The repository.
        repo: String,
        /// The branch.
        branch: String,
        /// The commit the branch is expected to be at.
        parent: String,
    },
}

/// Receives every [`Event`]; called from the uploader's tasks, so it must be cheap.
pub type Observer = Arc<dyn Fn(Event) + Send + Sync>;

/// An observer that drops every event.
pub fn silent() -> Observer {
    Arc::new(|_| {})
}
