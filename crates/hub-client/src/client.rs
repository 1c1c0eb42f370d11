//! The `HubClient`: configuration, and the Hub's side of sending a request (errors, JSON,
//! URLs). Sending itself (redirects, credentials, retries) is `http-transport`'s.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_transport::{
    AuthHook, Bearer, Endpoint, Request, RetryPolicy, Settings, Token, Transport, looks_like_html,
    truncate_chars,
};
use serde::de::DeserializeOwned;
use url::Url;

use crate::endpoint::resolve_endpoint;
use crate::error::{HubError, error_from_answer};

use http_transport::Answer;

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
    /// Retries, timeouts and the user agent, handed to the transport as they are.
    transport: Settings,
    parallel_parts: usize,
    limits: Limits,
}

impl Default for HubClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            token: None,
            transport: Settings {
                user_agent: DEFAULT_USER_AGENT.to_owned(),
                ..Settings::default()
            },
            parallel_parts: 4,
            limits: Limits::default(),
        }
    }
}

impl HubClientBuilder {
    /// The Hub to talk to; when not set, [`resolve_endpoint`](crate::resolve_endpoint) with no
    /// explicit value (`HF_ENDPOINT`, else `https://huggingface.co`) is used at
    /// [`build`](Self::build).
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
        self.transport.user_agent = user_agent.into();
        self
    }

    /// The retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.transport.retry = retry;
        self
    }

    /// The time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport.connect_timeout = timeout;
        self
    }

    /// The longest silence allowed while reading an answer (default 60 s); a stalled
    /// answer fails with a timeout and is retried like a dropped connection.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.transport.read_timeout = timeout;
        self
    }

    /// The total time allowed for one API call that is not a file transfer (default 120 s).
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.transport.api_timeout = timeout;
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
            None => resolve_endpoint(None)?,
        };
        let auth = match &self.token {
            Some(token) => {
                let bearer = Bearer::new(token.clone()).map_err(|_| HubError::InvalidInput {
                    what: "token".into(),
                    reason:
                        "it contains characters that cannot go in an HTTP header; check HF_TOKEN"
                            .into(),
                })?;
                Some(Arc::new(bearer) as Arc<dyn AuthHook>)
            }
            None => None,
        };
        let transport = Transport::builder(endpoint)
            .auth(auth)
            .label("hub")
            .settings(Settings {
                max_body: self.limits.max_api_body,
                ..self.transport
            })
            .build()?;
        Ok(HubClient {
            inner: Arc::new(Inner {
                transport,
                token: self.token,
                parallel_parts: self.parallel_parts,
                limits: self.limits,
            }),
        })
    }
}

/// An async client of the Hub's HTTP API. Cloning is cheap (one `Arc`).
///
/// Security rules kept by every call (by its [`Transport`]):
/// * Redirects are never followed by the HTTP library; at most [`MAX_REDIRECTS`](crate::MAX_REDIRECTS) are followed
///   by hand, `https` to `http` downgrades and non-HTTP schemes are refused, and
///   `Authorization` goes only to the endpoint's own origin (scheme, host, port).
/// * Presigned upload URLs (LFS PUTs, multipart parts, completion) never get the token.
/// * Errors and tracing events show URLs of other origins without their query string.
#[derive(Clone)]
pub struct HubClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) token: Option<Token>,
    pub(crate) parallel_parts: usize,
    pub(crate) limits: Limits,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", self.endpoint())
            .field("token", &self.inner.token)
            .field("retry", self.retry_policy())
            .finish_non_exhaustive()
    }
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
            .endpoint(resolve_endpoint(explicit_endpoint)?)
            .token(crate::token::token_from_env())
            .build()
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.transport.endpoint()
    }

    /// True when a token is configured.
    pub fn has_token(&self) -> bool {
        self.inner.token.is_some()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.inner.transport.retry_policy()
    }

    /// The transport every request goes through.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
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
    pub(crate) fn describe(&self, method: &reqwest::Method, url: &Url) -> String {
        self.inner.transport.describe(method, url)
    }

    /// Sends `call` with retries and reads the whole answer body (bounded by the limits).
    ///
    /// Returns the last answer whatever its status: callers turn unsuccessful ones into errors
    /// with `success`. A `Retry-After` beyond the policy's limit fails fast.
    pub(crate) async fn send(&self, call: &Request) -> Result<Answer, HubError> {
        Ok(self.inner.transport.send(call).await?)
    }

    /// Sends `call` and fails unless the answer is a 2xx.
    pub(crate) async fn send_ok(&self, call: &Request) -> Result<Answer, HubError> {
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
            self.inner.transport.secret(),
        )
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
                detail: self
                    .inner
                    .transport
                    .sanitize(&format!("expected {expected}, got {got}")),
            }
        })
    }

    /// Builds an endpoint URL from an already-encoded path.
    pub(crate) fn url(&self, path: &str) -> Result<Url, HubError> {
        Ok(self.endpoint().join(path)?)
    }

    /// Checks a redirect or `Link` hop given by the server (http(s) only, no downgrade).
    pub(crate) fn check_hop(&self, from: &Url, to: &Url) -> Result<(), HubError> {
        Ok(self.inner.transport.check_redirect(from, to)?)
    }

    /// Resolves an `href` given by the server (absolute, or relative to the endpoint).
    pub(crate) fn resolve_href(&self, href: &str, request: &str) -> Result<Url, HubError> {
        let url = self
            .endpoint()
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

#[cfg(test)]
mod tests {
    use super::*;

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
