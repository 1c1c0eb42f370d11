//! The downloader's errors: one enum for every layer, and which of them mean that trying
//! another source would not help.

use std::io;
use std::path::{Path, PathBuf};

use hub_client::HubError;

use super::outcome::Source;

/// One source that failed for a file, and why.
#[derive(Debug)]
pub struct SourceFailure {
    /// The source.
    pub source: Source,
    /// What went wrong.
    pub error: DownloadError,
}

/// Errors of the downloader.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Offline mode is on and the file is not in the cache.
    #[error(
        "{file} of model {id} is not in the cache at {} and offline mode is on (HF_HUB_OFFLINE); run `ruvllm pull {id}` with network access, or point HF_HUB_CACHE at a cache that has it",
        cache.display()
    )]
    NotCached {
        /// The model id.
        id: String,
        /// The file.
        file: String,
        /// The cache root searched.
        cache: PathBuf,
    },
    /// The spec cannot be downloaded as it is (bad repo id, path or revision).
    #[error("model {id} cannot be downloaded: {reason}; fix its registry entry")]
    InvalidSpec {
        /// The model id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The Hub or a fallback server answered with an error, or could not be reached.
    #[error(transparent)]
    Hub(#[from] HubError),
    /// The content's sha256 is not the expected one.
    #[error(
        "sha256 mismatch for {file} from {origin}: expected {expected}, got {actual}; the data was discarded"
    )]
    Checksum {
        /// The file.
        file: String,
        /// Where the bytes came from.
        origin: Source,
        /// The expected sha256.
        expected: String,
        /// The sha256 of what arrived.
        actual: String,
    },
    /// The content's size is not the expected one.
    #[error(
        "size mismatch for {file} from {origin}: expected {expected} bytes, got {actual}; the data was discarded"
    )]
    Size {
        /// The file.
        file: String,
        /// Where the bytes came from.
        origin: Source,
        /// The expected size.
        expected: u64,
        /// The size found or announced.
        actual: u64,
    },
    /// A fallback URL was not used.
    #[error("fallback URL {url} not used: {reason}")]
    FallbackRefused {
        /// The URL, without its query string.
        url: String,
        /// Why.
        reason: String,
    },
    /// The transfer kept failing.
    #[error(
        "the transfer of {file} from {origin} failed {attempts} times, last: {last}; check the network and try again (the download resumes)"
    )]
    Interrupted {
        /// The file.
        file: String,
        /// Where from.
        origin: Source,
        /// How many attempts failed.
        attempts: u32,
        /// The last failure.
        last: Box<DownloadError>,
    },
    /// Every source failed.
    #[error(
        "{file} of model {id} could not be downloaded from any source: {}",
        describe(failures)
    )]
    AllSourcesFailed {
        /// The model id.
        id: String,
        /// The file.
        file: String,
        /// Each source tried, in order, with its failure.
        failures: Vec<SourceFailure>,
    },
    /// A file in the cache is not what it should be.
    #[error(
        "the cached file {} failed verification: {reason}; run `ruvllm pull` with network access to fetch it again",
        path.display()
    )]
    CorruptCache {
        /// The blob or snapshot path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The Xet download failed; the plain download is tried next.
    #[error("the Xet download of {file} failed: {reason}")]
    Xet {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// Reading or writing the cache failed.
    #[error("cache I/O on {}: {source}; check permissions and free space", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The blocking API could not run.
    #[error("cannot run the download: {0}")]
    Runtime(String),
}

fn describe(failures: &[SourceFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("[{}] {}", f.source, f.error))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DownloadError {
    /// True for failures of the local machine (cache I/O, a bad spec): trying another source
    /// would not help.
    pub(super) fn is_local(&self) -> bool {
        match self {
            DownloadError::Io { .. }
            | DownloadError::InvalidSpec { .. }
            | DownloadError::Runtime(_) => true,
            DownloadError::Interrupted { last, .. } => last.is_local(),
            _ => false,
        }
    }

    /// True when the content was checked and found wrong (size or sha256), anywhere inside.
    pub fn is_integrity(&self) -> bool {
        match self {
            DownloadError::Checksum { .. } | DownloadError::Size { .. } => true,
            DownloadError::Interrupted { last, .. } => last.is_integrity(),
            DownloadError::AllSourcesFailed { failures, .. } => {
                failures.iter().any(|f| f.error.is_integrity())
            }
            _ => false,
        }
    }
}

/// Maps an I/O error on `path` to [`DownloadError::Io`].
pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.to_owned(),
        source,
    }
}
