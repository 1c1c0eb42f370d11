//! What the Xet tests share: tokens from the token routes, a file's xorb and shard built with
//! the Xet formats as a client builds them, calls to the CAS, and a snapshot of the store's
//! files to show that refused input left nothing behind.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use xet_format::{
    CasInfo, CompressionPolicy, FileInfo, FileTerm, Shard, XetHash, chunk_file, encode_xorb,
    file_hash, term_verification_hash,
};

use super::fixture::{Hub, TOKEN, sha256_hex};

/// A token from `GET /api/models/{repo}/xet-{kind}-token/{rev}` with the Hub token `hub_token`
/// (`None`: anonymous); panics unless the answer is 200.
pub async fn xet_token(hub: &Hub, repo: &str, kind: &str, hub_token: Option<&str>) -> String {
    let mut req = hub
        .http
        .get(hub.url(&format!("/api/models/{repo}/xet-{kind}-token/main")));
    if let Some(t) = hub_token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["accessToken"].as_str().unwrap().to_owned()
}

/// A write token of `repo` with the test's write token.
pub async fn write_token(hub: &Hub, repo: &str) -> String {
    xet_token(hub, repo, "write", Some(TOKEN)).await
}

/// A read token of `repo` with the test's write token.
pub async fn read_token(hub: &Hub, repo: &str) -> String {
    xet_token(hub, repo, "read", Some(TOKEN)).await
}

/// A file as a client uploads it through Xet: one xorb of all its chunks and the shard that
/// describes the file (verification hashes and sha256 included).
pub struct XetUpload {
    pub xorb: Vec<u8>,
    pub xorb_hash: XetHash,
    pub shard: Shard,
    pub file_hash: XetHash,
    pub chunks: Vec<XetHash>,
}

impl XetUpload {
    pub fn of(data: &[u8]) -> XetUpload {
        let chunks = chunk_file(data);
        let (xorb, summary) = encode_xorb(
            chunks
                .iter()
                .map(|c| &data[c.offset as usize..(c.offset + u64::from(c.len)) as usize]),
            CompressionPolicy::Auto,
        )
        .unwrap();
        let hashes: Vec<XetHash> = chunks.iter().map(|c| c.hash).collect();
        let leaves: Vec<(XetHash, u64)> =
            chunks.iter().map(|c| (c.hash, u64::from(c.len))).collect();
        let file_hash = file_hash(&leaves);
        let mut sha = [0u8; 32];
        hex::decode_to_slice(sha256_hex(data), &mut sha).unwrap();
        let shard = Shard {
            files: vec![FileInfo {
                hash: file_hash,
                terms: vec![FileTerm {
                    xorb: summary.hash,
                    unpacked_bytes: data.len() as u32,
                    chunk_start: 0,
                    chunk_end: chunks.len() as u32,
                }],
                verification: Some(vec![term_verification_hash(&hashes)]),
                sha256: Some(sha),
            }],
            xorbs: vec![CasInfo::from_summary(&summary)],
            footer: None,
        };
        XetUpload {
            xorb,
            xorb_hash: summary.hash,
            shard,
            file_hash,
            chunks: hashes,
        }
    }

    pub fn shard_bytes(&self) -> Vec<u8> {
        self.shard.encode().unwrap()
    }
}

/// `POST /v1/xorbs/{prefix}/{hash}` with `token`.
pub async fn post_xorb(
    hub: &Hub,
    token: &str,
    hash: &XetHash,
    bytes: Vec<u8>,
) -> reqwest::Response {
    hub.http
        .post(hub.url(&format!("/v1/xorbs/default/{hash}")))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// `POST /v1/shards` with `token`.
pub async fn post_shard(hub: &Hub, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    hub.http
        .post(hub.url("/v1/shards"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// `GET {path}` on the CAS with `token` and an optional `Range`.
pub async fn cas_get(hub: &Hub, token: &str, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = hub.http.get(hub.url(path)).bearer_auth(token);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

/// Every file below the store's Xet objects and `tmp/`, to compare before and after.
pub fn store_files(data: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["objects/xet", "tmp"] {
        walk(&data.join(dir), data, &mut out);
    }
    out
}

fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            out.insert(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

/// The bytes every file below `dir/objects` takes.
pub fn store_bytes(dir: &Path) -> u64 {
    fn sum(dir: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .map(Result::unwrap)
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    sum(&p)
                } else {
                    e.metadata().unwrap().len()
                }
            })
            .sum()
    }
    sum(&dir.join("objects"))
}
