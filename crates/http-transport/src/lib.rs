//! The one way the RuvLTRA clients send HTTP requests: redirects followed by hand, credentials
//! on the endpoint's own origin only, retries with backoff and `Retry-After`, timeouts and
//! stall detection, and secrets redacted from every error.
//!
//! The Hub client (`hub-client`) and the ModelScope client (`modelscope-client`) keep only
//! their API shapes (paths, bodies, the meaning of an error answer) and send everything through
//! a [`Transport`]. This crate knows no API: no path, header, body shape or environment
//! variable of either service.
//!
//! ```no_run
//! # async fn demo() -> Result<(), http_transport::TransportError> {
//! use std::sync::Arc;
//! use http_transport::{Bearer, Endpoint, Request, Token, Transport};
//! let endpoint = Endpoint::parse("https://huggingface.co")?;
//! let auth = Bearer::new(Token::new("hf_...").expect("a token"))?;
//! let transport = Transport::builder(endpoint.clone())
//!     .auth(Some(Arc::new(auth)))
//!     .build()?;
//! let answer = transport
//!     .send(&Request::new(reqwest::Method::GET, endpoint.join("/api/whoami-v2")?))
//!     .await?;
//! println!("{} {}", answer.status, answer.request);
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! * A [`Token`] is never printed, logged, put in a URL or an error. The [`AuthHook`] that
//!   carries it is asked for headers only for hops to the endpoint's own origin (scheme, host,
//!   port); presigned storage URLs and other hosts never get it.
//! * Redirects are followed by hand ([`MAX_REDIRECTS`]), http(s) only, never https to http.
//!   303 (and 301/302 of a method other than GET or HEAD) become a GET without body; 307 and
//!   308 keep the method and the body.
//! * Retries follow one [`RetryPolicy`] (408, 429 and 5xx, network failures, jittered
//!   backoff, `Retry-After` honoured up to a limit beyond which the call fails fast) limited
//!   by the request's [`RetryMode`]. Other 4xx answers are final. A one-time body
//!   ([`Body::once`]) is never sent twice; a generated one ([`Body::generated`]) is made
//!   again for each send.
//! * Errors and trace events show URLs of other origins without their query string;
//!   server text is scrubbed of the secret ([`sanitize_message`]).
#![deny(missing_docs)]

mod auth;
mod body;
mod builder;
mod endpoint;
mod error;
mod redact;
mod request;
mod retry;
mod token;
mod transport;

pub use auth::{AuthHook, Bearer};
pub use builder::{Settings, TransportBuilder};
pub use endpoint::{Endpoint, is_loopback, quote_path, quote_segment, same_origin};
pub use error::TransportError;
pub use redact::{
    MAX_MESSAGE_CHARS, looks_like_html, redact_any_url, redact_url_queries, sanitize_message,
    truncate_chars, without_query,
};
pub use request::{
    Answer, Body, BodyStream, BoxError, MakeStream, Opened, Redirects, Request, SendProgress,
};
pub use retry::{
    RetryDecision, RetryMode, RetryPolicy, is_retryable_status, is_unprocessed_status,
    parse_retry_after, server_wait,
};
pub use token::Token;
pub use transport::{MAX_REDIRECTS, Transport};
