//! The request context: what every handler of either API or of the transfers knows about the
//! request (method, decoded path segments, query, headers, the base URL the client used, the
//! caller) and the server state it may reach. Built once per request by the routing layer.
//!
//! Paths are split by hand: the raw path is split on `/` and every segment percent-decoded
//! afterwards, because revisions and tree paths arrive with `/` encoded as `%2F`.

mod auth;
mod body;
mod sessions;
mod state;
mod xet_tokens;

use std::sync::Arc;

use axum::http::{HeaderMap, Method, Uri, header};

pub(crate) use auth::{Auth, invalid_credentials, token_auth};
pub(crate) use body::{read_body, read_json};
pub(crate) use sessions::{Site, Upload, UploadKind, UploadSessions};
pub use state::Stats;
pub(crate) use state::{AppState, Counters, ModelScopeSite, RepoLocks};
pub(crate) use xet_tokens::{XetScope, XetTokens};

use crate::error::ApiError;

/// Everything a handler needs about the request.
pub(crate) struct Ctx {
    pub state: Arc<AppState>,
    pub method: Method,
    pub raw_path: String,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// `scheme://host[:port]` as the client reached the server, for absolute URLs.
    pub base: String,
    pub auth: Auth,
    /// The name whoami shows for the token (`write-token-1`, ...); empty without one.
    pub token_name: String,
    /// A fault rule says to treat the request's CAS token as expired.
    pub expire_xet_token: bool,
}

impl Ctx {
    /// Reads the request line and headers into a context: decodes the path segments, picks
    /// the base URL from `X-Forwarded-Host`/`Host` and authenticates the bearer token.
    pub(crate) fn new(
        state: Arc<AppState>,
        method: Method,
        uri: &Uri,
        headers: HeaderMap,
    ) -> Result<Ctx, ApiError> {
        let raw_path = uri.path().to_owned();
        let segs: Result<Vec<String>, _> = raw_path
            .split('/')
            .skip(1)
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
            })
            .collect();
        let Ok(mut segs) = segs else {
            return Err(ApiError::bad_request(
                "the request path is not valid UTF-8 after percent-decoding",
            ));
        };
        if segs.last().is_some_and(|s| s.is_empty()) && segs.len() > 1 {
            segs.pop();
        }
        // Absolute URLs follow the Host the client used (or the one a proxy forwarded).
        let header_str = |name: &str| {
            headers
                .get(name)
                .and_then(|h| h.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| valid_host(v))
        };
        let host = header_str("x-forwarded-host")
            .or_else(|| header_str(header::HOST.as_str()))
            .or_else(|| state.addr.get().map(|a| a.to_string()))
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        let scheme = match header_str("x-forwarded-proto").as_deref() {
            Some("https") => "https",
            _ => "http",
        };
        let (auth, token_name) = auth::authenticate(&state, &headers);
        let query = uri.query().map(parse_form).unwrap_or_default();
        Ok(Ctx {
            state,
            method,
            raw_path,
            segs,
            query,
            headers,
            base: format!("{scheme}://{host}"),
            auth,
            token_name,
            expire_xet_token: false,
        })
    }

    /// The first value of a query parameter.
    pub(crate) fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a query flag is set the way Python and Rust clients send booleans.
    pub(crate) fn q_true(&self, key: &str) -> bool {
        matches!(self.q(key), Some("1" | "true" | "True"))
    }

    pub(crate) fn has_authorization(&self) -> bool {
        self.headers.contains_key(header::AUTHORIZATION)
    }
}

/// Parses `a=1&b=x+y` (a query string or a form body), decoding `+` and percent escapes.
pub(crate) fn parse_form(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-encodes a query key or value.
pub(crate) fn form_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether a Host value is safe to put into URLs and headers: a name or address and a port.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}
