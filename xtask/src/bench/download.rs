//! `cargo xtask bench download`: the project's verified download (`ruvllm pull` as a child
//! process into a fresh cache) of the sample GGUF, compared like with like.
//!
//! * The plain download (`ruvllm pull --no-xet`, from an `xtask hub serve` process) against
//!   what a user would otherwise run, `curl -o FILE` then `sha256sum FILE` (both write and
//!   hash the file; `curl -o /dev/null` does neither and is kept for information), the disk's
//!   write + fsync floor (the download ends with an fsync too), and the official client's
//!   `hf_hub_download` with Xet off.
//! * Through Xet, on a fresh in-process server per run whose counters say what left the CAS:
//!   a cold download against `hf_hub_download` with `hf_xet`, then the update after a
//!   metadata edit (`general.name` renamed, the weights the same bytes moved) with the first
//!   revision in each client's cache: the bytes fetched.
//!
//! Goals (issues 10 and 18): plain, at least 1.0x `curl -o FILE && sha256sum FILE`, 0.8x the
//! disk floor, 2x `hf_hub_download` and a peak RSS of at most 64 MiB (stated for 4 GiB);
//! through Xet, a cold download at least as fast as `hf_hub_download` with `hf_xet` with at
//! most half its peak RSS, and an update that fetches at most 1% of the file.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context as _, ensure};
use hub_server::{HubServer, ServerConfig};

use crate::bench::harness::{
    BENCH_TOKEN, Ctx, Measured, Sample, durable_write_secs, ruvllm_binary,
};
use crate::bench::report::{Goal, Row, gibps, note};

/// The reference download: what a user of the official client writes.
const HF_DOWNLOAD: &str = r#"
import json, sys, time
from huggingface_hub import hf_hub_download
repo, name, cache = sys.argv[1:4]
start = time.perf_counter()
path = hf_hub_download(repo_id=repo, filename=name, cache_dir=cache)
print(json.dumps({"op_s": time.perf_counter() - start, "path": path}))
"#;

/// What a user runs without a verifying client: download to a file, then hash it.
const CURL_SHA256SUM: &str = r#"curl -sS -f -L -o "$1" "$2" && sha256sum "$1""#;

/// Measures and returns the rows.
pub fn run(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    note(format_args!("== download"));
    let sample = ctx.sample()?;
    ctx.python()?;
    let ruvllm = ruvllm_binary(&ctx.root)?;
    let mut rows = plain_rows(ctx, &ruvllm, &sample)?;
    rows.extend(xet_rows(ctx, &ruvllm, &sample)?);
    Ok(rows)
}

/// `ruvllm pull` of `sample` from `url` into `cache`, measured; checks the file it printed.
/// `xet` false passes `--no-xet`; true removes `HF_HUB_DISABLE_XET` from its environment.
fn pull(
    ctx: &mut Ctx,
    ruvllm: &Path,
    sample: &Sample,
    url: &str,
    cache: &Path,
    xet: bool,
) -> anyhow::Result<Measured> {
    let mut args: Vec<OsString> = vec![
        "pull".into(),
        "--repo".into(),
        sample.repo.clone().into(),
        "--file".into(),
        sample.repo_path.clone().into(),
        "--sha256".into(),
        sample.sha256.clone().into(),
        "--size".into(),
        sample.bytes.to_string().into(),
        "--endpoint".into(),
        url.into(),
        "--cache-dir".into(),
        cache.into(),
    ];
    if !xet {
        args.push("--quiet".into());
        args.push("--no-xet".into());
    }
    let m = ctx.measure(
        if xet {
            "ruvllm-pull-xet"
        } else {
            "ruvllm-pull"
        },
        ruvllm.as_os_str(),
        &args,
        &[("HF_HUB_DISABLE_XET", OsString::new())],
    )?;
    let path = m
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let len = std::fs::metadata(Path::new(&path))
        .with_context(|| format!("ruvllm pull printed {path:?}, which is not a file"))?
        .len();
    ensure!(len == sample.bytes, "ruvllm pull left {len} bytes");
    Ok(m)
}

/// The plain download's rows, from an `xtask hub serve` process holding the sample (sent
/// through Git LFS).
fn plain_rows(ctx: &mut Ctx, ruvllm: &Path, sample: &Sample) -> anyhow::Result<Vec<Row>> {
    let runs = ctx.settings.runs;
    let server = ctx.serve(&[])?;
    note(format_args!("  publishing the sample to {}", server.url));
    ctx.publish_child(&server.url)?;
    let url = format!(
        "{}/{}/resolve/main/{}",
        server.url, sample.repo, sample.repo_path
    );

    let ours = |ctx: &mut Ctx| -> anyhow::Result<(f64, f64)> {
        let cache = ctx.fresh_dir("ruvllm-cache")?;
        let m = pull(ctx, ruvllm, sample, &server.url, &cache, false);
        let _ = std::fs::remove_dir_all(&cache);
        let m = m?;
        Ok((m.wall.as_secs_f64(), m.rss_mib()))
    };
    let curl_null = |ctx: &mut Ctx| -> anyhow::Result<(f64, f64)> {
        let args: Vec<OsString> = ["-sS", "-f", "-L", "-o", "/dev/null", url.as_str()]
            .into_iter()
            .map(OsString::from)
            .collect();
        let m = ctx.measure("curl-get", "curl".as_ref(), &args, &[])?;
        Ok((m.wall.as_secs_f64(), m.rss_mib()))
    };
    let curl_file = |ctx: &mut Ctx| -> anyhow::Result<f64> {
        let dir = ctx.fresh_dir("curl-file")?;
        let file = dir.join(&sample.repo_path);
        let args: Vec<OsString> = vec![
            "-c".into(),
            CURL_SHA256SUM.into(),
            "curl-sha256sum".into(),
            file.into_os_string(),
            url.as_str().into(),
        ];
        let m = ctx.measure("curl-sha256sum", "sh".as_ref(), &args, &[]);
        let _ = std::fs::remove_dir_all(&dir);
        let m = m?;
        ensure!(
            m.stdout.starts_with(&sample.sha256),
            "sha256sum of curl's file printed {:?}, not the sample's {}",
            m.stdout.trim(),
            sample.sha256
        );
        Ok(m.wall.as_secs_f64())
    };
    let hf = |ctx: &mut Ctx| -> anyhow::Result<(f64, f64)> {
        let cache = ctx.fresh_dir("hf-cache")?;
        let args: Vec<OsString> = vec![
            sample.repo.clone().into(),
            sample.repo_path.clone().into(),
            cache.clone().into(),
        ];
        let result = ctx.python_child("hf_download", HF_DOWNLOAD, &args, &server.url);
        let _ = std::fs::remove_dir_all(&cache);
        let (m, op) = result?;
        Ok((op, m.rss_mib()))
    };

    note(format_args!("  warm-up"));
    ours(ctx)?;
    curl_null(ctx)?;
    curl_file(ctx)?;
    hf(ctx)?;
    let (mut o, mut o_rss) = (Vec::new(), Vec::new());
    let (mut c, mut c_rss) = (Vec::new(), Vec::new());
    let mut cf = Vec::new();
    let (mut h, mut h_rss) = (Vec::new(), Vec::new());
    let mut disk = Vec::new();
    for run in 1..=runs {
        note(format_args!("  run {run}/{runs}"));
        let (t, r) = ours(ctx)?;
        o.push(gibps(sample.bytes, t));
        o_rss.push(r);
        let (t, r) = curl_null(ctx)?;
        c.push(gibps(sample.bytes, t));
        c_rss.push(r);
        cf.push(gibps(sample.bytes, curl_file(ctx)?));
        let (t, r) = hf(ctx)?;
        h.push(gibps(sample.bytes, t));
        h_rss.push(r);
        let dir = ctx.fresh_dir("disk")?;
        disk.push(gibps(sample.bytes, durable_write_secs(&dir, sample.bytes)?));
    }
    drop(server);
    const T: &str = "verified download throughput (--no-xet)";
    let hf_name = "huggingface_hub hf_hub_download, Xet off (imports excluded)";
    Ok(vec![
        Row::compare(
            "download",
            T,
            "GiB/s",
            &o,
            "curl -o FILE && sha256sum FILE",
            &cf,
            Goal::RatioAtLeast(1.0),
        ),
        Row::compare(
            "download",
            T,
            "GiB/s",
            &o,
            "disk floor: write + fsync of as many bytes",
            &disk,
            Goal::RatioAtLeast(0.8),
        ),
        Row::compare(
            "download",
            T,
            "GiB/s",
            &o,
            "curl -o /dev/null (no write, no hash)",
            &c,
            Goal::Info,
        ),
        Row::compare(
            "download",
            T,
            "GiB/s",
            &o,
            hf_name,
            &h,
            Goal::RatioAtLeast(2.0),
        ),
        Row::compare(
            "download",
            "peak RSS of the client (--no-xet)",
            "MiB",
            &o_rss,
            "huggingface_hub hf_hub_download, Xet off",
            &h_rss,
            Goal::AtMost(64.0),
        ),
        Row::compare(
            "download",
            "peak RSS of the client (--no-xet)",
            "MiB",
            &o_rss,
            "curl -o /dev/null",
            &c_rss,
            Goal::Info,
        ),
    ])
}

/// What one client did through Xet in one run.
#[derive(Debug, Default)]
struct XetFigures {
    /// Cold download throughput, GiB/s.
    cold: f64,
    /// Its peak RSS, MiB.
    cold_rss: f64,
    /// Bytes the CAS and the plain GETs served for the update after the edit.
    update_bytes: u64,
}

/// The Xet rows: per run (a warm-up first), a fresh in-process server that receives the
/// sample through Xet; each client downloads it cold, the edited sample is published, and
/// each client updates its download with the first revision in its cache.
fn xet_rows(ctx: &mut Ctx, ruvllm: &Path, first: &Sample) -> anyhow::Result<Vec<Row>> {
    let edited = ctx.sample_renamed("RuvLTRA, renamed in its metadata")?;
    let runs = ctx.settings.runs;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        if run == 0 {
            note(format_args!("  xet: warm-up"));
        } else {
            note(format_args!("  xet: run {run}/{runs}"));
        }
        let (o, t) = xet_run(ctx, ruvllm, first, &edited)?;
        if run > 0 {
            ours.push(o);
            theirs.push(t);
        }
    }
    let size = first.bytes;
    let pick =
        |v: &[XetFigures], f: fn(&XetFigures) -> f64| -> Vec<f64> { v.iter().map(f).collect() };
    let pct = |v: &[XetFigures]| -> Vec<f64> {
        v.iter()
            .map(|x| 100.0 * x.update_bytes as f64 / size as f64)
            .collect()
    };
    let hf = "huggingface_hub hf_hub_download with hf_xet";
    Ok(vec![
        Row::compare(
            "download",
            "cold download through Xet: throughput",
            "GiB/s",
            &pick(&ours, |f| f.cold),
            &format!("{hf} (imports excluded)"),
            &pick(&theirs, |f| f.cold),
            Goal::RatioAtLeast(1.0),
        ),
        Row::compare(
            "download",
            "cold download through Xet: peak RSS of the client",
            "MiB",
            &pick(&ours, |f| f.cold_rss),
            hf,
            &pick(&theirs, |f| f.cold_rss),
            Goal::RatioAtMost(0.5),
        ),
        Row::compare(
            "download",
            "update after a metadata edit, previous revision cached: bytes fetched",
            "% of file",
            &pct(&ours),
            hf,
            &pct(&theirs),
            Goal::AtMost(1.0),
        ),
    ])
}

/// One run of both clients on a fresh in-process server (see [`xet_rows`]).
fn xet_run(
    ctx: &mut Ctx,
    ruvllm: &Path,
    first: &Sample,
    edited: &Sample,
) -> anyhow::Result<(XetFigures, XetFigures)> {
    let mut config = ServerConfig::new(ctx.fresh_dir("hub-xet")?);
    config.write_tokens = vec![BENCH_TOKEN.to_owned()];
    let data = config.data_dir.clone();
    let server = HubServer::spawn(config).context("cannot start the in-process Hub server")?;
    let url = server.url();
    let ours_cache = ctx.fresh_dir("ruvllm-cache")?;
    let hf_cache = ctx.fresh_dir("hf-cache")?;
    let hf_xet = ctx.fresh_dir("hf-xet-cache")?;
    // The maintainer publishes the edit from the machine of the first publish (its local Xet
    // index kept), so the edited file's reconstruction names the first one's xorbs wherever
    // the chunks are the same: what a client can reuse is then the protocol's to see.
    let publisher = ctx.fresh_dir("xet-state")?;
    // What left the CAS, and how many reconstructions were asked for: a client that fell
    // back to the plain GET asks for none, and then its figure would not be a Xet one.
    let served = |server: &HubServer| {
        let s = server.stats();
        (s.xorb_download_bytes, s.reconstructions)
    };
    let through_xet = |server: &HubServer, before: (u64, u64), who: &str| {
        let after = served(server);
        ensure!(
            after.1 > before.1,
            "{who} did not download through Xet (no reconstruction asked for); see its log"
        );
        anyhow::Ok(after.0 - before.0)
    };

    let result = (|| {
        ctx.publish_child_of(first, &url, "xet", Some(&publisher))?;
        let hf_args: Vec<OsString> = vec![
            first.repo.clone().into(),
            first.repo_path.clone().into(),
            hf_cache.clone().into(),
        ];
        let before = served(&server);
        let m = pull(ctx, ruvllm, first, &url, &ours_cache, true)?;
        through_xet(&server, before, "ruvllm pull")?;
        let mut ours = XetFigures {
            cold: gibps(first.bytes, m.wall.as_secs_f64()),
            cold_rss: m.rss_mib(),
            ..XetFigures::default()
        };
        let before = served(&server);
        let (m, op) = ctx.python_child_with(
            "hf_xet_download",
            HF_DOWNLOAD,
            &hf_args,
            &url,
            Some(&hf_xet),
        )?;
        through_xet(&server, before, "hf_hub_download")?;
        let mut theirs = XetFigures {
            cold: gibps(first.bytes, op),
            cold_rss: m.rss_mib(),
            ..XetFigures::default()
        };

        ctx.publish_child_of(edited, &url, "xet", Some(&publisher))?;
        let before = served(&server);
        pull(ctx, ruvllm, edited, &url, &ours_cache, true)?;
        ours.update_bytes = through_xet(&server, before, "ruvllm pull")?;
        let before = served(&server);
        ctx.python_child_with(
            "hf_xet_download",
            HF_DOWNLOAD,
            &hf_args,
            &url,
            Some(&hf_xet),
        )?;
        theirs.update_bytes = through_xet(&server, before, "hf_hub_download")?;
        anyhow::Ok((ours, theirs))
    })();
    server.stop();
    for dir in [&data, &ours_cache, &hf_cache, &hf_xet, &publisher] {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}
