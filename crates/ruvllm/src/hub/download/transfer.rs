//! The layer that moves bytes: one transfer into a partial file, with a writer thread and a hasher
//! thread fed the same chunks in order through bounded channels, so the network task never
//! waits on the disk or on SHA-256 for more than a few batches.

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};

use super::error::{DownloadError, io_err};

/// Batches in flight between the network task and each worker thread; with [`BATCH_BYTES`]
/// this bounds the memory of one transfer to about 10 MiB whatever the file size.
const CHANNEL_DEPTH: usize = 8;
/// Received chunks are handed to the worker threads in batches of about this many bytes, so
/// the threads wake once per batch rather than once per network read.
const BATCH_BYTES: usize = 1 << 20;

/// Hashes a file (or its first `len` bytes) with a 1 MiB buffer.
pub(super) fn hash_file(path: &Path, len: Option<u64>) -> io::Result<[u8; 32]> {
    let mut hasher = sha2::Sha256::new();
    hash_prefix(&mut hasher, path, len)?;
    Ok(hasher.finalize().into())
}

fn hash_prefix(hasher: &mut sha2::Sha256, path: &Path, len: Option<u64>) -> io::Result<()> {
    let file = File::open(path)?;
    let mut reader = file.take(len.unwrap_or(u64::MAX));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// Chunks in arrival order, shared by both worker threads.
type Batch = Arc<Vec<Bytes>>;

/// Writes every chunk of a batch with vectored writes, handling short writes.
fn write_batch(out: &mut File, batch: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = out.write_vectored(rest)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

enum WriteMsg {
    Data(Batch),
    /// Truncate to zero (a 200 answer to a range).
    Restart,
    /// Answer with the file length once everything sent before is written.
    Flush(oneshot::Sender<io::Result<u64>>),
    /// Flush and fsync, answer with the file length; the thread then ends.
    Finish(oneshot::Sender<io::Result<u64>>),
}

enum HashMsg {
    Data(Batch),
    Restart,
    Finish(oneshot::Sender<[u8; 32]>),
}

/// One transfer into a partial file: a writer thread and a hasher thread fed with the same
/// chunks, in order, through bounded channels.
pub(super) struct Transfer {
    /// Bytes in the file so far, those still pending included.
    pub(super) pos: u64,
    path: PathBuf,
    /// Chunks received but not yet handed to the threads.
    pending: Vec<Bytes>,
    pending_bytes: usize,
    writer: Option<mpsc::Sender<WriteMsg>>,
    hasher: Option<mpsc::Sender<HashMsg>>,
    writer_thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Transfer {
    /// Opens (or creates) the partial file and hashes what it already holds, on the hasher
    /// thread. A partial longer than the expected size is discarded.
    pub(super) fn start(path: &Path, size: Option<u64>) -> Result<Transfer, DownloadError> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        let mut pos = file.metadata().map_err(io_err(path))?.len();
        if size.is_some_and(|s| pos > s) || size.is_none() && pos > 0 {
            // Without a size there is no telling whether the prefix is complete or stale.
            file.set_len(0).map_err(io_err(path))?;
            pos = 0;
        }
        file.seek(SeekFrom::Start(pos)).map_err(io_err(path))?;

        let (htx, mut hrx) = mpsc::channel::<HashMsg>(CHANNEL_DEPTH);
        let prefix = (pos > 0).then(|| (path.to_owned(), pos));
        std::thread::Builder::new()
            .name("ruvllm-sha256".into())
            .spawn(move || {
                let mut hasher = sha2::Sha256::new();
                if let Some((path, len)) = prefix
                    && let Err(e) = hash_prefix(&mut hasher, &path, Some(len))
                {
                    // The writer sees the same file; a prefix we cannot read cannot match.
                    tracing::warn!(error = %e, "cannot re-hash the partial download");
                    hasher.update(b"\0unreadable prefix\0");
                }
                while let Some(msg) = hrx.blocking_recv() {
                    match msg {
                        HashMsg::Data(batch) => batch.iter().for_each(|b| hasher.update(b)),
                        HashMsg::Restart => hasher = sha2::Sha256::new(),
                        HashMsg::Finish(reply) => {
                            let _ = reply.send(std::mem::take(&mut hasher).finalize().into());
                            return;
                        }
                    }
                }
            })
            .map_err(io_err(path))?;

        let (wtx, mut wrx) = mpsc::channel::<WriteMsg>(CHANNEL_DEPTH);
        let writer_thread = std::thread::Builder::new()
            .name("ruvllm-writer".into())
            .spawn(move || -> io::Result<()> {
                let mut out = file;
                while let Some(msg) = wrx.blocking_recv() {
                    match msg {
                        // One `writev` per batch: no copy into a user-space buffer.
                        WriteMsg::Data(batch) => write_batch(&mut out, &batch)?,
                        WriteMsg::Restart => {
                            out.set_len(0)?;
                            out.seek(SeekFrom::Start(0))?;
                        }
                        WriteMsg::Flush(reply) => {
                            let _ = reply.send(out.metadata().map(|m| m.len()));
                        }
                        WriteMsg::Finish(reply) => {
                            let r = out
                                .sync_all()
                                .and_then(|()| out.metadata())
                                .map(|m| m.len());
                            let _ = reply.send(r);
                            return Ok(());
                        }
                    }
                }
                Ok(())
            })
            .map_err(io_err(path))?;
        Ok(Transfer {
            pos,
            path: path.to_owned(),
            pending: Vec::new(),
            pending_bytes: 0,
            writer: Some(wtx),
            hasher: Some(htx),
            writer_thread: Some(writer_thread),
        })
    }

    /// The writer thread's error, once it has stopped.
    async fn writer_error(&mut self) -> DownloadError {
        let error = match self.writer_thread.take() {
            Some(thread) => match tokio::task::spawn_blocking(move || thread.join()).await {
                Ok(Ok(Err(e))) => e,
                _ => io::Error::other("the writer thread stopped"),
            },
            None => io::Error::other("the writer thread stopped"),
        };
        DownloadError::Io {
            path: self.path.clone(),
            source: error,
        }
    }

    async fn send_write(&mut self, msg: WriteMsg) -> Result<(), DownloadError> {
        let ok = match &self.writer {
            Some(w) => w.send(msg).await.is_ok(),
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.writer_error().await)
        }
    }

    async fn send_hash(&mut self, msg: HashMsg) -> Result<(), DownloadError> {
        match &self.hasher {
            Some(h) if h.send(msg).await.is_ok() => Ok(()),
            _ => Err(DownloadError::Runtime("the hasher thread stopped".into())),
        }
    }

    pub(super) async fn push(&mut self, bytes: Bytes) -> Result<(), DownloadError> {
        self.pos += bytes.len() as u64;
        self.pending_bytes += bytes.len();
        self.pending.push(bytes);
        if self.pending_bytes >= BATCH_BYTES {
            self.send_pending().await?;
        }
        Ok(())
    }

    /// Hands the pending chunks to both threads.
    async fn send_pending(&mut self) -> Result<(), DownloadError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch: Batch = Arc::new(std::mem::take(&mut self.pending));
        self.pending_bytes = 0;
        self.send_hash(HashMsg::Data(batch.clone())).await?;
        self.send_write(WriteMsg::Data(batch)).await
    }

    pub(super) async fn restart(&mut self) -> Result<(), DownloadError> {
        self.pos = 0;
        self.pending.clear();
        self.pending_bytes = 0;
        self.send_hash(HashMsg::Restart).await?;
        self.send_write(WriteMsg::Restart).await
    }

    /// Makes everything received so far visible in the file (for a later resume).
    pub(super) async fn flush(&mut self) -> Result<(), DownloadError> {
        self.send_pending().await?;
        let (tx, rx) = oneshot::channel();
        self.send_write(WriteMsg::Flush(tx)).await?;
        match rx.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(DownloadError::Io {
                path: self.path.clone(),
                source: e,
            }),
            Err(_) => Err(self.writer_error().await),
        }
    }

    /// Flushes and fsyncs the file; returns its size and the sha256 of everything.
    pub(super) async fn finish(mut self) -> Result<(u64, [u8; 32]), DownloadError> {
        self.send_pending().await?;
        let (tx, rx) = oneshot::channel();
        self.send_write(WriteMsg::Finish(tx)).await?;
        let size = match rx.await {
            Ok(Ok(size)) => size,
            Ok(Err(e)) => {
                return Err(DownloadError::Io {
                    path: self.path.clone(),
                    source: e,
                });
            }
            Err(_) => return Err(self.writer_error().await),
        };
        let (tx, rx) = oneshot::channel();
        self.send_hash(HashMsg::Finish(tx)).await?;
        let digest = rx
            .await
            .map_err(|_| DownloadError::Runtime("the hasher thread stopped".into()))?;
        Ok((size, digest))
    }

    /// Stops the threads, keeping what was written (a later call may resume it).
    pub(super) async fn abort(&mut self) {
        let _ = self.flush().await;
        self.writer.take();
        self.hasher.take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[tokio::test]
    async fn transfer_resumes_with_the_prefix_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.partial");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut t = Transfer::start(&path, Some(data.len() as u64)).unwrap();
        t.push(Bytes::copy_from_slice(&data[..100_000]))
            .await
            .unwrap();
        t.flush().await.unwrap();
        t.abort().await;
        drop(t);
        let mut t = Transfer::start(&path, Some(data.len() as u64)).unwrap();
        assert_eq!(t.pos, 100_000);
        t.push(Bytes::copy_from_slice(&data[100_000..]))
            .await
            .unwrap();
        let (size, digest) = t.finish().await.unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(sha2::Sha256::digest(&data)));
        assert_eq!(fs::read(&path).unwrap(), data);

        // A restart (a 200 answer to a range) forgets the prefix in both threads.
        let mut t = Transfer::start(&path, Some(10)).unwrap();
        assert_eq!(t.pos, 0, "a partial longer than the file is discarded");
        t.push(Bytes::from_static(b"wrong")).await.unwrap();
        t.restart().await.unwrap();
        t.push(Bytes::from_static(b"0123456789")).await.unwrap();
        let (size, digest) = t.finish().await.unwrap();
        assert_eq!(size, 10);
        assert_eq!(
            digest,
            <[u8; 32]>::from(sha2::Sha256::digest(b"0123456789"))
        );
    }
}
