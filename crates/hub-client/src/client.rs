//! The `HubClient`: configuration, and the one place where requests are sent, redirects are
//! followed by hand, credentials are attached (or not) and retries happen.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::endpoint::{Endpoint, without_query};
use crate::error::{
    HubError, error_from_answer, looks_like_html, sanitize_message, truncate_chars,
};
use crate::retry::{RetryDecision, RetryPolicy, is_retryable_status};
use crate::token::Token;

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("ruvltra-hub-client/", env!("CARGO_PKG_VERSION"));

/// Limits that protect the client from hostile or broken servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest JSON (or other non-streamed) answer body read, in bytes.
    pub max_api_body: u64,
    /// The most pages followed in one paginated listing.
    pub max_pages: usize,
    /// The most entries collected in one paginated listing.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_api_body: 64 << 20,
            max_pages: 10_000,
            max_entries: 1_000_000,
        }
    }
}

/// Builds a [`HubClient`].
#[derive(Debug, Clone)]
pub struct HubClientBuilder {
    endpoint: Option<Endpoint>,
    token: Option<Token>,
    user_agent: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    read_timeout: Duration,
    api_timeout: Duration,
    parallel_parts: usize,
    limits: Limits,
}

impl Default for HubClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            token: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            api_timeout: Duration::from_secs(120),
            parallel_parts: 4,
            limits: Limits::default(),
        }
    }
}

impl HubClientBuilder {
    /// The Hub to talk to; when not set, [`Endpoint::resolve`] with no explicit value
    /// (`HF_ENDPOINT`, else `https://huggingface.co`) is used at [`build`](Self::build).
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The access token (none for anonymous reads).
    pub fn token(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest silence allowed while reading an answer (default 60 s); a stalled
    /// answer fails with a timeout and is retried like a dropped connection.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The total time allowed for one API call that is not a file transfer (default 120 s).
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.api_timeout = timeout;
        self
    }

    /// How many multipart parts are sent at the same time (default 4, at least 1).
    pub fn parallel_parts(mut self, parts: usize) -> Self {
        self.parallel_parts = parts.max(1);
        self
    }

    /// Safety limits on answers.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<HubClient, HubError> {
        let endpoint = match self.endpoint {
            Some(e) => e,
            None => Endpoint::resolve(None)?,
        };
        let user_agent =
            HeaderValue::from_str(&self.user_agent).map_err(|_| HubError::InvalidInput {
                what: "user agent".into(),
                reason: "it must be visible ASCII".into(),
            })?;
        let auth_header = match &self.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
                    HubError::InvalidInput {
                        what: "token".into(),
                        reason: "it contains characters that cannot go in an HTTP header; check HF_TOKEN".into(),
                    }
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(user_agent.clone())
                .connect_timeout(self.connect_timeout)
        };
        let build_error = |e: reqwest::Error| HubError::Transport {
            request: "building the HTTP client".into(),
            detail: e.to_string(),
            source: Some(e),
        };
        let http = base()
            .read_timeout(self.read_timeout)
            .build()
            .map_err(build_error)?;
        // Uploads send for a long time before the answer's first byte, which reqwest's read
        // timeout would count as silence; their stalls are detected by the client instead.
        let transfer_http = base().build().map_err(build_error)?;
        Ok(HubClient {
            inner: Arc::new(Inner {
                http,
                transfer_http,
                endpoint,
                token: self.token,
                auth_header,
                retry: self.retry,
                api_timeout: self.api_timeout,
                read_timeout: self.read_timeout,
                parallel_parts: self.parallel_parts,
                limits: self.limits,
            }),
        })
    }
}

/// An async client of the Hub's HTTP API. Cloning is cheap (one `Arc`).
///
/// Security rules kept by every call:
/// * Redirects are never followed by the HTTP library; the client follows at most
///   [`MAX_REDIRECTS`] by hand, refuses `https` to `http` downgrades and non-HTTP schemes,
///   and sends `Authorization` only to the endpoint's own origin (scheme, host, port).
/// * Presigned upload URLs (LFS PUTs, multipart parts, completion) never get the token.
/// * Errors and tracing events show URLs of other origins without their query string.
#[derive(Clone)]
pub struct HubClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) transfer_http: reqwest::Client,
    pub(crate) endpoint: Endpoint,
    pub(crate) token: Option<Token>,
    auth_header: Option<HeaderValue>,
    pub(crate) retry: RetryPolicy,
    pub(crate) api_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) parallel_parts: usize,
    pub(crate) limits: Limits,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.inner.endpoint)
            .field("token", &self.inner.token)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// How redirects are handled for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redirects {
    /// Follow by the rules (same-origin token only, no downgrade, at most [`MAX_REDIRECTS`]).
    Follow,
    /// Follow same-origin redirects, stop at the first redirect to another origin and return it.
    StopAtOtherOrigin,
    /// Return 3xx answers as they are.
    Never,
}

/// One request, cheap to clone and to send again.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<(Bytes, &'static str)>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Attach the token (to the endpoint's origin only).
    pub auth: bool,
    /// Retry on 408/429/5xx and transport errors.
    pub idempotent: bool,
    pub timeout: Option<Duration>,
    pub redirects: Redirects,
}

impl Call {
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            body: None,
            headers: Vec::new(),
            auth: true,
            idempotent: true,
            timeout: None,
            redirects: Redirects::Follow,
        }
    }

    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.body = Some((Bytes::from(value.to_string()), "application/json"));
        self
    }

    pub fn body(mut self, bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.body = Some((bytes.into(), content_type));
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    pub fn no_auth(mut self) -> Self {
        self.auth = false;
        self
    }

    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }
}

/// A complete (non-streamed) answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The URL that gave this answer (after redirects).
    pub url: Url,
    /// `METHOD url` for errors, redacted.
    pub request: String,
}

impl HubClient {
    /// A builder with default settings.
    pub fn builder() -> HubClientBuilder {
        HubClientBuilder::default()
    }

    /// A client for `explicit` endpoint (else `HF_ENDPOINT`, else the public Hub) with the
    /// token from the environment ([`Token::from_env`]).
    pub fn from_env(explicit_endpoint: Option<&str>) -> Result<Self, HubError> {
        Self::builder()
            .endpoint(Endpoint::resolve(explicit_endpoint)?)
            .token(Token::from_env())
            .build()
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// True when a token is configured.
    pub fn has_token(&self) -> bool {
        self.inner.token.is_some()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Fails with [`HubError::MissingToken`] when no token is configured.
    pub(crate) fn require_token(&self, operation: &str) -> Result<(), HubError> {
        if self.inner.token.is_none() {
            return Err(HubError::MissingToken {
                operation: operation.to_owned(),
            });
        }
        Ok(())
    }

    /// `METHOD url` with the URL redacted for display.
    pub(crate) fn describe(&self, method: &Method, url: &Url) -> String {
        format!("{method} {}", self.inner.endpoint.display_url(url))
    }

    /// The transport error for a failed send or body read, without any URL inside.
    pub(crate) fn transport_error(&self, request: String, error: reqwest::Error) -> HubError {
        let error = error.without_url();
        let mut detail = if error.is_timeout() {
            "the request timed out".to_owned()
        } else if error.is_connect() {
            "could not connect".to_owned()
        } else if error.is_body() || error.is_decode() {
            "the connection failed while the body was transferred".to_owned()
        } else {
            "the connection failed or was dropped".to_owned()
        };
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
        let mut depth = 0;
        while let Some(s) = source {
            if depth < 3 {
                detail.push_str(": ");
                detail.push_str(&s.to_string());
            }
            depth += 1;
            source = s.source();
        }
        HubError::Transport {
            request,
            detail: sanitize_message(&detail, self.inner.token.as_ref()),
            source: Some(error),
        }
    }

    /// Sends one attempt of `call`, following redirects by hand.
    ///
    /// Returns the final answer (any status), its URL, and the headers of the last redirect
    /// the endpoint itself answered (empty when there was none): after a redirect to a CDN,
    /// the Hub's `X-Repo-Commit`, `X-Linked-Etag` and `X-Linked-Size` are there.
    pub(crate) async fn send_once(
        &self,
        call: &Call,
    ) -> Result<(Response, Url, HeaderMap), HubError> {
        let mut url = call.url.clone();
        let mut method = call.method.clone();
        let mut body = call.body.clone();
        let mut hops = 0usize;
        let mut hub_headers = HeaderMap::new();
        loop {
            let mut builder = self.inner.http.request(method.clone(), url.clone());
            if call.auth
                && self.inner.endpoint.may_send_token_to(&url)
                && let Some(auth) = &self.inner.auth_header
            {
                builder = builder.header(header::AUTHORIZATION, auth.clone());
            }
            for (name, value) in &call.headers {
                builder = builder.header(name.clone(), value.clone());
            }
            if let Some((bytes, content_type)) = &body {
                builder = builder
                    .header(header::CONTENT_TYPE, *content_type)
                    .body(bytes.clone());
            }
            if let Some(timeout) = call.timeout {
                builder = builder.timeout(timeout);
            }
            let shown = self.inner.endpoint.display_url(&url);
            let response = builder
                .send()
                .await
                .map_err(|e| self.transport_error(format!("{method} {shown}"), e))?;
            let status = response.status();
            tracing::debug!(method = %method, url = %shown, status = status.as_u16(), "hub answer");
            if !status.is_redirection()
                || call.redirects == Redirects::Never
                || status.as_u16() == 304
            {
                return Ok((response, url, hub_headers));
            }
            let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok((response, url, hub_headers));
            };
            let target = url.join(location).map_err(|_| HubError::InvalidResponse {
                request: format!("{method} {shown}"),
                detail: "the redirect's Location header is not a valid URL".into(),
            })?;
            check_redirect(&url, &target, &self.inner.endpoint)?;
            if call.redirects == Redirects::StopAtOtherOrigin
                && !self.inner.endpoint.same_origin(&target)
            {
                return Ok((response, url, hub_headers));
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(HubError::RedirectRefused {
                    from: shown,
                    to: self.inner.endpoint.display_url(&target),
                    reason: format!("more than {MAX_REDIRECTS} redirects"),
                });
            }
            let code = status.as_u16();
            if (code == 303 && method != Method::HEAD)
                || (matches!(code, 301 | 302) && method != Method::GET && method != Method::HEAD)
            {
                method = Method::GET;
                body = None;
            }
            tracing::debug!(to = %self.inner.endpoint.display_url(&target), status = code, "following redirect");
            if self.inner.endpoint.same_origin(&url) {
                hub_headers = response.headers().clone();
            }
            url = target;
        }
    }

    /// Sends `call` with retries and reads the whole answer body (bounded by the limits).
    ///
    /// Returns the last answer whatever its status: callers turn unsuccessful ones into errors
    /// with `success`. A `Retry-After` beyond the policy's limit fails fast.
    pub(crate) async fn send(&self, call: &Call) -> Result<Answer, HubError> {
        let mut call = call.clone();
        if call.timeout.is_none() {
            call.timeout = Some(self.inner.api_timeout);
        }
        let request = self.describe(&call.method, &call.url);
        let span = tracing::debug_span!("hub_request", method = %call.method, url = %self.inner.endpoint.display_url(&call.url));
        async {
            let mut attempt = 0u32;
            loop {
                let result = async {
                    let (response, url, _) = self.send_once(&call).await?;
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let request = self.describe(&call.method, &url);
                    let body = self.read_limited(response, &request).await?;
                    Ok::<_, HubError>(Answer {
                        status,
                        headers,
                        body,
                        url,
                        request,
                    })
                }
                .await;
                let decision = match &result {
                    Ok(answer) if call.idempotent && is_retryable_status(answer.status) => self
                        .inner
                        .retry
                        .decide(attempt, Some(answer.status), Some(&answer.headers)),
                    Ok(answer) if answer.status == 429 || answer.status == 503 => {
                        // Not retried, but an over-long wait is still reported as such.
                        match self.inner.retry.decide(
                            u32::MAX,
                            Some(answer.status),
                            Some(&answer.headers),
                        ) {
                            too_long @ RetryDecision::TooLong(_) => too_long,
                            _ => RetryDecision::GiveUp,
                        }
                    }
                    Err(HubError::Transport { .. }) if call.idempotent => {
                        self.inner.retry.decide(attempt, None, None)
                    }
                    _ => RetryDecision::GiveUp,
                };
                match decision {
                    RetryDecision::GiveUp => return with_retry_count(result, attempt),
                    RetryDecision::TooLong(wait) => {
                        let status = result.as_ref().map(|a| a.status).unwrap_or(0);
                        return Err(HubError::RetryAfterTooLong {
                            request: request.clone(),
                            status,
                            retry_after: wait,
                            limit: self.inner.retry.max_retry_after,
                        });
                    }
                    RetryDecision::RetryAfter(delay) => {
                        let status = result.as_ref().ok().map(|a| a.status);
                        tracing::debug!(
                            attempt,
                            ?status,
                            delay_ms = delay.as_millis() as u64,
                            "retrying"
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Sends `call` and fails unless the answer is a 2xx.
    pub(crate) async fn send_ok(&self, call: &Call) -> Result<Answer, HubError> {
        let answer = self.send(call).await?;
        self.success(answer)
    }

    /// Turns an unsuccessful answer into its error.
    pub(crate) fn success(&self, answer: Answer) -> Result<Answer, HubError> {
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(self.answer_error(&answer))
        }
    }

    /// The error for an unsuccessful answer.
    pub(crate) fn answer_error(&self, answer: &Answer) -> HubError {
        error_from_answer(
            answer.status,
            &answer.headers,
            &answer.body,
            answer.request.clone(),
            self.inner.token.as_ref(),
        )
    }

    /// Reads a whole body, failing when it exceeds `max_api_body`.
    pub(crate) async fn read_limited(
        &self,
        response: Response,
        request: &str,
    ) -> Result<Bytes, HubError> {
        let limit = self.inner.limits.max_api_body;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(HubError::TooLarge {
                request: request.to_owned(),
                detail: format!("the answer announces more than {limit} bytes"),
            });
        }
        let mut stream = response.bytes_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport_error(request.to_owned(), e))?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(HubError::TooLarge {
                    request: request.to_owned(),
                    detail: format!("the answer is longer than {limit} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// Parses a JSON answer, saying what was expected when it is not.
    pub(crate) fn parse_json<T: DeserializeOwned>(
        &self,
        answer: &Answer,
        expected: &str,
    ) -> Result<T, HubError> {
        serde_json::from_slice(&answer.body).map_err(|e| {
            let text = String::from_utf8_lossy(&answer.body);
            let got = if text.trim().is_empty() {
                "an empty body".to_owned()
            } else if looks_like_html(&text) {
                "an HTML page".to_owned()
            } else {
                format!("{} ({})", truncate_chars(text.trim(), 120), e)
            };
            HubError::InvalidResponse {
                request: answer.request.clone(),
                detail: sanitize_message(
                    &format!("expected {expected}, got {got}"),
                    self.inner.token.as_ref(),
                ),
            }
        })
    }

    /// Builds an endpoint URL from an already-encoded path.
    pub(crate) fn url(&self, path: &str) -> Result<Url, HubError> {
        self.inner.endpoint.join(path)
    }

    /// Resolves an `href` given by the server (absolute, or relative to the endpoint).
    pub(crate) fn resolve_href(&self, href: &str, request: &str) -> Result<Url, HubError> {
        let url =
            self.inner
                .endpoint
                .as_url()
                .join(href)
                .map_err(|_| HubError::InvalidResponse {
                    request: request.to_owned(),
                    detail: "a URL in the answer is not valid".into(),
                })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(HubError::InvalidResponse {
                request: request.to_owned(),
                detail: format!(
                    "a URL in the answer has the unsupported scheme {:?}",
                    url.scheme()
                ),
            });
        }
        Ok(url)
    }
}

/// Notes in the request description how many retries were made before giving up.
fn with_retry_count(result: Result<Answer, HubError>, retries: u32) -> Result<Answer, HubError> {
    if retries == 0 {
        return result;
    }
    let note = format!(", after {retries} retries");
    match result {
        Ok(mut answer) if is_retryable_status(answer.status) => {
            answer.request.push_str(&note);
            Ok(answer)
        }
        Err(HubError::Transport {
            mut request,
            detail,
            source,
        }) => {
            request.push_str(&note);
            Err(HubError::Transport {
                request,
                detail,
                source,
            })
        }
        other => other,
    }
}

/// Checks one redirect hop: only http(s), never from https down to http.
pub(crate) fn check_redirect(from: &Url, to: &Url, endpoint: &Endpoint) -> Result<(), HubError> {
    let refused = |reason: &str| HubError::RedirectRefused {
        from: endpoint.display_url(from),
        to: without_query(to),
        reason: reason.to_owned(),
    };
    if to.scheme() != "http" && to.scheme() != "https" {
        return Err(refused("only http and https redirects are followed"));
    }
    if from.scheme() == "https" && to.scheme() == "http" {
        return Err(refused("it downgrades https to plain http"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        let e = Endpoint::parse("https://huggingface.co").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        check_redirect(
            &u("https://huggingface.co/a"),
            &u("https://cdn.test/b?sig=1"),
            &e,
        )
        .unwrap();
        check_redirect(&u("http://127.0.0.1:1/a"), &u("http://127.0.0.1:2/b"), &e).unwrap();
        let err = check_redirect(
            &u("https://huggingface.co/a"),
            &u("http://cdn.test/b?sig=secret"),
            &e,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("downgrades"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            check_redirect(&u("https://huggingface.co/a"), &u("file:///etc/passwd"), &e).is_err()
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let client = HubClient::builder()
            .endpoint(Endpoint::parse("http://127.0.0.1:1").unwrap())
            .token(Token::new("hf_never_shown"))
            .build()
            .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("hf_never_shown"), "{shown}");
        assert!(shown.contains("Token(***)"), "{shown}");
    }
}
