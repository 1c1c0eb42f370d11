//! Streamed downloads through `/resolve/`, with `Range` resumption and redirect rules.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::Method;
use reqwest::header::{self, HeaderValue};

use http_transport::{Opened, Request};

use crate::client::HubClient;
use crate::error::HubError;
use crate::repo::RepoId;

/// A stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, HubError>> + Send>>;

/// How the server answered a download request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 206: the body starts at the requested offset.
    Partial,
    /// 200: the body is the whole file from byte 0, whatever offset was asked; a caller
    /// resuming a partial file must start again from zero.
    Full,
}

/// An open download: what the server said, and the body as a stream of chunks.
pub struct Download {
    /// 206 or 200.
    pub answer: RangeAnswer,
    /// Where the body starts in the file (the requested start for 206, 0 for 200).
    pub offset: u64,
    /// The whole file's size, from `Content-Range` (206) or `Content-Length` (200).
    pub total_size: Option<u64>,
    /// The body's length, when announced.
    pub content_length: Option<u64>,
    /// `X-Repo-Commit` (from the Hub's redirect when there was one), when present.
    pub commit: Option<String>,
    /// `X-Linked-Etag` (from the Hub's redirect when there was one), else the final `ETag`,
    /// without `W/` and quotes.
    pub etag: Option<String>,
    body: ByteStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("answer", &self.answer)
            .field("offset", &self.offset)
            .field("total_size", &self.total_size)
            .field("content_length", &self.content_length)
            .field("commit", &self.commit)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The body as a stream; a dropped connection is a [`HubError::Transport`] item.
    pub fn into_stream(self) -> ByteStream {
        self.body
    }
}

impl Stream for Download {
    type Item = Result<Bytes, HubError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.body.as_mut().poll_next(cx)
    }
}

/// Parses `Content-Range: bytes a-b/total` into `(a, b, total)`.
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if b < a {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if total.is_some_and(|t| b >= t) {
        return None;
    }
    Some((a, b, total))
}

impl HubClient {
    /// `GET /{pfx}{repo}/resolve/{rev}/{path}` from byte `start` (`Range: bytes=start-` when
    /// `start > 0`).
    ///
    /// Redirects are followed by hand: the token goes only to the endpoint's origin, never to
    /// a CDN or other host, and an https-to-http redirect is refused. The opening request is
    /// retried on 408/429/5xx and connection errors; a failure inside the body is an error
    /// item of the stream, and the caller resumes with a new call from the bytes it has.
    /// A 200 answer to a ranged request is reported as [`RangeAnswer::Full`].
    pub async fn download_range(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
        start: u64,
    ) -> Result<Download, HubError> {
        let url = self.resolve_url(repo, revision, path)?;
        self.open_download(Request::new(Method::GET, url), start)
            .await
    }

    /// `GET url` from byte `start`, for a direct download URL outside the Hub API (a mirror
    /// or fallback URL): the same streaming, ranges, retries and redirect rules as
    /// [`download_range`](Self::download_range), but the token is **never** attached, not even
    /// when the URL has the endpoint's origin. Only `http` and `https` URLs are accepted; the
    /// caller decides which origins it trusts.
    pub async fn download_url(&self, url: &url::Url, start: u64) -> Result<Download, HubError> {
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(HubError::InvalidInput {
                what: "download URL".into(),
                reason: format!("the scheme {:?} is not http or https", url.scheme()),
            });
        }
        self.open_download(Request::new(Method::GET, url.clone()).no_auth(), start)
            .await
    }

    /// Sends a prepared GET (with `Range` when `start > 0`) and wraps the answer's body.
    async fn open_download(&self, call: Request, start: u64) -> Result<Download, HubError> {
        let mut call = call.header(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        if start > 0 {
            let range = HeaderValue::from_str(&format!("bytes={start}-")).map_err(|_| {
                HubError::InvalidInput {
                    what: "range".into(),
                    reason: "cannot build the Range header".into(),
                }
            })?;
            call = call.header(header::RANGE, range);
        }
        let Opened {
            response,
            origin_headers: hub_headers,
            request,
            ..
        } = self.transport().open(&call).await?;
        let status = response.status().as_u16();
        let h = response.headers();
        let text = |headers: &'_ reqwest::header::HeaderMap, name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        // After a redirect to a CDN the Hub's own headers are on the redirect; prefer them.
        let hub = |name: &str| text(&hub_headers, name).or_else(|| text(h, name));
        let commit = hub("x-repo-commit");
        let etag = hub("x-linked-etag")
            .or_else(|| text(h, "etag"))
            .map(|e| e.trim_start_matches("W/").trim_matches('"').to_owned());
        let linked_size = hub("x-linked-size").and_then(|s| s.parse::<u64>().ok());
        let content_length = response.content_length();
        let (answer, offset, total_size) = match status {
            206 => {
                let range = text(h, "content-range").as_deref().and_then(parse_content_range).ok_or_else(|| HubError::InvalidResponse {
                    request: request.clone(),
                    detail: "expected a valid `Content-Range: bytes a-b/total` header on a 206 answer".into(),
                })?;
                if range.0 != start {
                    return Err(HubError::InvalidResponse {
                        request,
                        detail: format!(
                            "asked for bytes from {start}, the server sent a range starting at {}",
                            range.0
                        ),
                    });
                }
                (RangeAnswer::Partial, start, range.2.or(linked_size))
            }
            200..=299 => (RangeAnswer::Full, 0, content_length.or(linked_size)),
            _ => {
                let headers = response.headers().clone();
                let body = self
                    .transport()
                    .read_body(response, &request)
                    .await
                    .unwrap_or_default();
                return Err(crate::error::error_from_answer(
                    status,
                    &headers,
                    &body,
                    request,
                    self.transport().secret(),
                ));
            }
        };
        tracing::debug!(status, offset, ?total_size, "download opened");
        let body = self
            .transport()
            .body_stream(response, request)
            .map(|chunk| chunk.map_err(HubError::from))
            .boxed();
        Ok(Download {
            answer,
            offset,
            total_size,
            content_length,
            commit,
            etag,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 10-19/20"),
            Some((10, 19, Some(20)))
        );
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, 0, None)));
        assert_eq!(parse_content_range("bytes 5-4/20"), None);
        assert_eq!(parse_content_range("bytes 5-20/20"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range("bytes x-2/3"), None);
    }
}
