//! A minimal blocking HTTP/1.1 caller over `std::net::TcpStream`, for requests a real client
//! refuses to make (hostile paths, malformed bodies) and for fuzz targets that must not pull
//! an async runtime into every run.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status and body; `None` status means the connection ended without one.
#[derive(Debug)]
pub struct Response {
    /// The status code, when a status line arrived.
    pub status: Option<u16>,
    /// The body bytes (chunked bodies are left encoded; tests only search them).
    pub body: Vec<u8>,
}

impl Response {
    /// The body as lossy UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // The server may answer (413, 401) before reading all of a large body and close.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (status, body) = match split {
        Some(i) => {
            let head = String::from_utf8_lossy(&raw[..i]);
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok());
            (status, raw[i + 4..].to_vec())
        }
        None => (None, Vec::new()),
    };
    Ok(Response { status, body })
}

/// Creates the model repo `local/{name}` with the write token `hf_test_write`.
pub fn create_repo(addr: SocketAddr, name: &str) -> Response {
    let body = format!(r#"{{"name":"{name}"}}"#);
    request(
        addr,
        "POST",
        "/api/repos/create",
        &[
            ("Authorization", "Bearer hf_test_write"),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
    .expect("the local server accepts connections")
}

/// Posts an NDJSON commit body to `main` of `local/{name}`.
pub fn commit(addr: SocketAddr, name: &str, ndjson: &[u8]) -> Response {
    request(
        addr,
        "POST",
        &format!("/api/models/local/{name}/commit/main"),
        &[
            ("Authorization", "Bearer hf_test_write"),
            ("Content-Type", "application/x-ndjson"),
        ],
        ndjson,
    )
    .expect("the local server accepts connections")
}

/// Posts an LFS batch request for `local/{name}`.
pub fn lfs_batch(addr: SocketAddr, name: &str, json: &[u8]) -> Response {
    request(
        addr,
        "POST",
        &format!("/local/{name}.git/info/lfs/objects/batch"),
        &[
            ("Authorization", "Bearer hf_test_write"),
            ("Content-Type", "application/vnd.git-lfs+json"),
            ("Accept", "application/vnd.git-lfs+json"),
        ],
        json,
    )
    .expect("the local server accepts connections")
}
