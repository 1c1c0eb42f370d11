//! `cargo xtask bench xet`: publishing through Xet, the project's `xtask publish --transfer
//! xet` against `huggingface_hub`'s `upload_file` with `hf_xet` (Xet on), each into its own
//! fresh in-process Hub server whose counters say what reached the CAS:
//!
//! * the first publish of the sample: wall time and the client's peak RSS;
//! * a re-publish after a metadata edit (`general.name` renamed, the weights the same bytes
//!   moved) on the same machine, each client with the local state of its first publish (our
//!   local index, the official client's chunk cache): bytes sent and wall time;
//! * the same edit again on a clean machine (no local state on either side; the server holds
//!   the first two versions): bytes sent.
//!
//! Goals (issue 18): same machine, bytes sent <= 1% of the file and wall <= 0.8x the official
//! client's; clean machine, bytes sent <= 0.5x the official client's; first publish, wall
//! <= 0.8x and peak RSS <= 64 MiB.

use std::ffi::OsString;
use std::path::Path;

use anyhow::Context as _;
use hub_server::{HubServer, ServerConfig};

use crate::bench::harness::{BENCH_TOKEN, Ctx, Measured, Sample};
use crate::bench::report::{Goal, Row, note};

/// The official client's publish of one file (the repository created first).
const HF_UPLOAD: &str = r#"
import json, sys, time
from huggingface_hub import HfApi
repo, path, name = sys.argv[1:4]
start = time.perf_counter()
api = HfApi()
api.create_repo(repo, exist_ok=True)
info = api.upload_file(path_or_fileobj=path, path_in_repo=name, repo_id=repo)
print(json.dumps({"op_s": time.perf_counter() - start, "commit": info.oid}))
"#;

/// What one client did in one run.
#[derive(Debug, Default)]
struct Figures {
    first_wall: f64,
    first_rss: f64,
    edit_wall: f64,
    /// Bytes the CAS received for the re-publish after the edit, same machine.
    edit_bytes: u64,
    /// The same on a clean machine.
    clean_bytes: u64,
}

/// One client: how it publishes `sample` into `url` with its local state in `cache`;
/// returns the measured child and the operation's seconds.
type Publisher<'a> =
    dyn FnMut(&mut Ctx, &Sample, &str, &Path) -> anyhow::Result<(Measured, f64)> + 'a;

/// Measures and returns the rows.
pub fn run(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    note(format_args!("== xet"));
    let first = ctx.sample()?;
    let edited = ctx.sample_renamed("RuvLTRA, renamed in its metadata")?;
    let again = ctx.sample_renamed("RuvLTRA, renamed a second time")?;
    ctx.python()?;
    let runs = ctx.settings.runs;

    let mut ours: Vec<Figures> = Vec::new();
    let mut theirs: Vec<Figures> = Vec::new();
    // A warm-up run of each (not counted), then the measured runs.
    for run in 0..=runs {
        if run == 0 {
            note(format_args!("  warm-up"));
        } else {
            note(format_args!("  run {run}/{runs}"));
        }
        let mut project = |ctx: &mut Ctx, s: &Sample, url: &str, cache: &Path| {
            let m = ctx.publish_child_of(s, url, "xet", Some(cache))?;
            let secs = m.wall.as_secs_f64();
            Ok((m, secs))
        };
        let o = client_run(ctx, &mut project, [&first, &edited, &again])?;
        let mut official = |ctx: &mut Ctx, s: &Sample, url: &str, cache: &Path| {
            let args: Vec<OsString> = vec![
                s.repo.clone().into(),
                s.path.clone().into(),
                s.repo_path.clone().into(),
            ];
            ctx.python_child_with("hf_xet_upload", HF_UPLOAD, &args, url, Some(cache))
        };
        let t = client_run(ctx, &mut official, [&first, &edited, &again])?;
        if run > 0 {
            ours.push(o);
            theirs.push(t);
        }
    }
    let size = first.bytes;
    let pct = |v: &[Figures], f: fn(&Figures) -> u64| -> Vec<f64> {
        v.iter()
            .map(|x| 100.0 * f(x) as f64 / size as f64)
            .collect()
    };
    let secs = |v: &[Figures], f: fn(&Figures) -> f64| -> Vec<f64> { v.iter().map(f).collect() };
    let hf = "huggingface_hub upload_file with hf_xet";
    Ok(vec![
        Row::compare(
            "xet",
            "first publish: wall time",
            "s",
            &secs(&ours, |f| f.first_wall),
            &format!("{hf} (create_repo + upload_file, imports excluded)"),
            &secs(&theirs, |f| f.first_wall),
            Goal::RatioAtMost(0.8),
        ),
        Row::compare(
            "xet",
            "first publish: peak RSS of the client",
            "MiB",
            &secs(&ours, |f| f.first_rss),
            hf,
            &secs(&theirs, |f| f.first_rss),
            Goal::AtMost(64.0),
        ),
        Row::compare(
            "xet",
            "re-publish after a metadata edit, same machine: bytes sent",
            "% of file",
            &pct(&ours, |f| f.edit_bytes),
            hf,
            &pct(&theirs, |f| f.edit_bytes),
            Goal::AtMost(1.0),
        ),
        Row::compare(
            "xet",
            "re-publish after a metadata edit, same machine: wall time",
            "s",
            &secs(&ours, |f| f.edit_wall),
            hf,
            &secs(&theirs, |f| f.edit_wall),
            Goal::RatioAtMost(0.8),
        ),
        Row::compare(
            "xet",
            "re-publish after a metadata edit, clean machine: bytes sent",
            "% of file",
            &pct(&ours, |f| f.clean_bytes),
            hf,
            &pct(&theirs, |f| f.clean_bytes),
            Goal::RatioAtMost(0.5),
        ),
    ])
}

/// One client's run on a fresh in-process server: the first publish with a fresh local
/// state, the edited file with that state kept, the second edit with a fresh state.
fn client_run(
    ctx: &mut Ctx,
    publish: &mut Publisher<'_>,
    [first, edited, again]: [&Sample; 3],
) -> anyhow::Result<Figures> {
    let mut config = ServerConfig::new(ctx.fresh_dir("hub-xet")?);
    config.write_tokens = vec![BENCH_TOKEN.to_owned()];
    let data = config.data_dir.clone();
    let server = HubServer::spawn(config).context("cannot start the in-process Hub server")?;
    let url = server.url();
    let kept = ctx.fresh_dir("xet-state")?;
    let clean = ctx.fresh_dir("xet-state")?;
    let received = |server: &HubServer| server.stats().xorb_upload_bytes;

    let result = (|| {
        let (m, op) = publish(ctx, first, &url, &kept)?;
        let mut figures = Figures {
            first_wall: op,
            first_rss: m.rss_mib(),
            ..Figures::default()
        };
        let before = received(&server);
        let (_, op) = publish(ctx, edited, &url, &kept)?;
        figures.edit_wall = op;
        figures.edit_bytes = received(&server) - before;
        let before = received(&server);
        publish(ctx, again, &url, &clean)?;
        figures.clean_bytes = received(&server) - before;
        anyhow::Ok(figures)
    })();
    server.stop();
    for dir in [&data, &kept, &clean] {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}
