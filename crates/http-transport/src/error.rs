//! The error of sending a request, before any API gives the answer a meaning.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong sending a request, whatever the API.
///
/// Every text in it is redacted: `request` fields read like `GET https://host/path` with the
/// query of other origins than the endpoint removed, details hold no URL and no credential.
/// An answer with an unsuccessful status is not an error here: the client reads it
/// ([`Answer`](crate::Answer)) and maps it onto its own error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection failed, was dropped, stalled or timed out (after every retry was used).
    #[error(
        "network error ({request}): {detail}; check the network and the endpoint, then try again"
    )]
    Network {
        /// The request that failed.
        request: String,
        /// What happened, without any URL.
        detail: String,
        /// The underlying client error, stripped of its URL.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A redirect that is not followed (another scheme, a downgrade, too many hops, or a
    /// request body that cannot be sent again).
    #[error("redirect from {from} to {to} refused: {reason}")]
    RedirectRefused {
        /// The URL that answered with the redirect.
        from: String,
        /// The target (query string removed).
        to: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server asked to wait longer than the retry policy allows, so the call failed fast.
    #[error(
        "the server answered HTTP {status} and asked to wait {} s before retrying ({request}), more than the {} s limit; try again later or raise the retry policy's max_retry_after",
        retry_after.as_secs(), limit.as_secs()
    )]
    RetryAfterTooLong {
        /// The request that failed.
        request: String,
        /// The status that carried `Retry-After`.
        status: u16,
        /// What the server asked for.
        retry_after: Duration,
        /// The policy's limit.
        limit: Duration,
    },
    /// An answer body exceeded the transport's limit.
    #[error("too large ({request}): {detail}")]
    TooLarge {
        /// The request whose answer was too large.
        request: String,
        /// Which limit was exceeded.
        detail: String,
    },
    /// The server answered something the transport cannot use (an unusable `Location`).
    #[error("unexpected answer ({request}): {detail}")]
    InvalidResponse {
        /// The request whose answer was wrong.
        request: String,
        /// What was wrong.
        detail: String,
    },
    /// A caller-supplied value is not valid (an endpoint, a token, a user agent).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was invalid.
        what: String,
        /// Why, and what is accepted.
        reason: String,
    },
    /// A local file sent as a request body could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
