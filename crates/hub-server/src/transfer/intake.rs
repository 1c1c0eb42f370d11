//! The one way uploaded bytes become a stored object, for every upload URL of both modes:
//! streamed to a blocking thread that hashes them and chunks them into xorbs in the store's
//! `tmp/` (chunks already stored are not written again), checked against what was announced,
//! then fsynced and made visible. A client that disconnects mid-upload leaves at most
//! temporary files, removed at once by [`TempFile`] or at the next start. The CAS's xorb
//! uploads come through the same pipe to a blocking thread.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::error::ApiError;
pub(crate) use crate::store::TempFile;
use crate::store::{Ingested, Store};

/// The answer to an upload whose length is not the announced one.
pub(crate) fn size_mismatch(got: u64, want: u64) -> ApiError {
    ApiError::bad_request(format!(
        "received {got} bytes but the LFS batch request announced {want}: upload the whole file"
    ))
}

/// Streams a request body into `file`, feeding each chunk to `on_chunk` and adding its length
/// to `counter`; stops with an error once more than `max` bytes arrived. Returns the count.
pub(crate) async fn stream_into(
    body: Body,
    file: &mut tokio::fs::File,
    max: u64,
    counter: Option<&AtomicU64>,
    mut on_chunk: impl FnMut(&[u8]),
) -> Result<u64, ApiError> {
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut stream = body.into_data_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the upload was interrupted: {e}")))?;
        n += chunk.len() as u64;
        if let Some(counter) = counter {
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        if n > max {
            return Err(size_mismatch(n, max));
        }
        on_chunk(&chunk);
        writer.write_all(&chunk).await?;
    }
    writer.flush().await?;
    Ok(n)
}

/// One piece of a body handed to a blocking thread.
enum Piece {
    Data(Bytes),
    /// The body ended where it should.
    End,
}

/// A request body read on a blocking thread, piece by piece as it arrives.
pub(crate) struct BlockingBody {
    rx: tokio::sync::mpsc::Receiver<Piece>,
}

impl BlockingBody {
    /// The next bytes, `Ok(None)` at the end, an error when the body stopped before its end
    /// (the client went away; whatever was built from it must be dropped).
    pub(crate) fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        match self.rx.blocking_recv() {
            Some(Piece::Data(b)) => Ok(Some(b)),
            Some(Piece::End) => Ok(None),
            None => Err(ApiError::bad_request(
                "the upload was interrupted: send the whole body again",
            )),
        }
    }
}

/// Streams a request body to `consume`, which runs on a blocking thread (hashing, chunking and
/// writing do not hold up the runtime), adding each piece's length to `counter`. More than
/// `max` bytes end the upload with `too_large(bytes)`. `consume` sees an error from
/// [`BlockingBody::next`] when the body breaks off.
pub(crate) async fn pipe_to_blocking<T: Send + 'static>(
    body: Body,
    max: u64,
    counter: Option<&AtomicU64>,
    too_large: impl Fn(u64) -> ApiError,
    consume: impl FnOnce(BlockingBody) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let task = tokio::task::spawn_blocking(move || consume(BlockingBody { rx }));
    let mut stream = body.into_data_stream();
    let mut n = 0u64;
    let mut failed = None;
    while let Some(piece) = stream.next().await {
        let piece = match piece {
            Ok(p) => p,
            Err(e) => {
                failed = Some(ApiError::bad_request(format!(
                    "the upload was interrupted: {e}"
                )));
                break;
            }
        };
        n += piece.len() as u64;
        if let Some(counter) = counter {
            counter.fetch_add(piece.len() as u64, Ordering::Relaxed);
        }
        if n > max {
            failed = Some(too_large(n));
            break;
        }
        if tx.send(Piece::Data(piece)).await.is_err() {
            // The consumer stopped early: its answer says why.
            break;
        }
    }
    if failed.is_none() {
        let _ = tx.send(Piece::End).await;
    }
    drop(tx);
    let result = task.await.map_err(ApiError::internal)?;
    match failed {
        Some(e) => Err(e),
        None => result,
    }
}

/// Checks what an ingest found against what was announced.
fn check_ingested(got: &Ingested, sha256: &str, size: u64) -> Result<(), ApiError> {
    if got.size != size {
        return Err(size_mismatch(got.size, size));
    }
    if got.sha256 != sha256 {
        return Err(ApiError::bad_request(format!(
            "sha256 of the uploaded bytes is {}, not {sha256}: the file changed or was corrupted, upload it again",
            got.sha256
        )));
    }
    Ok(())
}

/// Receives a whole object in one body: exactly `size` bytes whose sha256 is `sha256`, else
/// 400 and nothing stored. The bytes are chunked into xorbs as they arrive (chunks the store
/// holds are not written again) and become visible only once checked. `label` names the
/// temporary files (the upload's token).
pub(crate) async fn receive_object(
    store: &Arc<Store>,
    label: &str,
    body: Body,
    sha256: &str,
    size: u64,
    counter: Option<&AtomicU64>,
) -> Result<(), ApiError> {
    let store = store.clone();
    let (label, sha256) = (label.to_owned(), sha256.to_owned());
    let too_large = |n| size_mismatch(n, size);
    pipe_to_blocking(body, size, counter, too_large, move |mut body| {
        let mut ingest = store.ingest(&label);
        while let Some(piece) = body.next()? {
            ingest.feed(piece)?;
        }
        let got = ingest.finish()?;
        check_ingested(&got, &sha256, size)?;
        store.commit_ingest(got)?;
        Ok(())
    })
    .await
}

/// Makes a whole file already on disk (the parts of a multipart upload) the object `sha256`
/// if it has that sha256 and `size`, chunked into xorbs; the file itself is left to the caller.
pub(crate) async fn receive_file(
    store: &Arc<Store>,
    path: &Path,
    sha256: &str,
    size: u64,
) -> Result<(), ApiError> {
    let store = store.clone();
    let (path, sha256) = (path.to_owned(), sha256.to_owned());
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let label = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file")
            .to_owned();
        let got = store.ingest_path(&path, &label)?;
        check_ingested(&got, &sha256, size)?;
        store.commit_ingest(got)?;
        Ok(())
    })
    .await
    .map_err(ApiError::internal)?
}
