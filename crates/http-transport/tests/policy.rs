//! The transport's one policy, tested once against small local servers: where credentials go
//! on redirects, how methods and bodies survive each redirect status, the hop limit, which
//! answers are retried in which mode and how long to wait, one-time bodies, stalls, and
//! that no secret reaches an error.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_transport::{
    AuthHook, Bearer, Body, Endpoint, Redirects, Request, RetryMode, RetryPolicy, SendProgress,
    Settings, Token, Transport, TransportError,
};
use url::Url;

const SECRET: &str = "tok_policy_secret";

/// One request a test server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    server: &'static str,
    method: String,
    path: String,
    auth: bool,
    body: String,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, path: &str) -> usize {
        self.all().iter().filter(|s| s.path == path).count()
    }
}

/// What a scripted server answers: `(path, hit number from 0)` to a response.
type Script = fn(&str, usize, &str) -> Response;

#[derive(Clone)]
struct Server {
    name: &'static str,
    log: Log,
    script: Script,
    other: Arc<Mutex<String>>,
}

async fn handle(
    State(server): State<Server>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let auth = headers.get(header::AUTHORIZATION).is_some()
        || headers
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.contains(SECRET));
    let hit = server.log.count(&path);
    server.log.0.lock().unwrap().push(Seen {
        server: server.name,
        method: method.to_string(),
        path: path.clone(),
        auth,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let other = server.other.lock().unwrap().clone();
    (server.script)(&path, hit, &other)
}

/// Starts a scripted server; `other` is the base URL of another origin it may redirect to.
async fn serve(name: &'static str, log: &Log, script: Script) -> (String, Arc<Mutex<String>>) {
    let other = Arc::new(Mutex::new(String::new()));
    let server = Server {
        name,
        log: log.clone(),
        script,
        other: Arc::clone(&other),
    };
    let app = Router::new().fallback(handle).with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, other)
}

fn redirect(status: u16, to: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::LOCATION, to.to_owned())],
    )
        .into_response()
}

fn status(code: u16) -> Response {
    StatusCode::from_u16(code).unwrap().into_response()
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
    }
}

fn transport(url: &str) -> Transport {
    let auth: Arc<dyn AuthHook> = Arc::new(Bearer::new(Token::new(SECRET).unwrap()).unwrap());
    Transport::builder(Endpoint::parse(url).unwrap())
        .auth(Some(auth))
        .settings(Settings {
            retry: fast(),
            read_timeout: Duration::from_millis(300),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

fn at(base: &str, path: &str) -> Url {
    Url::parse(&format!("{base}{path}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_go_to_the_endpoint_origin_only() {
    let log = Log::default();
    let (api, api_other) = serve("api", &log, |path, _, other| match path {
        "/start" => redirect(302, "/same"),
        "/same" => redirect(307, &format!("{other}/storage?signature=s3cr3t")),
        _ => "ok".into_response(),
    })
    .await;
    let (storage, _) = serve("storage", &log, |_, _, _| "bytes".into_response()).await;
    *api_other.lock().unwrap() = storage.clone();
    let t = transport(&api);

    let answer = t
        .send(&Request::new(Method::GET, at(&api, "/start")))
        .await
        .unwrap();
    assert_eq!((answer.status, &answer.body[..]), (200, &b"bytes"[..]));
    assert!(!answer.request.contains("s3cr3t"), "{}", answer.request);
    let hops: Vec<(&str, String, bool)> = log
        .all()
        .into_iter()
        .map(|s| (s.server, s.path, s.auth))
        .collect();
    let expected = [
        ("api", "/start".to_owned(), true),
        ("api", "/same".to_owned(), true),
        ("storage", "/storage".to_owned(), false),
    ];
    assert_eq!(hops, expected);

    // Asked without credentials, not even the endpoint gets them.
    t.send(&Request::new(Method::GET, at(&api, "/plain")).no_auth())
        .await
        .unwrap();
    assert!(!log.all().last().unwrap().auth);
    // The endpoint's host on another port is another origin.
    let other_port = at(&storage, "/direct");
    t.send(&Request::new(Method::GET, other_port))
        .await
        .unwrap();
    assert!(!log.all().last().unwrap().auth);

    // Stopping at another origin returns that redirect with the endpoint's headers.
    let before = log.all().len();
    let answer = t
        .send(
            &Request::new(Method::GET, at(&api, "/start")).redirects(Redirects::StopAtOtherOrigin),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 307);
    assert_eq!(log.all().len(), before + 2);
    let answer = t
        .send(&Request::new(Method::GET, at(&api, "/start")).redirects(Redirects::Never))
        .await
        .unwrap();
    assert_eq!(answer.status, 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn see_other_becomes_get_and_307_308_keep_method_and_body() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |path, _, _| match path {
        "/301" => redirect(301, "/landing"),
        "/302" => redirect(302, "/landing"),
        "/303" => redirect(303, "/landing"),
        "/307" => redirect(307, "/landing"),
        "/308" => redirect(308, "/landing"),
        _ => "landed".into_response(),
    })
    .await;
    let t = transport(&api);
    let cases = [
        (Method::POST, "/301", "GET", ""),
        (Method::POST, "/302", "GET", ""),
        (Method::POST, "/303", "GET", ""),
        (Method::PUT, "/303", "GET", ""),
        (Method::POST, "/307", "POST", "payload"),
        (Method::PUT, "/308", "PUT", "payload"),
        (Method::GET, "/302", "GET", ""),
        (Method::HEAD, "/303", "HEAD", ""),
    ];
    for (method, path, landed_method, landed_body) in cases {
        let mut request = Request::new(method.clone(), at(&api, path));
        if method != Method::GET && method != Method::HEAD {
            request = request.body("payload", "text/plain");
        }
        let answer = t.send(&request).await.unwrap();
        assert_eq!(answer.status, 200, "{method} {path}");
        let landing = log.all().last().unwrap().clone();
        assert_eq!(landing.path, "/landing");
        assert_eq!(
            (landing.method.as_str(), landing.body.as_str()),
            (landed_method, landed_body),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_hops_are_capped_and_odd_targets_refused() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |path, _, _| match path {
        "/loop" => redirect(302, "/loop?again=1"),
        "/ftp" => redirect(302, "ftp://files.test/x?key=hidden"),
        _ => status(404),
    })
    .await;
    let t = transport(&api);
    let err = t
        .send(&Request::new(Method::GET, at(&api, "/loop")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::RedirectRefused { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(log.count("/loop"), http_transport::MAX_REDIRECTS + 1);

    let err = t
        .send(&Request::new(Method::GET, at(&api, "/ftp")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::RedirectRefused { .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("hidden"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_by_mode_and_retry_after_is_honoured() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |path, hit, _| match path {
        // Two failures, then success.
        "/flaky" if hit < 2 => status(503),
        "/flaky" => "fine".into_response(),
        "/limited" if hit == 0 => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()
        }
        "/limited" => "fine".into_response(),
        "/too-long" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "3600")],
        )
            .into_response(),
        "/always-500" => status(500),
        "/always-503" => status(503),
        p if p.starts_with("/status/") => status(p[8..].parse().unwrap()),
        _ => status(404),
    })
    .await;
    let t = transport(&api);
    let get = |path: &str| Request::new(Method::GET, at(&api, path));

    let answer = t.send(&get("/flaky")).await.unwrap();
    assert_eq!((answer.status, log.count("/flaky")), (200, 3));

    let started = Instant::now();
    let answer = t.send(&get("/limited")).await.unwrap();
    assert_eq!((answer.status, log.count("/limited")), (200, 2));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited for"
    );

    let started = Instant::now();
    let err = t.send(&get("/too-long")).await.unwrap_err();
    match &err {
        TransportError::RetryAfterTooLong {
            status,
            retry_after,
            ..
        } => assert_eq!((*status, *retry_after), (503, Duration::from_secs(3600))),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(log.count("/too-long"), 1);

    // Retries used up: the last answer comes back, saying how many retries were made.
    let answer = t.send(&get("/always-500")).await.unwrap();
    assert_eq!((answer.status, log.count("/always-500")), (500, 4));
    assert!(
        answer.request.ends_with(", after 3 retries"),
        "{}",
        answer.request
    );

    // Other 4xx answers are final in every mode.
    for code in [400, 401, 403, 404, 409, 412, 422] {
        let path = format!("/status/{code}");
        for mode in [RetryMode::Idempotent, RetryMode::UnprocessedOnly] {
            let answer = t.send(&get(&path).retry(mode)).await.unwrap();
            assert_eq!(answer.status, code);
        }
        assert_eq!(log.count(&path), 2, "{code} was retried");
    }

    // Writes that must not land twice: only "not processed" answers are sent again.
    let post = |path: &str| Request::new(Method::POST, at(&api, path)).body("x", "text/plain");
    let answer = t
        .send(&post("/always-500").retry(RetryMode::UnprocessedOnly))
        .await
        .unwrap();
    assert_eq!((answer.status, log.count("/always-500")), (500, 5));
    let answer = t
        .send(&post("/always-503").retry(RetryMode::UnprocessedOnly))
        .await
        .unwrap();
    assert_eq!((answer.status, log.count("/always-503")), (503, 4));
    let answer = t.send(&post("/always-503").not_idempotent()).await.unwrap();
    assert_eq!((answer.status, log.count("/always-503")), (503, 5));
    // Never retried, but an over-long Retry-After is still reported as such.
    let err = t
        .send(&post("/too-long").not_idempotent())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::RetryAfterTooLong { .. }),
        "{err}"
    );
}

/// A listener that accepts connections and drops them at once, counting them.
async fn dropping_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failures_are_retried_for_idempotent_requests_only() {
    let (url, accepted) = dropping_listener().await;
    let t = transport(&url);
    let err = t
        .send(&Request::new(Method::GET, at(&url, "/x")))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Network { .. }), "{err}");
    assert!(err.to_string().contains("after 3 retries"), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
    for mode in [RetryMode::UnprocessedOnly, RetryMode::Never] {
        accepted.store(0, Ordering::SeqCst);
        let request = Request::new(Method::POST, at(&url, "/x"))
            .body("x", "text/plain")
            .retry(mode);
        assert!(t.send(&request).await.is_err());
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "{mode:?}");
    }
    // Downloads retry their opening the same way.
    accepted.store(0, Ordering::SeqCst);
    assert!(
        t.open(&Request::new(Method::GET, at(&url, "/x")))
            .await
            .is_err()
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[derive(Default)]
struct Counted {
    sent: AtomicU64,
    unsent: AtomicU64,
}

impl SendProgress for Counted {
    fn sent(&self, bytes: u64) {
        self.sent.fetch_add(bytes, Ordering::SeqCst);
    }

    fn unsent(&self, bytes: u64) {
        self.unsent.fetch_add(bytes, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_bodies_are_replayed_and_one_time_streams_never_are() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |path, hit, _| match path {
        "/flaky" if hit == 0 => status(503),
        "/flaky" => "stored".into_response(),
        "/moved" => redirect(307, "/flaky"),
        _ => status(503),
    })
    .await;
    let t = transport(&api);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    std::fs::write(&file, b"0123456789abcdef").unwrap();

    // A file range is read again for the retry; only the accepted copy counts as progress.
    let progress = Arc::new(Counted::default());
    let body = Body::file_range(&file, 4, 6)
        .content_type("application/octet-stream")
        .progress(progress.clone());
    let answer = t
        .send(&Request::new(Method::PUT, at(&api, "/flaky")).with_body(body))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let puts: Vec<String> = log.all().iter().map(|s| s.body.clone()).collect();
    assert_eq!(puts, ["456789", "456789"]);
    let net = progress.sent.load(Ordering::SeqCst) - progress.unsent.load(Ordering::SeqCst);
    assert_eq!(net, 6);

    // A one-time stream is not retried: the 503 comes back after one attempt.
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("once"))]);
    let request = Request::new(Method::PUT, at(&api, "/always")).with_body(Body::once(chunks));
    assert!(!request.body.is_replayable());
    let answer = t.send(&request).await.unwrap();
    assert_eq!((answer.status, log.count("/always")), (503, 1));
    // Sending the same request again finds its stream gone.
    let err = t.send(&request).await.unwrap_err();
    assert!(matches!(err, TransportError::InvalidInput { .. }), "{err}");
    assert_eq!(log.count("/always"), 1);

    // A 307 would have to send it again: refused after the first hop.
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("once"))]);
    let request = Request::new(Method::PUT, at(&api, "/moved")).with_body(Body::once(chunks));
    let err = t.send(&request).await.unwrap_err();
    assert!(
        matches!(err, TransportError::RedirectRefused { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("one-time stream"), "{err}");
    assert_eq!(log.count("/moved"), 1);

    // A missing file is an I/O error naming it, before anything is sent.
    let missing = dir.path().join("missing.bin");
    let err = t
        .send(
            &Request::new(Method::PUT, at(&api, "/x")).with_body(Body::file_range(&missing, 0, 1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.bin"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_are_made_again_for_each_send_and_held_to_their_length() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |path, hit, _| match path {
        "/flaky" if hit == 0 => status(503),
        "/moved" => redirect(307, "/flaky"),
        _ => "stored".into_response(),
    })
    .await;
    let t = transport(&api);
    let made = Arc::new(AtomicUsize::new(0));
    let generated = |parts: &'static [&'static str], len: u64| {
        let made = Arc::clone(&made);
        let make: http_transport::MakeStream = Arc::new(move || {
            made.fetch_add(1, Ordering::SeqCst);
            let chunks = parts.iter().map(|p| Ok(Bytes::from_static(p.as_bytes())));
            Box::pin(futures_util::stream::iter(chunks.collect::<Vec<_>>()))
        });
        Body::generated(len, make)
    };

    // A 307 then a 503, and the retry starts over: the stream is made once per hop and
    // attempt, and progress counts one copy.
    let progress = Arc::new(Counted::default());
    let body = generated(&["ab", "cd", "ef"], 6).progress(progress.clone());
    assert!(body.is_replayable() && body.is_streamed());
    let answer = t
        .send(&Request::new(Method::PUT, at(&api, "/moved")).with_body(body))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let bodies: Vec<(String, String)> = log.all().into_iter().map(|s| (s.path, s.body)).collect();
    let expected = [
        ("/moved", "abcdef"),
        ("/flaky", "abcdef"),
        ("/moved", "abcdef"),
        ("/flaky", "abcdef"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, b)| (p.to_string(), b.to_string()))
        .collect();
    assert_eq!(bodies, expected);
    assert_eq!(made.load(Ordering::SeqCst), 4);
    let net = progress.sent.load(Ordering::SeqCst) - progress.unsent.load(Ordering::SeqCst);
    assert_eq!(net, 6);

    // A stream that does not keep to its announced length fails rather than sending it.
    for (parts, len) in [(&["abc", "def"][..], 4), (&["ab"][..], 4)] {
        let before = log.all().len();
        let request = Request::new(Method::PUT, at(&api, "/exact"))
            .with_body(generated(parts, len))
            .not_idempotent();
        assert!(t.send(&request).await.is_err(), "{parts:?} as {len} bytes");
        assert!(
            log.all()[before..]
                .iter()
                .all(|s| s.body.len() as u64 == len)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_transport_sends_other_credentials_to_its_own_origin_only() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |_, _, _| "api".into_response()).await;
    let (cas, _) = serve("cas", &log, |_, _, _| "cas".into_response()).await;
    let hub = transport(&api);
    let cas_token: Arc<dyn AuthHook> =
        Arc::new(Bearer::new(Token::new("cas_token_secret").unwrap()).unwrap());
    let rebound = hub.rebind(Endpoint::parse(&cas).unwrap(), Some(cas_token), "cas");
    assert_eq!(rebound.endpoint().as_str(), cas);
    assert_eq!(rebound.retry_policy(), hub.retry_policy());
    assert_eq!(
        rebound.secret().unwrap().expose_secret(),
        "cas_token_secret"
    );
    rebound
        .send(&Request::new(Method::GET, at(&cas, "/v1/x")))
        .await
        .unwrap();
    rebound
        .send(&Request::new(Method::GET, at(&api, "/api/y")))
        .await
        .unwrap();
    hub.send(&Request::new(Method::GET, at(&api, "/api/z")))
        .await
        .unwrap();
    let seen: Vec<(&str, bool)> = log.all().into_iter().map(|s| (s.server, s.auth)).collect();
    assert_eq!(seen, [("cas", true), ("api", false), ("api", true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_is_abandoned_and_sent_again() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new().fallback(move |body: Bytes| {
        let counter = Arc::clone(&counter);
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                // Takes the body, then says nothing for longer than the stall limit.
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            format!("{} bytes", body.len())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("part.bin");
    std::fs::write(&file, vec![7u8; 1000]).unwrap();
    let t = transport(&url);
    let started = Instant::now();
    let answer = t
        .send(
            &Request::new(Method::PUT, at(&url, "/part"))
                .with_body(Body::file_range(&file, 0, 1000)),
        )
        .await
        .unwrap();
    assert_eq!(&answer.body[..], b"1000 bytes");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_an_error() {
    let log = Log::default();
    let (api, _) = serve("api", &log, |_, _, _| {
        (
            StatusCode::UNAUTHORIZED,
            format!("token {SECRET} rejected; see https://s3.test/o?X-Amz-Signature=abc"),
        )
            .into_response()
    })
    .await;
    let t = transport(&api);
    let answer = t
        .send(&Request::new(Method::GET, at(&api, "/whoami")))
        .await
        .unwrap();
    let message = t.sanitize(&String::from_utf8_lossy(&answer.body));
    assert!(!message.contains(SECRET), "{message}");
    assert!(!message.contains("X-Amz-Signature"), "{message}");

    // A failed request to a presigned URL of another origin shows it without its query.
    let (closed, _) = dropping_listener().await;
    let presigned = at(&closed, "/bucket/object?X-Amz-Signature=very-secret");
    let err = t
        .send(&Request::new(Method::PUT, presigned.clone()).body("x", "text/plain"))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("very-secret"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    let shown = format!("{:?}", Request::new(Method::PUT, presigned));
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(!format!("{t:?}").contains(SECRET));
}
