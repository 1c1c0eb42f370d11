//! A split GGUF (`-00001-of-00002`) is published as one model: every shard checked (header
//! and `split.*` keys against the name), uploaded and verified, with one Modelfile.

mod common;

use std::path::Path;

use common::*;
use ruvltra_gguf::writer::{GgufWriter, SampleModel};
use ruvltra_gguf::{GgmlType, split};
use ruvltra_registry::Quant;
use ruvltra_uploader::{Action, PublishOptions, UploadError};

const STEM: &str = "ruvltra-medium-1.1b-q8_0";

fn shard_name(no: u16) -> String {
    format!("{STEM}-{no:05}-of-00002.gguf")
}

/// Writes the two shards; `second_no` is the `split.no` written into the second one.
fn write_shards(dir: &Path, second_no: u16) {
    let mut first = SampleModel::new("qwen2", Quant::Q8_0.file_type(), 300_000)
        .build()
        .unwrap();
    first
        .kv(split::SPLIT_NO_KEY, 0u16)
        .kv(split::SPLIT_COUNT_KEY, 2u16)
        .kv(split::SPLIT_TENSORS_COUNT_KEY, 1000i32);
    first.write_file(dir.join(shard_name(1))).unwrap();
    let mut second = GgufWriter::new();
    second
        .kv(split::SPLIT_NO_KEY, second_no)
        .kv(split::SPLIT_COUNT_KEY, 2u16)
        .kv(split::SPLIT_TENSORS_COUNT_KEY, 1000i32)
        .tensor("blk.99.ffn_up.weight", &[256, 1024], GgmlType::Q8_0);
    second.write_file(dir.join(shard_name(2))).unwrap();
}

fn split_registry() -> ruvltra_registry::Registry {
    let text = serde_json::json!({
        "schema_version": 1,
        "repo": REPO,
        "revision": "main",
        "catalog": { "title": "RuvLTRA", "license": "apache-2.0", "languages": ["en"] },
        "models": [{
            "id": STEM,
            "file": shard_name(1),
            "quant": "q8_0",
            "size": "1.1b",
            "variant": "medium",
            "architecture": "qwen2",
            "extra_files": [{ "file": shard_name(2) }]
        }]
    })
    .to_string();
    let reg = ruvltra_registry::parse(&text).unwrap();
    ruvltra_registry::validate(&reg).unwrap();
    reg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_model_is_published_and_verified_as_one_model() {
    let fx = Fixture::new();
    write_shards(&fx.files, 1);
    let report = fx
        .uploader()
        .publish(&split_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let plan = &report.repos[0].plan;
    for path in [
        shard_name(1),
        shard_name(2),
        format!("ollama/{STEM}/Modelfile"),
    ] {
        let entry = plan.iter().find(|e| e.path == path).unwrap();
        assert_eq!(entry.action, Action::Add, "{path}");
        assert_eq!(entry.model.as_deref(), Some(STEM), "{path}");
    }
    assert_eq!(report.repos[0].objects_sent, 2);
    let expected =
        file_size(&fx.files.join(shard_name(1))) + file_size(&fx.files.join(shard_name(2)));
    assert_eq!(fx.stats().upload_bytes, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_whose_header_disagrees_with_its_name_is_refused() {
    let fx = Fixture::new();
    write_shards(&fx.files, 0);
    let err = fx
        .uploader()
        .publish(&split_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let UploadError::Checks(problems) = &err else {
        panic!("expected check problems, got {err}");
    };
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(problems[0].path, shard_name(2));
    assert!(problems[0].message.contains("shard 1 of 2"), "{err}");
    assert_eq!(fx.stats().api_requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_shard_is_refused_before_any_request() {
    let fx = Fixture::new();
    write_shards(&fx.files, 1);
    std::fs::remove_file(fx.files.join(shard_name(2))).unwrap();
    let err = fx
        .uploader()
        .publish(&split_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Checks(_)), "{err}");
    assert!(err.to_string().contains(&shard_name(2)), "{err}");
    assert_eq!(fx.stats().api_requests, 0);
}
