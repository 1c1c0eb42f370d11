//! `cargo xtask bench publish`: the project's publish (`xtask publish` as a child process)
//! of the sample GGUF into a fresh `xtask hub serve` process, against the official client's
//! `create_repo` + `upload_file` of the same file into another fresh server process, and
//! against the physical floor: one streaming hash plus one `curl -T` upload of the file.
//!
//! Goals (issue 10): wall time <= 0.8x `huggingface_hub`'s and <= 1.2x (hash + one transfer);
//! peak RSS <= 64 MiB (stated for 4 GiB); at most 5 API requests besides the data transfer,
//! and one commit. Requests and commits are counted by an in-process server during the
//! warm-up run, since a `hub serve` process does not publish its counters.

use std::ffi::OsString;
use std::time::Instant;

use anyhow::{Context as _, bail};
use hub_client::{Endpoint, HubClient, LfsAction, LfsObject, RepoId, Token};
use hub_server::{HubServer, ServerConfig, Stats};

use crate::bench::harness::{BENCH_TOKEN, Ctx};
use crate::bench::report::{Goal, Row, gibps, note};

/// The reference publish: what a user of the official client writes.
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

/// Parts never: the floor is one plain PUT of the whole file.
const NO_MULTIPART: &str = "1099511627776";

/// Measures and returns the rows.
pub fn run(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    note(format_args!("== publish"));
    let sample = ctx.sample()?;
    ctx.python()?;
    let runs = ctx.settings.runs;
    let py_args: Vec<OsString> = vec![
        sample.repo.clone().into(),
        sample.path.clone().into(),
        sample.repo_path.clone().into(),
    ];

    // Warm-up, against in-process servers whose counters we can read.
    note(format_args!("  warm-up (request counts)"));
    let ours_counts = counted(ctx, |ctx, url| ctx.publish_child(url).map(|_| ()))?;
    let hf_counts = counted(ctx, |ctx, url| {
        ctx.python_child("hf_upload", HF_UPLOAD, &py_args, url)
            .map(|_| ())
    })?;
    floor_put(ctx)?;

    let mut wall = Vec::new();
    let mut rss = Vec::new();
    let mut hf_wall = Vec::new();
    let mut hf_rss = Vec::new();
    let mut floor = Vec::new();
    for run in 1..=runs {
        note(format_args!("  run {run}/{runs}"));
        let server = ctx.serve(&[])?;
        let m = ctx.publish_child(&server.url)?;
        drop(server);
        wall.push(m.wall.as_secs_f64());
        rss.push(m.rss_mib());

        let server = ctx.serve(&[])?;
        let (m, op) = ctx.python_child("hf_upload", HF_UPLOAD, &py_args, &server.url)?;
        drop(server);
        hf_wall.push(op);
        hf_rss.push(m.rss_mib());

        let start = Instant::now();
        ruvltra_uploader::hash_file(&sample.path, &mut |_| {})?;
        let hash = start.elapsed().as_secs_f64();
        floor.push(hash + floor_put(ctx)?);
    }
    let bytes = sample.bytes;
    let tput = |v: &[f64]| v.iter().map(|s| gibps(bytes, *s)).collect::<Vec<_>>();
    let hf = "huggingface_hub upload_file";
    Ok(vec![
        Row::compare(
            "publish",
            "wall time",
            "s",
            &wall,
            &format!("{hf} (create_repo + upload_file, imports excluded)"),
            &hf_wall,
            Goal::RatioAtMost(0.8),
        ),
        Row::compare(
            "publish",
            "wall time",
            "s",
            &wall,
            "one streaming hash + one curl -T upload",
            &floor,
            Goal::RatioAtMost(1.2),
        ),
        Row::compare(
            "publish",
            "throughput",
            "GiB/s",
            &tput(&wall),
            hf,
            &tput(&hf_wall),
            Goal::Info,
        ),
        Row::compare(
            "publish",
            "peak RSS of the client",
            "MiB",
            &rss,
            hf,
            &hf_rss,
            Goal::AtMost(64.0),
        ),
        Row::compare(
            "publish",
            "API requests besides data transfer",
            "requests",
            &[ours_counts.api_requests as f64],
            hf,
            &[hf_counts.api_requests as f64],
            Goal::AtMost(5.0),
        ),
        Row::compare(
            "publish",
            "commits",
            "commits",
            &[ours_counts.commits as f64],
            hf,
            &[hf_counts.commits as f64],
            Goal::Equals(1.0),
        ),
    ])
}

/// Runs `f` against a fresh in-process server and returns what its counters saw.
fn counted(
    ctx: &mut Ctx,
    f: impl FnOnce(&mut Ctx, &str) -> anyhow::Result<()>,
) -> anyhow::Result<Stats> {
    let mut config = ServerConfig::new(ctx.fresh_dir("hub-counted")?);
    config.write_tokens = vec![BENCH_TOKEN.to_owned()];
    let data = config.data_dir.clone();
    let server = HubServer::spawn(config).context("cannot start the in-process Hub server")?;
    let before = server.stats();
    let result = f(ctx, &server.url());
    let after = server.stats();
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    result?;
    Ok(Stats {
        api_requests: after.api_requests - before.api_requests,
        transfer_requests: after.transfer_requests - before.transfer_requests,
        commits: after.commits - before.commits,
        upload_bytes: after.upload_bytes - before.upload_bytes,
        ..after
    })
}

/// One `curl -T` of the sample to a basic upload URL of a fresh server: the time the bytes
/// take to reach the server's store, with nothing else around it.
fn floor_put(ctx: &mut Ctx) -> anyhow::Result<f64> {
    let sample = ctx.sample()?;
    let server = ctx.serve(&["--multipart-threshold", NO_MULTIPART])?;
    let url = server.url.clone();
    let runtime = crate::publish::runtime()?;
    let upload = runtime.block_on(async {
        let client = HubClient::builder()
            .endpoint(Endpoint::parse(&url)?)
            .token(Token::new(BENCH_TOKEN))
            .build()?;
        let repo = RepoId::new(&sample.repo)?;
        client.create_repo(&repo, false).await?;
        let object = LfsObject {
            oid: sample.sha256.parse()?,
            size: sample.bytes,
        };
        let answer = client.lfs_batch(&repo, "main", &[object]).await?;
        match answer.into_iter().next().map(|o| o.action) {
            Some(LfsAction::Basic { upload, .. }) => anyhow::Ok(upload),
            other => bail!("expected a basic upload URL, got {other:?}"),
        }
    })?;
    let args: Vec<OsString> = vec![
        "-sS".into(),
        "-f".into(),
        "-o".into(),
        "/dev/null".into(),
        "-H".into(),
        "Expect:".into(),
        "-T".into(),
        sample.path.clone().into(),
        upload.as_str().into(),
    ];
    let m = ctx.measure("curl-put", "curl".as_ref(), &args, &[])?;
    drop(server);
    Ok(m.wall.as_secs_f64())
}
