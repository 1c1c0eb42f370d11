//! Hostile names: path traversal, absolute paths, backslashes, drive letters, NUL and control
//! characters and very long names in commit payloads sent to the local server and in the
//! download targets of `ruvllm` (issue 11, "Hostile input"). The registry's and the Hub
//! client's own checks are tested in their crates (see docs/RELIABILITY.md).

mod support;

use std::path::Path;

use hub_server::{HubServer, ServerConfig};
use ruvllm::hub::download::{DownloadError, DownloadOptions, download_blocking};
use ruvllm::hub::registry::{FileSpec, ModelSpec};
use ruvltra_tests::raw_http;
use test_support::files_under;

/// Names no repository path may have, with why.
fn hostile_names() -> Vec<(String, &'static str)> {
    vec![
        ("../x.gguf".into(), "parent"),
        ("a/../../x.gguf".into(), "nested parent"),
        ("..".into(), "bare parent"),
        ("/etc/passwd".into(), "absolute"),
        ("a\\..\\x.gguf".into(), "backslash"),
        ("C:/x.gguf".into(), "drive letter with slash"),
        ("C:x.gguf".into(), "drive-relative"),
        ("c:\\x.gguf".into(), "drive letter with backslash"),
        ("a\0b.gguf".into(), "NUL"),
        ("a\u{1}b.gguf".into(), "control character"),
        ("a\nb.gguf".into(), "newline"),
        ("a\u{7f}b.gguf".into(), "DEL"),
        (
            format!("{}.gguf", "x".repeat(300)),
            "segment over 255 bytes",
        ),
        (
            format!("{}x.gguf", "abcdefg/".repeat(600)),
            "path over 4 KiB",
        ),
        ("a//b.gguf".into(), "empty segment"),
        ("./a.gguf".into(), "dot segment"),
        ("".into(), "empty"),
    ]
}

fn header() -> serde_json::Value {
    serde_json::json!({"key": "header", "value": {"summary": "hostile", "description": ""}})
}

fn ndjson(lines: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Posts one commit per operation kind and hostile name; returns those not refused with 4xx.
fn commits_not_refused(addr: std::net::SocketAddr, names: &[(String, &str)]) -> Vec<String> {
    let mut accepted = Vec::new();
    for (name, why) in names {
        let ops = [
            serde_json::json!({"key": "file", "value": {"path": name, "content": "eA==", "encoding": "base64"}}),
            serde_json::json!({"key": "lfsFile", "value": {"path": name, "algo": "sha256", "oid": "a".repeat(64), "size": 1}}),
            serde_json::json!({"key": "deletedFile", "value": {"path": name}}),
            serde_json::json!({"key": "deletedFolder", "value": {"path": name}}),
        ];
        for op in ops {
            let kind = op["key"].as_str().unwrap().to_owned();
            let r = raw_http::commit(addr, "hostile", &ndjson(&[header(), op]));
            match r.status {
                Some(s) if (400..500).contains(&s) => {}
                other => accepted.push(format!("{kind} {why} ({name:?}): {other:?} {}", r.text())),
            }
        }
    }
    accepted
}

fn hostile_server_case(names: &[(String, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let server = HubServer::spawn(ServerConfig::new(&data)).unwrap();
    let addr = server.addr();
    assert_eq!(raw_http::create_repo(addr, "hostile").status, Some(200));
    let before = files_under(&data);
    let accepted = commits_not_refused(addr, names);
    assert!(
        accepted.is_empty(),
        "not refused with 4xx:\n{}",
        accepted.join("\n")
    );
    assert_eq!(server.stats().commits, 0);
    // Nothing was written: the data folder holds exactly what it held, and nothing appeared
    // beside it.
    assert_eq!(files_under(&data), before);
    let beside: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("hub")]);
    server.stop();
}

#[test]
fn commit_payloads_with_hostile_paths_are_refused_with_4xx_and_write_nothing() {
    hostile_server_case(&hostile_names());
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn spec_with_file(file: &'static str) -> ModelSpec {
    ModelSpec {
        id: "hostile",
        file,
        repo: "ruv/ruvltra",
        revision: "main",
        ..ModelSpec::EMPTY
    }
}

fn assert_refused_without_io(spec: &ModelSpec, server: &HubServer, cache: &Path, what: &str) {
    let opts = DownloadOptions {
        endpoint: Some(server.url()),
        cache_dir: Some(cache.to_path_buf()),
        ..DownloadOptions::default()
    };
    let before = server.stats();
    let err = download_blocking(spec, &opts).expect_err(what);
    assert!(
        matches!(err, DownloadError::InvalidSpec { .. }),
        "{what}: not refused as an invalid spec: {err}"
    );
    let after = server.stats();
    assert_eq!(
        (after.api_requests, after.transfer_requests),
        (before.api_requests, before.transfer_requests),
        "{what}: a request was made"
    );
    assert!(!cache.exists(), "{what}: the cache folder was created");
}

#[test]
fn ruvllm_refuses_hostile_download_targets_before_any_request_or_file() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HubServer::spawn(ServerConfig::new(tmp.path().join("hub"))).unwrap();
    let cache = tmp.path().join("cache");
    for (name, why) in hostile_names() {
        let name = leak(name);
        assert_refused_without_io(
            &spec_with_file(name),
            &server,
            &cache,
            &format!("file {why}"),
        );
        let extra: &'static [FileSpec] = Box::leak(Box::new([FileSpec {
            file: name,
            bytes: None,
            sha256: None,
        }]));
        let spec = ModelSpec {
            extra_files: extra,
            ..spec_with_file("ok.gguf")
        };
        assert_refused_without_io(&spec, &server, &cache, &format!("extra file {why}"));
    }
    for revision in ["../main", "a\\b", "", "main\n", "/main"] {
        let spec = ModelSpec {
            revision,
            ..spec_with_file("ok.gguf")
        };
        assert_refused_without_io(&spec, &server, &cache, &format!("revision {revision:?}"));
    }
    for repo in [
        "../ruvltra",
        "ruv/../x",
        "ruv\\x",
        "C:/x",
        "/ruv/x",
        "ruv/x/y",
    ] {
        let spec = ModelSpec {
            repo,
            ..spec_with_file("ok.gguf")
        };
        assert_refused_without_io(&spec, &server, &cache, &format!("repo {repo:?}"));
    }
    let beside: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        beside,
        vec![std::ffi::OsString::from("hub")],
        "nothing written beside the cache"
    );
    server.stop();
}
