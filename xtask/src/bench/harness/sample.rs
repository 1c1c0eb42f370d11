//! The sample every benchmark of the suite measures: a GGUF file of `--size` bytes for the
//! registry's first published model and a registry that describes it, plus the disk's
//! durable-write floor the download figures are compared with.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::{Quant, Status};

use crate::bench::report::note;

/// The generated model file and a registry that describes it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The GGUF file.
    pub path: PathBuf,
    /// The folder holding it (`--files` of `xtask publish`).
    pub files_dir: PathBuf,
    /// A registry with just this model, its size and sha256 filled in.
    pub registry: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its sha256 (hex).
    pub sha256: String,
    /// The repository it is published to.
    pub repo: String,
    /// Its path in the repository.
    pub repo_path: String,
}

/// Writes a GGUF file of about `size` bytes (real data, not a sparse hole, so every read
/// touches real pages) for the registry's first published GGUF model, and a
/// registry with only that model, its size and its sha256. With `name`, the header's
/// `general.name` is that (a metadata edit: the weights are the same bytes, moved).
pub fn make_sample(
    root: &Path,
    work: &Path,
    size: u64,
    name: Option<&str>,
) -> anyhow::Result<Sample> {
    let mut reg = ruvltra_registry::load(&root.join("registry.json"))?;
    reg.models
        .retain(|m| m.status == Status::Published && m.kind.is_gguf());
    reg.models.truncate(1);
    let repo = match reg.models.first() {
        Some(m) => m.repo(&reg).to_owned(),
        None => bail!("registry.json has no published GGUF model to imitate"),
    };
    let model = reg
        .models
        .first_mut()
        .context("registry.json has no published GGUF model to imitate")?;
    let quant = Quant::from_label(&model.quant)
        .with_context(|| format!("model {} has an unknown quant", model.id))?;
    let sample_of = |params: u64| {
        let mut s = SampleModel::new(
            model.architecture.as_deref().unwrap_or("qwen2"),
            quant.file_type(),
            params.max(1),
        );
        if let Some(ctx) = model.context_length.and_then(|c| u32::try_from(c).ok()) {
            s.context_length = ctx;
        }
        if let Some(name) = name {
            s.name = name.to_owned();
        }
        s
    };
    // The parameter count giving about `size` bytes: a few proportional corrections.
    let mut params = size;
    for _ in 0..4 {
        let len = sample_of(params).build()?.layout()?.file_len;
        if len == 0 {
            break;
        }
        params = ((params as f64) * (size as f64) / (len as f64)).max(1.0) as u64;
    }
    let files_dir = work.join("files");
    fs::create_dir_all(&files_dir)?;
    let path = files_dir.join(&model.file);
    note(format_args!(
        "writing the sample {} (about {size} bytes)",
        model.file
    ));
    let start = Instant::now();
    write_sample(&sample_of(params).build()?, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let (sha, bytes) = ruvltra_uploader::hash_file(&path, &mut |_| {})
        .with_context(|| format!("cannot hash {}", path.display()))?;
    note(format_args!(
        "  {bytes} bytes in {:.1} s, sha256 {sha}",
        start.elapsed().as_secs_f64()
    ));
    model.bytes = Some(bytes);
    model.sha256 = Some(sha.to_hex());
    model.extra_files.clear();
    let repo_path = model.file.clone();
    ruvltra_registry::validate(&reg)
        .map_err(|p| anyhow::anyhow!("the benchmark registry is invalid:\n{p}"))?;
    let registry = work.join("registry.json");
    ruvltra_registry::save(&registry, &reg)
        .with_context(|| format!("cannot write {}", registry.display()))?;
    Ok(Sample {
        path,
        files_dir,
        registry,
        bytes,
        sha256: sha.to_hex(),
        repo,
        repo_path,
    })
}

/// 1 MiB of xorshift output.
fn random_block() -> Vec<u8> {
    let mut block = vec![0u8; 1 << 20];
    Xorshift::new().fill(&mut block);
    block
}

/// A xorshift stream: bytes that look like real weights to a chunker (incompressible, no
/// repeats), the same from one sample to the next.
struct Xorshift(u64);

impl Xorshift {
    fn new() -> Xorshift {
        Xorshift::seeded(0)
    }

    /// The stream of `seed`; seed 0 is [`new`](Self::new)'s. The state is never zero (a zero
    /// state would stay zero), since the constant is odd and the multiple of `seed` even.
    fn seeded(seed: u64) -> Xorshift {
        Xorshift(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0xd1b5_4a32_d192_ed02))
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let x = &mut self.0;
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Seconds to write `bytes` bytes to a new file in `dir` and fsync it: the floor of any
/// durable write of that size on this disk (the Hub server's store, the download cache).
pub fn durable_write_secs(dir: &Path, bytes: u64) -> anyhow::Result<f64> {
    let block = random_block();
    let path = dir.join("durable-write-floor.bin");
    let start = Instant::now();
    {
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(&block[..n])?;
            left -= n as u64;
        }
        file.sync_all()?;
    }
    let secs = start.elapsed().as_secs_f64();
    fs::remove_file(&path)?;
    Ok(secs)
}

/// Writes the writer's header, then a data section of pseudo-random bytes (one xorshift
/// stream: nothing a filesystem or a compressor could shortcut), through a temporary file,
/// fsync and rename.
fn write_sample(writer: &ruvltra_gguf::writer::GgufWriter, path: &Path) -> anyhow::Result<()> {
    write_gguf_sample(writer, path, 0)
}

/// Like the benchmark's sample, with the data section's stream picked by `seed` (0 is the
/// benchmark's): samples of different models get different weights, and the same `seed`
/// gives the same weights whatever the header says (a metadata edit moves them only). The
/// demo's samples are written here too.
pub fn write_gguf_sample(
    writer: &ruvltra_gguf::writer::GgufWriter,
    path: &Path,
    seed: u64,
) -> anyhow::Result<()> {
    let header = writer.header_bytes()?;
    let len = writer.layout()?.file_len;
    // One stream for the whole data section: a repeated block would be deduplicated by Xet
    // (content-defined chunks of a repeating pattern repeat too), real weights are not.
    let mut stream = Xorshift::seeded(seed);
    let mut block = vec![0u8; 1 << 20];
    let dir = path.parent().context("the sample has no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        out.write_all(&header)?;
        let mut left = len.saturating_sub(header.len() as u64);
        while left > 0 {
            stream.fill(&mut block);
            let n = left.min(block.len() as u64) as usize;
            out.write_all(&block[..n])?;
            left -= n as u64;
        }
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}
