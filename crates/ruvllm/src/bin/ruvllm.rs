//! The `ruvllm` command: lists the compiled-in model catalog and pulls verified model files
//! into the shared Hugging Face cache.
//!
//! `pull` prints the local path as the last line of stdout; everything else (progress,
//! notes, errors) goes to stderr. Exit status: 0 on success, 1 when the command failed,
//! 2 for usage errors.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ruvllm::hub::download::{
    DownloadOptions, Fetched, Progress, ProgressEvent, ProgressFn, Source, fetch_blocking,
};
use ruvllm::hub::registry::{self, ArtifactKind, ModelSpec, Quant, Status};

#[derive(Debug, Parser)]
#[command(
    name = "ruvllm",
    version,
    about = "RuvLTRA models: the compiled-in catalog and verified downloads"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the compiled-in catalog: id, quant, parameters, file size, RAM needed, status.
    List,
    /// Show everything the catalog knows about one model, and whether it is cached.
    Info {
        /// The model id (see `ruvllm list`).
        id: String,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Download a model (or find it in the cache), verify it and print its local path last.
    Pull(PullArgs),
    /// Check a cached model against its size and sha256 (a full re-hash), without network.
    Verify {
        /// The model id (see `ruvllm list`).
        id: String,
        /// A revision other than the catalog's.
        #[arg(long)]
        revision: Option<String>,
        #[command(flatten)]
        cache: CacheArgs,
    },
}

#[derive(Debug, Args)]
struct CacheArgs {
    /// The cache root (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct PullArgs {
    /// The model id (see `ruvllm list`); or use --repo and --file for a file outside the catalog.
    #[arg(required_unless_present = "repo", conflicts_with = "repo")]
    id: Option<String>,
    /// A revision (branch, tag or commit) instead of the catalog's pin.
    #[arg(long)]
    revision: Option<String>,
    /// The Hub endpoint (default: HF_ENDPOINT, else https://huggingface.co).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Use the cache only (also HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// Re-hash cached files instead of trusting their verification marker.
    #[arg(long)]
    full_verify: bool,
    /// Download with a plain GET even when the Hub stores a file in Xet (also
    /// HF_HUB_DISABLE_XET=1).
    #[arg(long)]
    no_xet: bool,
    /// No progress bar or notes on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    cache: CacheArgs,
    /// A repository (`ns/name`) to pull a file from, outside the catalog.
    #[arg(long, requires = "file", value_name = "NS/NAME")]
    repo: Option<String>,
    /// With --repo: the file's path in the repository.
    #[arg(long, requires = "repo", value_name = "PATH")]
    file: Option<String>,
    /// With --repo: the expected sha256 (64 hex digits).
    #[arg(long, requires = "repo", value_name = "HEX")]
    sha256: Option<String>,
    /// With --repo: the expected size in bytes.
    #[arg(long, requires = "repo", value_name = "BYTES")]
    size: Option<u64>,
    /// With --repo: a fallback URL tried when the Hub fails (repeatable, in order).
    #[arg(long = "fallback-url", requires = "repo", value_name = "URL")]
    fallback_urls: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let result = match cli.command {
        Command::List => {
            list();
            Ok(())
        }
        Command::Info { id, cache } => info(&id, cache),
        Command::Pull(args) => pull(args),
        Command::Verify {
            id,
            revision,
            cache,
        } => verify(&id, revision, cache),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn find(id: &str) -> Result<&'static ModelSpec, String> {
    registry::by_id(id).ok_or_else(|| {
        let ids: Vec<&str> = registry::MODELS.iter().map(|m| m.id).collect();
        format!(
            "no model {id:?} in the catalog; known ids: {}",
            if ids.is_empty() {
                "(none)".to_owned()
            } else {
                ids.join(", ")
            }
        )
    })
}

fn human_bytes(bytes: Option<u64>) -> String {
    let Some(bytes) = bytes else {
        return "?".to_owned();
    };
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn list() {
    println!(
        "{:<40} {:<8} {:<6} {:>10} {:>9}  STATUS",
        "ID", "QUANT", "PARAMS", "SIZE", "RAM MiB"
    );
    for m in registry::MODELS {
        let ram = m
            .ram_needed_mib()
            .map_or_else(|| "?".to_owned(), |r| r.to_string());
        println!(
            "{:<40} {:<8} {:<6} {:>10} {:>9}  {}",
            m.id,
            m.quant.label(),
            m.size,
            human_bytes(m.total_bytes()),
            ram,
            m.status.as_str()
        );
    }
}

fn info(id: &str, cache: CacheArgs) -> Result<(), String> {
    let m = find(id)?;
    let opt = |v: Option<&str>| v.unwrap_or("-").to_owned();
    println!("id:            {}", m.id);
    println!("name:          {}", opt(m.name));
    println!("description:   {}", opt(m.description));
    println!("kind:          {}", m.kind.as_str());
    println!("status:        {}", m.status.as_str());
    println!("quant:         {}", m.quant.label());
    println!("size:          {}", m.size);
    println!("architecture:  {}", opt(m.architecture));
    println!(
        "parameters:    {}",
        m.parameters.map_or("-".into(), |p| p.to_string())
    );
    println!(
        "context:       {}",
        m.context_length.map_or("-".into(), |p| p.to_string())
    );
    println!("base model:    {}", opt(m.base_model));
    println!("license:       {}", opt(m.license));
    println!("repo:          {} @ {}", m.repo, m.revision);
    for f in m.files() {
        println!(
            "file:          {} ({}, sha256 {})",
            f.file,
            human_bytes(f.bytes),
            f.sha256_hex().unwrap_or_else(|| "not yet synced".into())
        );
    }
    println!(
        "ram needed:    {}",
        m.ram_needed_mib()
            .map_or("-".into(), |r| format!("{r} MiB"))
    );
    println!("accelerators:  {}", m.hardware.accelerators.join(", "));
    println!("url:           {}", m.download_url());
    for (i, url) in m.fallback_urls.iter().enumerate() {
        println!("fallback #{}:   {url}", i + 1);
    }
    let opts = DownloadOptions {
        cache_dir: cache.cache_dir,
        offline: true,
        ..DownloadOptions::default()
    };
    match fetch_blocking(m, &opts) {
        Ok(fetched) => println!("cached:        {}", fetched.path.display()),
        Err(_) => println!("cached:        no"),
    }
    Ok(())
}

fn verify(id: &str, revision: Option<String>, cache: CacheArgs) -> Result<(), String> {
    let m = find(id)?;
    let opts = DownloadOptions {
        cache_dir: cache.cache_dir,
        revision,
        offline: true,
        full_verify: true,
        ..DownloadOptions::default()
    };
    let fetched = fetch_blocking(m, &opts).map_err(|e| e.to_string())?;
    for f in &fetched.files {
        eprintln!("ok: {} ({})", f.file, f.checked_against);
    }
    println!("{}", fetched.path.display());
    Ok(())
}

/// A spec for a file outside the catalog (`pull --repo --file`). The strings live for the
/// rest of this short-lived process.
fn ad_hoc_spec(args: &PullArgs, repo: &str, file: &str) -> Result<ModelSpec, String> {
    let sha256 = match &args.sha256 {
        Some(text) => {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut digest)
                .map_err(|_| format!("--sha256 {text:?} is not 64 hex digits"))?;
            Some(digest)
        }
        None => None,
    };
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let fallbacks: Vec<&'static str> = args.fallback_urls.iter().map(|u| leak(u)).collect();
    let file = leak(file);
    // The downloader ignores the quant; the file name's label is kept when there is one.
    let quant = file
        .trim_end_matches(".gguf")
        .rsplit(['-', '.'])
        .find_map(Quant::from_label)
        .unwrap_or(Quant::F32);
    Ok(ModelSpec {
        id: file,
        file,
        kind: if file.ends_with(".gguf") {
            ArtifactKind::Gguf
        } else {
            ArtifactKind::File
        },
        quant,
        repo: leak(repo),
        revision: "main",
        bytes: args.size,
        sha256,
        fallback_urls: Box::leak(fallbacks.into_boxed_slice()),
        ..ModelSpec::EMPTY
    })
}

fn pull(args: PullArgs) -> Result<(), String> {
    let spec: ModelSpec = match (&args.id, &args.repo, &args.file) {
        (Some(id), _, _) => *find(id)?,
        (None, Some(repo), Some(file)) => ad_hoc_spec(&args, repo, file)?,
        _ => return Err("give a model id, or --repo and --file".into()),
    };
    if spec.status == Status::Planned && !args.quiet {
        eprintln!(
            "note: {} is planned, not published yet; the download will probably fail",
            spec.id
        );
    }
    let progress: Option<ProgressFn> = if args.quiet {
        None
    } else if std::io::stderr().is_terminal() {
        Some(bar_progress())
    } else {
        Some(Arc::new(text_progress))
    };
    let opts = DownloadOptions {
        endpoint: args.endpoint.clone(),
        revision: args.revision.clone(),
        cache_dir: args.cache.cache_dir.clone(),
        offline: args.offline,
        progress,
        full_verify: args.full_verify,
        client: None,
        disable_xet: args.no_xet,
    };
    let fetched = fetch_blocking(&spec, &opts).map_err(|e| e.to_string())?;
    if !args.quiet {
        summary(&fetched);
    }
    println!("{}", fetched.path.display());
    Ok(())
}

fn summary(fetched: &Fetched) {
    for f in &fetched.files {
        let resumed = if f.resumed_from > 0 {
            format!(", resumed at byte {}", f.resumed_from)
        } else {
            String::new()
        };
        eprintln!(
            "{}: from {}, checked against {}, {} received{resumed}",
            f.file,
            f.source,
            f.checked_against,
            human_bytes(Some(f.bytes_received))
        );
        if let Some(xet) = &f.xet {
            if xet.used {
                let copied = match &xet.copied_from {
                    Some(commit) => format!(
                        ", {} copied from revision {} ({} of {} terms)",
                        human_bytes(Some(xet.copied_bytes)),
                        &commit[..commit.len().min(12)],
                        xet.terms_copied,
                        xet.terms
                    ),
                    None => String::new(),
                };
                eprintln!(
                    "  through Xet: {} fetched{copied}",
                    human_bytes(Some(xet.fetched_bytes))
                );
            } else if let Some(why) = &xet.failure {
                eprintln!("  Xet failed first: {why}");
            }
        }
        for failure in &f.failed_sources {
            eprintln!("  failed first: {failure}");
        }
    }
}

/// Notes on stderr when it is not a terminal (logs, CI): one line per event but no byte counts.
fn text_progress(p: Progress) {
    match p.event {
        ProgressEvent::Started { source, from } if from > 0 => {
            eprintln!("{}: resuming from {source} at byte {from}", p.file)
        }
        ProgressEvent::Started { source, .. } => eprintln!("{}: downloading from {source}", p.file),
        ProgressEvent::Retrying { source } => {
            eprintln!("{}: {source} failed at byte {}; retrying", p.file, p.done)
        }
        ProgressEvent::Cached | ProgressEvent::Bytes | ProgressEvent::Finished { .. } => {}
    }
}

/// An indicatif bar per file when stderr is a terminal.
fn bar_progress() -> ProgressFn {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    Arc::new(move |p: Progress| match p.event {
        ProgressEvent::Started { source, .. } => {
            bar.reset();
            bar.set_length(p.total.unwrap_or(0));
            bar.set_position(p.done);
            let from = match source {
                Source::Hub => String::new(),
                other => format!(" ({other})"),
            };
            bar.set_message(format!(
                "[{}/{}] {}{from}",
                p.file_index + 1,
                p.file_count,
                p.file
            ));
        }
        ProgressEvent::Bytes => bar.set_position(p.done),
        ProgressEvent::Retrying { .. } => bar.set_message(format!("{} (retrying)", p.file)),
        ProgressEvent::Finished { .. } | ProgressEvent::Cached => {
            bar.set_position(p.total.unwrap_or(p.done));
            if p.file_index + 1 == p.file_count {
                bar.finish_and_clear();
            }
        }
    })
}
