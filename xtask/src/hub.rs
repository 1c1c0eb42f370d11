//! `cargo xtask hub serve`: runs the local Hub-compatible server from the command line, as an
//! offline mirror, a CI stand-in for huggingface.co or the demo's endpoint.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use hub_server::{HubServer, ServerConfig};

/// Arguments of `cargo xtask hub`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: HubCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HubCommand {
    /// Serve a Hub-compatible API from a data directory until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Where repos and objects are stored; created if missing, kept across restarts.
    #[arg(long)]
    data: PathBuf,
    /// A token granting write access to every namespace; may repeat.
    #[arg(long = "token", required = true)]
    tokens: Vec<String>,
    /// The user name whoami returns and the namespace of repos created without one.
    #[arg(long, default_value = "local")]
    user: String,
    /// LFS objects of at least this many bytes are uploaded in parts.
    #[arg(long)]
    multipart_threshold: Option<u64>,
    /// The part size of multipart uploads, in bytes.
    #[arg(long)]
    multipart_chunk_size: Option<u64>,
    /// Answer LFS downloads with a 302 to a second port, like the Hub's CDN.
    #[arg(long)]
    lfs_redirect: bool,
    /// Do not speak Xet (no token routes, no CAS, no Xet headers), like a server that predates
    /// it: clients take the LFS path. Files are stored in xorbs either way.
    #[arg(long)]
    no_xet: bool,
    /// How long CAS access tokens stay valid, in seconds (clients refresh them).
    #[arg(long, default_value_t = 3600)]
    xet_token_ttl: u64,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        HubCommand::Serve(serve) => run_serve(serve),
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.tokens.iter().any(|t| t.trim().is_empty()) {
        bail!("--token must not be empty");
    }
    let mut config = ServerConfig::new(&args.data);
    config.write_tokens = args.tokens;
    config.user = args.user;
    if let Some(t) = args.multipart_threshold {
        config.multipart_threshold = t;
    }
    if let Some(c) = args.multipart_chunk_size {
        if c == 0 {
            bail!("--multipart-chunk-size must be at least 1");
        }
        config.multipart_chunk_size = c;
    }
    config.lfs_redirect = args.lfs_redirect;
    config.xet = !args.no_xet;
    if args.xet_token_ttl == 0 {
        bail!("--xet-token-ttl must be at least 1 second");
    }
    config.xet_token_ttl = std::time::Duration::from_secs(args.xet_token_ttl);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = HubServer::start(args.addr, config)
            .await
            .with_context(|| format!("cannot start the Hub server on {}", args.addr))?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}", server.url())?;
            if let Some(port) = server.cdn_port() {
                writeln!(out, "lfs downloads redirect to port {port}")?;
            }
            out.flush()?;
        }
        wait_for_signal().await?;
        eprintln!("stopping");
        server.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    Ok(())
}
