//! The properties the fuzz targets check, shared with the stable replay of their corpora so
//! that every interesting input found by `cargo xtask fuzz` stays a regression test.

use std::net::SocketAddr;

use hub_server::{HubServer, ServerConfig};

/// Any bytes given to the registry loader give a registry or a typed error, never a panic; a
/// registry that parses validates without panicking and its canonical form parses again to
/// the same canonical form.
pub fn registry(data: &[u8]) {
    let Ok(reg) = ruvltra_registry::parse_bytes(data) else {
        return;
    };
    let _ = ruvltra_registry::validate(&reg);
    let canonical = ruvltra_registry::to_canonical_json(&reg);
    let again = ruvltra_registry::parse(&canonical)
        .unwrap_or_else(|e| panic!("the canonical form does not parse again: {e}"));
    assert_eq!(
        ruvltra_registry::to_canonical_json(&again),
        canonical,
        "the canonical form is not stable"
    );
}

/// A local server with one repository (`local/fuzz`) for the server targets. The fuzz targets
/// keep one for the whole run; the data folder is a temporary directory kept alive with it.
#[derive(Debug)]
pub struct ServerTarget {
    server: HubServer,
    _data: tempfile::TempDir,
}

impl ServerTarget {
    /// Starts the server with small limits (fast runs) and creates the repository.
    pub fn start() -> ServerTarget {
        let data = tempfile::tempdir().expect("a temporary directory");
        let mut config = ServerConfig::new(data.path());
        config.max_commit_bytes = 1 << 20;
        config.max_commit_lines = 1000;
        config.max_batch_objects = 100;
        config.max_json_bytes = 1 << 20;
        let server = HubServer::spawn(config).expect("the local server starts");
        let created = crate::raw_http::create_repo(server.addr(), "fuzz");
        assert_eq!(created.status, Some(200), "{}", created.text());
        ServerTarget {
            server,
            _data: data,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Posts `data` as an NDJSON commit: the server must answer (no dropped connection, which
    /// is what a panicking handler gives) and never with a 5xx.
    pub fn commit(&self, data: &[u8]) {
        let r = crate::raw_http::commit(self.addr(), "fuzz", data);
        check_answer("commit", data, r.status, &r.text());
    }

    /// Posts `data` as an LFS batch request, with the same expectations.
    pub fn lfs_batch(&self, data: &[u8]) {
        let r = crate::raw_http::lfs_batch(self.addr(), "fuzz", data);
        check_answer("lfs batch", data, r.status, &r.text());
    }
}

fn check_answer(what: &str, data: &[u8], status: Option<u16>, body: &str) {
    let input = String::from_utf8_lossy(&data[..data.len().min(200)]).into_owned();
    match status {
        None => panic!("the server dropped the {what} request without an answer: {input:?}"),
        Some(s) if s >= 500 => panic!("the {what} answered {s} ({body}) for {input:?}"),
        Some(_) => {}
    }
}
