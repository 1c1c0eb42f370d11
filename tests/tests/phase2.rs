//! Phase 2 of ADR-013 end to end: a Q8_0, an F16, a split F16 (two shards) and a SONA adapter
//! with its base go through validation, codegen, the card, publishing to a local Hub, `sync`
//! (which must refill the checksums) and `ruvllm`'s downloader (which must check them).

use std::path::Path;

use hub_client::{Endpoint, HubClient, Token};
use ruvllm::hub::download::{DownloadOptions, fetch};
use ruvllm::hub::registry::{ArtifactKind, FileSpec, ModelSpec, Quant};
use ruvltra_gguf::writer::{GgufWriter, SampleModel};
use ruvltra_gguf::{GgmlType, split};
use ruvltra_registry::Registry;
use ruvltra_uploader::{ModelUploader, PublishOptions};
use test_support::LocalHub;

const TOKEN: &str = "hf_test_write";
const REPO: &str = "ruv/ruvltra";
const Q8: &str = "ruvltra-small-0.5b-q8_0";
const F16: &str = "ruvltra-small-0.5b-f16";
const SPLIT: &str = "ruvltra-medium-1.1b-f16";
const ADAPTER: &str = "sona-ruvltra-small-0.5b-q8_0";

fn shard(no: u16) -> String {
    format!("{SPLIT}-{no:05}-of-00002.gguf")
}

fn adapter_dir() -> String {
    format!("sona/{Q8}")
}

fn client(url: &str) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(url).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn sample(path: &Path, quant: ruvltra_registry::Quant, n_params: u64, name: &str) {
    let mut model = SampleModel::new("qwen2", quant.file_type(), n_params);
    model.name = name.to_owned();
    model.build().unwrap().write_file(path).unwrap();
}

/// Writes every file into `files`, laid out as in the repository. Each GGUF is about 1 MB.
fn write_files(files: &Path) {
    use ruvltra_registry::Quant as Q;
    sample(&files.join(format!("{Q8}.gguf")), Q::Q8_0, 1_000_000, Q8);
    sample(&files.join(format!("{F16}.gguf")), Q::F16, 500_000, F16);

    let mut first = SampleModel::new("qwen2", Q::F16.file_type(), 400_000)
        .build()
        .unwrap();
    first
        .kv(split::SPLIT_NO_KEY, 0u16)
        .kv(split::SPLIT_COUNT_KEY, 2u16)
        .kv(split::SPLIT_TENSORS_COUNT_KEY, 1000i32);
    first.write_file(files.join(shard(1))).unwrap();
    let mut second = GgufWriter::new();
    second
        .kv(split::SPLIT_NO_KEY, 1u16)
        .kv(split::SPLIT_COUNT_KEY, 2u16)
        .kv(split::SPLIT_TENSORS_COUNT_KEY, 1000i32)
        .tensor("blk.99.ffn_up.weight", &[256, 1024], GgmlType::F16);
    second.write_file(files.join(shard(2))).unwrap();

    ruvltra_safetensors::writer::sample_sona_export(
        files.join(adapter_dir()),
        "Qwen/Qwen2.5-0.5B-Instruct",
        8,
    )
    .unwrap();
}

fn the_registry() -> Registry {
    let gguf = |id: &str, file: String, quant: &str, size: &str, variant: &str| {
        let mut m = serde_json::json!({
            "id": id, "file": file, "quant": quant, "size": size, "variant": variant,
            "architecture": "qwen2", "context_length": 32768,
            "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
        });
        if quant == "f16" {
            m["kind"] = "gguf-full-precision".into();
        }
        m
    };
    let mut split = gguf(SPLIT, shard(1), "f16", "1.1b", "medium");
    split["extra_files"] = serde_json::json!([{ "file": shard(2) }]);
    let adapter_extra: Vec<serde_json::Value> =
        ["adapter_config.json", "patterns.jsonl", "preferences.jsonl"]
            .iter()
            .map(|f| serde_json::json!({ "file": format!("{}/{f}", adapter_dir()) }))
            .collect();
    let text = serde_json::json!({
        "schema_version": 1,
        "repo": REPO,
        "revision": "main",
        "catalog": { "title": "RuvLTRA", "license": "apache-2.0", "languages": ["en"] },
        "models": [
            gguf(Q8, format!("{Q8}.gguf"), "q8_0", "0.5b", "small"),
            gguf(F16, format!("{F16}.gguf"), "f16", "0.5b", "small"),
            split,
            {
                "id": ADAPTER, "file": format!("{}/adapter_model.safetensors", adapter_dir()),
                "quant": "f16", "size": "0.5b", "kind": "adapter", "base": Q8,
                "extra_files": adapter_extra
            }
        ]
    })
    .to_string();
    let reg = ruvltra_registry::parse(&text).unwrap();
    ruvltra_registry::validate(&reg).unwrap();
    reg
}

/// The spec `ruvllm`'s generated code would hold for `model`, built at run time.
fn spec_of(reg: &Registry, model: &ruvltra_registry::Model) -> ModelSpec {
    let digest = |hex: &Option<String>| {
        hex.as_deref()
            .map(|h| <[u8; 32]>::try_from(hex::decode(h).unwrap()).unwrap())
    };
    let extra: Vec<FileSpec> = model
        .extra_files
        .iter()
        .map(|f| FileSpec {
            file: leak(&f.file),
            bytes: f.bytes,
            sha256: digest(&f.sha256),
        })
        .collect();
    ModelSpec {
        id: leak(&model.id),
        file: leak(&model.file),
        kind: match model.kind {
            ruvltra_registry::ArtifactKind::Gguf => ArtifactKind::Gguf,
            ruvltra_registry::ArtifactKind::GgufFullPrecision => ArtifactKind::GgufFullPrecision,
            ruvltra_registry::ArtifactKind::Adapter => ArtifactKind::Adapter,
            ruvltra_registry::ArtifactKind::File => ArtifactKind::File,
        },
        quant: Quant::from_label(&model.quant).unwrap(),
        size: leak(&model.size),
        base: model.base.as_deref().map(leak),
        repo: leak(model.repo(reg)),
        revision: leak(model.revision(reg)),
        bytes: model.bytes,
        sha256: digest(&model.sha256),
        extra_files: Box::leak(extra.into_boxed_slice()),
        ..ModelSpec::EMPTY
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q8_f16_split_and_adapter_publish_sync_and_download_with_checksums() {
    let LocalHub { server, dir: tmp } = LocalHub::start();
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    write_files(&files);
    let reg = the_registry();

    // Codegen takes every kind and quant of this registry.
    let code = ruvltra_codegen::render(&reg).unwrap();
    for model in &reg.models {
        let name = ruvltra_codegen::const_name(&model.id);
        assert!(
            code.contains(&name),
            "{name} missing from the generated code"
        );
    }

    // Publish: every file checked, uploaded and verified.
    let report = ModelUploader::with_client(client(&server.url()))
        .xet_cache(Some(tmp.path().join("xet-cache")))
        .publish(&reg, &files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let published: Vec<&str> = report.repos[0]
        .plan
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    let mut expected_sha = std::collections::BTreeMap::new();
    for model in &reg.models {
        for (path, _, _) in model.all_files() {
            assert!(published.contains(&path), "{path} not in {published:?}");
            let (sha, bytes) = ruvltra_uploader::hash_file(&files.join(path), &mut |_| {}).unwrap();
            expected_sha.insert(path.to_owned(), (sha.to_hex(), bytes));
        }
    }
    assert_eq!(expected_sha.len(), 8);

    // The published card (fetched with the downloader) lists every model, and the adapter
    // under its base.
    let card_spec = ModelSpec {
        id: "card",
        file: "README.md",
        kind: ArtifactKind::File,
        repo: REPO,
        revision: "main",
        ..ModelSpec::EMPTY
    };
    let card_opts = DownloadOptions {
        cache_dir: Some(tmp.path().join("card-cache")),
        client: Some(client(&server.url())),
        ..DownloadOptions::default()
    };
    let card_path = fetch(&card_spec, &card_opts).await.unwrap().path;
    let card = std::fs::read_to_string(card_path).unwrap();
    for id in [Q8, F16, SPLIT, ADAPTER] {
        assert!(card.contains(id), "{id} missing from the card:\n{card}");
    }
    let adapters = card.split("## Adapters (SONA)").nth(1).unwrap();
    let under_base = &adapters[adapters.find("### Adapters for").unwrap()..];
    assert!(
        under_base.contains(Q8) && under_base.contains(ADAPTER),
        "{under_base}"
    );

    // Sync refills every size and sha256 of a registry that has none.
    let path = tmp.path().join("registry.json");
    let mut stripped = reg.clone();
    for model in &mut stripped.models {
        model.sha256 = None;
        model.bytes = None;
        for extra in &mut model.extra_files {
            extra.sha256 = None;
            extra.bytes = None;
        }
    }
    ruvltra_registry::save(&path, &stripped).unwrap();
    let outcome = ruvltra_sync::sync_registry_file(
        &path,
        &client(&server.url()),
        ruvltra_sync::Mode::Sync { accept: false },
        2,
        "2026-11-26T00:00:00Z".to_owned(),
    )
    .await
    .unwrap();
    assert!(
        outcome.written && outcome.in_sync(),
        "{:#?}",
        outcome.report
    );
    let synced = ruvltra_registry::load(&path).unwrap();
    for model in &synced.models {
        for (file, bytes, sha) in model.all_files() {
            let (want_sha, want_bytes) = &expected_sha[file];
            assert_eq!(sha, Some(want_sha.as_str()), "{file}");
            assert_eq!(bytes, Some(*want_bytes), "{file}");
        }
    }

    // Download each model with the synced checksums; every file is checked against them.
    let cache = tmp.path().join("cache");
    let opts = DownloadOptions {
        cache_dir: Some(cache.clone()),
        client: Some(client(&server.url())),
        ..DownloadOptions::default()
    };
    let mut downloaded = 0;
    for model in &synced.models {
        let spec = spec_of(&synced, model);
        let fetched = fetch(&spec, &opts).await.unwrap();
        assert_eq!(
            fetched.files.len(),
            1 + model.extra_files.len(),
            "{}",
            model.id
        );
        for file in &fetched.files {
            assert_eq!(file.checked_against, "registry sha256", "{}", file.file);
            let (sha, bytes) = ruvltra_uploader::hash_file(&file.path, &mut |_| {}).unwrap();
            assert_eq!(
                (sha.to_hex(), bytes),
                expected_sha[file.file],
                "{}",
                file.file
            );
            downloaded += 1;
        }
    }
    assert_eq!(downloaded, 8);

    // A wrong checksum in the spec is caught by the downloader.
    let mut wrong = spec_of(&synced, &synced.models[1]);
    let mut digest = wrong.sha256.unwrap();
    digest[0] ^= 1;
    wrong.sha256 = Some(digest);
    let fresh = DownloadOptions {
        cache_dir: Some(tmp.path().join("cache2")),
        client: Some(client(&server.url())),
        ..DownloadOptions::default()
    };
    let err = fetch(&wrong, &fresh).await.unwrap_err();
    assert!(err.is_integrity(), "{err}");
}
