//! `cargo xtask demo`: the newcomer's first command. Runs the main job end to end on a local
//! Hub: sample GGUF files for the registry's published models, publish with the model card,
//! tag v1.0.0, verify, publish again (nothing sent, no commit), with every step printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail, ensure};
use hub_client::{Endpoint, HubClient, Token};
use hub_server::{HubServer, ServerConfig, Stats};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::{Quant, Registry, Status};
use ruvltra_uploader::{ModelUploader, PublishOptions, VerifyOptions};

use crate::publish::{Progress, print_publish_report, print_verify_report, runtime};

/// The demo's throwaway write token (the local server accepts only it).
const DEMO_TOKEN: &str = "hf_demo_local_write_token";
/// Parameters of each sample model: a few MB per file, so the demo runs in seconds.
const SAMPLE_PARAMS: u64 = 4_000_000;

/// Arguments of `cargo xtask demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry whose published models the demo imitates.
    #[arg(long, default_value_os_t = default_registry())]
    registry: PathBuf,
    /// Keep the temporary folder (server data, sample files, demo registry) and print its path.
    #[arg(long)]
    keep: bool,
}

fn default_registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("registry.json"))
        .unwrap_or_else(|| PathBuf::from("registry.json"))
}

/// Runs the demo; exit 0 when every step did what it should.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::Builder::new()
        .prefix("ruvltra-demo-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let result = runtime()?.block_on(demo(&args.registry, tmp.path()));
    if args.keep {
        let kept = tmp.keep();
        println!("kept the demo folder: {}", kept.display());
    }
    result
}

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

fn stats_line(label: &str, before: &Stats, after: &Stats) {
    println!(
        "    server counters {label}: {} API requests, {} transfer requests, {} commit(s), {} bytes uploaded",
        after.api_requests - before.api_requests,
        after.transfer_requests - before.transfer_requests,
        after.commits - before.commits,
        after.upload_bytes - before.upload_bytes
    );
}

async fn demo(registry_path: &Path, tmp: &Path) -> anyhow::Result<ExitCode> {
    step(1, "starting the local Hub server on a free loopback port");
    let mut config = ServerConfig::new(tmp.join("hub-data"));
    config.write_tokens = vec![DEMO_TOKEN.to_owned()];
    let server = HubServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .context("cannot start the local Hub server")?;
    println!(
        "    {} (data in {})",
        server.url(),
        tmp.join("hub-data").display()
    );
    let outcome = run_steps(registry_path, tmp, &server).await;
    server.shutdown().await;
    outcome
}

async fn run_steps(
    registry_path: &Path,
    tmp: &Path,
    server: &HubServer,
) -> anyhow::Result<ExitCode> {
    step(
        2,
        &format!(
            "writing small sample GGUF files for the published models of {}",
            registry_path.display()
        ),
    );
    let real = ruvltra_registry::load(registry_path)?;
    let files = tmp.join("files");
    std::fs::create_dir_all(&files)
        .with_context(|| format!("cannot create {}", files.display()))?;
    let demo_reg = demo_registry(&real, &files)?;
    let demo_registry_path = tmp.join("registry.json");
    ruvltra_registry::save(&demo_registry_path, &demo_reg)
        .with_context(|| format!("cannot write {}", demo_registry_path.display()))?;
    for model in &demo_reg.models {
        println!(
            "    {} ({} bytes, sha256 {})",
            model.file,
            model.bytes.unwrap_or(0),
            model.sha256.as_deref().unwrap_or("-")
        );
    }
    println!(
        "    demo registry with these sizes and sha256s: {}",
        demo_registry_path.display()
    );
    let demo_reg = ruvltra_registry::load(&demo_registry_path)?;

    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&server.url())?)
        .token(Token::new(DEMO_TOKEN))
        .build()?;
    let progress = Progress::new();
    let uploader = ModelUploader::with_client(client).observer(progress.observer());
    let opts = PublishOptions {
        tag: Some("v1.0.0".to_owned()),
        ..PublishOptions::default()
    };

    step(
        3,
        &format!(
            "publishing to {} with the model card and Modelfiles, tag v1.0.0 (like `cargo xtask publish --tag v1.0.0`)",
            demo_reg.repo
        ),
    );
    let before = server.stats();
    let first = uploader.publish(&demo_reg, &files, &opts).await?;
    progress.finish();
    print_publish_report(&first);
    let after_first = server.stats();
    stats_line("for this publish", &before, &after_first);
    ensure!(first.verified(), "the first publish did not verify");
    ensure!(
        first.repos.iter().all(|r| r.commit.is_some()),
        "the first publish made no commit"
    );

    step(
        4,
        "verifying the Hub against the registry, downloading and re-hashing every file (like `cargo xtask verify --deep`)",
    );
    let reports = uploader
        .verify_registry(
            &demo_reg,
            &VerifyOptions {
                branch: None,
                deep: true,
            },
        )
        .await?;
    progress.finish();
    for report in &reports {
        print_verify_report(report);
    }
    ensure!(
        !reports.is_empty() && reports.iter().all(|r| r.ok() && r.unverified.is_empty()),
        "verification found differences"
    );

    step(
        5,
        "publishing the same files again: nothing to upload, no new commit",
    );
    let before = server.stats();
    let again = uploader.publish(&demo_reg, &files, &opts).await?;
    progress.finish();
    print_publish_report(&again);
    let after = server.stats();
    stats_line("for the second publish", &before, &after);
    ensure!(again.verified(), "the second publish did not verify");
    if after.commits != before.commits || after.upload_bytes != before.upload_bytes {
        bail!("the second publish sent bytes or made a commit; it should have been a no-op");
    }

    println!(
        "\ndone: {} model(s) published, verified and tagged v1.0.0 on a local Hub; the re-publish sent 0 bytes and made no commit.",
        demo_reg.models.len()
    );
    println!(
        "next: `cargo xtask publish --registry registry.json --files <folder> --dry-run` against the real Hub (HF_TOKEN)."
    );
    Ok(ExitCode::SUCCESS)
}

/// The demo registry: the real registry's published GGUF models, each with a small sample
/// file written into `files` and its real size and sha256 filled in.
fn demo_registry(real: &Registry, files: &Path) -> anyhow::Result<Registry> {
    let mut reg = real.clone();
    reg.models
        .retain(|m| m.status == Status::Published && m.kind.is_gguf());
    ensure!(
        !reg.models.is_empty(),
        "the registry has no published GGUF model to imitate"
    );
    for model in &mut reg.models {
        let quant = Quant::from_label(&model.quant)
            .with_context(|| format!("model {} has an unknown quant", model.id))?;
        let mut sample = SampleModel::new(
            model.architecture.as_deref().unwrap_or("qwen2"),
            quant.file_type(),
            SAMPLE_PARAMS,
        );
        sample.name = model.name.clone().unwrap_or_else(|| model.id.clone());
        if let Some(ctx) = model.context_length.and_then(|c| u32::try_from(c).ok()) {
            sample.context_length = ctx;
        }
        let path = files.join(&model.file);
        sample
            .build()?
            .write_file(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let (sha256, bytes) = ruvltra_uploader::hash_file(&path, &mut |_| {})
            .with_context(|| format!("cannot hash {}", path.display()))?;
        model.bytes = Some(bytes);
        model.sha256 = Some(sha256.to_hex());
        model.extra_files.clear();
    }
    ruvltra_registry::validate(&reg)
        .map_err(|p| anyhow::anyhow!("the demo registry is invalid:\n{p}"))?;
    Ok(reg)
}
