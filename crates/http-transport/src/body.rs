//! Request bodies on the wire: each hop's body put on the request (a file range read again,
//! a generated stream made again and held to its length, a one-time stream taken once), the
//! bytes counted, and the watch for stalled transfers.

use std::io::SeekFrom;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::TransportError;
use crate::request::{Body, BodyKind, BodyStream, BoxError, SendProgress};

/// The chunk size of streamed file bodies.
const READ_BUFFER: usize = 256 * 1024;

/// Puts the body of one hop on the request: bytes as they are, a file range read from its
/// file again, a one-time stream taken (a second take is an error). Streamed chunks count as
/// sent bytes and as activity.
pub(crate) async fn attach_body(
    builder: reqwest::RequestBuilder,
    headers: &mut HeaderMap,
    body: &Body,
    sent: &Arc<AtomicU64>,
    activity: &Activity,
) -> Result<reqwest::RequestBuilder, TransportError> {
    let counted = |progress: Option<Arc<dyn SendProgress>>| {
        let (sent, activity) = (Arc::clone(sent), activity.clone());
        move |chunk: &Bytes| {
            let n = chunk.len() as u64;
            sent.fetch_add(n, Ordering::Relaxed);
            if let Some(progress) = &progress {
                progress.sent(n);
            }
            activity.touch();
        }
    };
    Ok(match &body.0 {
        BodyKind::Empty => builder,
        BodyKind::Bytes {
            bytes,
            content_type,
        } => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            builder.body(bytes.clone())
        }
        BodyKind::File {
            path,
            offset,
            len,
            content_type,
            progress,
        } => {
            let io_error = |source| TransportError::Io {
                path: path.clone(),
                source,
            };
            let mut file = tokio::fs::File::open(path).await.map_err(io_error)?;
            file.seek(SeekFrom::Start(*offset))
                .await
                .map_err(io_error)?;
            let stream = tokio_util::io::ReaderStream::with_capacity(file.take(*len), READ_BUFFER)
                .inspect_ok(counted(progress.clone()));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(*len));
            if let Some(content_type) = content_type {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            builder.body(reqwest::Body::wrap_stream(stream))
        }
        BodyKind::Generated {
            len,
            make,
            content_type,
            progress,
        } => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(*len));
            if let Some(content_type) = content_type {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            let stream = exact_length(make(), *len).inspect_ok(counted(progress.clone()));
            builder.body(reqwest::Body::wrap_stream(stream))
        }
        BodyKind::Once { body, content_type } => {
            let taken = body.lock().unwrap_or_else(PoisonError::into_inner).take();
            let Some(stream) = taken else {
                return Err(TransportError::InvalidInput {
                    what: "request body".into(),
                    reason: "the one-time stream was already sent; build the request again with a new body".into(),
                });
            };
            if let Some(content_type) = content_type {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            builder.body(reqwest::Body::wrap_stream(stream.inspect_ok(counted(None))))
        }
    })
}

/// Fails a generated stream that yields more or fewer than the `len` bytes its
/// `Content-Length` announced, instead of sending a body of another length.
fn exact_length(stream: BodyStream, len: u64) -> BodyStream {
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let checked = stream.map(move |item| {
        let chunk = item?;
        let total = counter.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
        if total > len {
            return Err(
                format!("the generated body is longer than the {len} bytes announced").into(),
            );
        }
        Ok(chunk)
    });
    let end = futures_util::stream::once(async move {
        let total = seen.load(Ordering::Relaxed);
        (total != len).then(|| {
            Err::<Bytes, BoxError>(
                format!("the generated body ended after {total} of the {len} bytes announced")
                    .into(),
            )
        })
    })
    .filter_map(std::future::ready);
    Box::pin(checked.chain(end))
}

/// Hands back the bytes of a file or generated body that no answer accepted.
pub(crate) fn unsent(body: &Body, bytes: u64) {
    if let BodyKind::File {
        progress: Some(progress),
        ..
    }
    | BodyKind::Generated {
        progress: Some(progress),
        ..
    } = &body.0
        && bytes > 0
    {
        progress.unsent(bytes);
    }
}

/// When one attempt last made progress (a body chunk out, an answer or a chunk in).
#[derive(Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Resolves when nothing has moved for `limit`.
pub(crate) async fn stall_watch(activity: &Activity, limit: Duration) {
    let tick = (limit / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if activity.idle_for() >= limit {
            return;
        }
    }
}
