//! Measures the streaming sha256 of the uploader: `cargo run -p ruvltra-uploader --example
//! hash_speed [FILE]` hashes FILE, or a fresh 1 GiB file of pseudo-random bytes, and prints
//! the throughput (the first run of a fresh file reads from the page cache).

use std::io::Write as _;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let tmp;
    let path = match std::env::args_os().nth(1) {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            tmp = tempfile::tempdir()?;
            let path = tmp.path().join("sample.bin");
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            let mut block = vec![0u8; 1 << 20];
            for _ in 0..1024 {
                for chunk in block.chunks_mut(8) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    chunk.copy_from_slice(&state.to_le_bytes());
                }
                out.write_all(&block)?;
            }
            out.flush()?;
            path
        }
    };
    let start = Instant::now();
    let (sha, bytes) = ruvltra_uploader::hash_file(&path, &mut |_| {})?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{sha}  {} bytes in {secs:.2} s: {:.0} MiB/s",
        bytes,
        bytes as f64 / (1 << 20) as f64 / secs
    );
    Ok(())
}
