//! The one error type of the crate: what can go wrong while reading the Hub.

use hub_client::HubError;

/// Why a Hub snapshot could not be read. Any of these leaves the registry untouched.
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
}

fn at(revision: Option<&str>) -> String {
    revision
        .map(|r| format!(" at revision {r}"))
        .unwrap_or_default()
}
