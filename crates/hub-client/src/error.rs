//! The one error type of the crate, and the mapping of the Hub's error answers onto it.

use std::path::PathBuf;
use std::time::Duration;

use http_transport::{Token, TransportError, looks_like_html, parse_retry_after, sanitize_message};
use reqwest::header::HeaderMap;

/// Everything that can go wrong talking to the Hub.
///
/// Messages never contain the token, and URLs of other origins than the endpoint (presigned
/// storage URLs) appear without their query string. `request` fields read like
/// `GET https://huggingface.co/api/models/ns/name`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The repository does not exist or the token cannot see it (`X-Error-Code: RepoNotFound`).
    #[error(
        "repository not found ({request}): {message}; check the repo id and that the token can see the repository"
    )]
    RepoNotFound {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// The branch, tag or commit does not exist (`X-Error-Code: RevisionNotFound`).
    #[error("revision not found ({request}): {message}; check the branch, tag or commit id")]
    RevisionNotFound {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// The file or folder does not exist at that revision (`X-Error-Code: EntryNotFound`).
    #[error("entry not found ({request}): {message}; check the path and the revision")]
    EntryNotFound {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// The repository is gated and the token has no access (`X-Error-Code: GatedRepo`).
    #[error("gated repository ({request}): {message}; request access on the repository page")]
    GatedRepo {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 401: no token, or a token the Hub does not accept.
    #[error(
        "unauthorized ({request}): {message}; set HF_TOKEN to a valid Hub token with access to this repository"
    )]
    Unauthorized {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// A write was attempted without any token configured.
    #[error(
        "no Hub token found for {operation}; set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, HUGGINGFACE_API_KEY, or the token file at HF_TOKEN_PATH, $HF_HOME/token, ~/.cache/huggingface/token)"
    )]
    MissingToken {
        /// What needed the token.
        operation: String,
    },
    /// HTTP 403: the token is valid but may not do this.
    #[error("forbidden ({request}): {message}; use a token with write access to this repository")]
    Forbidden {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 409: the thing already exists or another operation conflicts.
    #[error("conflict ({request}): {message}")]
    Conflict {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 412: the branch head is no longer the `parentCommit` given.
    #[error(
        "the branch moved since the parent commit ({request}): {message}; re-read the branch head and plan the change again"
    )]
    PreconditionFailed {
        /// The request that failed.
        request: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 429 after every retry was used.
    #[error("rate limited ({request}): {message}; wait and try again later")]
    RateLimited {
        /// The request that failed.
        request: String,
        /// The last `Retry-After` the server sent, when it sent one.
        retry_after: Option<Duration>,
        /// The server's message.
        message: String,
    },
    /// The server asked to wait longer than the retry policy allows, so the client failed fast.
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
    /// Any other unsuccessful HTTP status.
    #[error("HTTP {status} ({request}): {message}")]
    Http {
        /// The request that failed.
        request: String,
        /// The HTTP status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The connection failed, was dropped, or timed out (after every retry was used).
    #[error(
        "network error ({request}): {detail}; check the network and the endpoint, then try again"
    )]
    Transport {
        /// The request that failed.
        request: String,
        /// What happened, without any URL.
        detail: String,
        /// The underlying client error, stripped of its URL.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The server answered something the client cannot use (garbage, HTML, unexpected JSON).
    #[error("unexpected answer ({request}): {detail}")]
    InvalidResponse {
        /// The request whose answer was wrong.
        request: String,
        /// What was expected and what came.
        detail: String,
    },
    /// A repo path that is unsafe as a relative file system path (from a caller or the server).
    #[error(
        "unsafe repository path \"{path}\": {reason}; paths must be relative, `/`-separated, without `..`"
    )]
    UnsafePath {
        /// The path, truncated, with control characters escaped.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A redirect the client will not follow.
    #[error("redirect from {from} to {to} refused: {reason}")]
    RedirectRefused {
        /// The URL that answered with the redirect.
        from: String,
        /// The target (query string removed).
        to: String,
        /// Why it was refused.
        reason: String,
    },
    /// A presigned upload URL (part, basic PUT or completion) was refused, usually because it
    /// expired; new URLs come from a new LFS batch call.
    #[error(
        "the upload URL was refused with HTTP {status} ({request}): {message}; it may have expired: ask the LFS batch endpoint for new URLs (run the upload again)"
    )]
    UploadUrlRefused {
        /// The request that failed (query string removed).
        request: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A caller-supplied value is not valid.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was invalid.
        what: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A server answer exceeded a safety limit (page count, entry count, body size).
    #[error("too large ({request}): {detail}")]
    TooLarge {
        /// The request whose answer was too large.
        request: String,
        /// Which limit was exceeded.
        detail: String,
    },
    /// A commit's answer was lost and the client could not find out whether it was applied.
    #[error(
        "the answer to the commit on {branch} was lost and its outcome could not be checked: {detail}; look at the branch history before publishing again"
    )]
    CommitOutcomeUnknown {
        /// The branch committed to.
        branch: String,
        /// Why the check failed.
        detail: String,
    },
}

impl HubError {
    /// The HTTP status behind this error, when it came from an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::Conflict { .. } => Some(409),
            Self::PreconditionFailed { .. } => Some(412),
            Self::RateLimited { .. } => Some(429),
            Self::RetryAfterTooLong { status, .. }
            | Self::Http { status, .. }
            | Self::UploadUrlRefused { status, .. } => Some(*status),
            Self::RepoNotFound { .. }
            | Self::RevisionNotFound { .. }
            | Self::EntryNotFound { .. } => Some(404),
            _ => None,
        }
    }

    /// True for errors that mean "not found" (repository, revision, entry or a bare 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the answer may mean the repository does not exist: `RepoNotFound`, or a
    /// bare 404 (no `X-Error-Code` this client knows, such as `NotFound`). Assumption
    /// (`docs/HUB-PROTOCOL-NOTES.md#errors`): the Hub answers `RepoNotFound` for a missing
    /// repository, but a plain "page not found" 404 was seen for ids it could not route
    /// (no namespace), and a proxy in front of a Hub may answer a bare 404 too; a caller
    /// that recovers from a missing repository (by creating it) treats both alike and lets
    /// its next request tell them apart.
    pub fn is_repo_not_found(&self) -> bool {
        matches!(
            self,
            Self::RepoNotFound { .. } | Self::Http { status: 404, .. }
        )
    }
}

impl From<TransportError> for HubError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Network {
                request,
                detail,
                source,
            } => Self::Transport {
                request,
                detail,
                source,
            },
            TransportError::RedirectRefused { from, to, reason } => {
                Self::RedirectRefused { from, to, reason }
            }
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
            TransportError::TooLarge { request, detail } => Self::TooLarge { request, detail },
            TransportError::InvalidResponse { request, detail } => {
                Self::InvalidResponse { request, detail }
            }
            TransportError::InvalidInput { what, reason } => Self::InvalidInput { what, reason },
            TransportError::Io { path, source } => Self::Io { path, source },
            // The transport's error is non-exhaustive; a new kind still reads as a failure.
            other => Self::Transport {
                request: "sending a request".into(),
                detail: other.to_string(),
                source: None,
            },
        }
    }
}

/// Builds the error for an unsuccessful answer.
///
/// The message combines `X-Error-Message` and the JSON body (`error` as a string or list,
/// `error_description`, `errors[].message`); a non-JSON body is used as text unless it is
/// HTML. The message is truncated to [`MAX_MESSAGE_CHARS`](http_transport::MAX_MESSAGE_CHARS), scrubbed of the token and of
/// URL query strings.
pub(crate) fn error_from_answer(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    request: String,
    token: Option<&Token>,
) -> HubError {
    let message = answer_message(status, headers, body, token);
    let code = headers
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match (code, status) {
        ("RepoNotFound", _) => HubError::RepoNotFound { request, message },
        ("RevisionNotFound", _) => HubError::RevisionNotFound { request, message },
        ("EntryNotFound", _) => HubError::EntryNotFound { request, message },
        ("GatedRepo", _) => HubError::GatedRepo { request, message },
        (_, 401) => HubError::Unauthorized { request, message },
        (_, 403) => HubError::Forbidden { request, message },
        (_, 409) => HubError::Conflict { request, message },
        (_, 412) => HubError::PreconditionFailed { request, message },
        (_, 429) => HubError::RateLimited {
            request,
            retry_after: parse_retry_after(headers),
            message,
        },
        _ => HubError::Http {
            request,
            status,
            message,
        },
    }
}

/// The human message of an error answer (see [`error_from_answer`]).
pub(crate) fn answer_message(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    token: Option<&Token>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(header) = headers.get("x-error-message").and_then(|v| v.to_str().ok()) {
        parts.push(header.trim().to_owned());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            match json.get("error") {
                Some(serde_json::Value::String(s)) => parts.push(s.clone()),
                Some(serde_json::Value::Array(items)) => {
                    parts.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)));
                }
                _ => {}
            }
            if let Some(s) = json.get("error_description").and_then(|v| v.as_str()) {
                parts.push(s.to_owned());
            }
            if let Some(errors) = json.get("errors").and_then(|v| v.as_array()) {
                parts.extend(
                    errors
                        .iter()
                        .filter_map(|e| e.get("message")?.as_str().map(str::to_owned)),
                );
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if looks_like_html(text) {
                parts.push("the server sent an HTML page instead of a JSON error".to_owned());
            } else if !text.is_empty() {
                parts.push(text.to_owned());
            }
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for part in parts.into_iter().filter(|p| !p.trim().is_empty()) {
        if !unique.contains(&part) {
            unique.push(part);
        }
    }
    let message = if unique.is_empty() {
        format!("the server gave no error message (HTTP {status})")
    } else {
        unique.join("; ")
    };
    sanitize_message(&message, token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn map(status: u16, h: &[(&'static str, &'static str)], body: &str) -> HubError {
        error_from_answer(
            status,
            &headers(h),
            body.as_bytes(),
            "GET http://x/api".into(),
            None,
        )
    }

    #[test]
    fn error_codes_win_over_status() {
        assert!(matches!(
            map(404, &[("x-error-code", "RepoNotFound")], "{}"),
            HubError::RepoNotFound { .. }
        ));
        assert!(matches!(
            map(401, &[("x-error-code", "RepoNotFound")], "{}"),
            HubError::RepoNotFound { .. }
        ));
        assert!(matches!(
            map(404, &[("x-error-code", "RevisionNotFound")], ""),
            HubError::RevisionNotFound { .. }
        ));
        assert!(matches!(
            map(404, &[("x-error-code", "EntryNotFound")], ""),
            HubError::EntryNotFound { .. }
        ));
        assert!(matches!(
            map(403, &[("x-error-code", "GatedRepo")], ""),
            HubError::GatedRepo { .. }
        ));
    }

    /// A missing repository may be answered `RepoNotFound` or a bare 404 ("page not found",
    /// `X-Error-Code: NotFound` or none); a missing revision or entry is not one.
    #[test]
    fn both_answers_for_a_missing_repository() {
        assert!(map(404, &[("x-error-code", "RepoNotFound")], "{}").is_repo_not_found());
        assert!(map(401, &[("x-error-code", "RepoNotFound")], "{}").is_repo_not_found());
        assert!(map(404, &[("x-error-code", "NotFound")], "{}").is_repo_not_found());
        assert!(map(404, &[], "").is_repo_not_found());
        for precise in ["RevisionNotFound", "EntryNotFound", "GatedRepo"] {
            assert!(!map(404, &[("x-error-code", precise)], "").is_repo_not_found());
        }
        assert!(!map(500, &[], "").is_repo_not_found());
        // The message of both headers and body is shown once, not twice.
        let e = map(
            404,
            &[
                ("x-error-code", "RepoNotFound"),
                ("x-error-message", "Repository not found"),
            ],
            r#"{"error":"Repository not found"}"#,
        );
        assert!(
            e.to_string()
                .contains("(GET http://x/api): Repository not found; check"),
            "{e}"
        );
    }

    #[test]
    fn statuses_map_to_variants() {
        let e = map(401, &[], r#"{"error":"Invalid credentials"}"#);
        assert!(matches!(e, HubError::Unauthorized { .. }));
        assert!(e.to_string().contains("set HF_TOKEN"), "{e}");
        assert!(matches!(map(403, &[], ""), HubError::Forbidden { .. }));
        assert!(matches!(map(409, &[], ""), HubError::Conflict { .. }));
        assert!(matches!(
            map(412, &[], ""),
            HubError::PreconditionFailed { .. }
        ));
        match map(429, &[("retry-after", "7")], "") {
            HubError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
        match map(500, &[], "boom") {
            HubError::Http {
                status, message, ..
            } => assert_eq!((status, message.as_str()), (500, "boom")),
            other => panic!("{other:?}"),
        }
        assert_eq!(map(404, &[], "").status(), Some(404));
        assert!(map(404, &[], "").is_not_found());
    }

    #[test]
    fn message_sources_are_combined() {
        let h = headers(&[("x-error-message", "header says")]);
        let body = r#"{"error":"body says","error_description":"more detail","errors":[{"message":"third"}]}"#;
        assert_eq!(
            answer_message(400, &h, body.as_bytes(), None),
            "header says; body says; more detail; third"
        );
        let list = r#"{"error":["one","two"]}"#;
        assert_eq!(
            answer_message(400, &HeaderMap::new(), list.as_bytes(), None),
            "one; two"
        );
        // The same text in header and body is said once.
        let h = headers(&[("x-error-message", "same")]);
        assert_eq!(
            answer_message(400, &h, br#"{"error":"same"}"#, None),
            "same"
        );
        assert_eq!(
            answer_message(502, &HeaderMap::new(), b"", None),
            "the server gave no error message (HTTP 502)"
        );
    }

    #[test]
    fn html_and_long_bodies_are_summarised() {
        let html = "<!DOCTYPE html><html><body>Bad gateway</body></html>";
        assert_eq!(
            answer_message(502, &HeaderMap::new(), html.as_bytes(), None),
            "the server sent an HTML page instead of a JSON error"
        );
        let long = "x".repeat(5000);
        let message = answer_message(500, &HeaderMap::new(), long.as_bytes(), None);
        assert_eq!(
            message.chars().count(),
            http_transport::MAX_MESSAGE_CHARS + 1
        );
        assert!(message.ends_with('…'));
    }

    #[test]
    fn secrets_never_reach_messages() {
        let token = Token::new("hf_secret_value").unwrap();
        let body = r#"{"error":"token hf_secret_value rejected, see https://s3.test/o?X-Amz-Signature=abc now"}"#;
        let message = answer_message(401, &HeaderMap::new(), body.as_bytes(), Some(&token));
        assert!(!message.contains("hf_secret_value"), "{message}");
        assert!(!message.contains("X-Amz-Signature"), "{message}");
        assert!(
            message.contains("https://s3.test/o?<redacted> now"),
            "{message}"
        );
    }
}
