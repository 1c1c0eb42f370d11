//! One blob of the cache, put in place verified: the check of a cached blob (size, marker or
//! full hash), the blob's lock, the transfer from one source with its resumes and retries
//! (through Xet first when the Hub offers it, then the plain `GET`), and the link that gives
//! the blob its file name.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use hub_client::{Download, HubError, RangeAnswer, RepoId, RetryPolicy};

use super::error::{DownloadError, io_err};
use super::outcome::{FileReporter, ProgressEvent, Source, XetReport};
use super::transfer::{Transfer, hash_file};
use super::xet::{self, XetSource};
use crate::hub::cache::{self, HfCache, is_sha256_hex};

/// Body failures tolerated per source before it is given up (each resumes from the bytes
/// already received).
const MAX_BODY_ATTEMPTS: u32 = 6;

/// What the content must be.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Expected {
    /// The size, when known.
    pub(super) size: Option<u64>,
    /// The sha256, when known.
    pub(super) sha256: Option<[u8; 32]>,
    /// Where the sha256 comes from, for the report.
    pub(super) from_registry: bool,
}

impl Expected {
    /// What the content is checked against, as [`FetchedFile::checked_against`] says it.
    ///
    /// [`FetchedFile::checked_against`]: super::outcome::FetchedFile::checked_against
    pub(super) fn checked_against(&self) -> &'static str {
        match (self.sha256, self.from_registry) {
            (Some(_), true) => "registry sha256",
            (Some(_), false) => "hub sha256",
            (None, _) => "size only",
        }
    }
}

/// What a blob named `etag` was checked against: the expected sha256, else the etag when it
/// is a sha256 (an LFS file), else only the size.
pub(super) fn checked(expected: Expected, etag: &str) -> &'static str {
    if expected.sha256.is_some() {
        expected.checked_against()
    } else if is_sha256_hex(etag) {
        "hub sha256"
    } else {
        "size only"
    }
}

/// What is wrong with `size` bytes of sha256 `digest` from `source`, if anything.
fn mismatch(
    file: &str,
    source: Source,
    want: Expected,
    size: u64,
    digest: [u8; 32],
) -> Option<DownloadError> {
    if let Some(sha) = want.sha256
        && sha != digest
    {
        Some(DownloadError::Checksum {
            file: file.to_owned(),
            origin: source,
            expected: hex::encode(sha),
            actual: hex::encode(digest),
        })
    } else if let Some(w) = want.size
        && w != size
    {
        Some(DownloadError::Size {
            file: file.to_owned(),
            origin: source,
            expected: w,
            actual: size,
        })
    } else {
        None
    }
}

/// A file obtained from a source, before it is linked.
pub(super) struct Obtained {
    /// The byte the transfer resumed from (0 when it started afresh or nothing moved).
    pub(super) resumed_from: u64,
    /// Bytes received over the network (all attempts).
    pub(super) bytes_received: u64,
    /// False when the blob was already in the cache, verified.
    pub(super) transferred: bool,
    /// What the Xet path did, when it was tried.
    pub(super) xet: Option<XetReport>,
}

/// The blobs of one repository in the cache, and the revision files are linked under.
pub(super) struct Blobs {
    /// The cache.
    pub(super) cache: HfCache,
    /// The repository.
    pub(super) repo: RepoId,
    /// The revision asked for (a branch, tag or commit id).
    pub(super) revision: String,
    /// Hash cached blobs again instead of trusting their verification marker.
    pub(super) full_verify: bool,
}

impl Blobs {
    /// Checks a cached blob: size, then the marker, else (or with `full_verify`) a full hash.
    /// The inner `Err` says what is wrong.
    pub(super) async fn verify_cached(
        &self,
        blob: &Path,
        etag: &str,
        expected: Expected,
    ) -> Result<Result<(), String>, DownloadError> {
        let (size, mtime) = match cache::size_and_mtime(blob) {
            Ok(v) => v,
            Err(e) => return Ok(Err(format!("cannot read it: {e}"))),
        };
        if let Some(want) = expected.size
            && want != size
        {
            return Ok(Err(format!("expected {want} bytes, found {size}")));
        }
        let want_sha = expected
            .sha256
            .map(hex::encode)
            .or_else(|| is_sha256_hex(etag).then(|| etag.to_owned()));
        let Some(want_sha) = want_sha else {
            return Ok(Ok(()));
        };
        let ours = self.cache.blob_path(&self.repo, etag) == blob;
        if ours
            && !self.full_verify
            && let Some(marker) = self.cache.read_marker(&self.repo, etag)
            && marker.size == size
            && marker.mtime_ns == mtime
            && marker.sha256 == want_sha
        {
            return Ok(Ok(()));
        }
        let path = blob.to_owned();
        let actual = tokio::task::spawn_blocking(move || hash_file(&path, None))
            .await
            .map_err(|e| DownloadError::Runtime(e.to_string()))?
            .map_err(io_err(blob))?;
        let actual = hex::encode(actual);
        if actual != want_sha {
            return Ok(Err(format!("expected sha256 {want_sha}, found {actual}")));
        }
        if ours && let Err(e) = self.cache.write_marker(&self.repo, etag, &actual) {
            tracing::debug!(error = %e, "cannot record the verification marker");
        }
        Ok(Ok(()))
    }

    /// Links `file` to `blobs/<etag>`: in the commit's snapshot when the commit is known,
    /// else in the `ruvllm-fallback` folder of the revision.
    pub(super) fn link(
        &self,
        commit: Option<&str>,
        file: &str,
        etag: &str,
    ) -> Result<PathBuf, DownloadError> {
        let link = match commit {
            Some(commit) => self.cache.snapshot_path(&self.repo, commit, file),
            None => self.cache.fallback_path(&self.repo, &self.revision, file),
        };
        self.cache
            .link_blob(&self.repo, &link, file, etag)
            .map_err(io_err(&link))?;
        if let Some(commit) = commit
            && commit != self.revision
        {
            self.cache
                .write_ref(&self.repo, &self.revision, commit)
                .map_err(io_err(&self.cache.ref_path(&self.repo, &self.revision)))?;
        }
        Ok(link)
    }

    /// Puts `blobs/<etag>` in place, verified, unless it is already there: through `xet` when
    /// given, else (or when Xet fails in any way, which is logged) from `open(start)`. Holds
    /// the blob's lock throughout; waits between body attempts as `retry` says.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn obtain<F, Fut>(
        &self,
        to: FileReporter<'_>,
        etag: &str,
        want: Expected,
        source: Source,
        retry: &RetryPolicy,
        xet: Option<&XetSource>,
        open: F,
    ) -> Result<Obtained, DownloadError>
    where
        F: Fn(u64) -> Fut,
        Fut: std::future::Future<Output = Result<Download, HubError>>,
    {
        let blob = self.cache.blob_path(&self.repo, etag);
        let lock_path = self.cache.lock_path(&self.repo, etag);
        let blobs_dir = blob.parent().map(Path::to_owned).unwrap_or_default();
        fs::create_dir_all(&blobs_dir).map_err(io_err(&blobs_dir))?;
        let _lock = lock_blob(&lock_path).await?;

        if blob.is_file() {
            match self.verify_cached(&blob, etag, want).await? {
                Ok(()) => {
                    return Ok(Obtained {
                        resumed_from: 0,
                        bytes_received: 0,
                        transferred: false,
                        xet: None,
                    });
                }
                Err(reason) => {
                    tracing::warn!(blob = %blob.display(), %reason, "removing a corrupt blob");
                    fs::remove_file(&blob).map_err(io_err(&blob))?;
                }
            }
        }

        let file = to.file();
        let partial = self.cache.partial_path(&self.repo, etag);
        let mut received = 0u64;
        let mut xet_report = None;
        if let Some(xet) = xet {
            let mut report = XetReport::default();
            let result = xet::fetch(to, &partial, want.size, xet, retry, &mut report).await?;
            received += report.fetched_bytes;
            let failure = match result {
                Ok(done) => match mismatch(file, source, want, done.size, done.digest) {
                    None => {
                        report.used = true;
                        self.put_in_place(&partial, &blob, &blobs_dir, etag, done.digest)?;
                        return Ok(Obtained {
                            resumed_from: done.resumed_from,
                            bytes_received: received,
                            transferred: true,
                            xet: Some(report),
                        });
                    }
                    Some(e) => {
                        fs::remove_file(&partial).map_err(io_err(&partial))?;
                        e
                    }
                },
                Err(e) => e,
            };
            tracing::warn!(file, reason = %failure, "the Xet download failed; downloading with a plain GET");
            report.failure = Some(failure.to_string());
            xet_report = Some(report);
        }
        let mut round = 0;
        loop {
            round += 1;
            let result = self
                .transfer_once(to, &partial, want, source, retry, &open, &mut received)
                .await?;
            let (resumed_from, size, digest) = match result {
                Ok(done) => done,
                Err(e) => return Err(e),
            };
            if let Some(e) = mismatch(file, source, want, size, digest) {
                fs::remove_file(&partial).map_err(io_err(&partial))?;
                if resumed_from > 0 && round == 1 {
                    // The prefix came from an earlier transfer; it may be what was wrong, so
                    // this source gets one more chance from zero.
                    tracing::warn!(file, error = %e, "a resumed download did not verify; starting again from zero");
                    continue;
                }
                return Err(e);
            }
            self.put_in_place(&partial, &blob, &blobs_dir, etag, digest)?;
            return Ok(Obtained {
                resumed_from,
                bytes_received: received,
                transferred: true,
                xet: xet_report,
            });
        }
    }

    /// Renames a verified partial file to its blob and records the verification marker.
    fn put_in_place(
        &self,
        partial: &Path,
        blob: &Path,
        blobs_dir: &Path,
        etag: &str,
        digest: [u8; 32],
    ) -> Result<(), DownloadError> {
        fs::rename(partial, blob).map_err(io_err(blob))?;
        cache::sync_dir(blobs_dir);
        if let Err(e) = self
            .cache
            .write_marker(&self.repo, etag, &hex::encode(digest))
        {
            tracing::debug!(error = %e, "cannot record the verification marker");
        }
        Ok(())
    }

    /// One transfer of a blob into its partial file, resuming what the file holds. Returns
    /// (the byte it resumed from, the final size, the sha256). The outer `Err` is local
    /// trouble; the inner one a failure of the source.
    #[allow(clippy::too_many_arguments)]
    async fn transfer_once<F, Fut>(
        &self,
        to: FileReporter<'_>,
        partial: &Path,
        want: Expected,
        source: Source,
        retry: &RetryPolicy,
        open: &F,
        received: &mut u64,
    ) -> Result<Result<(u64, u64, [u8; 32]), DownloadError>, DownloadError>
    where
        F: Fn(u64) -> Fut,
        Fut: std::future::Future<Output = Result<Download, HubError>>,
    {
        let file = to.file();
        let mut transfer = Transfer::start(partial, want.size)?;
        let resumed_from = transfer.pos;
        let mut attempts = 0u32;
        let mut last_error: Option<DownloadError> = None;
        loop {
            if want.size == Some(transfer.pos) {
                break;
            }
            if attempts >= MAX_BODY_ATTEMPTS {
                transfer.abort().await;
                return Ok(Err(DownloadError::Interrupted {
                    file: file.to_owned(),
                    origin: source,
                    attempts,
                    last: Box::new(
                        last_error.unwrap_or_else(|| {
                            DownloadError::Runtime("no attempt was made".into())
                        }),
                    ),
                }));
            }
            if attempts > 0 {
                to.report(transfer.pos, want.size, ProgressEvent::Retrying { source });
                tokio::time::sleep(retry.backoff(attempts - 1)).await;
            }
            attempts += 1;
            let start = transfer.pos;
            let download = match open(start).await {
                Ok(d) => d,
                Err(e) => {
                    // The client already retried the opening request; a final answer (a 404,
                    // an exhausted retry budget) goes to the next source. The bytes received
                    // so far stay for a later resume.
                    transfer.abort().await;
                    return Ok(Err(e.into()));
                }
            };
            let announced = download.total_size.or(match download.answer {
                RangeAnswer::Full => download.content_length,
                RangeAnswer::Partial => None,
            });
            if let (Some(want_size), Some(got)) = (want.size, announced)
                && want_size != got
            {
                // An error page served with 200, or a truncated answer: nothing is written.
                last_error = Some(DownloadError::Size {
                    file: file.to_owned(),
                    origin: source,
                    expected: want_size,
                    actual: got,
                });
                continue;
            }
            if download.answer == RangeAnswer::Full && start > 0 {
                tracing::info!(
                    start,
                    "the server ignored the range; starting again from zero"
                );
                transfer.restart().await?;
            }
            to.report(
                transfer.pos,
                want.size,
                ProgressEvent::Started {
                    source,
                    from: transfer.pos,
                },
            );
            let mut stream = download.into_stream();
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(bytes) => {
                        let len = bytes.len() as u64;
                        if let Some(w) = want.size
                            && transfer.pos + len > w
                        {
                            failed = Some(DownloadError::Size {
                                file: file.to_owned(),
                                origin: source,
                                expected: w,
                                actual: transfer.pos + len,
                            });
                            break;
                        }
                        *received += len;
                        transfer.push(bytes).await?;
                        to.report(transfer.pos, want.size, ProgressEvent::Bytes);
                    }
                    Err(e) => {
                        failed = Some(e.into());
                        break;
                    }
                }
            }
            drop(stream);
            match failed {
                Some(e @ DownloadError::Size { .. }) => {
                    // More bytes than announced: the source is broken, not the connection,
                    // and what it sent is not worth keeping.
                    transfer.abort().await;
                    fs::remove_file(partial).map_err(io_err(partial))?;
                    return Ok(Err(e));
                }
                Some(e) => {
                    transfer.flush().await?;
                    last_error = Some(e);
                    continue;
                }
                None => {}
            }
            if let Some(w) = want.size
                && transfer.pos < w
            {
                transfer.flush().await?;
                last_error = Some(DownloadError::Size {
                    file: file.to_owned(),
                    origin: source,
                    expected: w,
                    actual: transfer.pos,
                });
                continue;
            }
            break;
        }
        let (size, digest) = transfer.finish().await?;
        Ok(Ok((resumed_from, size, digest)))
    }
}

/// Takes the blob's exclusive lock (waiting for another process or task holding it).
async fn lock_blob(path: &Path) -> Result<File, DownloadError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| DownloadError::Runtime(e.to_string()))?
        .map_err(io_err(&owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_reports_its_origin() {
        let reg = Expected {
            size: Some(1),
            sha256: Some([0; 32]),
            from_registry: true,
        };
        assert_eq!(reg.checked_against(), "registry sha256");
        let hub = Expected {
            from_registry: false,
            ..reg
        };
        assert_eq!(hub.checked_against(), "hub sha256");
        assert_eq!(Expected::default().checked_against(), "size only");
        assert_eq!(checked(Expected::default(), &"a".repeat(64)), "hub sha256");
        assert_eq!(checked(Expected::default(), &"a".repeat(40)), "size only");
    }
}
