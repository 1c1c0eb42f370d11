//! `cargo xtask publish`: pushes the registry's models found in a folder to the Hub (and/or
//! ModelScope with `--to modelscope|all`), then proves each destination matches. Also holds the progress display and report printing shared by
//! `verify` and `demo`.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use hub_client::HubClient;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use modelscope_client::ModelScopeClient;
use ruvltra_uploader::{
    Action, Destination, Event, ModelUploader, Observer, PublishOptions, PublishReport, RepoReport,
    Transfer, VerifyReport,
};

/// Arguments of `cargo xtask publish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry to publish from.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
    /// The folder holding the model files (found by their registry file names).
    #[arg(long)]
    files: PathBuf,
    /// The Hub endpoint; else `HF_ENDPOINT`, else https://huggingface.co.
    #[arg(long)]
    endpoint: Option<String>,
    /// Tag the published commit once verified (e.g. v1.0.0); an existing tag is never moved.
    #[arg(long)]
    tag: Option<String>,
    /// Publish to this branch instead of the registry's revision (created when missing from
    /// the default branch: `main` on the Hub, `master` on ModelScope).
    #[arg(long)]
    branch: Option<String>,
    /// Print the plan (every file's action, size and sha256) and stop.
    #[arg(long)]
    dry_run: bool,
    /// After the commit, download every file again and re-hash it.
    #[arg(long)]
    deep: bool,
    /// Print a machine-readable JSON report on stdout (logs stay on stderr); with `--to all`
    /// an object `{"hub": report, "modelscope": report}`.
    #[arg(long)]
    json: bool,
    /// Where to publish: the Hub (default), ModelScope (token `MODELSCOPE_API_TOKEN`, card with
    /// ModelScope front matter, branch `master`), or both in one run.
    #[arg(long, value_enum, default_value_t = To::Hub)]
    to: To,
    /// The ModelScope endpoint; else `MODELSCOPE_ENDPOINT`, else `MODELSCOPE_DOMAIN`, else
    /// https://www.modelscope.cn.
    #[arg(long)]
    modelscope_endpoint: Option<String>,
    /// How large files go to the Hub: `xet` (only the chunks the Hub lacks, with a local
    /// index of what this machine sent at `RUVLTRA_XET_CACHE`, else ~/.cache/ruvltra/xet),
    /// `lfs` (whole files through Git LFS), or `auto`: Xet when the Hub offers it, LFS
    /// otherwise. ModelScope always takes LFS.
    #[arg(long, value_enum, default_value_t = TransferArg::Auto)]
    transfer: TransferArg,
}

/// The values of `cargo xtask publish --transfer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransferArg {
    /// Xet when the Hub offers it, Git LFS otherwise.
    Auto,
    /// Xet only.
    Xet,
    /// Git LFS only.
    Lfs,
}

impl From<TransferArg> for Transfer {
    fn from(arg: TransferArg) -> Transfer {
        match arg {
            TransferArg::Auto => Transfer::Auto,
            TransferArg::Xet => Transfer::Xet,
            TransferArg::Lfs => Transfer::Lfs,
        }
    }
}

/// The destinations of `cargo xtask publish --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    /// The Hugging Face Hub.
    Hub,
    /// ModelScope.
    Modelscope,
    /// The Hub, then ModelScope.
    All,
}

/// Runs `cargo xtask publish`: exit 0 only when the Hub was verified to match (or, with
/// `--dry-run`, when the plan was made), 1 when the verification found differences.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let reg = ruvltra_registry::load(&args.registry)?;
    let hub = matches!(args.to, To::Hub | To::All);
    let modelscope = matches!(args.to, To::Modelscope | To::All);
    if modelscope && args.transfer == TransferArg::Xet {
        anyhow::bail!(
            "ModelScope has no Xet storage; publish with --to hub for --transfer xet, or use --transfer auto (Xet to the Hub, LFS to ModelScope)"
        );
    }
    let client = HubClient::from_env(args.endpoint.as_deref())?;
    if hub && !client.has_token() && !args.dry_run {
        anyhow::bail!("{}", client.missing_token());
    }
    let ms_client = if modelscope {
        let ms = ModelScopeClient::from_env(args.modelscope_endpoint.as_deref())?;
        if !ms.has_token() && !args.dry_run {
            anyhow::bail!("{} (or run with --dry-run)", ms.missing_token());
        }
        Some(ms)
    } else {
        None
    };
    let progress = Progress::new();
    let uploader = ModelUploader::with_client(client)
        .observer(progress.observer())
        .transfer(args.transfer.into());
    let opts = PublishOptions {
        branch: args.branch,
        tag: args.tag,
        dry_run: args.dry_run,
        deep_verify: args.deep,
        ..PublishOptions::default()
    };
    let rt = runtime()?;
    let mut reports: Vec<(&str, PublishReport)> = Vec::new();
    if hub {
        let report = rt
            .block_on(uploader.publish(&reg, &args.files, &opts))
            .context("publish to the Hub failed")?;
        reports.push(("hub", report));
    }
    if let Some(ms) = &ms_client {
        progress.destination("modelscope");
        let report = rt
            .block_on(uploader.publish_to(ms, &reg, &args.files, &opts))
            .context("publish to ModelScope failed")?;
        reports.push(("modelscope", report));
    }
    progress.finish();
    if args.json {
        let json = if args.to == To::All {
            let map: serde_json::Map<String, serde_json::Value> = reports
                .iter()
                .map(|(name, r)| Ok(((*name).to_owned(), serde_json::to_value(r)?)))
                .collect::<anyhow::Result<_>>()?;
            serde_json::Value::Object(map)
        } else {
            serde_json::to_value(&reports[0].1)?
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        for (name, report) in &reports {
            if reports.len() > 1 {
                println!("== {name} ==");
            }
            print_publish_report(report, name);
        }
    }
    let ok = reports.iter().all(|(_, r)| r.dry_run || r.verified());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The async runtime of publish, verify and sync (two workers: hashing runs on blocking
/// threads).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How reports name a destination given by its `--to` value (`hub`, `modelscope`).
pub fn destination_label(to: &str) -> &'static str {
    match to {
        "modelscope" => "ModelScope",
        _ => "the Hub",
    }
}

/// Prints a publish report for people; `to` is the destination's `--to` value (`hub`,
/// `modelscope`), which the report names where it says what was already there.
pub fn print_publish_report(report: &PublishReport, to: &str) {
    let destination = destination_label(to);
    for skipped in &report.skipped {
        println!("skipped {}: {}", skipped.id, skipped.reason);
    }
    for repo in &report.repos {
        println!(
            "{}@{}{}{}",
            repo.repo,
            repo.branch,
            if repo.created_repo {
                " (repository created)"
            } else {
                ""
            },
            if repo.created_branch {
                " (branch created from the default branch)"
            } else {
                ""
            }
        );
        println!("  {:<11} {:>12}  {:<64}  path", "action", "bytes", "sha256");
        for entry in &repo.plan {
            let action = match entry.action {
                Action::Add => "add",
                Action::Update => "update",
                Action::Unchanged => "unchanged",
                Action::ExtraOnHub => "extra",
            };
            let size = entry.size.or(entry.hub_size);
            let sha = entry.sha256.as_deref().or(entry.hub_sha256.as_deref());
            println!(
                "  {action:<11} {:>12}  {:<64}  {}{}",
                size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                sha.unwrap_or("-"),
                entry.path,
                entry.result.map(|r| format!(" ({r})")).unwrap_or_default()
            );
        }
        if report.dry_run {
            println!("  dry run: nothing was created, uploaded or committed");
            continue;
        }
        match &repo.commit {
            Some(commit) => println!(
                "  commit {commit} on top of {}{}",
                repo.parent_commit.as_deref().unwrap_or("-"),
                if repo.replanned {
                    " (re-planned after another commit landed)"
                } else {
                    ""
                }
            ),
            None => println!(
                "  no commit: {destination} already matched (head {})",
                repo.head.as_deref().unwrap_or("-")
            ),
        }
        println!(
            "  sent {} bytes in {} object(s); {} object(s) already on {destination}",
            repo.bytes_sent, repo.objects_sent, repo.objects_already_present
        );
        print_xet(repo);
        if let Some(tag) = &repo.tag {
            println!(
                "  tag {} -> {}{}",
                tag.name,
                tag.commit,
                if tag.created { "" } else { " (already there)" }
            );
        }
        if let Some(verify) = &repo.verify {
            print_verify_report(verify, to);
        }
    }
    if !report.warnings.is_empty() {
        println!(
            "{} warning(s), shown above as they came up",
            report.warnings.len()
        );
    }
}

/// Prints what a Xet upload sent and where each file's chunks came from.
fn print_xet(repo: &RepoReport) {
    let Some(xet) = &repo.xet else {
        return;
    };
    println!(
        "  through Xet: {} xorb(s) of {} bytes and {} shard(s) of {} bytes sent; {} dedup quer{} ({} hit(s)); local index {}",
        xet.xorbs_sent,
        xet.xorb_bytes,
        xet.shards_sent,
        xet.shard_bytes,
        xet.dedup_queries,
        if xet.dedup_queries == 1 { "y" } else { "ies" },
        xet.dedup_hits,
        match (xet.local_index, xet.local_index_invalidated) {
            (false, _) => "not used",
            (true, false) => "used",
            (true, true) => "used, then dropped (the Hub lacked xorbs it named)",
        }
    );
    for entry in &repo.plan {
        let Some(f) = &entry.xet else { continue };
        println!(
            "    {}: {} chunk(s), {} bytes: new {} ({} bytes), local index {} ({} bytes), Hub dedup {} ({} bytes), repeated {} ({} bytes); {} bytes sent",
            entry.path,
            f.chunks,
            f.bytes,
            f.new_chunks,
            f.new_bytes,
            f.local_chunks,
            f.local_bytes,
            f.server_chunks,
            f.server_bytes,
            f.repeated_chunks,
            f.repeated_bytes,
            f.sent_bytes
        );
    }
}

/// Prints a verification for people; `to` is the destination's `--to` value (`hub`,
/// `modelscope`), which names where the extra paths are.
pub fn print_verify_report(report: &VerifyReport, to: &str) {
    for line in verify_lines(report, destination_label(to)) {
        println!("{line}");
    }
}

/// The lines of a verification for people; `destination` is how they name the site.
fn verify_lines(report: &VerifyReport, destination: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if report.ok() {
        lines.push(format!(
            "  verified: {} path(s) of {} at {} match the manifest{}",
            report.checked,
            report.repo,
            report.revision,
            if report.deep {
                " (downloaded and re-hashed)"
            } else {
                ""
            }
        ));
    } else {
        lines.push(format!(
            "  verification FAILED: {} difference(s) in {} at {}",
            report.problems.len(),
            report.repo,
            report.revision
        ));
        for problem in &report.problems {
            lines.push(format!("    error: {}", problem.describe(destination)));
        }
    }
    for extra in &report.extras {
        lines.push(format!(
            "    warning: {extra} is on {destination} but in no manifest"
        ));
    }
    for path in &report.unverified {
        lines.push(format!(
            "    warning: {path} was only checked for presence: the registry has no sha256 for it (run `cargo xtask sync`)"
        ));
    }
    lines
}

/// Shows uploader events: progress bars when stderr is a terminal, plain log lines otherwise.
pub struct Progress {
    bars: Option<MultiProgress>,
    state: Arc<Mutex<HashMap<String, ProgressBar>>>,
    /// How the lines name the site the events come from (`destination_label`).
    destination: Arc<Mutex<&'static str>>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    /// Bars on a terminal, lines elsewhere.
    pub fn new() -> Progress {
        Progress {
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
            state: Arc::new(Mutex::new(HashMap::new())),
            destination: Arc::new(Mutex::new(destination_label("hub"))),
        }
    }

    /// Names the destination of the events that follow by its `--to` value (`hub`,
    /// `modelscope`); the Hub until this is called.
    pub fn destination(&self, to: &str) {
        if let Ok(mut destination) = self.destination.lock() {
            *destination = destination_label(to);
        }
    }

    /// The observer to hand to the uploader.
    pub fn observer(&self) -> Observer {
        let bars = self.bars.clone();
        let state = self.state.clone();
        let destination = self.destination.clone();
        Arc::new(move |event| {
            let destination = destination.lock().map(|d| *d).unwrap_or("the Hub");
            match &bars {
                Some(multi) => show_bar(multi, &state, event, destination),
                None => {
                    if let Some(line) = event_line(&event, destination) {
                        eprintln!("{line}");
                    }
                }
            }
        })
    }

    /// Clears any bar left.
    pub fn finish(&self) {
        if let Ok(mut bars) = self.state.lock() {
            for (_, bar) in bars.drain() {
                bar.finish_and_clear();
            }
        }
    }
}

/// The log line of an event, `None` for the progress events that only move bars;
/// `destination` names the site that already had an object.
fn event_line(event: &Event, destination: &str) -> Option<String> {
    Some(match event {
        Event::Step(s) => format!("==> {s}"),
        Event::Notice(s) => format!("    {s}"),
        Event::Warning(s) => format!("warning: {s}"),
        Event::HashStart { path, bytes } => format!("    hashing {path} ({bytes} bytes)"),
        Event::HashDone { path, sha256 } => format!("    {path}: sha256 {sha256}"),
        Event::UploadStart { path, bytes } => format!("    uploading {path} ({bytes} bytes)"),
        Event::UploadDone { path, sent: true } => format!("    uploaded {path}"),
        Event::UploadDone { path, sent: false } => {
            format!("    {path}: {destination} already has this object, nothing sent")
        }
        Event::Committing { repo, branch, .. } => format!("==> committing to {repo}@{branch}"),
        Event::HashProgress { .. } | Event::UploadProgress { .. } => return None,
    })
}

fn show_bar(
    multi: &MultiProgress,
    state: &Mutex<HashMap<String, ProgressBar>>,
    event: Event,
    destination: &str,
) {
    let style = ProgressStyle::with_template(
        "{prefix:>9} {wide_msg} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let Ok(mut bars) = state.lock() else {
        return;
    };
    let mut start = |key: String, prefix: &'static str, msg: String, total: u64| {
        let bar = multi.add(ProgressBar::new(total));
        bar.set_style(style.clone());
        bar.set_prefix(prefix);
        bar.set_message(msg);
        bars.insert(key, bar);
    };
    match event {
        Event::HashStart { path, bytes } => start(format!("h:{path}"), "hashing", path, bytes),
        Event::UploadStart { path, bytes } => start(format!("u:{path}"), "uploading", path, bytes),
        Event::HashProgress { path, done } => {
            if let Some(bar) = bars.get(&format!("h:{path}")) {
                bar.set_position(done);
            }
        }
        Event::UploadProgress { path, done } => {
            if let Some(bar) = bars.get(&format!("u:{path}")) {
                bar.set_position(done);
            }
        }
        Event::HashDone { ref path, .. } => {
            if let Some(bar) = bars.remove(&format!("h:{path}")) {
                bar.finish_and_clear();
            }
            print_above(multi, &event, destination);
        }
        Event::UploadDone { ref path, .. } => {
            if let Some(bar) = bars.remove(&format!("u:{path}")) {
                bar.finish_and_clear();
            }
            print_above(multi, &event, destination);
        }
        Event::Step(_) | Event::Notice(_) | Event::Warning(_) | Event::Committing { .. } => {
            print_above(multi, &event, destination);
        }
    }
}

/// Prints an event's log line above the bars.
fn print_above(multi: &MultiProgress, event: &Event, destination: &str) {
    if let Some(line) = event_line(event, destination) {
        let _ = multi.println(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruvltra_uploader::Difference;

    #[test]
    fn an_object_already_there_is_named_by_its_destination() {
        let event = Event::UploadDone {
            path: "model.gguf".to_owned(),
            sent: false,
        };
        assert_eq!(
            event_line(&event, destination_label("modelscope")).as_deref(),
            Some("    model.gguf: ModelScope already has this object, nothing sent")
        );
        assert_eq!(
            event_line(&event, destination_label("hub")).as_deref(),
            Some("    model.gguf: the Hub already has this object, nothing sent")
        );
    }

    #[test]
    fn the_progress_names_the_destination_it_is_told() {
        let progress = Progress::new();
        assert_eq!(*progress.destination.lock().unwrap(), "the Hub");
        progress.destination("modelscope");
        assert_eq!(*progress.destination.lock().unwrap(), "ModelScope");
    }

    #[test]
    fn extra_paths_are_named_on_their_destination() {
        let report = VerifyReport {
            repo: "ruvnet/ruvltra".to_owned(),
            revision: "master".to_owned(),
            checked: 1,
            deep: false,
            problems: vec![Difference {
                path: "model.gguf".to_owned(),
                problem: "missing",
                expected: String::new(),
                actual: String::new(),
            }],
            extras: vec!["notes.txt".to_owned()],
            unverified: Vec::new(),
        };
        let lines = verify_lines(&report, destination_label("modelscope"));
        assert!(
            lines.contains(&"    error: model.gguf: missing on ModelScope".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines
                .contains(&"    warning: notes.txt is on ModelScope but in no manifest".to_owned()),
            "{lines:?}"
        );
        assert!(!lines.iter().any(|l| l.contains("the Hub")), "{lines:?}");
        let lines = verify_lines(&report, destination_label("hub"));
        assert!(
            lines.contains(&"    warning: notes.txt is on the Hub but in no manifest".to_owned()),
            "{lines:?}"
        );
    }
}
