//! How a [`Transport`] is configured and built: its settings (plain data) and its builder.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::auth::AuthHook;
use crate::endpoint::Endpoint;
use crate::error::TransportError;
use crate::retry::RetryPolicy;
use crate::transport::{Inner, Transport};

/// How a transport behaves, apart from its endpoint and credentials: plain data whose
/// defaults suit an API client (the clients' builders set it from their own options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The retry policy.
    pub retry: RetryPolicy,
    /// The time allowed to open a connection (default 10 s).
    pub connect_timeout: Duration,
    /// The longest silence allowed while reading an answer, and while a streamed body makes
    /// no progress (default 60 s); a stall fails like a dropped connection and is retried.
    pub read_timeout: Duration,
    /// The total time allowed for one attempt of a buffered call whose body is in memory
    /// (default 120 s).
    pub api_timeout: Duration,
    /// The largest answer body read into memory, in bytes (default 64 MiB).
    pub max_body: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            user_agent: concat!("ruvltra-http-transport/", env!("CARGO_PKG_VERSION")).into(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            api_timeout: Duration::from_secs(120),
            max_body: 64 << 20,
        }
    }
}

/// Builds a [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportBuilder {
    endpoint: Endpoint,
    auth: Option<Arc<dyn AuthHook>>,
    label: &'static str,
    settings: Settings,
}

impl TransportBuilder {
    /// The credentials, attached only to requests for the endpoint's own origin.
    pub fn auth(mut self, auth: Option<Arc<dyn AuthHook>>) -> Self {
        self.auth = auth;
        self
    }

    /// A short name of the client (`hub`, `modelscope`) for trace events.
    pub fn label(mut self, label: &'static str) -> Self {
        self.label = label;
        self
    }

    /// Retries, timeouts, limits and the user agent.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds the transport.
    pub fn build(self) -> Result<Transport, TransportError> {
        let settings = self.settings;
        let user_agent = HeaderValue::from_str(&settings.user_agent).map_err(|_| {
            TransportError::InvalidInput {
                what: "user agent".into(),
                reason: "it must be visible ASCII".into(),
            }
        })?;
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(user_agent.clone())
                .connect_timeout(settings.connect_timeout)
        };
        let build_error = |e: reqwest::Error| TransportError::Network {
            request: "building the HTTP client".into(),
            detail: e.to_string(),
            source: Some(e),
        };
        let http = base()
            .read_timeout(settings.read_timeout)
            .build()
            .map_err(build_error)?;
        // Streamed bodies are sent for a long time before the answer's first byte, which
        // reqwest's read timeout would count as silence; their stalls are watched instead.
        let transfer_http = base().build().map_err(build_error)?;
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                transfer_http,
                endpoint: self.endpoint,
                auth: self.auth,
                label: self.label,
                retry: settings.retry,
                read_timeout: settings.read_timeout,
                api_timeout: settings.api_timeout,
                max_body: settings.max_body,
            }),
        })
    }
}

impl Transport {
    /// A builder for `endpoint` with default settings and no credentials.
    pub fn builder(endpoint: Endpoint) -> TransportBuilder {
        TransportBuilder {
            endpoint,
            auth: None,
            label: "http",
            settings: Settings::default(),
        }
    }
}
