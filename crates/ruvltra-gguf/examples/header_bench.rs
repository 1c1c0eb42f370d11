//! Measures reading the header of a multi-GB GGUF file: time per read and the process's peak
//! memory. Run in release:
//!
//! ```text
//! cargo run --release -p ruvltra-gguf --example header_bench -- write /tmp/big.gguf 4 151936
//! cargo run --release -p ruvltra-gguf --example header_bench -- read /tmp/big.gguf 50
//! ```
//!
//! `write PATH GIB VOCAB` makes a sparse qwen2-like Q8_0 sample of about GIB GiB whose header
//! holds a VOCAB-token vocabulary; `read PATH N` reads its header N times.

use std::time::Instant;

use ruvltra_gguf::writer::SampleModel;
use ruvltra_gguf::{Summary, read_header};

/// Peak resident memory of this process in KiB, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["write", path, gib, vocab] => {
            let gib: u64 = gib.parse()?;
            // Q8_0 stores 34 bytes per 32 weights.
            let params = gib * (1 << 30) / 34 * 32;
            let mut sample = SampleModel::new("qwen2", 7, params);
            sample.vocab_size = vocab.parse()?;
            let start = Instant::now();
            let layout = sample.build()?.write_file(path)?;
            println!(
                "wrote {path}: {} bytes ({:.2} GiB), header {} bytes, in {:?}",
                layout.file_len,
                layout.file_len as f64 / (1u64 << 30) as f64,
                layout.data_offset,
                start.elapsed()
            );
        }
        ["read", path, n] => {
            let n: usize = n.parse()?;
            let rss_before = peak_rss_kib();
            let mut times = Vec::with_capacity(n);
            let mut summary = None;
            for _ in 0..n {
                let start = Instant::now();
                let header = read_header(path)?;
                times.push(start.elapsed());
                summary = Some(Summary::from_header(&header));
            }
            times.sort();
            let file_len = std::fs::metadata(path)?.len();
            let s = summary.ok_or("n must be at least 1")?;
            println!(
                "{path}: {:.2} GiB, {} tensors, {} keys, data at {}",
                file_len as f64 / (1u64 << 30) as f64,
                s.tensor_count,
                s.kv_count,
                s.data_offset
            );
            println!(
                "read_header x{n}: min {:?}, median {:?}, max {:?}",
                times[0],
                times[n / 2],
                times[n - 1]
            );
            println!(
                "peak RSS: {} KiB before the reads, {} KiB after",
                rss_before.unwrap_or(0),
                peak_rss_kib().unwrap_or(0)
            );
        }
        _ => return Err("usage: header_bench write PATH GIB VOCAB | read PATH N".into()),
    }
    Ok(())
}
