//! The one way uploaded bytes become a stored object, for every upload URL of both modes:
//! streamed into a temporary file in the store's `tmp/` while hashed, checked against what was
//! announced, then fsynced and renamed into `objects/`. A client that disconnects mid-upload
//! leaves at most a temporary file, removed at once by [`TempFile`] or at the next start.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::error::ApiError;
use crate::store::{Store, random_hex, sha256_file, sync_dir};

/// A temporary file that is removed when dropped, unless it was kept (renamed into place).
pub(crate) struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    pub(crate) fn new(path: PathBuf) -> TempFile {
        TempFile { path, kept: false }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file was moved into place: nothing to remove any more.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

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

/// The size and sha256 of a file written earlier (the parts of a multipart upload).
pub(crate) async fn sha256_of(path: &Path) -> Result<(u64, String), ApiError> {
    let path = path.to_owned();
    Ok(tokio::task::spawn_blocking(move || sha256_file(&path))
        .await
        .map_err(ApiError::internal)??)
}

/// Makes a checked temporary file the object `sha256` of `store`: fsync, rename, fsync of the
/// directory.
pub(crate) async fn publish(store: &Store, tmp: TempFile, sha256: &str) -> Result<(), ApiError> {
    let dest = store.lfs_path(sha256);
    let from = tmp.path().to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::File::open(&from)?.sync_all()?;
        let dir = dest
            .parent()
            .ok_or_else(|| std::io::Error::other("object path has no parent"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&from, &dest)?;
        sync_dir(dir)
    })
    .await
    .map_err(ApiError::internal)??;
    tmp.keep();
    Ok(())
}

/// Receives a whole object in one body: exactly `size` bytes whose sha256 is `sha256`, else
/// 400 and nothing stored. `label` names the temporary file (the upload's token).
pub(crate) async fn receive_object(
    store: &Store,
    label: &str,
    body: Body,
    sha256: &str,
    size: u64,
    counter: Option<&AtomicU64>,
) -> Result<(), ApiError> {
    let tmp = TempFile::new(
        store
            .tmp_dir()
            .join(format!("{label}.{}.put", random_hex(4))),
    );
    let mut file = tokio::fs::File::create(tmp.path()).await?;
    let mut hasher = Sha256::new();
    let n = stream_into(body, &mut file, size, counter, |c| hasher.update(c)).await?;
    drop(file);
    if n != size {
        return Err(size_mismatch(n, size));
    }
    let got = hex::encode(hasher.finalize());
    if got != sha256 {
        return Err(ApiError::bad_request(format!(
            "sha256 of the uploaded bytes is {got}, not {sha256}: the file changed or was corrupted, upload it again"
        )));
    }
    publish(store, tmp, sha256).await
}
