//! The checks every file passes before a byte of it leaves the machine: a streaming sha256 at
//! disk speed, the size, for GGUF files the header against the file name and the registry, and
//! for adapter files (SONA exports) the safetensors header, the PEFT config and the jsonl data.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hub_client::Sha256;
use ruvltra_gguf::{Summary, read_header};
use ruvltra_registry::Quant;
use ruvltra_registry::naming::parse_file_name;
use sha2::Digest as _;
use xet_format::{ChunkInfo, XetHash};

use crate::error::{CheckProblem, UploadError};
use crate::event::{Event, Observer};

/// Read size of the hashing pass: large reads keep the disk and SHA-NI busy.
pub const HASH_BUFFER: usize = 2 * 1024 * 1024;

/// The largest file the Hub's LFS path takes (50 GB; see `docs/HUB-PROTOCOL-NOTES.md#limits`).
pub const MAX_FILE_BYTES: u64 = 50_000_000_000;

/// How a file must be checked beyond its hash and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The first (or only) file of a GGUF model: full header checks.
    GgufModel,
    /// A later shard of a split GGUF: its header must be valid and complete.
    GgufShard,
    /// A file of an adapter (a SONA export): `.safetensors` headers, `adapter_config.json` and
    /// `.jsonl` files are checked; the adapter's files together are checked as one folder.
    Adapter,
    /// Any other artifact file (extras): hash and size only.
    Other,
}

/// What a local file is expected to be.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The path in the repository.
    pub repo_path: String,
    /// Where the file is on disk.
    pub local: PathBuf,
    /// The registry id of the model the file belongs to, when there is one.
    pub model_id: Option<String>,
    /// Which checks apply.
    pub kind: FileKind,
    /// The quant the registry says (lowercase label), if any.
    pub quant: Option<String>,
    /// The architecture the registry says, if any.
    pub architecture: Option<String>,
    /// The context length the registry says, if any.
    pub context_length: Option<u64>,
    /// The size the registry says, if any.
    pub bytes: Option<u64>,
    /// The sha256 the registry says, if any.
    pub sha256: Option<String>,
    /// For adapter files: what the PEFT config's `base_model_name_or_path` may be (the base
    /// model's `base_model` and registry id); anything else is a warning. Empty: not checked.
    pub adapter_bases: Vec<String>,
}

impl Expected {
    /// A file with no expectations beyond its kind.
    pub fn new(repo_path: impl Into<String>, local: impl Into<PathBuf>, kind: FileKind) -> Self {
        Expected {
            repo_path: repo_path.into(),
            local: local.into(),
            model_id: None,
            kind,
            quant: None,
            architecture: None,
            context_length: None,
            bytes: None,
            sha256: None,
            adapter_bases: Vec::new(),
        }
    }
}

/// What the header of a GGUF file says, for the model card and the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GgufFacts {
    /// Upper-case quant label from the header.
    pub quant: Option<String>,
    /// True when the quant was guessed from tensor types (no `general.file_type`).
    pub quant_guessed: bool,
    /// `general.architecture`.
    pub architecture: Option<String>,
    /// `{arch}.context_length`.
    pub context_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present.
    pub has_chat_template: bool,
}

/// A file that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    /// The path in the repository.
    pub repo_path: String,
    /// Where the file is on disk.
    pub local: PathBuf,
    /// The registry id of its model, if any.
    pub model_id: Option<String>,
    /// Its size.
    pub bytes: u64,
    /// Its sha256.
    pub sha256: Sha256,
    /// Header facts (GGUF model files only).
    pub gguf: Option<GgufFacts>,
    /// Its Xet chunks, when the check pass chunked it (a publish that may go through Xet).
    pub chunks: Option<Arc<FileChunks>>,
}

/// Buffers in flight between the reading thread and the hashing (and chunking) threads.
const HASH_BUFFERS: usize = 4;

/// The Xet chunks of a file, found by the check pass: what a Xet upload deduplicates and
/// sends, known before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunks {
    /// The Xet file hash (the Merkle root of the chunks, keyed).
    pub file_hash: XetHash,
    /// Every chunk in order: offset, length, hash.
    pub chunks: Vec<ChunkInfo>,
}

impl FileChunks {
    /// The chunks of `data` held in memory (tests and small files).
    pub fn of_bytes(data: &[u8]) -> FileChunks {
        FileChunks::from_chunks(xet_format::chunk_file(data))
    }

    fn from_chunks(chunks: Vec<ChunkInfo>) -> FileChunks {
        let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|c| (c.hash, c.len.into())).collect();
        FileChunks {
            file_hash: xet_format::file_hash(&leaves),
            chunks,
        }
    }
}

/// Hashes a file in one streaming pass with [`HASH_BUFFER`]-sized reads (blocking; run it on
/// its own thread). A second thread reads while this one hashes, so the pass runs at the
/// speed of the slower of the two rather than their sum; memory stays at [`HASH_BUFFERS`]
/// buffers. `progress` gets the bytes hashed so far after every buffer.
pub fn hash_file(path: &Path, progress: &mut dyn FnMut(u64)) -> std::io::Result<(Sha256, u64)> {
    let (sha256, len, _) = scan_file(path, false, progress)?;
    Ok((sha256, len))
}

/// [`hash_file`], and with `chunk` the file's Xet chunks too, found by a third thread that
/// reads the same buffers ([`xet_format::ChunkStream`]: content-defined cuts and a keyed
/// BLAKE3 per chunk), so every byte is still read once and the pass runs at the speed of the
/// slowest of the three.
pub fn scan_file(
    path: &Path,
    chunk: bool,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<(Sha256, u64, Option<FileChunks>)> {
    use std::sync::mpsc::sync_channel;

    type Filled = std::io::Result<(Arc<Vec<u8>>, usize)>;
    let mut file = std::fs::File::open(path)?;
    let (full_tx, full_rx) = sync_channel::<Filled>(HASH_BUFFERS);
    let (chunk_tx, chunk_rx) = sync_channel::<(Arc<Vec<u8>>, usize)>(HASH_BUFFERS);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(HASH_BUFFERS);
    for _ in 0..HASH_BUFFERS {
        // The channel has room for every buffer, so this cannot block or fail.
        let _ = empty_tx.send(vec![0u8; HASH_BUFFER]);
    }
    // The last of the hashing and chunking threads to finish with a buffer hands it back
    // (`Arc::into_inner` gives it to exactly one of them).
    let give_back = |empty_tx: &std::sync::mpsc::SyncSender<Vec<u8>>, buffer: Arc<Vec<u8>>| {
        if let Some(buffer) = Arc::into_inner(buffer) {
            // The reader may have stopped already; then the buffer is simply dropped.
            let _ = empty_tx.send(buffer);
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Ok(mut buffer) = empty_rx.recv() {
                let mut filled = 0;
                let outcome = loop {
                    match file.read(&mut buffer[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == buffer.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let done = filled == 0;
                let buffer = Arc::new(buffer);
                if chunk && outcome.is_ok() && !done {
                    // The chunker may have stopped (the scope is ending): the hash decides.
                    let _ = chunk_tx.send((Arc::clone(&buffer), filled));
                }
                let message = outcome.map(|()| (buffer, filled));
                let failed = message.is_err();
                if full_tx.send(message).is_err() || done || failed {
                    return;
                }
            }
        });
        let chunk_empty_tx = empty_tx.clone();
        let chunker = chunk.then(|| {
            scope.spawn(move || {
                let mut stream = xet_format::ChunkStream::new();
                let mut chunks = Vec::new();
                while let Ok((buffer, filled)) = chunk_rx.recv() {
                    stream.feed_into(&buffer[..filled], &mut chunks);
                    give_back(&chunk_empty_tx, buffer);
                }
                chunks.extend(stream.finish());
                FileChunks::from_chunks(chunks)
            })
        });
        let mut hasher = sha2::Sha256::new();
        let mut total = 0u64;
        let mut failure = None;
        while let Ok(message) = full_rx.recv() {
            let (buffer, filled) = match message {
                Ok(m) => m,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            if filled == 0 {
                break;
            }
            hasher.update(&buffer[..filled]);
            total += filled as u64;
            progress(total);
            give_back(&empty_tx, buffer);
        }
        // Dropping the receiver ends the reader if it is still running.
        drop(full_rx);
        let chunks = match chunker.map(|c| c.join()) {
            Some(Ok(chunks)) => Some(chunks),
            Some(Err(_)) => {
                return Err(std::io::Error::other("the chunking thread failed"));
            }
            None => None,
        };
        if let Some(e) = failure {
            return Err(e);
        }
        Ok((Sha256(hasher.finalize().into()), total, chunks))
    })
}

/// Checks the header of a GGUF file against its name and the registry. Problems that stop
/// the publish go to `errors`, others to `warnings`.
pub fn check_gguf(
    expected: &Expected,
    file_len: u64,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<GgufFacts> {
    let header = match read_header(&expected.local) {
        Ok(h) => h,
        Err(e) => {
            errors.push(format!(
                "not a valid GGUF file ({e}); re-export it with llama.cpp's convert/quantize tools"
            ));
            return None;
        }
    };
    if let Err(e) = header.check_data_section(file_len) {
        errors.push(format!(
            "the tensor data does not fit the file ({e}); the file is truncated or corrupt, copy it again"
        ));
        return None;
    }
    // A shard's `split.*` keys must agree with its `-NNNNN-of-MMMMM` name.
    if let Some(name) = ruvltra_gguf::split_name(Path::new(&expected.repo_path)) {
        match ruvltra_gguf::split_info(&header) {
            Some(info) if info.matches_name(&name) => {}
            Some(info) => errors.push(format!(
                "the header says shard {} of {} but the name says shard {} of {}; rename the file or split the model again",
                info.no + 1,
                info.count,
                name.no,
                name.count
            )),
            None => errors.push(
                "the name marks a split shard but the header has no split.no/split.count; split the model with llama.cpp's gguf-split"
                    .to_owned(),
            ),
        }
    }
    if expected.kind == FileKind::GgufShard {
        return None;
    }
    let summary = Summary::from_header(&header);
    let facts = GgufFacts {
        quant: summary.quant.as_ref().map(|q| q.label.to_owned()),
        quant_guessed: summary.quant.as_ref().is_some_and(|q| q.guessed),
        architecture: summary.architecture.clone(),
        context_length: summary.context_length,
        has_chat_template: summary.has_chat_template,
    };

    // The quant: what the header says against the file name and the registry.
    let from_name = parse_file_name(&expected.repo_path).map(|p| p.quant);
    let from_registry = expected.quant.as_deref().and_then(Quant::from_label);
    match &summary.quant {
        Some(label) => {
            let in_header = Quant::from_label(label.label);
            let mut disagree = Vec::new();
            if let Some(q) = from_name.filter(|q| Some(*q) != in_header) {
                disagree.push(format!("the file name says {}", q.upper()));
            }
            if let Some(q) = from_registry.filter(|q| Some(*q) != in_header) {
                disagree.push(format!("the registry says {}", q.upper()));
            }
            if !disagree.is_empty() {
                let message = format!(
                    "the header's quant is {} but {}",
                    label.label,
                    disagree.join(" and ")
                );
                if label.guessed {
                    warnings.push(format!(
                        "{message} (the header has no general.file_type, so {} is only a guess from the tensor types)",
                        label.label
                    ));
                } else {
                    errors.push(format!(
                        "{message}; rename the file or fix `quant` in registry.json"
                    ));
                }
            }
        }
        None => warnings.push(
            "the header gives no quant (no general.file_type and no recognisable tensor type)"
                .to_owned(),
        ),
    }

    // The architecture.
    match (&summary.architecture, &expected.architecture) {
        (None, _) => errors.push(
            "the header has no general.architecture, so no runtime can load it; re-export the file"
                .to_owned(),
        ),
        (Some(actual), Some(wanted)) if actual != wanted => errors.push(format!(
            "the header's architecture is {actual} but the registry says {wanted}; fix `architecture` in registry.json or pick the right file"
        )),
        _ => {}
    }

    // What the Hub's "Use this model" buttons and chat front ends need.
    match (summary.context_length, expected.context_length) {
        (None, _) => warnings.push(format!(
            "{}.context_length is missing from the header; llama.cpp falls back to a default and the Hub cannot show it",
            summary.architecture.as_deref().unwrap_or("{arch}")
        )),
        (Some(actual), Some(wanted)) if actual != wanted => warnings.push(format!(
            "the header's context length is {actual} but the registry says {wanted}"
        )),
        _ => {}
    }
    if !summary.has_chat_template {
        warnings.push(
            "tokenizer.chat_template is missing; chat front ends and Ollama will not format prompts correctly"
                .to_owned(),
        );
    }
    Some(facts)
}

/// Checks and hashes every file, at most two at a time, each hash on a blocking thread; with
/// `chunk`, also cuts and hashes each file's Xet chunks in the same pass ([`scan_file`]).
/// Returns the checked files in input order and the warnings, or every problem at once.
pub async fn check_files(
    files: Vec<Expected>,
    chunk: bool,
    observer: &Observer,
) -> Result<(Vec<CheckedFile>, Vec<CheckProblem>), UploadError> {
    use futures_util::StreamExt as _;

    // The files of each adapter together, before any hashing: only headers are read.
    let adapter_errors = check_adapter_sets(&files);
    let results: Vec<_> = futures_util::stream::iter(files.into_iter().map(|expected| {
        let observer = observer.clone();
        async move { check_one(expected, chunk, observer).await }
    }))
    .buffered(2)
    .collect()
    .await;

    let mut checked = Vec::new();
    let mut problems = adapter_errors;
    let mut warnings = Vec::new();
    for result in results {
        let (file, errs, warns) = result?;
        problems.extend(errs);
        warnings.extend(warns);
        if let Some(f) = file {
            checked.push(f);
        }
    }
    if problems.is_empty() {
        Ok((checked, warnings))
    } else {
        Err(UploadError::Checks(problems))
    }
}

/// The largest `adapter_config.json` read (PEFT writes about 1 KB).
const MAX_ADAPTER_CONFIG: u64 = 1 << 20;

/// The longest line of an adapter's jsonl file.
const MAX_JSONL_LINE: u64 = 1 << 20;

/// The last component of a repository path.
fn file_name(repo_path: &str) -> &str {
    repo_path.rsplit('/').next().unwrap_or(repo_path)
}

/// Reads `adapter_config.json` with a size cap.
fn read_adapter_config(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_ADAPTER_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_ADAPTER_CONFIG {
        return Err(format!(
            "it is larger than {MAX_ADAPTER_CONFIG} bytes, which no PEFT config is; pick the right file"
        ));
    }
    Ok(bytes)
}

/// Checks one file of an adapter by its name: the safetensors header (length, JSON, tensor
/// offsets in bounds), the PEFT config, or a jsonl file. Other names get hash and size only.
pub fn check_adapter_file(
    expected: &Expected,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let name = file_name(&expected.repo_path);
    if name.ends_with(".safetensors") {
        if let Err(e) = ruvltra_safetensors::read_header(&expected.local) {
            errors.push(format!(
                "not a valid safetensors file ({}); export the adapter again",
                e.root()
            ));
        }
    } else if name == ruvltra_safetensors::adapter::ADAPTER_CONFIG {
        let config = read_adapter_config(&expected.local).and_then(|bytes| {
            ruvltra_safetensors::check_adapter_config(&bytes).map_err(|e| e.root().to_string())
        });
        match config {
            Ok(config) => {
                if let Some(warning) = base_mismatch(&config, &expected.adapter_bases) {
                    warnings.push(warning);
                }
            }
            Err(e) => errors.push(format!(
                "not a valid PEFT LoRA adapter config ({e}); fix it or export the adapter again"
            )),
        }
    } else if name.ends_with(".jsonl")
        && let Err(e) = ruvltra_safetensors::check_jsonl(&expected.local, MAX_JSONL_LINE)
    {
        errors.push(format!(
            "not a valid jsonl file ({}); every line must be one JSON object",
            e.root()
        ));
    }
}

/// A warning when the config's base model is none of the names the registry allows.
fn base_mismatch(config: &ruvltra_safetensors::AdapterConfig, bases: &[String]) -> Option<String> {
    let said = config.base_model_name_or_path.trim_end_matches('/');
    if bases.is_empty() || bases.iter().any(|b| b == said) {
        return None;
    }
    Some(format!(
        "base_model_name_or_path is {said:?} but the adapter's base in the registry is {}; the adapter may not fit that model",
        bases
            .iter()
            .map(|b| format!("{b:?}"))
            .collect::<Vec<_>>()
            .join(" or ")
    ))
}

/// Checks the files of each adapter together: the LoRA weights against the config, and, when
/// all four files of a SONA export sit in one folder, that folder with
/// [`ruvltra_safetensors::check_adapter_dir`]. Runs only on adapters whose files each pass their
/// own checks, so one fault is reported once (by [`check_adapter_file`]).
pub fn check_adapter_sets(files: &[Expected]) -> Vec<CheckProblem> {
    use ruvltra_safetensors::adapter::ADAPTER_FILES;
    use std::collections::BTreeMap;

    let mut errors = Vec::new();
    let mut sets: BTreeMap<&str, Vec<&Expected>> = BTreeMap::new();
    for e in files.iter().filter(|e| e.kind == FileKind::Adapter) {
        sets.entry(e.model_id.as_deref().unwrap_or(&e.repo_path))
            .or_default()
            .push(e);
    }
    for set in sets.values() {
        let mut own_errors = Vec::new();
        for e in set {
            check_adapter_file(e, &mut own_errors, &mut Vec::new());
        }
        if !own_errors.is_empty() {
            continue;
        }
        let before = errors.len();
        let weights = set
            .iter()
            .find(|e| file_name(&e.repo_path).ends_with(".safetensors"));
        let config = set
            .iter()
            .find(|e| file_name(&e.repo_path) == ruvltra_safetensors::adapter::ADAPTER_CONFIG);
        if let (Some(weights), Some(config)) = (weights, config) {
            let header = ruvltra_safetensors::read_header(&weights.local);
            let parsed = read_adapter_config(&config.local)
                .ok()
                .and_then(|bytes| ruvltra_safetensors::check_adapter_config(&bytes).ok());
            if let (Ok(header), Some(parsed)) = (header, parsed) {
                for message in ruvltra_safetensors::check_weights_match_config(&header, &parsed) {
                    errors.push(CheckProblem {
                        path: weights.repo_path.clone(),
                        message: format!(
                            "the LoRA weights disagree with {}: {message}; export the adapter again",
                            config.repo_path
                        ),
                    });
                }
            }
        }
        // A complete SONA export folder is checked as the folder it is.
        let dirs: std::collections::BTreeSet<_> =
            set.iter().filter_map(|e| e.local.parent()).collect();
        let names: std::collections::BTreeSet<&str> =
            set.iter().map(|e| file_name(&e.repo_path)).collect();
        if let ([dir], true, true) = (
            dirs.into_iter().collect::<Vec<_>>().as_slice(),
            ADAPTER_FILES.iter().all(|n| names.contains(n)),
            errors.len() == before,
        ) && let Err(e) = ruvltra_safetensors::check_adapter_dir(dir)
        {
            let path = set.first().map(|e| e.repo_path.clone()).unwrap_or_default();
            errors.push(CheckProblem {
                path,
                message: format!(
                    "the adapter folder {} fails its checks ({e}); export the adapter again",
                    dir.display()
                ),
            });
        }
    }
    errors
}

type CheckOutcome = (Option<CheckedFile>, Vec<CheckProblem>, Vec<CheckProblem>);

async fn check_one(
    expected: Expected,
    chunk: bool,
    observer: Observer,
) -> Result<CheckOutcome, UploadError> {
    let problem = |message: String| CheckProblem {
        path: expected.repo_path.clone(),
        message,
    };
    let io_error = |source| UploadError::Io {
        path: expected.local.clone(),
        source,
    };
    let meta = std::fs::metadata(&expected.local).map_err(io_error)?;
    if !meta.is_file() {
        return Ok((
            None,
            vec![problem(format!(
                "{} is not a regular file",
                expected.local.display()
            ))],
            Vec::new(),
        ));
    }
    let len = meta.len();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if len == 0 {
        errors.push("the file is empty".to_owned());
    }
    if len > MAX_FILE_BYTES {
        errors.push(format!(
            "the file has {len} bytes, more than the Hub's {MAX_FILE_BYTES}-byte limit per file; split it with llama.cpp's gguf-split"
        ));
    }
    if let Some(wanted) = expected.bytes.filter(|b| *b != len) {
        errors.push(format!(
            "size mismatch: the registry says {wanted} bytes, the file has {len}; fix `bytes` in registry.json or pick the right file"
        ));
    }
    if len > MAX_FILE_BYTES {
        // The file can never be published, so its checks and a hash of tens of GB are skipped.
        let errs = errors.into_iter().map(&problem).collect();
        return Ok((None, errs, Vec::new()));
    }
    let gguf = match expected.kind {
        FileKind::GgufModel | FileKind::GgufShard if len > 0 => {
            check_gguf(&expected, len, &mut errors, &mut warnings)
        }
        FileKind::Adapter if len > 0 => {
            check_adapter_file(&expected, &mut errors, &mut warnings);
            None
        }
        _ => None,
    };

    // The streaming hash, on its own thread.
    observer(Event::HashStart {
        path: expected.repo_path.clone(),
        bytes: len,
    });
    let path = expected.local.clone();
    let repo_path = expected.repo_path.clone();
    let hash_observer = Arc::clone(&observer);
    let hashed = tokio::task::spawn_blocking(move || {
        let mut last = 0u64;
        scan_file(&path, chunk, &mut |done| {
            // Report about every 32 MiB and at the end, so events stay cheap.
            if done - last >= 32 * 1024 * 1024 || done == len {
                last = done;
                hash_observer(Event::HashProgress {
                    path: repo_path.clone(),
                    done,
                });
            }
        })
    })
    .await
    .map_err(|e| UploadError::Setup(format!("the hashing thread failed: {e}")))?
    .map_err(io_error)?;
    let (sha256, hashed_len, chunks) = hashed;
    observer(Event::HashDone {
        path: expected.repo_path.clone(),
        sha256: sha256.to_hex(),
    });
    if hashed_len != len {
        errors.push(format!(
            "the file changed while it was read ({len} bytes, then {hashed_len}); wait until it is fully written"
        ));
    }
    if let Some(wanted) = &expected.sha256
        && !wanted.eq_ignore_ascii_case(&sha256.to_hex())
    {
        errors.push(format!(
            "sha256 mismatch: the registry expects {wanted}, the file has {sha256}; fix `sha256` in registry.json or pick the right file"
        ));
    }
    let errs: Vec<CheckProblem> = errors.into_iter().map(&problem).collect();
    let warns: Vec<CheckProblem> = warnings.into_iter().map(&problem).collect();
    for w in &warns {
        observer(Event::Warning(w.to_string()));
    }
    let file = errs.is_empty().then(|| CheckedFile {
        repo_path: expected.repo_path.clone(),
        local: expected.local.clone(),
        model_id: expected.model_id.clone(),
        bytes: len,
        sha256,
        gguf,
        chunks: chunks.map(Arc::new),
    });
    Ok((file, errs, warns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_hash_equals_the_one_shot_digest_at_buffer_edges() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0,
            1,
            HASH_BUFFER - 1,
            HASH_BUFFER,
            HASH_BUFFER + 1,
            3 * HASH_BUFFER + 7,
        ] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let mut last = 0;
            let (sha, size) = hash_file(&path, &mut |done| last = done).unwrap();
            assert_eq!(sha, Sha256::digest(&bytes), "{len}");
            assert_eq!((size, last), (len as u64, len as u64));
        }
        assert!(hash_file(&dir.path().join("absent"), &mut |_| {}).is_err());
    }

    #[test]
    fn the_scan_chunks_like_the_one_shot_chunker_at_buffer_edges() {
        let dir = tempfile::tempdir().unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for len in [0, 1, 8191, HASH_BUFFER + 1, 3 * HASH_BUFFER + 77_777] {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let (sha, size, chunks) = scan_file(&path, true, &mut |_| {}).unwrap();
            assert_eq!((sha, size), (Sha256::digest(&bytes), len as u64));
            let chunks = chunks.unwrap();
            assert_eq!(chunks, FileChunks::of_bytes(&bytes), "{len}");
            let total: u64 = chunks.chunks.iter().map(|c| u64::from(c.len)).sum();
            assert_eq!(total, len as u64);
            assert_eq!(scan_file(&path, false, &mut |_| {}).unwrap().2, None);
        }
    }
}
