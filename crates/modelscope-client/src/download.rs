//! Downloads: a file streamed through sha256, to memory's end or to a file (temporary file,
//! fsync, rename), started again when the connection drops mid-body.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use http_transport::{Opened, Request, RetryDecision};
use reqwest::Method;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};

use crate::client::ModelScopeClient;
use crate::error::ModelScopeError;
use crate::model::ModelId;

/// Where downloaded bytes go besides the hash: nowhere, or a file being written.
struct Sink<'a> {
    file: Option<(tokio::fs::File, &'a Path)>,
}

impl Sink<'_> {
    /// Empties the file for a new start of the body.
    async fn restart(&mut self) -> Result<(), ModelScopeError> {
        if let Some((file, path)) = &mut self.file {
            file.set_len(0)
                .await
                .map_err(|e| ModelScopeError::io(*path, e))?;
            file.seek(SeekFrom::Start(0))
                .await
                .map_err(|e| ModelScopeError::io(*path, e))?;
        }
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ModelScopeError> {
        if let Some((file, path)) = &mut self.file {
            file.write_all(chunk)
                .await
                .map_err(|e| ModelScopeError::io(*path, e))?;
        }
        Ok(())
    }
}

impl ModelScopeClient {
    /// Starts the download of a file: the `200` answer after redirects (token dropped on other
    /// origins, the opening retried like any read), or the error.
    async fn fetch(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
    ) -> Result<Opened, ModelScopeError> {
        let url = self.url(
            &format!("/api/v1/models/{}/repo", id.url_path()),
            &[("Revision", revision), ("FilePath", path)],
        )?;
        let request = self.describe(&Method::GET, &url);
        let opened = self
            .transport
            .open(&Request::new(Method::GET, url))
            .await
            .map_err(|e| self.failed(&request, e))?;
        if opened.status() != 200 {
            let status = opened.status();
            let headers = opened.response.headers().clone();
            let body = self
                .transport
                .read_body(opened.response, &opened.request)
                .await
                .unwrap_or_default();
            let answer = http_transport::Answer {
                status,
                headers,
                body,
                url: opened.url,
                request: opened.request,
            };
            return Err(self.answer_error(request, &answer));
        }
        Ok(opened)
    }

    /// Streams a file into the hash and `sink`; a connection that drops mid-body is opened
    /// again and the file read from its start, as often as the retry policy allows.
    async fn download_into(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
        sink: &mut Sink<'_>,
    ) -> Result<(String, u64), ModelScopeError> {
        let mut attempt = 0u32;
        loop {
            let opened = self.fetch(id, revision, path).await?;
            sink.restart().await?;
            let request = opened.request.clone();
            let mut stream = self.transport.body_stream(opened.response, opened.request);
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            let failure = loop {
                match stream.next().await {
                    None => return Ok((hex::encode(hasher.finalize()), n)),
                    Some(Ok(chunk)) => {
                        hasher.update(&chunk);
                        n += chunk.len() as u64;
                        sink.write(&chunk).await?;
                    }
                    Some(Err(e)) => break e,
                }
            };
            match self.transport.retry_policy().decide(attempt, None, None) {
                RetryDecision::RetryAfter(delay) => {
                    tracing::debug!(attempt, received = n, %request, "download interrupted; starting again");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return Err(self.failed(&request, failure)),
            }
        }
    }

    /// Streams a file through sha256 without storing it; returns the digest and the size.
    pub async fn download_sha256(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
    ) -> Result<(String, u64), ModelScopeError> {
        self.download_into(id, revision, path, &mut Sink { file: None })
            .await
    }

    /// Downloads a file to `dest` (temporary file, fsync, rename) and returns its sha256 and
    /// size; the bytes are streamed, never held in memory.
    pub async fn download_to(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
        dest: &Path,
    ) -> Result<(String, u64), ModelScopeError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ModelScopeError::io(dir, e))?;
        let tmp = temp_path(dest);
        let result = async {
            let file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| ModelScopeError::io(&tmp, e))?;
            let mut sink = Sink {
                file: Some((file, &tmp)),
            };
            let digest = self.download_into(id, revision, path, &mut sink).await?;
            let (file, _) = sink.file.take().expect("the sink keeps its file");
            file.sync_all()
                .await
                .map_err(|e| ModelScopeError::io(&tmp, e))?;
            drop(file);
            tokio::fs::rename(&tmp, dest)
                .await
                .map_err(|e| ModelScopeError::io(dest, e))?;
            // The rename is durable once the directory is synced (through tokio's blocking
            // pool, never on the async worker); a directory that cannot be opened is skipped.
            if let Ok(d) = tokio::fs::File::open(dir).await {
                let _ = d.sync_all().await;
            }
            Ok(digest)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

fn temp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("download");
    let mut rnd = [0u8; 6];
    // A failing OS generator only makes the name less unique; the pid keeps it apart.
    let _ = getrandom::fill(&mut rnd);
    dest.with_file_name(format!(
        ".{name}.{}.{}.part",
        std::process::id(),
        hex::encode(rnd)
    ))
}
