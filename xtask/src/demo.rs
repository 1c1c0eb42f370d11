//! `cargo xtask demo`: the newcomer's first command. Runs the main job end to end on a local
//! server: sample GGUF files for the registry's published models, publish with the model card
//! to the server's Hub mode (through Xet) and to its ModelScope mode (Git LFS; one port, like
//! `cargo xtask publish --to all`), tag v1.0.0, verify both, publish both again (nothing sent,
//! no commit); then what Xet is for: a `ruvllm` download, one header edit (`general.name`)
//! published again to both modes (a few chunks through Xet, the whole file through LFS), and
//! the download updated (the changed chunks fetched, the rest copied from the cached
//! revision), with every step printed and a summary per destination.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail, ensure};
use hub_client::{Endpoint, HubClient, Token};
use hub_server::{HubServer, ServerConfig, Stats};
use modelscope_client::ModelScopeClient;
use ruvllm::hub::download::{DownloadOptions, FetchedFile, fetch};
use ruvllm::hub::registry::ModelSpec;
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::{Model, Quant, Registry, Status};
use ruvltra_uploader::{
    Destination, ModelUploader, PublishOptions, PublishReport, VerifyOptions, VerifyReport,
};

use crate::bench::write_gguf_sample;
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
        // Git LFS uploads and Xet xorbs: whichever way the files went.
        (after.upload_bytes + after.xorb_upload_bytes)
            - (before.upload_bytes + before.xorb_upload_bytes)
    );
}

async fn demo(registry_path: &Path, tmp: &Path) -> anyhow::Result<ExitCode> {
    step(
        1,
        "starting the local Hub server (Hub and ModelScope modes) on a free loopback port",
    );
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
    println!(
        "    its ModelScope mode answers on the same port: {} (--modelscope-endpoint or MODELSCOPE_ENDPOINT; API under /api/v1)",
        server.url()
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

    let endpoint = Endpoint::parse(&server.url())?;
    let hub = HubClient::builder()
        .endpoint(endpoint.clone())
        .token(Token::new(DEMO_TOKEN))
        .build()?;
    let modelscope = ModelScopeClient::builder()
        .endpoint(endpoint)
        .token(Token::new(DEMO_TOKEN))
        .build()?;
    let progress = Progress::new();
    // The local Xet index of this demo lives in its throwaway folder, not the user's cache.
    let uploader = ModelUploader::with_client(hub.clone())
        .observer(progress.observer())
        .xet_cache(Some(tmp.join("xet-cache")));
    let opts = PublishOptions {
        tag: Some("v1.0.0".to_owned()),
        ..PublishOptions::default()
    };
    let mut hub_run = Run::new("hub", "Hub mode", &server.url());
    // The endpoint as `--modelscope-endpoint` and MODELSCOPE_ENDPOINT take it (the site, not
    // its `/api/v1` root), so that what the demo prints can be pasted back.
    let mut ms_run = Run::new("modelscope", "ModelScope mode", &server.url());

    step(
        3,
        &format!(
            "publishing to {} on the Hub mode, then to the ModelScope mode of the same server, with the model cards and Modelfiles, tag v1.0.0 (like `cargo xtask publish --to all --tag v1.0.0`)",
            demo_reg.repo
        ),
    );
    hub_run.first = Some(
        publish_once(server, &progress, &hub_run, "for this publish", || {
            uploader.publish_to(&hub, &demo_reg, &files, &opts)
        })
        .await?,
    );
    ms_run.first = Some(
        publish_once(server, &progress, &ms_run, "for this publish", || {
            uploader.publish_to(&modelscope, &demo_reg, &files, &opts)
        })
        .await?,
    );
    for run in [&hub_run, &ms_run] {
        let first = run.first.as_ref().map(|(r, _)| r);
        ensure!(
            first.is_some_and(PublishReport::verified),
            "the first publish to the {} did not verify",
            run.label
        );
        ensure!(
            first.is_some_and(|r| r.repos.iter().all(|repo| repo.commit.is_some())),
            "the first publish to the {} made no commit",
            run.label
        );
    }

    step(
        4,
        "verifying both modes against the registry, downloading and re-hashing every file (like `cargo xtask verify --to all --deep`)",
    );
    let verify_opts = VerifyOptions {
        branch: None,
        deep: true,
    };
    hub_run.verified = verify_on(
        &uploader,
        &progress,
        &hub_run,
        &hub,
        &demo_reg,
        &verify_opts,
    )
    .await?;
    ms_run.verified = verify_on(
        &uploader,
        &progress,
        &ms_run,
        &modelscope,
        &demo_reg,
        &verify_opts,
    )
    .await?;

    step(
        5,
        "publishing the same files again to both modes: nothing to upload, no new commit",
    );
    hub_run.again = Some(
        publish_once(
            server,
            &progress,
            &hub_run,
            "for the second publish",
            || uploader.publish_to(&hub, &demo_reg, &files, &opts),
        )
        .await?,
    );
    ms_run.again = Some(
        publish_once(server, &progress, &ms_run, "for the second publish", || {
            uploader.publish_to(&modelscope, &demo_reg, &files, &opts)
        })
        .await?,
    );
    for run in [&hub_run, &ms_run] {
        run.check_no_op()?;
    }

    // What Xet is for: a download, one metadata edit, and the update of both.
    let edited = demo_reg
        .models
        .first()
        .context("the demo registry has no model")?
        .clone();
    let cache = tmp.join("ruvllm-cache");
    step(
        6,
        &format!(
            "downloading {} with ruvllm through Xet into a fresh cache (like `ruvllm pull --repo {} --file {}`)",
            edited.file, demo_reg.repo, edited.file
        ),
    );
    let cold = pull(&hub, &demo_reg, &edited, &cache).await?;
    println!(
        "    {} bytes, sha256 checked; {} bytes fetched through Xet, commit {}",
        edited.bytes.unwrap_or(0),
        cold.fetched_bytes,
        cold.commit.as_deref().unwrap_or("-")
    );

    let old_name = edited.name.clone().unwrap_or_else(|| edited.id.clone());
    let new_name = format!("{old_name}, renamed in its GGUF metadata");
    step(
        7,
        &format!(
            "editing general.name in the header of {} ({old_name:?} -> {new_name:?}: the weights after the header are the same bytes) and publishing both modes again",
            edited.file
        ),
    );
    let (demo_reg, edit) = edit_name(&demo_reg, &edited, &new_name, &files, &demo_registry_path)?;
    // The data section keeps its length, so a change of size is how far the weights moved.
    println!(
        "    {} is now {} bytes (was {}: every byte after the header moved by {}), sha256 {}",
        edited.file,
        edit.bytes,
        edited.bytes.unwrap_or(0),
        edit.bytes.abs_diff(edited.bytes.unwrap_or(0)),
        edit.sha256
    );
    let edit_opts = PublishOptions::default();
    let before = server.stats();
    let hub_edit = uploader
        .publish_to(&hub, &demo_reg, &files, &edit_opts)
        .await
        .context("publishing the edit to the Hub mode failed")?;
    progress.finish();
    let after = server.stats();
    let hub_out = (after.upload_bytes + after.xorb_upload_bytes)
        - (before.upload_bytes + before.xorb_upload_bytes);
    let ms_edit = uploader
        .publish_to(&modelscope, &demo_reg, &files, &edit_opts)
        .await
        .context("publishing the edit to the ModelScope mode failed")?;
    progress.finish();
    let point = EditPoint::of(&hub_edit, &ms_edit, &edited.file, hub_out, edit.bytes)?;
    point.print_publish();

    step(
        8,
        &format!(
            "updating the download of {} with ruvllm: the chunks the cached revision has are copied from it, the others fetched",
            edited.file
        ),
    );
    let update = pull(&hub, &demo_reg, demo_model(&demo_reg, &edited.id)?, &cache).await?;
    let copied_from = update.copied_from.clone().context(
        "the update copied nothing from the cached revision; Xet delta updates are broken",
    )?;
    ensure!(
        update.fetched_bytes * 10 < edit.bytes,
        "the update fetched {} bytes of a {}-byte file; a header edit should fetch a few chunks",
        update.fetched_bytes,
        edit.bytes
    );
    println!(
        "    {} bytes fetched ({}), {} bytes copied from the cached revision {copied_from}; sha256 checked, commit {}",
        update.fetched_bytes,
        percent(update.fetched_bytes, edit.bytes),
        update.copied_bytes,
        update.commit.as_deref().unwrap_or("-")
    );

    println!("\nsummary:");
    for run in [&hub_run, &ms_run] {
        run.print_summary();
    }
    point.print_summary(&cold, &update);
    println!(
        "\ndone: {} model(s) published, verified and tagged v1.0.0 on a local Hub and the ModelScope mode of the same server; the re-publish sent 0 bytes and made no commit; after a header edit, Xet sent {} of the file and ruvllm fetched {} of it.",
        demo_reg.models.len(),
        percent(point.hub_out, point.file_bytes),
        percent(update.fetched_bytes, point.file_bytes),
    );
    println!(
        "next: `cargo xtask publish --registry registry.json --files <folder> --dry-run` against the real Hub (HF_TOKEN), `--to all` for ModelScope too (MODELSCOPE_API_TOKEN)."
    );
    Ok(ExitCode::SUCCESS)
}

/// One destination of the demo and what happened there.
struct Run {
    /// `hub` or `modelscope` (the `--to` value).
    name: &'static str,
    /// For messages: "Hub mode", "ModelScope mode".
    label: &'static str,
    /// The endpoint it was reached at, in the form its `--endpoint` flag takes.
    url: String,
    /// The first publish and the server's counters around it.
    first: Option<(PublishReport, Counts)>,
    /// The deep verification after it.
    verified: Vec<VerifyReport>,
    /// The second publish and the server's counters around it.
    again: Option<(PublishReport, Counts)>,
}

/// What the server counted during one publish.
#[derive(Debug, Clone, Copy)]
struct Counts {
    api_requests: u64,
    transfer_requests: u64,
}

impl Run {
    fn new(name: &'static str, label: &'static str, url: &str) -> Run {
        Run {
            name,
            label,
            url: url.to_owned(),
            first: None,
            verified: Vec::new(),
            again: None,
        }
    }

    /// The second publish must send nothing and leave every branch where the first put it.
    fn check_no_op(&self) -> anyhow::Result<()> {
        let (Some((first, _)), Some((again, counts))) = (&self.first, &self.again) else {
            bail!("the {} was not published twice", self.label);
        };
        ensure!(
            again.verified(),
            "the second publish to the {} did not verify",
            self.label
        );
        let sent: u64 = again.repos.iter().map(|r| r.bytes_sent).sum();
        let objects: u64 = again.repos.iter().map(|r| r.objects_sent).sum();
        let commits = again.repos.iter().filter(|r| r.commit.is_some()).count();
        let moved = again
            .repos
            .iter()
            .zip(&first.repos)
            .any(|(a, f)| a.head != f.commit || a.repo != f.repo);
        // The transfer counter is the Hub mode's (downloads and upload URLs); zero there too.
        if sent != 0 || objects != 0 || commits != 0 || counts.transfer_requests != 0 || moved {
            bail!(
                "the second publish to the {} sent {sent} bytes in {objects} object(s) with {} transfer request(s), made {commits} commit(s) or moved a branch; it should have been a no-op",
                self.label,
                counts.transfer_requests
            );
        }
        Ok(())
    }

    fn print_summary(&self) {
        let (Some((first, first_counts)), Some((_, again_counts))) = (&self.first, &self.again)
        else {
            return;
        };
        for repo in &first.repos {
            println!(
                "  {:<10} {}  {}@{}  commit {}  tag {}  sent {} bytes in {} object(s)",
                self.name,
                self.url,
                repo.repo,
                repo.branch,
                repo.commit.as_deref().unwrap_or("-"),
                repo.tag.as_ref().map(|t| t.name.as_str()).unwrap_or("-"),
                repo.bytes_sent,
                repo.objects_sent,
            );
        }
        let checked: usize = self.verified.iter().map(|v| v.checked).sum();
        let requests = |c: &Counts| {
            if self.name == "hub" {
                format!(
                    "{} API + {} transfer requests",
                    c.api_requests, c.transfer_requests
                )
            } else {
                format!("{} requests", c.api_requests + c.transfer_requests)
            }
        };
        println!(
            "  {:<10} first publish {}; deep verify {checked} path(s) OK; re-publish {}, 0 bytes, no commit",
            "",
            requests(first_counts),
            requests(again_counts),
        );
    }
}

/// Publishes once to one destination, prints the report and the server's counters.
async fn publish_once<F, Fut>(
    server: &HubServer,
    progress: &Progress,
    run: &Run,
    label: &str,
    publish: F,
) -> anyhow::Result<(PublishReport, Counts)>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<PublishReport, ruvltra_uploader::UploadError>>,
{
    progress.destination(run.name);
    let before = server.stats();
    let report = publish()
        .await
        .with_context(|| format!("publish to the {} failed", run.label))?;
    progress.finish();
    println!("== {} ==", run.name);
    print_publish_report(&report, run.name);
    let after = server.stats();
    if run.name == "hub" {
        stats_line(label, &before, &after);
    } else {
        // The server's commit, byte and transfer counters are the Hub mode's; the ModelScope
        // mode's uploads go to `/api/v1/lfs-upload/...` and count as API requests.
        println!(
            "    server counters {label}: {} requests (uploads included; the commits and bytes are in the report above)",
            after.api_requests - before.api_requests
        );
    }
    Ok((
        report,
        Counts {
            api_requests: after.api_requests - before.api_requests,
            transfer_requests: after.transfer_requests - before.transfer_requests,
        },
    ))
}

/// Verifies the registry on one destination (deep) and prints each report.
async fn verify_on<D: Destination>(
    uploader: &ModelUploader,
    progress: &Progress,
    run: &Run,
    dest: &D,
    reg: &Registry,
    opts: &VerifyOptions,
) -> anyhow::Result<Vec<VerifyReport>> {
    progress.destination(run.name);
    let reports = uploader
        .verify_registry_on(dest, reg, opts)
        .await
        .with_context(|| format!("verifying the {} failed", run.label))?;
    progress.finish();
    println!("== {} ==", run.name);
    for report in &reports {
        print_verify_report(report, run.name);
    }
    ensure!(
        !reports.is_empty() && reports.iter().all(|r| r.ok() && r.unverified.is_empty()),
        "verification of the {} found differences",
        run.label
    );
    Ok(reports)
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
    for (n, model) in reg.models.iter_mut().enumerate() {
        let name = model.name.clone().unwrap_or_else(|| model.id.clone());
        write_demo_sample(model, sample_seed(n), &name, files)?;
        model.extra_files.clear();
    }
    ruvltra_registry::validate(&reg)
        .map_err(|p| anyhow::anyhow!("the demo registry is invalid:\n{p}"))?;
    Ok(reg)
}

/// The weights of the `n`th model of the demo registry: one stream per model (different
/// models have different weights), the same stream whatever the header says.
fn sample_seed(n: usize) -> u64 {
    n as u64 + 1
}

/// Writes `model`'s sample file with `general.name` = `name` and the weights of `seed`, and
/// fills in its size and sha256.
fn write_demo_sample(model: &mut Model, seed: u64, name: &str, files: &Path) -> anyhow::Result<()> {
    let quant = Quant::from_label(&model.quant)
        .with_context(|| format!("model {} has an unknown quant", model.id))?;
    let mut sample = SampleModel::new(
        model.architecture.as_deref().unwrap_or("qwen2"),
        quant.file_type(),
        SAMPLE_PARAMS,
    );
    sample.name = name.to_owned();
    if let Some(ctx) = model.context_length.and_then(|c| u32::try_from(c).ok()) {
        sample.context_length = ctx;
    }
    let path = files.join(&model.file);
    write_gguf_sample(&sample.build()?, &path, seed)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let (sha256, bytes) = ruvltra_uploader::hash_file(&path, &mut |_| {})
        .with_context(|| format!("cannot hash {}", path.display()))?;
    model.bytes = Some(bytes);
    model.sha256 = Some(sha256.to_hex());
    Ok(())
}

/// The edited file's new size and sha256.
struct Edit {
    bytes: u64,
    sha256: String,
}

/// Rewrites `edited`'s sample with `general.name` = `new_name` (same weights), saves the
/// demo registry with its new size and sha256 and returns the registry as loaded again.
fn edit_name(
    reg: &Registry,
    edited: &Model,
    new_name: &str,
    files: &Path,
    registry_path: &Path,
) -> anyhow::Result<(Registry, Edit)> {
    let mut reg = reg.clone();
    let n = reg
        .models
        .iter()
        .position(|m| m.id == edited.id)
        .with_context(|| format!("model {} is not in the demo registry", edited.id))?;
    write_demo_sample(&mut reg.models[n], sample_seed(n), new_name, files)?;
    let edit = Edit {
        bytes: reg.models[n].bytes.unwrap_or(0),
        sha256: reg.models[n].sha256.clone().unwrap_or_default(),
    };
    ruvltra_registry::save(registry_path, &reg)
        .with_context(|| format!("cannot write {}", registry_path.display()))?;
    Ok((ruvltra_registry::load(registry_path)?, edit))
}

/// The model `id` of the demo registry.
fn demo_model<'r>(reg: &'r Registry, id: &str) -> anyhow::Result<&'r Model> {
    reg.models
        .iter()
        .find(|m| m.id == id)
        .with_context(|| format!("model {id} is not in the demo registry"))
}

/// What `ruvllm` did for one download through Xet.
struct Pulled {
    commit: Option<String>,
    fetched_bytes: u64,
    copied_bytes: u64,
    copied_from: Option<String>,
}

/// Downloads `model` from the Hub mode into `cache` as `ruvllm pull --repo --file --sha256
/// --size` does (the sha256 checked), and insists that the bytes came through Xet.
async fn pull(
    hub: &HubClient,
    reg: &Registry,
    model: &Model,
    cache: &Path,
) -> anyhow::Result<Pulled> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let sha256 = model
        .sha256
        .as_deref()
        .map(|hex| {
            ruvltra_registry::parse_sha256(hex)
                .with_context(|| format!("model {} has a malformed sha256", model.id))
        })
        .transpose()?;
    let spec = ModelSpec {
        id: leak(&model.id),
        file: leak(&model.file),
        quant: Quant::from_label(&model.quant)
            .with_context(|| format!("model {} has an unknown quant", model.id))?,
        size: leak(&model.size),
        repo: leak(model.repo(reg)),
        revision: "main",
        bytes: model.bytes,
        sha256,
        ..ModelSpec::EMPTY
    };
    let opts = DownloadOptions {
        cache_dir: Some(cache.to_owned()),
        client: Some(hub.clone()),
        offline: false,
        disable_xet: false,
        ..DownloadOptions::default()
    };
    let fetched = fetch(&spec, &opts)
        .await
        .with_context(|| format!("ruvllm could not download {}", model.file))?;
    let file: &FetchedFile = fetched.files.first().context("ruvllm reported no file")?;
    let xet = file.xet.as_ref().filter(|x| x.used).with_context(|| {
        format!(
            "ruvllm did not download {} through Xet ({}); the demo shows Xet, so unset HF_HUB_DISABLE_XET",
            model.file,
            file.xet
                .as_ref()
                .and_then(|x| x.failure.as_deref())
                .unwrap_or("it did not try")
        )
    })?;
    Ok(Pulled {
        commit: file.commit.clone(),
        fetched_bytes: xet.fetched_bytes,
        copied_bytes: xet.copied_bytes,
        copied_from: xet.copied_from.clone(),
    })
}

/// `part` as a percentage of `whole`, for the summary lines.
fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// What the edit's publishes sent, to each mode.
struct EditPoint {
    file_bytes: u64,
    /// Bytes the server received through Xet (xorbs) and LFS for the Hub mode's publish.
    hub_out: u64,
    /// The edited file's chunks and where they came from.
    chunks: u64,
    new_chunks: u64,
    known_chunks: u64,
    shard_bytes: u64,
    /// Bytes the ModelScope mode's publish sent (Git LFS: the whole file).
    modelscope_out: u64,
}

impl EditPoint {
    fn of(
        hub: &PublishReport,
        modelscope: &PublishReport,
        file: &str,
        hub_out: u64,
        file_bytes: u64,
    ) -> anyhow::Result<EditPoint> {
        for (report, label) in [(hub, "Hub mode"), (modelscope, "ModelScope mode")] {
            ensure!(
                report.verified() && report.repos.iter().all(|r| r.commit.is_some()),
                "the edit's publish to the {label} made no verified commit"
            );
        }
        let repo = hub
            .repos
            .first()
            .context("the Hub mode's report is empty")?;
        let xet = repo
            .plan
            .iter()
            .find(|e| e.path == file)
            .and_then(|e| e.xet.as_ref())
            .with_context(|| format!("the edit of {file} did not go through Xet"))?;
        let point = EditPoint {
            file_bytes,
            hub_out,
            chunks: xet.chunks,
            new_chunks: xet.new_chunks,
            known_chunks: xet.local_chunks + xet.server_chunks + xet.repeated_chunks,
            shard_bytes: repo.xet.as_ref().map_or(0, |x| x.shard_bytes),
            modelscope_out: modelscope.repos.iter().map(|r| r.bytes_sent).sum(),
        };
        ensure!(
            point.hub_out * 10 < file_bytes,
            "the edit's publish sent {} bytes of a {file_bytes}-byte file through Xet; a header edit should send a few chunks",
            point.hub_out
        );
        Ok(point)
    }

    fn print_publish(&self) {
        println!(
            "    hub (Xet):            {} chunk(s), {} new, {} already known; {} bytes of xorbs sent ({} of the file) and a {}-byte shard",
            self.chunks,
            self.new_chunks,
            self.known_chunks,
            self.hub_out,
            percent(self.hub_out, self.file_bytes),
            self.shard_bytes
        );
        println!(
            "    modelscope (Git LFS): the whole file again, {} bytes sent",
            self.modelscope_out
        );
        println!("    both committed and verified against the edited registry");
    }

    fn print_summary(&self, cold: &Pulled, update: &Pulled) {
        println!(
            "  {:<10} header edit of a {}-byte file: Hub mode sent {} bytes through Xet ({}), ModelScope mode {} through Git LFS",
            "xet",
            self.file_bytes,
            self.hub_out,
            percent(self.hub_out, self.file_bytes),
            self.modelscope_out
        );
        println!(
            "  {:<10} ruvllm: first download fetched {} bytes, the update fetched {} ({}) and copied {} from the cached revision",
            "",
            cold.fetched_bytes,
            update.fetched_bytes,
            percent(update.fetched_bytes, self.file_bytes),
            update.copied_bytes
        );
    }
}
