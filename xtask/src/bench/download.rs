//! `cargo xtask bench download`: the project's verified download (`ruvllm pull` as a child
//! process into a fresh cache) of the sample GGUF from an `xtask hub serve` process, against
//! `curl -o /dev/null` of the same `resolve` URL and the official client's `hf_hub_download`
//! into a fresh cache, from the same server.
//!
//! Goals (issue 10): at least 80% of curl's throughput, at least 2x `hf_hub_download`'s, and
//! a peak RSS of at most 64 MiB (stated for 4 GiB).

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context as _, ensure};

use crate::bench::harness::{Ctx, durable_write_secs, ruvllm_binary};
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

/// Measures and returns the rows.
pub fn run(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    note(format_args!("== download"));
    let sample = ctx.sample()?;
    ctx.python()?;
    let ruvllm = ruvllm_binary(&ctx.root)?;
    let runs = ctx.settings.runs;

    let server = ctx.serve(&[])?;
    note(format_args!("  publishing the sample to {}", server.url));
    ctx.publish_child(&server.url)?;
    let url = format!(
        "{}/{}/resolve/main/{}",
        server.url, sample.repo, sample.repo_path
    );

    let pull = |ctx: &mut Ctx| -> anyhow::Result<(f64, f64)> {
        let cache = ctx.fresh_dir("ruvllm-cache")?;
        let args: Vec<OsString> = vec![
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
            server.url.clone().into(),
            "--cache-dir".into(),
            cache.clone().into(),
            "--quiet".into(),
        ];
        let m = ctx.measure("ruvllm-pull", ruvllm.as_os_str(), &args, &[]);
        let checked = m.and_then(|m| {
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
        });
        let _ = std::fs::remove_dir_all(&cache);
        let m = checked?;
        Ok((m.wall.as_secs_f64(), m.rss_mib()))
    };
    let curl = |ctx: &mut Ctx| -> anyhow::Result<(f64, f64)> {
        let args: Vec<OsString> = ["-sS", "-f", "-L", "-o", "/dev/null", url.as_str()]
            .into_iter()
            .map(OsString::from)
            .collect();
        let m = ctx.measure("curl-get", "curl".as_ref(), &args, &[])?;
        Ok((m.wall.as_secs_f64(), m.rss_mib()))
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
    pull(ctx)?;
    curl(ctx)?;
    hf(ctx)?;
    let (mut ours, mut ours_rss) = (Vec::new(), Vec::new());
    let (mut c, mut c_rss) = (Vec::new(), Vec::new());
    let (mut h, mut h_rss) = (Vec::new(), Vec::new());
    let mut disk = Vec::new();
    for run in 1..=runs {
        note(format_args!("  run {run}/{runs}"));
        let (t, r) = pull(ctx)?;
        ours.push(gibps(sample.bytes, t));
        ours_rss.push(r);
        let (t, r) = curl(ctx)?;
        c.push(gibps(sample.bytes, t));
        c_rss.push(r);
        let (t, r) = hf(ctx)?;
        h.push(gibps(sample.bytes, t));
        h_rss.push(r);
        let dir = ctx.fresh_dir("disk")?;
        disk.push(gibps(sample.bytes, durable_write_secs(&dir, sample.bytes)?));
    }
    drop(server);
    const T: &str = "verified download throughput";
    let hf_name = "huggingface_hub hf_hub_download (imports excluded)";
    Ok(vec![
        Row::compare(
            "download",
            T,
            "GiB/s",
            &ours,
            "curl -o /dev/null",
            &c,
            Goal::RatioAtLeast(0.8),
        ),
        Row::compare(
            "download",
            T,
            "GiB/s",
            &ours,
            hf_name,
            &h,
            Goal::RatioAtLeast(2.0),
        ),
        Row::compare(
            "download",
            T,
            "GiB/s",
            &ours,
            "disk floor: write + fsync of as many bytes",
            &disk,
            Goal::Info,
        ),
        Row::compare(
            "download",
            "peak RSS of the client",
            "MiB",
            &ours_rss,
            "huggingface_hub hf_hub_download",
            &h_rss,
            Goal::AtMost(64.0),
        ),
        Row::compare(
            "download",
            "peak RSS of the client",
            "MiB",
            &ours_rss,
            "curl -o /dev/null",
            &c_rss,
            Goal::Info,
        ),
    ])
}
