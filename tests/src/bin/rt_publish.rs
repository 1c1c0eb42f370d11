//! A publisher run as a child process by the crash tests (`tests/tests/crash.rs`), so that a
//! test can `kill -9` it in the middle of an upload and run it again.
//!
//! Usage: `rt_publish ENDPOINT REGISTRY_JSON FILES_DIR [TRANSFER]`; the token comes from
//! `HF_TOKEN`, the transfer is `lfs` unless given (`auto`, `xet`), and the local Xet index
//! is at `RUVLTRA_XET_CACHE`.
//! Exit 0 when the publish was verified, 1 otherwise (the error on stderr).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hub_client::{Endpoint, HubClient, token_from_env};
use ruvltra_uploader::{ModelUploader, PublishOptions, Transfer};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (endpoint, registry, files, transfer) = match args.as_slice() {
        [e, r, f] => (e, r, f, Transfer::Lfs),
        [e, r, f, t] if t == "lfs" => (e, r, f, Transfer::Lfs),
        [e, r, f, t] if t == "xet" => (e, r, f, Transfer::Xet),
        [e, r, f, t] if t == "auto" => (e, r, f, Transfer::Auto),
        _ => {
            eprintln!("usage: rt_publish ENDPOINT REGISTRY_JSON FILES_DIR [lfs|xet|auto]");
            return ExitCode::from(2);
        }
    };
    match run(
        endpoint,
        &PathBuf::from(registry),
        &PathBuf::from(files),
        transfer,
    ) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("error: the published files did not verify");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(endpoint: &str, registry: &Path, files: &Path, transfer: Transfer) -> Result<bool, String> {
    let reg = ruvltra_registry::load(registry).map_err(|e| e.to_string())?;
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(endpoint).map_err(|e| e.to_string())?)
        .token(token_from_env())
        .build()
        .map_err(|e| e.to_string())?;
    let uploader = ModelUploader::with_client(client).transfer(transfer);
    let opts = PublishOptions {
        card: false,
        ..PublishOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime
        .block_on(uploader.publish(&reg, files, &opts))
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| e.to_string())?
    );
    Ok(report.verified())
}
