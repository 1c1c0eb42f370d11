//! The source order for one file: the cache when the content is pinned, then the Hub's
//! `resolve` (the commit, the etag and the size from its `HEAD`; through Xet when the `HEAD`
//! advertises it), then the spec's fallback URLs in order, each checked before use. The first
//! that gives verified bytes wins.

use std::fs;
use std::path::Path;

use hub_client::{HubClient, HubError, is_loopback};
use url::Url;

use super::blob::{Blobs, Expected, checked};
use super::error::{DownloadError, SourceFailure, io_err};
use super::outcome::{FetchedFile, ProgressEvent, Reporter, Source};
use super::xet::XetSource;
use crate::hub::cache::{is_commit_id, is_safe_name, is_sha256_hex};
use crate::hub::registry::{FileSpec, ModelSpec};

/// The state of one `download` call: the files of one model, fetched in order, each from the
/// first source that gives verified bytes.
pub(super) struct Job<'a> {
    spec: &'a ModelSpec,
    blobs: Blobs,
    client: Option<HubClient>,
    offline: bool,
    /// Whether a file the Hub stores in Xet is fetched through Xet.
    use_xet: bool,
    reporter: Reporter,
    /// The commit the first file resolved to; later files are read from the same commit.
    commit: Option<String>,
}

impl<'a> Job<'a> {
    /// A job for `spec`'s files; `client` is `None` offline.
    pub(super) fn new(
        spec: &'a ModelSpec,
        blobs: Blobs,
        client: Option<HubClient>,
        offline: bool,
        use_xet: bool,
        reporter: Reporter,
    ) -> Self {
        Job {
            spec,
            blobs,
            client,
            offline,
            use_xet,
            reporter,
            commit: None,
        }
    }

    /// The commit the revision is known to point to without asking the Hub.
    fn local_commit(&self) -> Result<Option<String>, DownloadError> {
        if let Some(commit) = &self.commit {
            return Ok(Some(commit.clone()));
        }
        if is_commit_id(&self.blobs.revision) {
            return Ok(Some(self.blobs.revision.clone()));
        }
        self.blobs
            .cache
            .read_ref(&self.blobs.repo, &self.blobs.revision)
            .map_err(io_err(
                &self
                    .blobs
                    .cache
                    .ref_path(&self.blobs.repo, &self.blobs.revision),
            ))
    }

    /// Fetches the file at `index` of the model (the cache, the Hub, the fallback URLs).
    pub(super) async fn fetch_file(
        &mut self,
        index: usize,
        f: FileSpec,
    ) -> Result<FetchedFile, DownloadError> {
        let expected = Expected {
            size: f.bytes,
            sha256: f.sha256,
            from_registry: f.sha256.is_some(),
        };
        if let Some(hit) = self.try_cache(index, f, expected).await? {
            return Ok(hit);
        }
        let Some(client) = self.client.clone() else {
            return Err(DownloadError::NotCached {
                id: self.spec.id.to_owned(),
                file: f.file.to_owned(),
                cache: self.blobs.cache.root().to_owned(),
            });
        };
        let mut failures = Vec::new();
        // What the Hub's HEAD taught us, even if its body then failed.
        let mut hub_etag: Option<String> = None;
        let mut want = expected;
        match self
            .try_hub(&client, index, f, expected, &mut hub_etag, &mut want)
            .await
        {
            Ok(done) => return Ok(done),
            Err(e) if e.is_local() => return Err(e),
            Err(e) => {
                tracing::warn!(model = self.spec.id, file = f.file, error = %e, "the Hub failed; trying fallback URLs");
                self.reporter.report(
                    index,
                    f.file,
                    0,
                    want.size,
                    ProgressEvent::Retrying {
                        source: Source::Hub,
                    },
                );
                failures.push(SourceFailure {
                    source: Source::Hub,
                    error: e,
                });
            }
        }
        for (i, raw) in self.spec.fallback_urls.iter().enumerate() {
            let source = Source::Fallback(i);
            let result = self
                .try_fallback(
                    &client,
                    index,
                    f,
                    raw,
                    source,
                    want,
                    hub_etag.as_deref(),
                    &failures,
                )
                .await;
            match result {
                Ok(Some(done)) => return Ok(done),
                Ok(None) => {}
                Err(e) if e.is_local() => return Err(e),
                Err(e) => {
                    tracing::warn!(model = self.spec.id, file = f.file, %source, error = %e, "fallback failed");
                    self.reporter.report(
                        index,
                        f.file,
                        0,
                        want.size,
                        ProgressEvent::Retrying { source },
                    );
                    failures.push(SourceFailure { source, error: e });
                }
            }
        }
        Err(DownloadError::AllSourcesFailed {
            id: self.spec.id.to_owned(),
            file: f.file.to_owned(),
            failures,
        })
    }

    /// Step 1: a pinned file already in the cache, verified, with no network.
    async fn try_cache(
        &mut self,
        index: usize,
        f: FileSpec,
        expected: Expected,
    ) -> Result<Option<FetchedFile>, DownloadError> {
        let pinned = expected.sha256.is_some() || is_commit_id(&self.blobs.revision);
        if !(pinned || self.offline) {
            // A branch may have moved: without a checksum to compare, the Hub is asked.
            return Ok(None);
        }
        let commit = self.local_commit()?;
        let mut candidates = Vec::new();
        if let Some(commit) = &commit {
            candidates.push((
                self.blobs
                    .cache
                    .snapshot_path(&self.blobs.repo, commit, f.file),
                Some(commit.clone()),
            ));
        }
        if self.offline {
            // Online, the Hub's answer is preferred: it gives the file a proper snapshot.
            candidates.push((
                self.blobs
                    .cache
                    .fallback_path(&self.blobs.repo, &self.blobs.revision, f.file),
                None,
            ));
        }
        for (link, commit) in candidates {
            if !link.is_file() {
                continue;
            }
            // A link into `blobs/` names its blob; anything else (a copy made where symlinks
            // are unavailable) is hashed as a plain file.
            let etag = fs::read_link(&link)
                .ok()
                .filter(|t| {
                    t.parent().and_then(Path::file_name) == Some(std::ffi::OsStr::new("blobs"))
                })
                .and_then(|t| t.file_name().and_then(|n| n.to_str()).map(str::to_owned))
                .filter(|e| is_safe_name(e));
            let (target, etag) = match etag {
                Some(e) => (self.blobs.cache.blob_path(&self.blobs.repo, &e), e),
                None => (link.clone(), String::new()),
            };
            match self.blobs.verify_cached(&target, &etag, expected).await? {
                Ok(()) => {
                    if let Some(c) = &commit {
                        self.commit.get_or_insert_with(|| c.clone());
                    }
                    self.reporter.report(
                        index,
                        f.file,
                        expected.size.unwrap_or(0),
                        expected.size,
                        ProgressEvent::Cached,
                    );
                    return Ok(Some(FetchedFile {
                        file: f.file,
                        path: link,
                        commit,
                        source: Source::Cache,
                        checked_against: checked(expected, &etag),
                        resumed_from: 0,
                        bytes_received: 0,
                        failed_sources: Vec::new(),
                        xet: None,
                    }));
                }
                Err(reason) if self.offline => {
                    return Err(DownloadError::CorruptCache { path: link, reason });
                }
                Err(reason) => {
                    tracing::info!(file = f.file, %reason, "cached copy does not match; downloading");
                }
            }
        }
        if self.offline
            && let Some(sha) = expected.sha256
        {
            // Offline, a verified blob with the right checksum is enough, whatever revision
            // fetched it; it gets a fallback link so the file keeps its name.
            let etag = hex::encode(sha);
            let blob = self.blobs.cache.blob_path(&self.blobs.repo, &etag);
            if blob.is_file()
                && self
                    .blobs
                    .verify_cached(&blob, &etag, expected)
                    .await?
                    .is_ok()
            {
                let link = self.blobs.link(commit.as_deref(), f.file, &etag)?;
                self.reporter.report(
                    index,
                    f.file,
                    expected.size.unwrap_or(0),
                    expected.size,
                    ProgressEvent::Cached,
                );
                return Ok(Some(FetchedFile {
                    file: f.file,
                    path: link,
                    commit,
                    source: Source::Cache,
                    checked_against: expected.checked_against(),
                    resumed_from: 0,
                    bytes_received: 0,
                    failed_sources: Vec::new(),
                    xet: None,
                }));
            }
        }
        Ok(None)
    }

    /// Step 2: the Hub.
    async fn try_hub(
        &mut self,
        client: &HubClient,
        index: usize,
        f: FileSpec,
        expected: Expected,
        hub_etag: &mut Option<String>,
        want: &mut Expected,
    ) -> Result<FetchedFile, DownloadError> {
        let asked = self
            .commit
            .clone()
            .unwrap_or_else(|| self.blobs.revision.clone());
        let meta = client
            .file_metadata(&self.blobs.repo, &asked, f.file)
            .await?;
        let bad = |what: &str, value: &str| {
            DownloadError::Hub(HubError::InvalidResponse {
                request: format!("HEAD {}", f.file),
                detail: format!("the {what} {value:?} is not a safe file name"),
            })
        };
        if !is_safe_name(&meta.commit) {
            return Err(bad("commit", &meta.commit));
        }
        if !is_safe_name(&meta.etag) {
            return Err(bad("etag", &meta.etag));
        }
        *hub_etag = Some(meta.etag.clone());
        self.commit.get_or_insert_with(|| meta.commit.clone());
        let hub_sha = if is_sha256_hex(&meta.etag) {
            parse_sha(&meta.etag)
        } else {
            None
        };
        *want = Expected {
            size: expected.size.or(meta.size),
            sha256: expected.sha256.or(hub_sha),
            from_registry: expected.sha256.is_some(),
        };
        if let (Some(ours), Some(theirs)) = (expected.sha256, hub_sha)
            && ours != theirs
        {
            return Err(DownloadError::Checksum {
                file: f.file.to_owned(),
                origin: Source::Hub,
                expected: hex::encode(ours),
                actual: format!("{} (announced by the Hub)", meta.etag),
            });
        }
        if let (Some(ours), Some(theirs)) = (expected.size, meta.size)
            && ours != theirs
        {
            return Err(DownloadError::Size {
                file: f.file.to_owned(),
                origin: Source::Hub,
                expected: ours,
                actual: theirs,
            });
        }
        let commit = meta.commit.clone();
        let repo = self.blobs.repo.clone();
        let path = f.file;
        let open = |start: u64| {
            let client = client.clone();
            let repo = repo.clone();
            let commit = commit.clone();
            async move { client.download_range(&repo, &commit, path, start).await }
        };
        let to = self.reporter.file(index, f.file);
        let xet = meta
            .xet
            .as_ref()
            .filter(|_| self.use_xet)
            .map(|info| XetSource {
                reader: client.xet_reader(info),
                hash: info.hash,
                older: self
                    .blobs
                    .cache
                    .other_snapshots(&self.blobs.repo, f.file, &meta.commit),
            });
        let got = self
            .blobs
            .obtain(
                to,
                &meta.etag,
                *want,
                Source::Hub,
                client.retry_policy(),
                xet.as_ref(),
                open,
            )
            .await?;
        let link = self.blobs.link(Some(&meta.commit), f.file, &meta.etag)?;
        let source = if got.transferred {
            Source::Hub
        } else {
            Source::Cache
        };
        self.reporter.report(
            index,
            f.file,
            want.size.unwrap_or(0),
            want.size,
            ProgressEvent::Finished { source },
        );
        Ok(FetchedFile {
            file: f.file,
            path: link,
            commit: Some(meta.commit),
            source,
            checked_against: checked(*want, &meta.etag),
            resumed_from: got.resumed_from,
            bytes_received: got.bytes_received,
            failed_sources: Vec::new(),
            xet: got.xet,
        })
    }

    /// Step 3: one fallback URL. `Ok(None)` never happens today; it is kept for URLs that do
    /// not apply to a file.
    #[allow(clippy::too_many_arguments)]
    async fn try_fallback(
        &mut self,
        client: &HubClient,
        index: usize,
        f: FileSpec,
        raw: &str,
        source: Source,
        want: Expected,
        hub_etag: Option<&str>,
        failures: &[SourceFailure],
    ) -> Result<Option<FetchedFile>, DownloadError> {
        let url = fallback_url(raw, f.file, f.file == self.spec.file)?;
        let Some(sha) = want.sha256 else {
            return Err(DownloadError::FallbackRefused {
                url: hub_client::without_query(&url),
                reason: "no sha256 is known for this file (neither in the registry nor from the Hub), so its content could not be verified".into(),
            });
        };
        // The blob is named as the Hub names it: its etag when the HEAD told us, else the
        // sha256 (the etag of every LFS file).
        let etag = match hub_etag {
            Some(e) => e.to_owned(),
            None => hex::encode(sha),
        };
        let open = |start: u64| {
            let client = client.clone();
            let url = url.clone();
            async move { client.download_url(&url, start).await }
        };
        let to = self.reporter.file(index, f.file);
        let got = self
            .blobs
            .obtain(to, &etag, want, source, client.retry_policy(), None, open)
            .await?;
        let commit = self.local_commit()?;
        let link = self.blobs.link(commit.as_deref(), f.file, &etag)?;
        let source = if got.transferred {
            source
        } else {
            Source::Cache
        };
        self.reporter.report(
            index,
            f.file,
            want.size.unwrap_or(0),
            want.size,
            ProgressEvent::Finished { source },
        );
        Ok(Some(FetchedFile {
            file: f.file,
            path: link,
            commit,
            source,
            checked_against: want.checked_against(),
            resumed_from: got.resumed_from,
            bytes_received: got.bytes_received,
            failed_sources: failures
                .iter()
                .map(|x| format!("{}: {}", x.source, x.error))
                .collect(),
            xet: None,
        }))
    }
}

fn parse_sha(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Checks a fallback URL and applies it to `file`.
fn fallback_url(raw: &str, file: &str, is_main: bool) -> Result<Url, DownloadError> {
    let refused = |url: &Url, reason: &str| DownloadError::FallbackRefused {
        url: hub_client::without_query(url),
        reason: reason.to_owned(),
    };
    let base = Url::parse(raw).map_err(|_| DownloadError::FallbackRefused {
        url: "(not shown)".into(),
        reason: "it is not a valid URL".into(),
    })?;
    let raw = &base;
    match base.scheme() {
        "https" => {}
        "http" if is_loopback(&base) => {}
        "http" => {
            return Err(refused(
                raw,
                "plain http is only allowed to loopback hosts; use https",
            ));
        }
        _ => return Err(refused(raw, "only https URLs are used")),
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(refused(raw, "it must not carry credentials"));
    }
    if base.path().ends_with('/') {
        base.join(&hub_client::quote_path(file))
            .map_err(|_| refused(raw, "the file path cannot be appended to it"))
    } else if is_main {
        Ok(base)
    } else {
        Err(refused(
            raw,
            "it names the main file only; end it with `/` to use it as a base for every file",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_urls_are_checked() {
        let ok = fallback_url("https://mirror.test/m.gguf", "m.gguf", true).unwrap();
        assert_eq!(ok.as_str(), "https://mirror.test/m.gguf");
        let base =
            fallback_url("https://mirror.test/r/", "a b/m-00002-of-00002.gguf", false).unwrap();
        assert_eq!(
            base.as_str(),
            "https://mirror.test/r/a%20b/m-00002-of-00002.gguf"
        );
        fallback_url("http://127.0.0.1:9/x", "x", true).unwrap();
        fallback_url("http://localhost:9/x", "x", true).unwrap();
        for (bad, why) in [
            ("http://mirror.test/m.gguf", "loopback"),
            ("ftp://mirror.test/m.gguf", "https"),
            ("https://u:p@mirror.test/m.gguf", "credentials"),
            ("not a url", "valid URL"),
        ] {
            let err = fallback_url(bad, "m.gguf", true).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(!err.contains(":p@"), "{err}");
        }
        let err = fallback_url("https://mirror.test/m.gguf", "other.gguf", false).unwrap_err();
        assert!(err.to_string().contains("end it with `/`"), "{err}");
        let err = fallback_url("https://mirror.test/m.gguf?sig=secret", "x", true);
        assert!(err.is_ok());
        let err = fallback_url("http://mirror.test/m?sig=secret", "x", true).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
