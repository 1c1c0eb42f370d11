//! The Xet session and CAS calls against a small hand-written Hub and CAS on two origins:
//! which token goes where, refresh before expiry and after a 401, retried bursts, xorbs and
//! shards sent twice, dedup queries, and answers the client must refuse.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_transport::{Body, MakeStream};
use hub_client::xet::{XetAccess, XetSession};
use hub_client::{Endpoint, HubClient, HubError, RepoId, RetryPolicy, Token};
use xet_format::{
    CasInfo, CompressionPolicy, FileInfo, FileTerm, Shard, XetHash, chunk_file, decode_xorb,
    encode_xorb, file_hash, term_verification_hash,
};

const HUB_TOKEN: &str = "hf_fake_hub_token";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One request a server saw: which server, method and path, and its `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    server: &'static str,
    method: String,
    path: String,
    auth: Option<String>,
    session: Option<String>,
}

#[derive(Default)]
struct World {
    seen: Vec<Seen>,
    /// Token value to its expiry; a token missing here (revoked) is refused with 401.
    tokens: HashMap<String, u64>,
    issued: u64,
    /// Lifetime of the next tokens, in seconds.
    ttl: u64,
    /// Answer the token route with headers only (no JSON body).
    headers_only: bool,
    /// The CAS refuses every token.
    refuse_all: bool,
    /// The LFS batch answers `transfer: "xet"` when offered.
    batch_xet: bool,
    cas_url: String,
    xorbs: BTreeMap<XetHash, Vec<u8>>,
    shards: Vec<Vec<u8>>,
    /// Path substring and status: the next matching CAS requests get that status.
    faults: Vec<(String, u16)>,
}

type Shared = Arc<Mutex<World>>;

#[derive(Clone)]
struct Ctx {
    name: &'static str,
    world: Shared,
}

async fn handle(
    State(ctx): State<Ctx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let auth = header("authorization");
    let mut world = ctx.world.lock().unwrap();
    world.seen.push(Seen {
        server: ctx.name,
        method: method.to_string(),
        path: path.clone(),
        auth: auth.clone(),
        session: header("x-xet-session-id"),
    });
    if ctx.name == "hub" {
        if path.ends_with(".git/info/lfs/objects/batch") {
            let asked: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let offered = asked["transfers"].as_array().unwrap();
            let xet = world.batch_xet && offered.iter().any(|t| t == "xet");
            world.issued += 1;
            let token = format!("cas_token_{}", world.issued);
            let exp = now() + world.ttl;
            world.tokens.insert(token.clone(), exp);
            let objects: Vec<serde_json::Value> = asked["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    // An object whose oid starts with 0 is "already on the Hub".
                    let present = o["oid"].as_str().unwrap().starts_with('0');
                    let mut answer = serde_json::json!({"oid": o["oid"], "size": o["size"]});
                    if !present && xet {
                        answer["actions"] = serde_json::json!({"upload": {
                            "href": "/api/models/ns/name/xet-write-token/main",
                            "header": {
                                "X-Xet-Cas-Url": world.cas_url,
                                "X-Xet-Access-Token": token,
                                "X-Xet-Token-Expiration": exp.to_string(),
                                "X-Xet-Session-Id": "s",
                            }
                        }});
                    } else if !present {
                        answer["actions"] = serde_json::json!({"upload": {"href": "/put/here"}});
                    }
                    answer
                })
                .collect();
            let mut answer = serde_json::json!({ "objects": objects });
            if xet {
                answer["transfer"] = "xet".into();
            }
            return axum::Json(answer).into_response();
        }
        if !path.contains("/xet-write-token/") {
            return StatusCode::NOT_FOUND.into_response();
        }
        if auth.as_deref() != Some(&format!("Bearer {HUB_TOKEN}")) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        world.issued += 1;
        let token = format!("cas_token_{}", world.issued);
        let exp = now() + world.ttl;
        world.tokens.insert(token.clone(), exp);
        let headers = [
            ("x-xet-cas-url", world.cas_url.clone()),
            ("x-xet-access-token", token.clone()),
            ("x-xet-token-expiration", exp.to_string()),
        ];
        let body = if world.headers_only {
            String::new()
        } else {
            serde_json::json!({"accessToken": token, "exp": exp, "casUrl": world.cas_url})
                .to_string()
        };
        return (StatusCode::OK, headers, body).into_response();
    }
    // The CAS.
    let valid = auth
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| world.tokens.get(t))
        .is_some_and(|exp| *exp >= now());
    if !valid || world.refuse_all {
        return (StatusCode::UNAUTHORIZED, "token expired").into_response();
    }
    if let Some(i) = world
        .faults
        .iter()
        .position(|(p, _)| path.contains(p.as_str()))
    {
        let (_, status) = world.faults.remove(i);
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    let last = path.rsplit('/').next().unwrap_or("");
    match (method.as_str(), path.as_str()) {
        ("POST", p) if p.starts_with("/v1/xorbs/default/") => {
            let Ok(hash) = XetHash::from_hex(last) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            let decoded = match decode_xorb(&body) {
                Ok(d) => d,
                Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            };
            if decoded.summary.hash != hash {
                return (StatusCode::BAD_REQUEST, "xorb hash mismatch").into_response();
            }
            let inserted = world.xorbs.insert(hash, body.to_vec()).is_none();
            axum::Json(serde_json::json!({ "was_inserted": inserted })).into_response()
        }
        ("POST", "/v1/shards") => {
            let shard = match Shard::decode(&body) {
                Ok(s) => s,
                Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            };
            for f in &shard.files {
                for t in &f.terms {
                    if !world.xorbs.contains_key(&t.xorb) {
                        return (StatusCode::BAD_REQUEST, "missing xorb").into_response();
                    }
                }
            }
            let new = !world.shards.contains(&body.to_vec());
            if new {
                world.shards.push(body.to_vec());
            }
            axum::Json(serde_json::json!({ "result": u64::from(new) })).into_response()
        }
        ("GET", p) if p.starts_with("/v1/chunks/default/") => {
            let Ok(chunk) = XetHash::from_hex(last) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            for bytes in &world.shards {
                let shard = Shard::decode(bytes).unwrap();
                if shard
                    .xorbs
                    .iter()
                    .any(|x| x.chunks.iter().any(|c| c.hash == chunk))
                {
                    let key = XetHash::from_words([7, 7, 7, 7]);
                    let answer = shard.dedup_answer(key, now(), now() + 3600);
                    return answer.encode().unwrap().into_response();
                }
            }
            StatusCode::NOT_FOUND.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn listen(name: &'static str, world: &Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(handle).with_state(Ctx {
        name,
        world: Arc::clone(world),
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

struct Fake {
    world: Shared,
    hub: String,
}

impl Fake {
    async fn start(ttl: u64) -> Fake {
        let world: Shared = Arc::new(Mutex::new(World {
            ttl,
            ..World::default()
        }));
        let hub = listen("hub", &world).await;
        let cas = listen("cas", &world).await;
        world.lock().unwrap().cas_url = cas;
        Fake { world, hub }
    }

    fn client(&self) -> HubClient {
        HubClient::builder()
            .endpoint(Endpoint::parse(&self.hub).unwrap())
            .token(Token::new(HUB_TOKEN))
            .retry_policy(RetryPolicy {
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap()
    }

    async fn session(&self) -> XetSession {
        self.client()
            .xet_session(&RepoId::new("ns/name").unwrap(), "main", XetAccess::Write)
            .await
            .unwrap()
    }

    fn seen(&self) -> Vec<Seen> {
        self.world.lock().unwrap().seen.clone()
    }

    fn revoke_all(&self) {
        self.world.lock().unwrap().tokens.clear();
    }
}

/// A xorb and a shard of `data` as one file.
fn file_objects(data: &[u8]) -> (XetHash, Vec<u8>, Shard) {
    let chunks = chunk_file(data);
    let slices: Vec<&[u8]> = chunks
        .iter()
        .map(|c| &data[c.offset as usize..(c.offset + u64::from(c.len)) as usize])
        .collect();
    let (xorb, summary) = encode_xorb(slices, CompressionPolicy::default()).unwrap();
    let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|c| (c.hash, c.len.into())).collect();
    let hashes: Vec<XetHash> = chunks.iter().map(|c| c.hash).collect();
    let shard = Shard {
        files: vec![FileInfo {
            hash: file_hash(&leaves),
            terms: vec![FileTerm {
                xorb: summary.hash,
                unpacked_bytes: data.len() as u32,
                chunk_start: 0,
                chunk_end: chunks.len() as u32,
            }],
            verification: Some(vec![term_verification_hash(&hashes)]),
            sha256: Some([3; 32]),
        }],
        xorbs: vec![CasInfo::from_summary(&summary)],
        footer: None,
    };
    (summary.hash, xorb, shard)
}

fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cas_token_goes_to_the_cas_only_and_the_hub_token_to_the_hub_only() {
    let fake = Fake::start(3600).await;
    let session = fake.session().await;
    let (hash, xorb, shard) = file_objects(&sample(300_000, 1));
    let sent = session
        .upload_xorb(&hash, Body::bytes(xorb.clone(), "x"))
        .await;
    assert!(sent.unwrap().was_inserted);
    // Content-addressed: sending it again is harmless.
    let again = session.upload_xorb(&hash, Body::bytes(xorb, "x")).await;
    assert!(!again.unwrap().was_inserted);
    let shard = Bytes::from(shard.encode().unwrap());
    assert_eq!(session.upload_shard(shard.clone()).await.unwrap().result, 1);
    assert_eq!(session.upload_shard(shard).await.unwrap().result, 0);

    let seen = fake.seen();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    assert_eq!(seen[0].server, "hub");
    assert_eq!(
        seen[0].auth.as_deref(),
        Some(&*format!("Bearer {HUB_TOKEN}"))
    );
    for s in &seen[1..] {
        assert_eq!(s.server, "cas");
        assert_eq!(s.auth.as_deref(), Some("Bearer cas_token_1"), "{s:?}");
        assert!(
            s.session.as_deref().unwrap().starts_with("ruvltra-"),
            "{s:?}"
        );
    }
    assert_eq!(session.refreshes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_refreshed_after_a_401_and_before_it_expires() {
    let fake = Fake::start(3600).await;
    fake.world.lock().unwrap().headers_only = true;
    let session = fake.session().await;
    let (hash, xorb, _) = file_objects(&sample(50_000, 2));
    // The CAS forgets every token: one 401, one refresh, the call goes through.
    fake.revoke_all();
    session
        .upload_xorb(&hash, Body::bytes(xorb.clone(), "x"))
        .await
        .unwrap();
    assert_eq!(session.refreshes(), 1);
    let cas_auths: Vec<Option<String>> = fake
        .seen()
        .into_iter()
        .filter(|s| s.server == "cas")
        .map(|s| s.auth)
        .collect();
    assert_eq!(
        cas_auths,
        [
            Some("Bearer cas_token_1".to_owned()),
            Some("Bearer cas_token_2".to_owned())
        ]
    );

    // Tokens that live 2 s are replaced half-way, before the CAS would refuse them.
    let fake = Fake::start(2).await;
    let session = fake.session().await;
    let expires = session.expires_at().await;
    while now() + 1 < expires {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(session.query_chunk(&hash).await.unwrap(), None);
    assert_eq!(session.refreshes(), 1);
    let unauthorized = fake.seen().iter().filter(|s| s.server == "cas").count();
    assert_eq!(unauthorized, 1, "no call was refused first");

    // A CAS that refuses even a fresh token is an error that says so, without the token.
    let fake = Fake::start(3600).await;
    let session = fake.session().await;
    fake.world.lock().unwrap().refuse_all = true;
    let err = session.query_chunk(&hash).await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.status(), Some(401), "{text}");
    assert!(text.contains("refused a freshly issued token"), "{text}");
    assert!(!text.contains("cas_token_"), "{text}");
    assert_eq!(
        session.refreshes(),
        2,
        "two new tokens, then the call gives up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_are_retried_and_bad_bytes_are_refused() {
    let fake = Fake::start(3600).await;
    let session = fake.session().await;
    let data = sample(200_000, 3);
    let (hash, xorb, shard) = file_objects(&data);
    {
        let mut world = fake.world.lock().unwrap();
        for status in [503, 500, 429] {
            world.faults.push(("/v1/xorbs/".into(), status));
        }
        world.faults.push(("/v1/shards".into(), 503));
    }
    // A generated body, made again for each of the four sends.
    let xorb = Bytes::from(xorb);
    let len = xorb.len() as u64;
    let body = {
        let xorb = xorb.clone();
        let make: MakeStream = Arc::new(move || {
            let parts: Vec<Result<Bytes, http_transport::BoxError>> = xorb
                .chunks(10_000)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            Box::pin(futures_util::stream::iter(parts))
        });
        Body::generated(len, make)
    };
    assert!(session.upload_xorb(&hash, body).await.unwrap().was_inserted);
    let shard_bytes = Bytes::from(shard.encode().unwrap());
    assert_eq!(session.upload_shard(shard_bytes).await.unwrap().result, 1);
    let posts = fake.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 6);

    // The dedup query finds the file's first chunk, keyed as the answer's footer says.
    let first = chunk_file(&data)[0].hash;
    let answer = session.query_chunk(&first).await.unwrap().unwrap();
    let key = answer.footer.unwrap().chunk_hash_key;
    assert_eq!(answer.xorbs[0].hash, hash);
    assert_eq!(answer.xorbs[0].chunks[0].hash, first.keyed(&key));

    // A xorb sent under another hash is refused by the CAS: a clear 400, not retried.
    let wrong = XetHash::from_words([1, 2, 3, 4]);
    let err = session
        .upload_xorb(&wrong, Body::bytes(xorb, "x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("mismatch"), "{err}");

    // A shard that references an unknown xorb is refused the same way.
    let (_, _, orphan) = file_objects(&sample(20_000, 9));
    let err = session
        .upload_shard(Bytes::from(orphan.encode().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_routes_that_do_not_answer_a_token() {
    // A Hub without Xet: the token route is a 404, which callers read as "use LFS".
    let fake = Fake::start(3600).await;
    let client = fake.client();
    let err = client
        .xet_token(&RepoId::new("ns/name").unwrap(), "v1", XetAccess::Read)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // A write token needs a Hub token before anything is sent.
    let anonymous = HubClient::builder()
        .endpoint(Endpoint::parse(&fake.hub).unwrap())
        .build()
        .unwrap();
    let err = anonymous
        .xet_token(&RepoId::new("ns/name").unwrap(), "main", XetAccess::Write)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::MissingToken { .. }), "{err}");
    // A refresh route on another origin would get the Hub token: refused.
    let elsewhere = url::Url::parse(&format!(
        "{}/api/models/ns/name/xet-write-token/main",
        fake.world.lock().unwrap().cas_url
    ))
    .unwrap();
    let err = client.xet_token_from(&elsewhere).await.unwrap_err();
    assert!(err.to_string().contains("not on the Hub's origin"), "{err}");
    assert!(fake.seen().iter().all(|s| s.server == "hub"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lfs_batch_offering_xet_takes_either_answer() {
    use hub_client::xet::BatchTransfer;
    use hub_client::{LfsAction, LfsObject, Sha256};
    let fake = Fake::start(3600).await;
    let client = fake.client();
    let repo = RepoId::new("ns/name").unwrap();
    let object = |first: u8| LfsObject {
        oid: Sha256([first; 32]),
        size: 10,
    };
    let objects = [object(0), object(0xaa)];

    // A Hub that keeps to basic: the LFS answer, as lfs_batch gives it.
    match client
        .lfs_batch_offering_xet(&repo, "main", &objects)
        .await
        .unwrap()
    {
        BatchTransfer::Lfs(answer) => {
            assert_eq!(answer.len(), 2);
            assert_eq!(answer[0].action, LfsAction::AlreadyPresent);
            assert!(matches!(answer[1].action, LfsAction::Basic { .. }));
        }
        other => panic!("expected basic, got {other:?}"),
    }

    // A Hub that answers xet: a session starting from the answer's token.
    fake.world.lock().unwrap().batch_xet = true;
    let BatchTransfer::Xet {
        session,
        wanted,
        present,
    } = client
        .lfs_batch_offering_xet(&repo, "main", &objects)
        .await
        .unwrap()
    else {
        panic!("expected xet");
    };
    assert_eq!((wanted, present), (vec![objects[1]], vec![objects[0]]));
    let session = session.unwrap();
    let issued = fake.world.lock().unwrap().issued;
    assert_eq!(session.query_chunk(&XetHash::ZERO).await.unwrap(), None);
    let last = fake.seen().last().cloned().unwrap();
    assert_eq!(
        last.auth.as_deref(),
        Some(&*format!("Bearer cas_token_{issued}"))
    );
    // Its refresh route is the href of the answer.
    fake.revoke_all();
    assert_eq!(session.query_chunk(&XetHash::ZERO).await.unwrap(), None);
    assert_eq!(session.refreshes(), 1);
    let offered: Vec<String> = fake
        .seen()
        .iter()
        .filter(|s| s.server == "hub")
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(
        offered.last().unwrap(),
        "/api/models/ns/name/xet-write-token/main"
    );
}
