//! `cargo xtask verify`: checks on its own that the Hub (or ModelScope, `--to modelscope`)
//! holds every published model of the registry with the registry's sizes and sha256s
//! (`--deep` downloads and re-hashes).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hub_client::HubClient;
use ruvltra_uploader::{ModelUploader, VerifyOptions, VerifyReport};

use modelscope_client::ModelScopeClient;

use crate::publish::{Progress, To, print_verify_report, runtime};

/// Arguments of `cargo xtask verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry whose published models must be on the Hub (or on ModelScope, `--to`).
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
    /// The Hub endpoint; else `HF_ENDPOINT`, else https://huggingface.co.
    #[arg(long)]
    endpoint: Option<String>,
    /// Verify this branch instead of each model's revision.
    #[arg(long)]
    branch: Option<String>,
    /// Download every file and hash it again.
    #[arg(long)]
    deep: bool,
    /// Print a machine-readable JSON report on stdout.
    #[arg(long)]
    json: bool,
    /// Which destination to check: the Hub (default), ModelScope (each model's ModelScope
    /// repository on `master`), or both.
    #[arg(long, value_enum, default_value_t = To::Hub)]
    to: To,
    /// The ModelScope endpoint; else `MODELSCOPE_ENDPOINT`, else `MODELSCOPE_DOMAIN`, else
    /// https://www.modelscope.cn.
    #[arg(long)]
    modelscope_endpoint: Option<String>,
}

/// Runs `cargo xtask verify`: exit 0 when nothing is missing or different, 1 otherwise.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let reg = ruvltra_registry::load(&args.registry)?;
    let client = HubClient::from_env(args.endpoint.as_deref())?;
    let progress = Progress::new();
    let uploader = ModelUploader::with_client(client).observer(progress.observer());
    let opts = VerifyOptions {
        branch: args.branch,
        deep: args.deep,
    };
    let rt = runtime()?;
    // Each report with the `--to` value of the site it was read from.
    let mut reports: Vec<(&str, VerifyReport)> = Vec::new();
    if matches!(args.to, To::Hub | To::All) {
        let found = rt
            .block_on(uploader.verify_registry(&reg, &opts))
            .context("verify on the Hub failed")?;
        reports.extend(found.into_iter().map(|r| ("hub", r)));
    }
    if matches!(args.to, To::Modelscope | To::All) {
        let ms = ModelScopeClient::from_env(args.modelscope_endpoint.as_deref())?;
        progress.destination("modelscope");
        let found = rt
            .block_on(uploader.verify_registry_on(&ms, &reg, &opts))
            .context("verify on ModelScope failed")?;
        reports.extend(found.into_iter().map(|r| ("modelscope", r)));
    }
    progress.finish();
    if args.json {
        let plain: Vec<&VerifyReport> = reports.iter().map(|(_, r)| r).collect();
        println!("{}", serde_json::to_string_pretty(&plain)?);
    } else {
        for (to, report) in &reports {
            println!("{}@{}", report.repo, report.revision);
            print_verify_report(report, to);
        }
    }
    Ok(if reports.iter().all(|(_, r)| r.ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
