//! What a download tells its caller: where a file came from, the progress reports while it
//! comes, and the outcome of each file.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A progress callback; it is called from the download task, so it must be quick.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Where a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The local cache; nothing was transferred.
    Cache,
    /// The Hub's `resolve` endpoint.
    Hub,
    /// The fallback URL with this index in
    /// [`ModelSpec::fallback_urls`](crate::hub::registry::ModelSpec::fallback_urls).
    Fallback(usize),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cache => f.write_str("the cache"),
            Source::Hub => f.write_str("the Hub"),
            Source::Fallback(i) => write!(f, "fallback URL #{}", i + 1),
        }
    }
}

/// What happened, in a [`Progress`] report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The file was found in the cache and verified.
    Cached,
    /// A transfer from `source` starts at byte `from` (non-zero when resuming).
    Started {
        /// Where from.
        source: Source,
        /// The first byte requested.
        from: u64,
    },
    /// More bytes arrived.
    Bytes,
    /// The transfer failed and will be tried again (resuming) or from the next source.
    Retrying {
        /// The source that failed.
        source: Source,
    },
    /// The file is complete and verified.
    Finished {
        /// Where it came from.
        source: Source,
    },
}

/// A progress report for one file of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The model id.
    pub model: &'static str,
    /// The file's path in the repository.
    pub file: &'static str,
    /// The file's position among the model's files (0-based).
    pub file_index: usize,
    /// How many files the model has.
    pub file_count: usize,
    /// Bytes of this file on disk so far (including a resumed prefix).
    pub done: u64,
    /// The file's size, when known.
    pub total: Option<u64>,
    /// What happened.
    pub event: ProgressEvent,
}

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// The file's path in the repository.
    pub file: &'static str,
    /// The local path (a snapshot symlink, or a `ruvllm-fallback` link).
    pub path: PathBuf,
    /// The commit, when known.
    pub commit: Option<String>,
    /// Where the bytes came from.
    pub source: Source,
    /// What the content was checked against: `"registry sha256"`, `"hub sha256"`, or
    /// `"size only"`.
    pub checked_against: &'static str,
    /// The byte a transfer resumed from (0 when it started afresh or was cached).
    pub resumed_from: u64,
    /// Bytes received over the network for this file (all attempts).
    pub bytes_received: u64,
    /// Sources that failed before the one that worked, as text.
    pub failed_sources: Vec<String>,
    /// What the Xet path did, when the Hub stores the file in Xet and it was transferred.
    pub xet: Option<XetReport>,
}

/// What the Xet path did for one file: fetched xorb ranges and copies from an older revision
/// in the cache. Its byte counts are also in [`FetchedFile::bytes_received`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XetReport {
    /// True when the file's bytes came through Xet; false when Xet failed and the plain
    /// download took over ([`failure`](Self::failure) says why).
    pub used: bool,
    /// Why Xet was given up, when it was.
    pub failure: Option<String>,
    /// Terms of the file's reconstruction (from the resume point, when resuming).
    pub terms: usize,
    /// Terms copied from the older revision instead of fetched.
    pub terms_copied: usize,
    /// Bytes received from xorb URLs, every attempt included.
    pub fetched_bytes: u64,
    /// Bytes copied from the older revision.
    pub copied_bytes: u64,
    /// The commit of the older revision copied from, when something was copied.
    pub copied_from: Option<String>,
    /// Xorb ranges fetched again after a failed check or a broken connection.
    pub refetches: u32,
}

/// The outcome of a download: the main file's path and a report per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The main file's local path; the other files of the model are in the same folder tree.
    pub path: PathBuf,
    /// Every file, the main one first.
    pub files: Vec<FetchedFile>,
}

/// Sends one model's progress reports to the caller's callback, if there is one.
#[derive(Clone)]
pub(super) struct Reporter {
    progress: Option<ProgressFn>,
    model: &'static str,
    file_count: usize,
}

impl Reporter {
    /// The reporter of `model`, which has `file_count` files.
    pub(super) fn new(
        progress: Option<ProgressFn>,
        model: &'static str,
        file_count: usize,
    ) -> Self {
        Reporter {
            progress,
            model,
            file_count,
        }
    }

    /// Reports `event` for the file at `index`.
    pub(super) fn report(
        &self,
        index: usize,
        file: &'static str,
        done: u64,
        total: Option<u64>,
        event: ProgressEvent,
    ) {
        if let Some(progress) = &self.progress {
            progress(Progress {
                model: self.model,
                file,
                file_index: index,
                file_count: self.file_count,
                done,
                total,
                event,
            });
        }
    }

    /// The reports of one file.
    pub(super) fn file(&self, index: usize, file: &'static str) -> FileReporter<'_> {
        FileReporter {
            reporter: self,
            index,
            file,
        }
    }
}

/// The progress reports of one file of a model.
#[derive(Clone, Copy)]
pub(super) struct FileReporter<'a> {
    reporter: &'a Reporter,
    index: usize,
    file: &'static str,
}

impl FileReporter<'_> {
    /// The file's path in the repository.
    pub(super) fn file(&self) -> &'static str {
        self.file
    }

    /// Reports `event` with `done` of `total` bytes on disk.
    pub(super) fn report(&self, done: u64, total: Option<u64>, event: ProgressEvent) {
        self.reporter
            .report(self.index, self.file, done, total, event);
    }
}
