//! Xet CAS access: tokens from the Hub's token routes, and the session that keeps one fresh
//! and sends every CAS call with it (and only it) to the CAS URL's origin.
//!
//! `GET /api/{models|datasets|spaces}/{repo}/xet-{write|read}-token/{rev}` answers
//! `{"accessToken", "exp", "casUrl"}` and the same values in `X-Xet-*` headers
//! (`docs/XET-NOTES.md#routes`). The Hub token goes to the Hub only; the CAS token goes only
//! to the `casUrl` origin, through a second transport with its own auth hook
//! ([`Transport::rebind`]). A session refreshes its token shortly before `exp` (30 s, or half
//! of a shorter lifetime) and when the CAS answers 401 (at most twice per call), then sends
//! the call again.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http_transport::{
    Answer, AuthHook, Bearer, Endpoint, Opened, Request, Token, Transport, is_loopback,
    quote_segment, truncate_chars,
};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

use crate::client::HubClient;
use crate::error::{HubError, error_from_answer};
use crate::repo::{RepoId, validate_revision};

/// The header that names a client's upload or download session on every CAS call.
pub const SESSION_HEADER: &str = "x-xet-session-id";

/// A token is refreshed this long before it expires (the official client's margin).
pub const REFRESH_MARGIN_SECS: u64 = 30;

/// How many new tokens one call may fetch after 401 answers: a call can outlive a fresh
/// token (a slow upload, a server that stalls), but a CAS that refuses every token fails fast.
const MAX_RENEWALS: u32 = 2;

/// What a CAS token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XetAccess {
    /// Reconstructions and xorb reads (`xet-read-token`; public repositories need no Hub token).
    Read,
    /// Xorb and shard uploads, dedup queries (`xet-write-token`; a Hub write token).
    Write,
}

impl XetAccess {
    /// The last segment of the token route.
    pub fn route(self) -> &'static str {
        match self {
            Self::Read => "xet-read-token",
            Self::Write => "xet-write-token",
        }
    }
}

/// A CAS access token with its expiry and the CAS it is for. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct XetToken {
    /// The bearer token the CAS takes.
    pub access_token: Token,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// The CAS server (its origin is the only one that gets the token).
    pub cas_url: Endpoint,
}

impl fmt::Debug for XetToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XetToken")
            .field("access_token", &self.access_token)
            .field("expires_at", &self.expires_at)
            .field("cas_url", &self.cas_url)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawToken {
    #[serde(rename = "accessToken", default)]
    access_token: Option<String>,
    #[serde(default)]
    exp: Option<serde_json::Value>,
    #[serde(rename = "casUrl", default)]
    cas_url: Option<String>,
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl HubClient {
    /// The token route of `repo` at `revision` (a branch, tag or commit).
    pub fn xet_token_url(
        &self,
        repo: &RepoId,
        revision: &str,
        access: XetAccess,
    ) -> Result<Url, HubError> {
        validate_revision(revision)?;
        self.url(&format!(
            "/api/{}/{}/{}/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            access.route(),
            quote_segment(revision)
        ))
    }

    /// `GET …/xet-write-token/{rev}` or `…/xet-read-token/{rev}`: a CAS token. A server
    /// without Xet answers 404 ([`HubError::is_not_found`]).
    pub async fn xet_token(
        &self,
        repo: &RepoId,
        revision: &str,
        access: XetAccess,
    ) -> Result<XetToken, HubError> {
        if access == XetAccess::Write {
            self.require_token("a Xet upload")?;
        }
        let url = self.xet_token_url(repo, revision, access)?;
        self.xet_token_from(&url).await
    }

    /// A CAS token from a token (refresh) route given by the Hub, such as the `href` of an
    /// LFS batch answer with `transfer: "xet"`. The route must be on the Hub's origin (it gets
    /// the Hub token).
    pub async fn xet_token_from(&self, route: &Url) -> Result<XetToken, HubError> {
        if !self.endpoint().same_origin(route) {
            return Err(HubError::InvalidInput {
                what: "Xet token route".into(),
                reason: format!(
                    "{} is not on the Hub's origin {}; it would not get the Hub token",
                    http_transport::without_query(route),
                    self.endpoint()
                ),
            });
        }
        let answer = self
            .send_ok(&Request::new(Method::GET, route.clone()))
            .await?;
        self.parse_xet_token(&answer)
    }

    /// Reads a token answer: the JSON body, else (a body that is not the JSON object) the
    /// `X-Xet-*` headers.
    fn parse_xet_token(&self, answer: &Answer) -> Result<XetToken, HubError> {
        let invalid = |detail: String| HubError::InvalidResponse {
            request: answer.request.clone(),
            detail,
        };
        let raw: RawToken = serde_json::from_slice(&answer.body).unwrap_or(RawToken {
            access_token: None,
            exp: None,
            cas_url: None,
        });
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let access_token = raw
            .access_token
            .or_else(|| header("x-xet-access-token"))
            .and_then(Token::new)
            .ok_or_else(|| invalid("expected an `accessToken` in the Xet token answer".into()))?;
        let exp = match raw.exp {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            None => header("x-xet-token-expiration").and_then(|s| s.trim().parse().ok()),
            Some(_) => None,
        }
        .ok_or_else(|| {
            invalid("expected `exp` (seconds since the Unix epoch) in the Xet token answer".into())
        })?;
        let cas_text = raw
            .cas_url
            .or_else(|| header("x-xet-cas-url"))
            .ok_or_else(|| invalid("expected a `casUrl` in the Xet token answer".into()))?;
        self.checked_xet_token(access_token, exp, &cas_text, &answer.request)
    }

    /// A CAS token from its parts, checked: a usable CAS URL (no plain http from an https Hub
    /// unless it is loopback) and a token that can go in a header.
    pub(crate) fn checked_xet_token(
        &self,
        access_token: Token,
        expires_at: u64,
        cas_text: &str,
        request: &str,
    ) -> Result<XetToken, HubError> {
        let invalid = |detail: String| HubError::InvalidResponse {
            request: request.to_owned(),
            detail,
        };
        let cas_url = Endpoint::parse(cas_text).map_err(|e| {
            invalid(format!(
                "the CAS URL {:?} cannot be used: {e}",
                truncate_chars(cas_text, 80)
            ))
        })?;
        let hub = self.endpoint().as_url();
        if hub.scheme() == "https"
            && cas_url.as_url().scheme() == "http"
            && !is_loopback(cas_url.as_url())
        {
            return Err(invalid(format!(
                "the Hub is https but gave the plain-http CAS URL {cas_url}; the CAS token would travel unencrypted, so it is not used"
            )));
        }
        // The token goes into a header on every CAS call; refuse one that cannot.
        access_token
            .header_value("Bearer ")
            .map_err(|_| invalid("the CAS token cannot go in an HTTP header".into()))?;
        Ok(XetToken {
            access_token,
            expires_at,
            cas_url,
        })
    }

    /// A session for CAS calls on `repo` at `revision`, with a first token.
    pub async fn xet_session(
        &self,
        repo: &RepoId,
        revision: &str,
        access: XetAccess,
    ) -> Result<XetSession, HubError> {
        if access == XetAccess::Write {
            self.require_token("a Xet upload")?;
        }
        let route = self.xet_token_url(repo, revision, access)?;
        self.xet_session_at(route, None).await
    }

    /// A session whose tokens come from `route` (a token route on the Hub's origin), starting
    /// with `first` when the Hub already handed one out (an LFS batch answer), else fetching one.
    pub async fn xet_session_at(
        &self,
        route: Url,
        first: Option<XetToken>,
    ) -> Result<XetSession, HubError> {
        let token = match first {
            Some(token) => token,
            None => self.xet_token_from(&route).await?,
        };
        XetSession::new(self.clone(), route, token)
    }
}

/// The current token and the transport that carries it.
struct Current {
    token: XetToken,
    transport: Transport,
    /// When to fetch the next token, in seconds since the Unix epoch.
    refresh_at: u64,
    /// Bumped with every new token, so that a 401 refreshes once however many calls saw it.
    generation: u64,
}

struct SessionInner {
    hub: HubClient,
    route: Url,
    session_id: HeaderValue,
    current: tokio::sync::Mutex<Current>,
    /// The latest token, to scrub from server text without waiting for `current`.
    latest: std::sync::Mutex<Token>,
    refreshes: AtomicU64,
}

/// CAS calls with a token kept fresh. Cloning is cheap (one `Arc`); clones share the token.
///
/// Every call is built against the current CAS endpoint, carries `X-Xet-Session-Id`, and
/// gets `Authorization: Bearer <CAS token>` from the session's own auth hook, on the CAS
/// origin only (a URL elsewhere, such as a presigned xorb range, never gets it). The Hub
/// token never leaves the Hub's transport.
#[derive(Clone)]
pub struct XetSession {
    inner: Arc<SessionInner>,
}

impl fmt::Debug for XetSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XetSession")
            .field("route", &http_transport::without_query(&self.inner.route))
            .field("refreshes", &self.refreshes())
            .finish_non_exhaustive()
    }
}

/// When to refresh a token that expires at `exp`, seen at `now`: [`REFRESH_MARGIN_SECS`]
/// before, or half-way through a lifetime shorter than twice that.
fn refresh_time(exp: u64, now: u64) -> u64 {
    let lifetime = exp.saturating_sub(now);
    exp.saturating_sub(REFRESH_MARGIN_SECS.min(lifetime / 2))
}

impl XetSession {
    fn new(hub: HubClient, route: Url, token: XetToken) -> Result<XetSession, HubError> {
        static SESSIONS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let id = format!(
            "ruvltra-{nanos:016x}-{:x}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::Relaxed)
        );
        let session_id = HeaderValue::from_str(&id).map_err(|_| HubError::InvalidInput {
            what: "Xet session id".into(),
            reason: "not a header value".into(),
        })?;
        let latest = std::sync::Mutex::new(token.access_token.clone());
        let current = Current::new(hub.transport(), token, 0)?;
        Ok(XetSession {
            inner: Arc::new(SessionInner {
                hub,
                route,
                session_id,
                current: tokio::sync::Mutex::new(current),
                latest,
                refreshes: AtomicU64::new(0),
            }),
        })
    }

    /// The CAS endpoint of the current token.
    pub async fn cas_url(&self) -> Endpoint {
        self.inner.current.lock().await.token.cas_url.clone()
    }

    /// When the current token expires, in seconds since the Unix epoch.
    pub async fn expires_at(&self) -> u64 {
        self.inner.current.lock().await.token.expires_at
    }

    /// How many times a new token was fetched (before expiry or after a 401).
    pub fn refreshes(&self) -> u64 {
        self.inner.refreshes.load(Ordering::Relaxed)
    }

    /// The Hub client the tokens come from.
    pub fn hub(&self) -> &HubClient {
        &self.inner.hub
    }

    /// The transport for the current token, fetching a new token first when it is due.
    async fn fresh(&self) -> Result<(Transport, u64), HubError> {
        let mut current = self.inner.current.lock().await;
        if unix_now() >= current.refresh_at {
            self.renew(&mut current).await?;
        }
        Ok((current.transport.clone(), current.generation))
    }

    /// Fetches a new token after the CAS refused the one of `generation`, unless another call
    /// already replaced it with one that is not due yet (a call that waited long enough for
    /// the newer token to run out too gets a new one).
    async fn renew_after_refusal(&self, generation: u64) -> Result<(Transport, u64), HubError> {
        let mut current = self.inner.current.lock().await;
        if current.generation == generation || unix_now() >= current.refresh_at {
            self.renew(&mut current).await?;
        }
        Ok((current.transport.clone(), current.generation))
    }

    async fn renew(&self, current: &mut Current) -> Result<(), HubError> {
        let token = self.inner.hub.xet_token_from(&self.inner.route).await?;
        tracing::debug!(
            cas = %token.cas_url,
            expires_at = token.expires_at,
            "new Xet CAS token"
        );
        *self
            .inner
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = token.access_token.clone();
        *current = Current::new(self.inner.hub.transport(), token, current.generation + 1)?;
        self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn prepare(&self, mut request: Request) -> Request {
        request.headers.push((
            HeaderName::from_static(SESSION_HEADER),
            self.inner.session_id.clone(),
        ));
        request
    }

    /// Sends a CAS call built by `build` for the current CAS endpoint (with retries, and the
    /// whole answer read), refreshing the token when it is due and after a 401 (at most twice
    /// per call). Returns
    /// the last answer whatever its status; [`XetSession::answer_error`] turns it into an error.
    pub async fn send(
        &self,
        build: impl Fn(&Endpoint) -> Result<Request, HubError>,
    ) -> Result<Answer, HubError> {
        let (mut transport, mut generation) = self.fresh().await?;
        let mut renewals = 0;
        loop {
            let request = self.prepare(build(transport.endpoint())?);
            let answer = transport.send(&request).await?;
            if answer.status != 401 || !request.body.is_replayable() || renewals == MAX_RENEWALS {
                return Ok(answer);
            }
            tracing::debug!("the CAS refused the Xet token; fetching a new one");
            (transport, generation) = self.renew_after_refusal(generation).await?;
            renewals += 1;
        }
    }

    /// Like [`send`](Self::send), with the answer's body left unread (a download).
    pub async fn open(
        &self,
        build: impl Fn(&Endpoint) -> Result<Request, HubError>,
    ) -> Result<(Opened, Transport), HubError> {
        let (mut transport, mut generation) = self.fresh().await?;
        let mut renewals = 0;
        loop {
            let request = self.prepare(build(transport.endpoint())?);
            let opened = transport.open(&request).await?;
            if opened.status() != 401 || renewals == MAX_RENEWALS {
                return Ok((opened, transport));
            }
            (transport, generation) = self.renew_after_refusal(generation).await?;
            renewals += 1;
        }
    }

    /// Server text made safe to show: the CAS token and URL queries scrubbed.
    pub fn sanitize(&self, text: &str) -> String {
        let secret = self
            .inner
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        http_transport::sanitize_message(text, Some(&secret))
    }

    /// The error for an unsuccessful CAS answer (the CAS token scrubbed from its text). A
    /// 401 here came after a fresh token was refused too.
    pub fn answer_error(&self, answer: &Answer) -> HubError {
        self.error_from_parts(
            answer.status,
            &answer.headers,
            &answer.body,
            answer.request.clone(),
        )
    }

    /// [`answer_error`](Self::answer_error) from the parts of an answer.
    pub fn error_from_parts(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        request: String,
    ) -> HubError {
        let secret = self
            .inner
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match error_from_answer(status, headers, body, request, Some(&secret)) {
            HubError::Unauthorized { request, message } => HubError::Http {
                request,
                status,
                message: format!(
                    "the Xet CAS refused a freshly issued token ({message}); check that the Hub token may write to the repository"
                ),
            },
            other => other,
        }
    }
}

impl Current {
    fn new(hub: &Transport, token: XetToken, generation: u64) -> Result<Current, HubError> {
        let bearer =
            Bearer::new(token.access_token.clone()).map_err(|_| HubError::InvalidInput {
                what: "Xet token".into(),
                reason: "it cannot go in an HTTP header".into(),
            })?;
        let transport = hub.rebind(
            token.cas_url.clone(),
            Some(Arc::new(bearer) as Arc<dyn AuthHook>),
            "xet",
        );
        Ok(Current {
            refresh_at: refresh_time(token.expires_at, unix_now()),
            token,
            transport,
            generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_thirty_seconds_early_or_half_way_through_a_short_life() {
        assert_eq!(refresh_time(1_000_000, 1_000_000 - 3600), 1_000_000 - 30);
        assert_eq!(refresh_time(1_000_000, 1_000_000 - 60), 1_000_000 - 30);
        assert_eq!(refresh_time(1_000_000, 1_000_000 - 20), 1_000_000 - 10);
        assert_eq!(refresh_time(1_000_000, 1_000_000), 1_000_000);
        assert_eq!(refresh_time(5, 100), 5);
    }

    #[test]
    fn token_urls_and_debug() {
        let client = HubClient::builder()
            .endpoint(Endpoint::parse("https://hub.test").unwrap())
            .build()
            .unwrap();
        let repo = RepoId::new("ns/name").unwrap();
        let url = client
            .xet_token_url(&repo, "refs/pr/1", XetAccess::Write)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://hub.test/api/models/ns/name/xet-write-token/refs%2Fpr%2F1"
        );
        let url = client
            .xet_token_url(&repo, "main", XetAccess::Read)
            .unwrap();
        assert!(url.as_str().ends_with("/xet-read-token/main"));
        let token = XetToken {
            access_token: Token::new("cas_secret").unwrap(),
            expires_at: 5,
            cas_url: Endpoint::parse("https://cas.test").unwrap(),
        };
        let shown = format!("{token:?}");
        assert!(!shown.contains("cas_secret"), "{shown}");
    }

    #[test]
    fn token_answers_are_checked() {
        let client = HubClient::builder()
            .endpoint(Endpoint::parse("https://hub.test").unwrap())
            .build()
            .unwrap();
        let answer = |body: &str| Answer {
            status: 200,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
            url: Url::parse("https://hub.test/t").unwrap(),
            request: "GET https://hub.test/t".into(),
        };
        let ok = client
            .parse_xet_token(&answer(
                r#"{"accessToken":"t1","exp":"1700000000","casUrl":"https://cas.test/prefix"}"#,
            ))
            .unwrap();
        assert_eq!(ok.expires_at, 1_700_000_000);
        assert_eq!(ok.cas_url.as_str(), "https://cas.test/prefix");
        // Plain http is fine to a loopback CAS (a local server), not across the network.
        let local = r#"{"accessToken":"t","exp":1,"casUrl":"http://127.0.0.1:9"}"#;
        client.parse_xet_token(&answer(local)).unwrap();
        for (body, expected) in [
            (
                r#"{"accessToken":"t","exp":1,"casUrl":"http://cas.test"}"#,
                "plain-http",
            ),
            (r#"{"exp":1,"casUrl":"https://cas.test"}"#, "accessToken"),
            (
                r#"{"accessToken":"t","exp":-4,"casUrl":"https://cas.test"}"#,
                "exp",
            ),
            (
                r#"{"accessToken":"t","exp":1,"casUrl":"ftp://x"}"#,
                "CAS URL",
            ),
            ("<html>", "accessToken"),
        ] {
            let err = client.parse_xet_token(&answer(body)).unwrap_err();
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }
}
