//! Fault injection: per-server rules that make matching requests fail in chosen ways, and the
//! connection plumbing (a killable socket) that lets a handler drop a connection mid-body.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Which requests a fault applies to. Every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// The HTTP method (`"GET"`, `"PUT"`, ...), compared case-insensitively.
    pub method: Option<String>,
    /// A substring of the request path (before percent-decoding, without the query).
    pub path_contains: Option<String>,
}

impl Match {
    /// Matches every request.
    pub fn any() -> Match {
        Match::default()
    }

    /// Restricts to one method.
    pub fn method(mut self, method: &str) -> Match {
        self.method = Some(method.to_owned());
        self
    }

    /// Restricts to paths containing `needle`.
    pub fn path_contains(mut self, needle: &str) -> Match {
        self.path_contains = Some(needle.to_owned());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|needle| path.contains(needle))
    }
}

/// What happens to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with this status and a JSON error body, without running the handler.
    Status(u16),
    /// Like `Status`, plus a `Retry-After: secs` header (use 429 or 503).
    StatusRetryAfter(u16, u64),
    /// Drop the connection after this many bytes of the request body when the request has a
    /// body, otherwise after this many bytes of the response body.
    DropAfter(u64),
    /// Drop the connection after this many bytes of the response body, even for requests with
    /// a body (the request is fully handled first, e.g. a commit is applied).
    DropResponseAfter(u64),
    /// Wait this long before handling the request.
    Stall(Duration),
    /// Flip bits in the response body (headers unchanged).
    CorruptBody,
    /// Serve only the first N bytes of the response body, with a matching `Content-Length`.
    TruncateBody(u64),
    /// Ignore a `Range` header: answer 200 with the full body.
    IgnoreRange,
    /// Answer 200 with an HTML error page, as a captive portal or broken proxy would.
    Html200,
    /// Treat the request's Xet CAS access token as expired: the CAS answers 401 as it does past
    /// the token's `exp`, so the client must ask the token route for a new one.
    ExpireToken,
}

/// One fault rule: applies `action` to the next `times` requests that match `when`.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Which requests.
    pub when: Match,
    /// How many more requests it applies to.
    pub times: u32,
    /// What to do.
    pub action: Action,
}

impl Fault {
    /// A fault applying to the next `times` matching requests.
    pub fn new(when: Match, times: u32, action: Action) -> Fault {
        Fault {
            when,
            times,
            action,
        }
    }

    /// A fault applying once.
    pub fn once(when: Match, action: Action) -> Fault {
        Fault {
            when,
            times: 1,
            action,
        }
    }
}

/// The fault rules of one server instance.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    fired: AtomicU64,
}

impl Faults {
    /// Adds a rule; rules are tried in the order they were added.
    pub fn add(&self, fault: Fault) {
        self.lock().push(fault);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many requests rules still apply to.
    pub fn pending(&self) -> u64 {
        self.lock().iter().map(|f| u64::from(f.times)).sum()
    }

    /// How many times a rule has fired since the server started.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    /// Takes the action for a request, if a rule matches, and counts it down.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<Action> {
        let mut rules = self.lock();
        let index = rules
            .iter()
            .position(|f| f.times > 0 && f.when.matches(method, path))?;
        let rule = &mut rules[index];
        rule.times -= 1;
        let action = rule.action.clone();
        if rule.times == 0 {
            rules.remove(index);
        }
        self.fired.fetch_add(1, Ordering::Relaxed);
        Some(action)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        // A panic while holding this lock cannot leave the vector inconsistent.
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A switch that makes a connection's socket fail every read and write from now on, so hyper
/// drops the connection without sending anything more.
#[derive(Debug, Clone, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    /// Kills the connection.
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn killed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP stream that can be killed through its [`KillSwitch`].
#[derive(Debug)]
pub struct KillableStream {
    inner: TcpStream,
    switch: KillSwitch,
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.switch.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.switch.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.switch.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TCP listener whose connections are [`KillableStream`]s.
#[derive(Debug)]
pub struct KillListener(pub TcpListener);

impl Listener for KillListener {
    type Io = KillableStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (
                        KillableStream {
                            inner: stream,
                            switch: KillSwitch::default(),
                        },
                        addr,
                    );
                }
                // Accept errors (too many open files, aborted handshakes) are transient.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// What a handler knows about its connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Kills this connection.
    pub switch: KillSwitch,
}

impl Connected<IncomingStream<'_, KillListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, KillListener>) -> Self {
        ConnInfo {
            switch: stream.io().switch.clone(),
        }
    }
}

/// How a body stream is altered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyFault {
    /// Yield `n` bytes, then kill the connection.
    DropAfter(u64),
    /// Flip the bits of every 997th byte.
    Corrupt,
    /// Yield `n` bytes, then end cleanly.
    Truncate(u64),
}

type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

struct FaultyStream {
    inner: DataStream,
    fault: BodyFault,
    seen: u64,
    switch: KillSwitch,
    done: bool,
    /// A pause before dropping, so bytes already handed to hyper reach the socket first.
    flush_pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stream for FaultyStream {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let BodyFault::DropAfter(limit) = self.fault
            && self.seen >= limit
        {
            let pause = self
                .flush_pause
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(50))));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.done = true;
            self.switch.kill();
            return Poll::Ready(Some(Err(axum::Error::new(killed_error()))));
        }
        if let BodyFault::Truncate(limit) = self.fault
            && self.seen >= limit
        {
            self.done = true;
            return Poll::Ready(None);
        }
        let chunk = match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        let start = self.seen;
        let chunk = match self.fault {
            BodyFault::DropAfter(limit) | BodyFault::Truncate(limit) => {
                let room = usize::try_from(limit - start).unwrap_or(usize::MAX);
                if chunk.len() > room {
                    chunk.slice(..room)
                } else {
                    chunk
                }
            }
            BodyFault::Corrupt => {
                let mut bytes = chunk.to_vec();
                for (i, b) in bytes.iter_mut().enumerate() {
                    if (start + i as u64).is_multiple_of(997) {
                        *b ^= 0xff;
                    }
                }
                Bytes::from(bytes)
            }
        };
        self.seen += chunk.len() as u64;
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Wraps a body so it misbehaves as `fault` says.
pub(crate) fn faulty_body(body: Body, fault: BodyFault, switch: KillSwitch) -> Body {
    Body::from_stream(FaultyStream {
        inner: Box::pin(body.into_data_stream()),
        fault,
        seen: 0,
        switch,
        done: false,
        flush_pause: None,
    })
}

/// Wraps a request body and records whether it was read to the end, so a response to a
/// request whose body was left unread can say `Connection: close` (the client must not reuse
/// a connection with unread bytes in it).
pub(crate) fn tracked_body(body: Body, finished: Arc<AtomicBool>) -> Body {
    struct Tracked {
        inner: DataStream,
        finished: Arc<AtomicBool>,
    }
    impl Stream for Tracked {
        type Item = Result<Bytes, axum::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            let next = self.inner.as_mut().poll_next(cx);
            if let Poll::Ready(None) = next {
                self.finished.store(true, Ordering::SeqCst);
            }
            next
        }
    }
    Body::from_stream(Tracked {
        inner: Box::pin(body.into_data_stream()),
        finished,
    })
}
