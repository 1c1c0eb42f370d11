//! SONA adapters (PEFT LoRA exports) are published with their base model from the same files
//! folder: each file checked (safetensors header, PEFT config, jsonl) before any upload, then
//! uploaded under the adapter's prefix, checksummed and verified like a model file.

mod common;

use std::path::Path;

use common::*;
use futures_util::StreamExt as _;
use ruvltra_registry::{Quant, Registry};
use ruvltra_uploader::{Action, PublishOptions, UploadError};

const BASE: Spec = Spec::new("small", "0.5b", Quant::Q4_K_M);
const ADAPTER_ID: &str = "sona-ruvltra-small-0.5b";
const FILES: [&str; 4] = [
    "adapter_model.safetensors",
    "adapter_config.json",
    "patterns.jsonl",
    "preferences.jsonl",
];

fn prefix() -> String {
    format!("sona/{}", BASE.id())
}

/// The registry of the base model (from the shared fixture) plus its adapter.
fn adapter_registry() -> Registry {
    let mut value = serde_json::to_value(registry(&[BASE])).unwrap();
    let extra: Vec<serde_json::Value> = FILES[1..]
        .iter()
        .map(|f| serde_json::json!({ "file": format!("{}/{f}", prefix()) }))
        .collect();
    value["models"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": ADAPTER_ID,
            "file": format!("{}/{}", prefix(), FILES[0]),
            "quant": "f16",
            "size": "0.5b",
            "kind": "adapter",
            "base": BASE.id(),
            "name": "SONA adapter for RuvLTRA Small",
            "extra_files": extra
        }));
    let reg = ruvltra_registry::parse(&value.to_string()).unwrap();
    ruvltra_registry::validate(&reg).unwrap();
    reg
}

/// Writes the base GGUF and a SONA export under `sona/<base-id>/` in the files folder.
fn write_files(fx: &Fixture, config_base: &str) -> std::path::PathBuf {
    fx.write_sample(&BASE, 1);
    let dir = fx.files.join(prefix());
    ruvltra_safetensors::writer::sample_sona_export(&dir, config_base, 8).unwrap();
    dir
}

async fn remote_text(fx: &Fixture, path: &str) -> String {
    let download = fx
        .client()
        .download_range(&repo(), "main", path, 0)
        .await
        .unwrap();
    let mut body = Vec::new();
    let mut stream = download.into_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    String::from_utf8(body).unwrap()
}

fn assert_refused_before_upload(fx: &Fixture, err: &UploadError, path: &str, needle: &str) {
    let UploadError::Checks(problems) = err else {
        panic!("expected check problems, got {err}");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.path == path && p.message.contains(needle)),
        "{err}"
    );
    assert!(err.to_string().contains(path), "{err}");
    let stats = fx.stats();
    assert_eq!((stats.upload_bytes, stats.commits), (0, 0), "{stats:?}");
    assert_eq!(stats.api_requests, 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adapter_is_published_under_its_prefix_verified_and_listed_under_its_base() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    let report = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    // The config names the base model's `base_model`, so there is nothing to warn about.
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("base_model_name_or_path")),
        "{:?}",
        report.warnings
    );

    let published = &report.repos[0];
    for name in FILES {
        let path = format!("{}/{name}", prefix());
        let entry = published.plan.iter().find(|e| e.path == path).unwrap();
        assert_eq!(entry.action, Action::Add, "{path}");
        assert_eq!(entry.model.as_deref(), Some(ADAPTER_ID), "{path}");
    }
    let local_total: u64 = FILES.iter().map(|f| file_size(&dir.join(f))).sum::<u64>()
        + file_size(&fx.files.join(BASE.file()));
    assert_eq!(published.objects_sent, 5);
    assert_eq!(fx.stats().upload_bytes, local_total);

    // The Hub holds each adapter file as an LFS object with the locally computed sha256.
    let tree = fx
        .client()
        .list_tree(&repo(), "main", None, true)
        .await
        .unwrap();
    for name in FILES {
        let path = format!("{}/{name}", prefix());
        let lfs = tree
            .iter()
            .find(|e| e.path == path)
            .and_then(|e| e.lfs)
            .unwrap_or_else(|| panic!("{path} is not an LFS file on the Hub"));
        let local = ruvltra_uploader::hash_file(&dir.join(name), &mut |_| {}).unwrap();
        assert_eq!((lfs.oid, lfs.size), local, "{path}");
    }

    // The card lists the adapter under its base, with the adapter's first-file checksum.
    let card = remote_text(&fx, "README.md").await;
    let section = card
        .split("## Adapters (SONA)")
        .nth(1)
        .unwrap_or_else(|| panic!("no adapter section:\n{card}"));
    let under_base = section
        .find("### Adapters for")
        .map(|i| &section[i..])
        .unwrap();
    assert!(under_base.contains(&BASE.id()), "{under_base}");
    assert!(under_base.contains(ADAPTER_ID), "{under_base}");
    let sha = ruvltra_uploader::hash_file(&dir.join(FILES[0]), &mut |_| {})
        .unwrap()
        .0
        .to_hex();
    assert!(card.contains(&sha), "{card}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_naming_another_base_model_is_a_warning_not_a_refusal() {
    let fx = Fixture::new();
    write_files(&fx, "meta-llama/Llama-3.2-1B");
    let report = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let warning = report
        .warnings
        .iter()
        .find(|w| w.contains("base_model_name_or_path"))
        .unwrap_or_else(|| panic!("{:?}", report.warnings));
    assert!(warning.contains("meta-llama/Llama-3.2-1B"), "{warning}");
    assert!(warning.contains("Qwen/Qwen2.5-0.5B-Instruct"), "{warning}");
    assert!(
        warning.contains(&format!("{}/adapter_config.json", prefix())),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_safetensors_header_is_refused_before_any_upload() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    // The 8-byte header length now points far beyond the end of the file.
    let path = dir.join(FILES[0]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let err = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let repo_path = format!("{}/{}", prefix(), FILES[0]);
    assert_refused_before_upload(&fx, &err, &repo_path, "not a valid safetensors file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tensor_offset_out_of_bounds_is_refused() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    // Cutting the data section leaves the last tensor's offsets past the end of the file.
    let path = dir.join(FILES[0]);
    let len = file_size(&path);
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 16).unwrap();
    let err = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let repo_path = format!("{}/{}", prefix(), FILES[0]);
    assert_refused_before_upload(&fx, &err, &repo_path, "not a valid safetensors file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_rank_zero_is_refused_before_any_upload() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    edit_config(&dir, |c| c["r"] = 0.into());
    let err = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let repo_path = format!("{}/adapter_config.json", prefix());
    assert_refused_before_upload(
        &fx,
        &err,
        &repo_path,
        "not a valid PEFT LoRA adapter config",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_of_another_rank_than_the_config_are_refused() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    // Each file is valid on its own; only together do they disagree.
    edit_config(&dir, |c| c["r"] = 4.into());
    let err = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let repo_path = format!("{}/{}", prefix(), FILES[0]);
    assert_refused_before_upload(&fx, &err, &repo_path, "the LoRA weights disagree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jsonl_line_that_is_not_an_object_is_refused() {
    let fx = Fixture::new();
    let dir = write_files(&fx, "Qwen/Qwen2.5-0.5B-Instruct");
    let path = dir.join("patterns.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("[1, 2, 3]\n");
    std::fs::write(&path, text).unwrap();
    let err = fx
        .uploader()
        .publish(&adapter_registry(), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let repo_path = format!("{}/patterns.jsonl", prefix());
    assert_refused_before_upload(&fx, &err, &repo_path, "not a valid jsonl file");
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("adapter_config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(&path, config.to_string()).unwrap();
}
