//! The `Transport`: the one place where requests are sent, redirects are followed by hand,
//! credentials are attached (or not), stalls are detected and retries happen.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, Response};
use tracing::Instrument;
use url::Url;

use crate::auth::AuthHook;
use crate::body::{Activity, attach_body, stall_watch, unsent};
use crate::endpoint::Endpoint;
use crate::error::TransportError;
use crate::redact::{network_detail, sanitize_message, without_query};
use crate::request::{Answer, Opened, Redirects, Request};
use crate::retry::{RetryDecision, RetryPolicy, is_retryable_status, is_unprocessed_status};
use crate::token::Token;

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// Sends requests for one endpoint by one policy. Cloning is cheap (one `Arc`).
///
/// Rules kept by every request:
/// * Redirects are never followed by the HTTP library: at most [`MAX_REDIRECTS`] hops by
///   hand, http(s) only, never from https down to http. 303 (and 301/302 of anything but
///   GET/HEAD) continue as a GET without body; 307/308 keep the method and re-send the body,
///   which a one-time stream cannot (the redirect is then refused).
/// * Credentials come from the [`AuthHook`] only on hops to the endpoint's own origin.
/// * Retries follow the [`RetryPolicy`] and the request's [`RetryMode`](crate::RetryMode);
///   a one-time body is never sent twice.
/// * Errors and trace events show URLs of other origins without their query string.
#[derive(Clone)]
pub struct Transport {
    pub(crate) inner: Arc<Inner>,
}

/// What a [`TransportBuilder`](crate::TransportBuilder) makes.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) transfer_http: reqwest::Client,
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: Option<Arc<dyn AuthHook>>,
    pub(crate) label: &'static str,
    pub(crate) retry: RetryPolicy,
    pub(crate) read_timeout: Duration,
    pub(crate) api_timeout: Duration,
    pub(crate) max_body: u64,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("label", &self.inner.label)
            .field("endpoint", &self.inner.endpoint)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// One hop's outcome: the answer, its URL, and the last endpoint-origin redirect's headers.
type Hops = (Response, Url, HeaderMap);

impl Transport {
    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The same transport (HTTP connections and settings) for another endpoint, other
    /// credentials and another trace label: a client that talks to a second service with its
    /// own short-lived token (the Xet CAS) makes one, and a new one each time the token
    /// changes, without opening new connection pools. The credentials go to `endpoint`'s
    /// origin only, as always.
    pub fn rebind(
        &self,
        endpoint: Endpoint,
        auth: Option<Arc<dyn AuthHook>>,
        label: &'static str,
    ) -> Transport {
        let inner = &self.inner;
        Transport {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                transfer_http: inner.transfer_http.clone(),
                endpoint,
                auth,
                label,
                retry: inner.retry.clone(),
                read_timeout: inner.read_timeout,
                api_timeout: inner.api_timeout,
                max_body: inner.max_body,
            }),
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The read and stall timeout.
    pub fn read_timeout(&self) -> Duration {
        self.inner.read_timeout
    }

    /// The secret of the credentials, when there are any (to scrub server text).
    pub fn secret(&self) -> Option<&Token> {
        self.inner.auth.as_deref().map(AuthHook::secret)
    }

    /// `METHOD url` with the URL redacted for display.
    pub fn describe(&self, method: &Method, url: &Url) -> String {
        format!("{method} {}", self.inner.endpoint.display_url(url))
    }

    /// Server text made safe to show (see [`sanitize_message`]), with these credentials' secret.
    pub fn sanitize(&self, text: &str) -> String {
        sanitize_message(text, self.secret())
    }

    /// The error for a failed send or body read of `request`, with no URL inside.
    pub fn network_error(&self, request: String, error: reqwest::Error) -> TransportError {
        let (detail, source) = network_detail(error, self.secret());
        TransportError::Network {
            request,
            detail,
            source: Some(source),
        }
    }

    /// Checks one redirect (or `Link`) hop: only http(s), never from https down to http.
    pub fn check_redirect(&self, from: &Url, to: &Url) -> Result<(), TransportError> {
        let refused = |reason: &str| TransportError::RedirectRefused {
            from: self.inner.endpoint.display_url(from),
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

    /// Sends `request` with retries and reads the whole answer body (bounded by the limit).
    ///
    /// Returns the last answer whatever its status: clients turn unsuccessful ones into their
    /// own errors. A `Retry-After` beyond the policy's limit fails fast.
    pub async fn send(&self, request: &Request) -> Result<Answer, TransportError> {
        let shown = self.describe(&request.method, &request.url);
        let span =
            tracing::debug_span!("http_request", client = self.inner.label, request = %shown);
        async {
            let mut attempt = 0u32;
            loop {
                let result = self.attempt(request).await;
                let outcome = result.as_ref().map(|a| (a.status, &a.headers));
                match self.decide(request, attempt, outcome) {
                    RetryDecision::GiveUp => return with_retry_count(result, attempt),
                    RetryDecision::TooLong(wait) => {
                        let status = result.as_ref().map(|a| a.status).unwrap_or(0);
                        return Err(self.too_long(shown, status, wait));
                    }
                    RetryDecision::RetryAfter(delay) => {
                        let status = result.as_ref().ok().map(|a| a.status);
                        self.pause(attempt, status, delay).await;
                        attempt += 1;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Sends `request` and returns the answer with its body unread (a download), retrying
    /// the opening on the same failures as [`send`](Self::send); a failure inside the body is
    /// the caller's to handle (resume or start again).
    pub async fn open(&self, request: &Request) -> Result<Opened, TransportError> {
        let shown = self.describe(&request.method, &request.url);
        let mut attempt = 0u32;
        loop {
            let (sent, activity) = (Arc::new(AtomicU64::new(0)), Activity::new());
            let result = self.hops(request, None, &sent, &activity).await;
            let outcome = result
                .as_ref()
                .map(|(r, _, _)| (r.status().as_u16(), r.headers()));
            match self.decide(request, attempt, outcome) {
                RetryDecision::GiveUp => {
                    let (response, url, origin_headers) = result.map_err(|e| note(e, attempt))?;
                    let mut shown = self.describe(&request.method, &url);
                    if attempt > 0 && is_retryable_status(response.status().as_u16()) {
                        shown.push_str(&format!(", after {attempt} retries"));
                    }
                    return Ok(Opened {
                        response,
                        url,
                        origin_headers,
                        request: shown,
                    });
                }
                RetryDecision::TooLong(wait) => {
                    let status = outcome_status(&result);
                    return Err(self.too_long(shown, status, wait));
                }
                RetryDecision::RetryAfter(delay) => {
                    let status = result.as_ref().ok().map(|(r, _, _)| r.status().as_u16());
                    self.pause(attempt, status, delay).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Reads a whole answer body, failing when it exceeds the transport's limit.
    pub async fn read_body(
        &self,
        response: Response,
        request: &str,
    ) -> Result<Bytes, TransportError> {
        self.read_limited(response, request, None).await
    }

    /// The answer body as a stream of chunks; a dropped connection is a
    /// [`TransportError::Network`] item.
    pub fn body_stream(
        &self,
        response: Response,
        request: String,
    ) -> BoxStream<'static, Result<Bytes, TransportError>> {
        let transport = self.clone();
        response
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| transport.network_error(request.clone(), e)))
            .boxed()
    }

    /// What to do after attempt number `attempt` ended with `outcome`.
    fn decide(
        &self,
        request: &Request,
        attempt: u32,
        outcome: Result<(u16, &HeaderMap), &TransportError>,
    ) -> RetryDecision {
        let policy = &self.inner.retry;
        let replayable = request.body.is_replayable();
        match outcome {
            Ok((status, _)) if (200..300).contains(&status) => RetryDecision::GiveUp,
            Ok((status, headers)) if replayable && request.retry.retries_status(status) => {
                policy.decide(attempt, Some(status), Some(headers))
            }
            // Not retried, but an over-long wait is still reported as such.
            Ok((status, headers)) if is_unprocessed_status(status) => {
                match policy.decide(u32::MAX, Some(status), Some(headers)) {
                    too_long @ RetryDecision::TooLong(_) => too_long,
                    _ => RetryDecision::GiveUp,
                }
            }
            Err(TransportError::Network { .. })
                if replayable && request.retry.retries_network_failures() =>
            {
                policy.decide(attempt, None, None)
            }
            _ => RetryDecision::GiveUp,
        }
    }

    fn too_long(&self, request: String, status: u16, wait: Duration) -> TransportError {
        TransportError::RetryAfterTooLong {
            request,
            status,
            retry_after: wait,
            limit: self.inner.retry.max_retry_after,
        }
    }

    async fn pause(&self, attempt: u32, status: Option<u16>, delay: Duration) {
        tracing::debug!(
            client = self.inner.label,
            attempt,
            ?status,
            delay_ms = delay.as_millis() as u64,
            "retrying"
        );
        tokio::time::sleep(delay).await;
    }

    /// One attempt of [`send`](Self::send): the hops, then the whole body. A streamed body is
    /// watched for stalls over the whole attempt.
    async fn attempt(&self, request: &Request) -> Result<Answer, TransportError> {
        let sent = Arc::new(AtomicU64::new(0));
        let activity = Activity::new();
        let default_timeout = (!request.body.is_streamed()).then_some(self.inner.api_timeout);
        let work = async {
            let (response, url, _) = self
                .hops(request, default_timeout, &sent, &activity)
                .await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let shown = self.describe(&request.method, &url);
            let body = self.read_limited(response, &shown, Some(&activity)).await?;
            Ok(Answer {
                status,
                headers,
                body,
                url,
                request: shown,
            })
        };
        let result = if request.body.is_streamed() {
            let limit = self.inner.read_timeout;
            tokio::select! {
                result = work => result,
                () = stall_watch(&activity, limit) => Err(TransportError::Network {
                    request: self.describe(&request.method, &request.url),
                    detail: format!("the upload stalled: nothing moved for {} s", limit.as_secs()),
                    source: None,
                }),
            }
        } else {
            work.await
        };
        if !matches!(&result, Ok(answer) if answer.is_success()) {
            unsent(&request.body, sent.swap(0, Ordering::Relaxed));
        }
        result
    }

    /// Sends one attempt of `request`, following redirects by hand.
    ///
    /// Returns the final answer (any status), its URL, and the headers of the last redirect
    /// the endpoint itself answered (empty when there was none).
    async fn hops(
        &self,
        request: &Request,
        default_timeout: Option<Duration>,
        sent: &Arc<AtomicU64>,
        activity: &Activity,
    ) -> Result<Hops, TransportError> {
        let endpoint = &self.inner.endpoint;
        let client = if request.body.is_streamed() {
            &self.inner.transfer_http
        } else {
            &self.inner.http
        };
        let timeout = request.timeout.or(default_timeout);
        let mut url = request.url.clone();
        let mut method = request.method.clone();
        let mut with_body = !request.body.is_empty();
        let mut hops = 0usize;
        let mut origin_headers = HeaderMap::new();
        loop {
            let mut headers = HeaderMap::new();
            for (name, value) in &request.headers {
                headers.append(name.clone(), value.clone());
            }
            if request.auth
                && endpoint.may_send_token_to(&url)
                && let Some(auth) = &self.inner.auth
            {
                auth.authorize(&mut headers);
            }
            let mut builder = client.request(method.clone(), url.clone());
            if with_body {
                builder = attach_body(builder, &mut headers, &request.body, sent, activity).await?;
            }
            builder = builder.headers(headers);
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout);
            }
            let shown = endpoint.display_url(&url);
            let response = builder
                .send()
                .await
                .map_err(|e| self.network_error(format!("{method} {shown}"), e))?;
            activity.touch();
            let status = response.status();
            let code = status.as_u16();
            tracing::debug!(method = %method, url = %shown, status = code, "{} answer", self.inner.label);
            if !status.is_redirection() || request.redirects == Redirects::Never || code == 304 {
                return Ok((response, url, origin_headers));
            }
            let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok((response, url, origin_headers));
            };
            let target = url
                .join(location)
                .map_err(|_| TransportError::InvalidResponse {
                    request: format!("{method} {shown}"),
                    detail: "the redirect's Location header is not a valid URL".into(),
                })?;
            self.check_redirect(&url, &target)?;
            if request.redirects == Redirects::StopAtOtherOrigin && !endpoint.same_origin(&target) {
                return Ok((response, url, origin_headers));
            }
            let refused = |reason: String| TransportError::RedirectRefused {
                from: shown.clone(),
                to: endpoint.display_url(&target),
                reason,
            };
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(refused(format!("more than {MAX_REDIRECTS} redirects")));
            }
            if (code == 303 && method != Method::HEAD)
                || (matches!(code, 301 | 302) && method != Method::GET && method != Method::HEAD)
            {
                method = Method::GET;
                with_body = false;
            } else if with_body && !request.body.is_replayable() {
                return Err(refused(
                    "the request body was a one-time stream and cannot be sent again to the new location".into(),
                ));
            }
            // The bytes sent to a redirect are sent again, or not at all.
            unsent(&request.body, sent.swap(0, Ordering::Relaxed));
            tracing::debug!(to = %endpoint.display_url(&target), status = code, "following redirect");
            if endpoint.same_origin(&url) {
                origin_headers = response.headers().clone();
            }
            url = target;
        }
    }

    /// Reads a whole body, failing when it exceeds the limit; each chunk counts as activity.
    async fn read_limited(
        &self,
        response: Response,
        request: &str,
        activity: Option<&Activity>,
    ) -> Result<Bytes, TransportError> {
        let limit = self.inner.max_body;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(TransportError::TooLarge {
                request: request.to_owned(),
                detail: format!("the answer announces more than {limit} bytes"),
            });
        }
        let mut stream = response.bytes_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.network_error(request.to_owned(), e))?;
            if let Some(activity) = activity {
                activity.touch();
            }
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(TransportError::TooLarge {
                    request: request.to_owned(),
                    detail: format!("the answer is longer than {limit} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }
}

/// The status of a hop's outcome, 0 for a failure.
fn outcome_status(result: &Result<Hops, TransportError>) -> u16 {
    result
        .as_ref()
        .map(|(r, _, _)| r.status().as_u16())
        .unwrap_or(0)
}

/// Notes in a network error's request how many retries were made before giving up.
fn note(error: TransportError, retries: u32) -> TransportError {
    match error {
        TransportError::Network {
            mut request,
            detail,
            source,
        } if retries > 0 => {
            request.push_str(&format!(", after {retries} retries"));
            TransportError::Network {
                request,
                detail,
                source,
            }
        }
        other => other,
    }
}

/// Notes in the request description how many retries were made before giving up.
fn with_retry_count(
    result: Result<Answer, TransportError>,
    retries: u32,
) -> Result<Answer, TransportError> {
    if retries == 0 {
        return result;
    }
    match result {
        Ok(mut answer) if is_retryable_status(answer.status) => {
            answer
                .request
                .push_str(&format!(", after {retries} retries"));
            Ok(answer)
        }
        Err(error) => Err(note(error, retries)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        let e = Endpoint::parse("https://huggingface.co").unwrap();
        let t = Transport::builder(e).build().unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        t.check_redirect(
            &u("https://huggingface.co/a"),
            &u("https://cdn.test/b?sig=1"),
        )
        .unwrap();
        t.check_redirect(&u("http://127.0.0.1:1/a"), &u("http://127.0.0.1:2/b"))
            .unwrap();
        let err = t
            .check_redirect(
                &u("https://huggingface.co/a"),
                &u("http://cdn.test/b?sig=secret"),
            )
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("downgrades"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            t.check_redirect(&u("https://huggingface.co/a"), &u("file:///etc/passwd"))
                .is_err()
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let token = Token::new("hf_never_shown").unwrap();
        let t = Transport::builder(Endpoint::parse("http://127.0.0.1:1").unwrap())
            .auth(Some(Arc::new(crate::Bearer::new(token).unwrap())))
            .build()
            .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("hf_never_shown"), "{shown}");
        assert!(shown.contains("Token(***)"), "{shown}");
    }
}
