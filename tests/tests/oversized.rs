//! Oversized inputs at the default limits: a commit of 100,000 NDJSON lines and a 100,000-line
//! LFS batch sent to the local server, and a 100,000-model registry.json loaded from disk
//! (issue 11, "Oversized inputs"). The GGUF header claiming 2^60 tensors and the tree page of
//! 10,000 entries are tested in their crates (see docs/RELIABILITY.md).

mod support;

use ruvltra_tests::raw_http;
use test_support::LocalHub;

#[test]
fn a_commit_of_100_000_lines_is_refused_with_413_and_makes_no_commit() {
    let LocalHub { server, dir: _data } = LocalHub::start();
    let addr = server.addr();
    assert_eq!(raw_http::create_repo(addr, "big").status, Some(200));
    let mut body = String::from(r#"{"key":"header","value":{"summary":"big","description":""}}"#);
    body.push('\n');
    for i in 0..100_000 {
        body.push_str(&format!(
            r#"{{"key":"file","value":{{"path":"f/{i}.txt","content":"eA==","encoding":"base64"}}}}"#
        ));
        body.push('\n');
    }
    let r = raw_http::commit(addr, "big", body.as_bytes());
    assert_eq!(r.status, Some(413), "{}", r.text());
    assert!(
        r.text().contains("lines"),
        "the message names the limit: {}",
        r.text()
    );
    assert_eq!(server.stats().commits, 0);
    // The server still answers.
    assert_eq!(raw_http::create_repo(addr, "after").status, Some(200));
    server.stop();
}

#[test]
fn an_lfs_batch_of_100_000_objects_is_refused_with_a_clear_4xx() {
    let LocalHub { server, dir: _data } = LocalHub::start();
    let addr = server.addr();
    assert_eq!(raw_http::create_repo(addr, "batch").status, Some(200));
    let objects: Vec<serde_json::Value> = (0..100_000u64)
        .map(|i| serde_json::json!({"oid": format!("{i:064x}"), "size": 1}))
        .collect();
    let body =
        serde_json::json!({"operation": "upload", "transfers": ["basic"], "objects": objects});
    let r = raw_http::lfs_batch(addr, "batch", body.to_string().as_bytes());
    let status = r.status.expect("an answer");
    assert!((400..500).contains(&status), "{status}: {}", r.text());
    assert!(
        r.text().contains("objects"),
        "the message names the limit: {}",
        r.text()
    );
    server.stop();
}

#[test]
fn a_registry_of_100_000_models_loads_and_validates_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    // The text is built by hand: 100,000 `serde_json::Value`s would cost more than the load.
    let mut text = String::from(
        r#"{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","catalog":{"title":"RuvLTRA","description":"Test catalog.","license":"apache-2.0","languages":["en"],"tags":["ruvltra","gguf"]},"models":["#,
    );
    for n in 0..100_000 {
        if n > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"id":"ruvltra-v{n}-0.5b-q4_k_m","file":"ruvltra-v{n}-0.5b-q4_k_m.gguf","quant":"q4_k_m","size":"0.5b","variant":"v{n}","name":"RuvLTRA v{n}","description":"A test model.","architecture":"qwen2","context_length":32768,"base_model":"Qwen/Qwen2.5-0.5B-Instruct","hardware":{{"min_ram_mib":1024}}}}"#
        ));
    }
    text.push_str("]}");
    let path = tmp.path().join("registry.json");
    std::fs::write(&path, text).unwrap();
    let reg = ruvltra_registry::load(&path).unwrap();
    assert_eq!(reg.models.len(), 100_000);
    assert_eq!(reg.models[99_999].id, "ruvltra-v99999-0.5b-q4_k_m");
    assert_eq!(ruvltra_registry::validate(&reg), Ok(()));
}
