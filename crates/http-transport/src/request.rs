//! What a client asks the transport to send (a request and its body) and what comes back.

use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::redact::without_query;
use crate::retry::RetryMode;

/// A boxed error of a one-time body stream.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A one-time body stream, as [`Body::once`] keeps it.
pub(crate) type OnceStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A body stream made again for every send of a [`Body::generated`] body.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// Makes the stream of a [`Body::generated`] body, once per attempt and per hop.
pub type MakeStream = Arc<dyn Fn() -> BodyStream + Send + Sync>;

/// How redirects are handled for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Follow by the rules: http(s) only, no https-to-http downgrade, at most
    /// [`MAX_REDIRECTS`](crate::MAX_REDIRECTS) hops, credentials on the endpoint's origin only.
    Follow,
    /// Follow same-origin redirects; stop at the first redirect to another origin and return it.
    StopAtOtherOrigin,
    /// Return 3xx answers as they are.
    Never,
}

/// Told how many bytes of a streamed request body went out, for progress displays.
///
/// Bytes count only once an answer accepted them: the bytes of a hop that was redirected, of
/// an attempt that failed, or of an answer that was not 2xx are handed back through
/// [`unsent`](SendProgress::unsent) (they are sent again, or never counted).
pub trait SendProgress: Send + Sync {
    /// `bytes` more went out.
    fn sent(&self, bytes: u64);
    /// `bytes` reported by [`sent`](SendProgress::sent) no longer count.
    fn unsent(&self, bytes: u64);
}

/// A request body.
///
/// Bytes, file ranges and generated streams can be sent again (on a retry or a 307/308
/// redirect): a file range is read from the file again each time, a generated stream made
/// again. A one-time stream ([`Body::once`]) cannot: a request carrying one is never retried
/// and a redirect that would re-send it is refused.
#[derive(Clone, Default)]
pub struct Body(pub(crate) BodyKind);

#[derive(Clone, Default)]
pub(crate) enum BodyKind {
    #[default]
    Empty,
    Bytes {
        bytes: Bytes,
        content_type: &'static str,
    },
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
        content_type: Option<&'static str>,
        progress: Option<Arc<dyn SendProgress>>,
    },
    Generated {
        len: u64,
        make: MakeStream,
        content_type: Option<&'static str>,
        progress: Option<Arc<dyn SendProgress>>,
    },
    Once {
        body: Arc<Mutex<Option<OnceStream>>>,
        content_type: Option<&'static str>,
    },
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Self(BodyKind::Empty)
    }

    /// Bytes in memory with their `Content-Type`.
    pub fn bytes(bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        Self(BodyKind::Bytes {
            bytes: bytes.into(),
            content_type,
        })
    }

    /// `len` bytes of the file at `path` from `offset`, streamed with constant memory and read
    /// again from the file for every re-send. `Content-Length` is `len`.
    pub fn file_range(path: impl Into<PathBuf>, offset: u64, len: u64) -> Self {
        Self(BodyKind::File {
            path: path.into(),
            offset,
            len,
            content_type: None,
            progress: None,
        })
    }

    /// A stream of exactly `len` bytes that `make` produces again for every send (a body
    /// encoded on the fly from a file, in constant memory), so it is retried like a file
    /// range. `Content-Length` is `len`; a stream that yields more or fewer bytes fails the
    /// attempt instead of sending a body of another length.
    pub fn generated(len: u64, make: MakeStream) -> Self {
        Self(BodyKind::Generated {
            len,
            make,
            content_type: None,
            progress: None,
        })
    }

    /// A stream that can be sent once only (no retry, no redirect that re-sends it).
    pub fn once<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let stream: OnceStream = Box::pin(stream.map_err(Into::into));
        Self(BodyKind::Once {
            body: Arc::new(Mutex::new(Some(stream))),
            content_type: None,
        })
    }

    /// Sets the `Content-Type` of a file range or a stream.
    pub fn content_type(mut self, value: &'static str) -> Self {
        match &mut self.0 {
            BodyKind::File { content_type, .. }
            | BodyKind::Generated { content_type, .. }
            | BodyKind::Once { content_type, .. } => *content_type = Some(value),
            BodyKind::Bytes { content_type, .. } => *content_type = value,
            BodyKind::Empty => {}
        }
        self
    }

    /// Reports the bytes of a file range or a generated stream as they go out.
    pub fn progress(mut self, observer: Arc<dyn SendProgress>) -> Self {
        if let BodyKind::File { progress, .. } | BodyKind::Generated { progress, .. } = &mut self.0
        {
            *progress = Some(observer);
        }
        self
    }

    /// True when the body can be sent again (everything but a one-time stream).
    pub fn is_replayable(&self) -> bool {
        !matches!(self.0, BodyKind::Once { .. })
    }

    /// True for a streamed body (file range, generated or one-time stream): sent without
    /// reqwest's read timeout (the answer only starts once the body is through) and watched
    /// for stalls.
    pub fn is_streamed(&self) -> bool {
        matches!(
            self.0,
            BodyKind::File { .. } | BodyKind::Generated { .. } | BodyKind::Once { .. }
        )
    }

    /// True when there is no body.
    pub fn is_empty(&self) -> bool {
        matches!(self.0, BodyKind::Empty)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            BodyKind::Empty => f.write_str("Body::Empty"),
            BodyKind::Bytes {
                bytes,
                content_type,
            } => write!(f, "Body::Bytes({} bytes, {content_type})", bytes.len()),
            BodyKind::File {
                path, offset, len, ..
            } => write!(f, "Body::FileRange({}, {offset}+{len})", path.display()),
            BodyKind::Generated { len, .. } => write!(f, "Body::Generated({len} bytes)"),
            BodyKind::Once { .. } => f.write_str("Body::Once"),
        }
    }
}

/// One request: cheap to clone and, unless its body is a one-time stream, to send again.
#[derive(Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The URL of the first hop.
    pub url: Url,
    /// The body.
    pub body: Body,
    /// Extra headers (never credentials: those come from the auth hook).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Ask the auth hook for credentials (given only on hops to the endpoint's origin).
    pub auth: bool,
    /// Which failures may be answered by sending again.
    pub retry: RetryMode,
    /// The total time allowed for one attempt; `None` takes the transport's default (its API
    /// timeout for buffered answers with an in-memory body, none for streams).
    pub timeout: Option<Duration>,
    /// How redirects are handled.
    pub redirects: Redirects,
}

impl Request {
    /// A request with no body, credentials asked for, idempotent retries, redirects followed.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            body: Body::empty(),
            headers: Vec::new(),
            auth: true,
            retry: RetryMode::Idempotent,
            timeout: None,
            redirects: Redirects::Follow,
        }
    }

    /// A JSON body.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.with_body(Body::bytes(value.to_string(), "application/json"))
    }

    /// A body of bytes with its `Content-Type`.
    pub fn body(self, bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.with_body(Body::bytes(bytes, content_type))
    }

    /// Any body.
    pub fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets which failures are retried.
    pub fn retry(mut self, mode: RetryMode) -> Self {
        self.retry = mode;
        self
    }

    /// Never retried ([`RetryMode::Never`]).
    pub fn not_idempotent(self) -> Self {
        self.retry(RetryMode::Never)
    }

    /// Sent without credentials, even to the endpoint's origin.
    pub fn no_auth(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Sets how redirects are handled.
    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    /// Sets the total time allowed for one attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may be presigned: its query is a credential.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &without_query(&self.url))
            .field("body", &self.body)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("redirects", &self.redirects)
            .finish_non_exhaustive()
    }
}

/// A complete (buffered) answer, whatever its status.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The whole body (bounded by the transport's limit).
    pub body: Bytes,
    /// The URL that gave this answer (after redirects).
    pub url: Url,
    /// `METHOD url` for errors, redacted, with `, after N retries` when retries were made.
    pub request: String,
}

impl Answer {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("request", &self.request)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// An answer whose body is still to be read (a download).
pub struct Opened {
    /// The answer; its body is read with [`Transport::body_stream`](crate::Transport::body_stream)
    /// or [`Transport::read_body`](crate::Transport::read_body).
    pub response: reqwest::Response,
    /// The URL that gave this answer (after redirects).
    pub url: Url,
    /// The headers of the last redirect the endpoint's own origin answered (empty when there
    /// was none): after a redirect to storage, the endpoint's metadata headers are there.
    pub origin_headers: HeaderMap,
    /// `METHOD url` for errors, redacted.
    pub request: String,
}

impl Opened {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("status", &self.status())
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}
