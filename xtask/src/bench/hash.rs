//! `cargo xtask bench hash`: the uploader's streaming sha256 of the sample file (page cache
//! warm) against `openssl dgst -sha256`, `sha256sum` and the in-memory SHA-256 ceiling of
//! this CPU, in GiB/s.
//!
//! Goals (issue 10): at least 90% of the machine's SHA-256 ceiling (about 1.65 GiB/s with
//! SHA-NI on the reference machine) and at least as fast as `openssl dgst`.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use sha2::Digest as _;

use crate::bench::harness::Ctx;
use crate::bench::report::{Goal, Row, gibps, note};

/// Bytes hashed in memory for the ceiling (or the file size when smaller).
const CEILING_BYTES: u64 = 256 * 1024 * 1024;

/// Measures and returns the rows.
pub fn run(ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    note(format_args!("== hash"));
    let sample = ctx.sample()?;
    let runs = ctx.settings.runs;
    let bytes = sample.bytes;

    let ours = || -> anyhow::Result<f64> {
        let start = Instant::now();
        let (sha, n) = ruvltra_uploader::hash_file(&sample.path, &mut |_| {})
            .with_context(|| format!("cannot hash {}", sample.path.display()))?;
        let secs = start.elapsed().as_secs_f64();
        ensure!(
            n == bytes && sha.to_hex() == sample.sha256,
            "hash_file gave a different result"
        );
        Ok(gibps(bytes, secs))
    };
    let tool = |program: &str, args: &[&str]| -> anyhow::Result<f64> {
        let start = Instant::now();
        let out = Command::new(program)
            .args(args)
            .arg(&sample.path)
            .output()
            .with_context(|| format!("cannot run {program}; install it"))?;
        let secs = start.elapsed().as_secs_f64();
        ensure!(out.status.success(), "{program} failed");
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(
            text.contains(&sample.sha256),
            "{program} printed another digest: {text}"
        );
        Ok(gibps(bytes, secs))
    };
    // SHA-256 takes the same time whatever the bytes are.
    let buffer = vec![0x5au8; CEILING_BYTES.min(bytes) as usize];
    let ceiling = || {
        let start = Instant::now();
        let digest = sha2::Sha256::digest(&buffer);
        let secs = start.elapsed().as_secs_f64();
        std::hint::black_box(digest);
        gibps(buffer.len() as u64, secs)
    };

    // Warm-up: fills the page cache and wakes the CPU.
    ours()?;
    tool("openssl", &["dgst", "-sha256"])?;
    tool("sha256sum", &[])?;
    ceiling();

    let (mut o, mut ssl, mut sum, mut ceil) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        o.push(ours()?);
        ssl.push(tool("openssl", &["dgst", "-sha256"])?);
        sum.push(tool("sha256sum", &[])?);
        ceil.push(ceiling());
    }
    const M: &str = "streaming sha256 of the file";
    Ok(vec![
        Row::compare(
            "hash",
            M,
            "GiB/s",
            &o,
            "openssl dgst -sha256",
            &ssl,
            Goal::RatioAtLeast(1.0),
        ),
        Row::compare("hash", M, "GiB/s", &o, "sha256sum", &sum, Goal::Info),
        Row::compare(
            "hash",
            M,
            "GiB/s",
            &o,
            "SHA-256 ceiling (sha2, in memory)",
            &ceil,
            Goal::RatioAtLeast(0.9),
        ),
    ])
}
