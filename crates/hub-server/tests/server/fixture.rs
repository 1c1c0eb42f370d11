//! The fixture every topic shares: a server on a free port with a client that does not follow
//! redirects, and builders for NDJSON commit lines and test data.

use base64::Engine as _;
use hub_server::{HubServer, ServerConfig};
use serde_json::{Value, json};
pub use test_support::{pseudo_random, sha256_hex};

pub const TOKEN: &str = "hf_test_write";

pub struct Hub {
    pub server: HubServer,
    pub http: reqwest::Client,
}

impl Hub {
    pub async fn start(config: ServerConfig) -> Hub {
        let server = HubServer::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Hub { server, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn create_repo(&self, name: &str) -> String {
        let r = self
            .send(
                reqwest::Method::POST,
                "/api/repos/create",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        format!("local/{name}")
    }

    /// Asks the batch endpoint for an upload; returns the object's JSON.
    pub async fn batch(&self, repo: &str, data: &[u8]) -> Value {
        let r = self
            .send(
                reqwest::Method::POST,
                &format!("/{repo}.git/info/lfs/objects/batch"),
                Some(
                    json!({"operation": "upload", "transfers": ["basic", "multipart"],
                    "objects": [{"oid": sha256_hex(data), "size": data.len()}]}),
                ),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["objects"][0].clone()
    }

    /// Uploads an LFS object through batch and a basic PUT (no token on the PUT).
    pub async fn upload_lfs(&self, repo: &str, data: &[u8]) -> String {
        let obj = self.batch(repo, data).await;
        if let Some(href) = obj["actions"]["upload"]["href"].as_str() {
            let r = self
                .http
                .put(href)
                .body(data.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        sha256_hex(data)
    }

    pub async fn commit(&self, repo: &str, rev: &str, lines: &[Value]) -> reqwest::Response {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.http
            .post(self.url(&format!("/api/models/{repo}/commit/{rev}")))
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn head(&self, repo: &str) -> String {
        self.get_json(&format!("/api/models/{repo}")).await["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub fn header(summary: &str, parent: Option<&str>) -> Value {
    let mut v = json!({"key": "header", "value": {"summary": summary, "description": ""}});
    if let Some(p) = parent {
        v["value"]["parentCommit"] = json!(p);
    }
    v
}

pub fn file(path: &str, content: &[u8]) -> Value {
    json!({"key": "file", "value": {"path": path, "encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(content)}})
}

pub fn lfs_file(path: &str, data: &[u8]) -> Value {
    json!({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha256_hex(data), "size": data.len()}})
}

/// Where an LFS object becomes visible: the link from its sha256 to the Xet file that holds
/// its bytes.
pub fn object_path(dir: &std::path::Path, sha: &str) -> std::path::PathBuf {
    dir.join("objects/xet/sha256").join(&sha[..2]).join(sha)
}

/// The Xet file hash of `data`, from the Xet formats.
pub fn xet_hash(data: &[u8]) -> String {
    let chunks: Vec<_> = xet_format::chunk_file(data)
        .iter()
        .map(|c| (c.hash, u64::from(c.len)))
        .collect();
    xet_format::file_hash(&chunks).to_hex()
}

pub fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}
