//! `cargo xtask sync`: keeps registry.json true to the Hub (and, with `--from modelscope|all`,
//! to the ModelScope mirror); `--check` guards it in CI.
//!
//! Exit codes: 0 when the registry matches the Hub or ModelScope (after the sync, or as it is
//! with `--check`); 1 when it does not (drift not accepted, a published model missing there,
//! a ModelScope repository not published yet, or with `--check` any difference), every
//! finding listed; 2 when the registry cannot be read or a site cannot be read, in which case
//! the file is untouched. With `--from all` both sites are read before the file is saved once.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hub_client::HubClient;
use modelscope_client::ModelScopeClient;
use ruvltra_sync::{AnySource, Mode, Outcome, Severity};
use serde_json::json;

/// Arguments of `cargo xtask sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry to sync.
    #[arg(long, default_value = "registry.json")]
    registry: PathBuf,
    /// The Hub endpoint; else HF_ENDPOINT, else https://huggingface.co.
    #[arg(long)]
    endpoint: Option<String>,
    /// Change nothing: exit 0 when the registry matches what `--from` reads, 1 listing every
    /// difference.
    #[arg(long, conflicts_with = "accept")]
    check: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Take the Hub's (or ModelScope's) sha256 and size where they differ from the
    /// registry's (drift).
    #[arg(long)]
    accept: bool,
    /// What to read: the Hub (default; `model.hub`, new models added for review), the
    /// ModelScope mirror (`model.modelscope`, nothing added; token from
    /// `MODELSCOPE_API_TOKEN` when set), or both, saved once.
    #[arg(long, value_enum, default_value_t = Site::Hub)]
    from: Site,
    /// The ModelScope endpoint; else `MODELSCOPE_ENDPOINT`, else `MODELSCOPE_DOMAIN`, else
    /// https://www.modelscope.cn.
    #[arg(long)]
    modelscope_endpoint: Option<String>,
}

/// The sites of `cargo xtask sync --from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Site {
    /// The Hugging Face Hub.
    Hub,
    /// The ModelScope mirror.
    Modelscope,
    /// The Hub, then ModelScope.
    All,
}

impl Site {
    /// The site(s) in messages.
    fn site(self) -> &'static str {
        match self {
            Site::Hub => "the Hub",
            Site::Modelscope => "ModelScope",
            Site::All => "the Hub and ModelScope",
        }
    }

    /// The `--from` flag to repeat in suggested commands (none for the default).
    fn flag(self) -> &'static str {
        match self {
            Site::Hub => "",
            Site::Modelscope => " --from modelscope",
            Site::All => " --from all",
        }
    }

    /// Whose values `--accept` takes, in messages.
    fn sites(self) -> &'static str {
        match self {
            Site::Hub => "the Hub's",
            Site::Modelscope => "ModelScope's",
            Site::All => "their",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Site::Hub => "hub",
            Site::Modelscope => "modelscope",
            Site::All => "all",
        }
    }
}

/// Runs the sync or the check; see the module documentation for the exit codes.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mode = if args.check {
        Mode::Check
    } else {
        Mode::Sync {
            accept: args.accept,
        }
    };
    let result = (|| -> anyhow::Result<Outcome> {
        // A token is optional on both sites: public repositories are read without one.
        let hub = match args.from {
            Site::Hub | Site::All => Some(HubClient::from_env(args.endpoint.as_deref()).context(
                "cannot set up the Hub client; pass --endpoint https://... or fix HF_ENDPOINT",
            )?),
            Site::Modelscope => None,
        };
        // The same client set-up as `cargo xtask publish --to modelscope`.
        let modelscope = match args.from {
            Site::Modelscope | Site::All => Some(
                ModelScopeClient::from_env(args.modelscope_endpoint.as_deref()).context(
                    "cannot set up the ModelScope client; pass --modelscope-endpoint \
                     https://... or fix MODELSCOPE_ENDPOINT / MODELSCOPE_DOMAIN",
                )?,
            ),
            Site::Hub => None,
        };
        let mut sources = Vec::new();
        if let Some(client) = &hub {
            sources.push(AnySource::Hub(client));
        }
        if let Some(client) = &modelscope {
            sources.push(AnySource::ModelScope(client));
        }
        let outcome =
            crate::publish::runtime()?.block_on(ruvltra_sync::sync_registry_file_from(
                &args.registry,
                &sources,
                mode,
                ruvltra_sync::DEFAULT_CONCURRENCY,
                ruvltra_sync::now_rfc3339(),
            ))?;
        Ok(outcome)
    })();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(err) => {
            let message = error_chain(&err);
            if args.json {
                let report = json!({
                    "registry": args.registry.display().to_string(),
                    "from": args.from.label(),
                    "mode": mode_name(mode),
                    "written": false,
                    "exit_code": 2,
                    "error": message,
                });
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            eprintln!(
                "error: {message}\n{} was left untouched",
                args.registry.display()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let code: u8 = if outcome.in_sync() { 0 } else { 1 };
    if args.json {
        print_json(&args, &outcome, code)?;
    } else {
        print_text(&args, &outcome);
    }
    Ok(ExitCode::from(code))
}

/// The error and its causes joined by `: `, leaving out a cause whose text an outer message
/// already quotes (the Hub client's messages include their transport error).
fn error_chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Check => "check",
        Mode::Sync { accept: false } => "sync",
        Mode::Sync { accept: true } => "sync-accept",
    }
}

fn print_json(args: &Args, outcome: &Outcome, code: u8) -> anyhow::Result<()> {
    let report = &outcome.report;
    let value = json!({
        "registry": args.registry.display().to_string(),
        "from": args.from.label(),
        "mode": mode_name(outcome.mode),
        "written": outcome.written,
        "exit_code": code,
        "in_sync": outcome.in_sync(),
        "summary": {
            "changes": report.findings.iter().filter(|f| f.change).count(),
            "differences": report.differences().count(),
            "remaining": report.remaining().count(),
            "drift": report.drift().count(),
        },
        "findings": report.findings,
    });
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

fn print_text(args: &Args, outcome: &Outcome) {
    let report = &outcome.report;
    let path = args.registry.display();
    let (site, sites, from) = (args.from.site(), args.from.sites(), args.from.flag());
    // In check mode every difference is a failure, so all are listed; changes are what a
    // sync would do.
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by_key(|f| f.severity);
    for finding in &findings {
        let loud = matches!(finding.severity, Severity::Drift | Severity::Error)
            || (outcome.mode == Mode::Check && finding.difference);
        if loud {
            eprintln!("{finding}");
        } else {
            println!("{finding}");
        }
    }
    let drift = report.drift().filter(|f| !f.change).count();
    if drift > 0 {
        eprintln!(
            "DRIFT: {drift} file{} on {site} differ from the sha256 in {path}; the registry kept \
             its values. Check the files, then run `cargo xtask sync{from} --accept` to take \
             {sites}",
            if drift == 1 { "" } else { "s" }
        );
    }
    match outcome.mode {
        Mode::Check => {
            let differences = report.differences().count();
            if differences == 0 {
                println!("{path} matches {site}");
            } else {
                eprintln!(
                    "{path} does not match {site}: {differences} difference{}; run `cargo xtask \
                     sync{from}` and commit the result",
                    if differences == 1 { "" } else { "s" }
                );
            }
        }
        Mode::Sync { .. } => {
            let changes = report.findings.iter().filter(|f| f.change).count();
            if outcome.written {
                println!(
                    "updated {path}: {changes} change{}",
                    if changes == 1 { "" } else { "s" }
                );
            } else {
                println!("{path} is up to date");
            }
            let remaining = report.remaining().count();
            if remaining > 0 {
                eprintln!(
                    "{path} still differs from {site} in {remaining} place{} (listed above)",
                    if remaining == 1 { "" } else { "s" }
                );
            }
        }
    }
}
