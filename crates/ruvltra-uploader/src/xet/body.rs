//! A new xorb as a request body, streamed from the files its chunks are read from: nothing
//! but a few chunks is ever in memory (a 4 GiB publish needs no 64 MiB buffer per stream),
//! and the body is made again from the files for every send (a retry, a redirect).
//!
//! Chunks are stored as they are (scheme 0, "none"), so the body's length is known before it
//! is sent (`Content-Length`: each chunk plus its 8-byte header) and no byte is compressed
//! twice; GGUF weights, quantized, gain little from LZ4 (`docs/XET-NOTES.md#uploads`). A small
//! xorb (at most [`SMALL_XORB`] bytes, what a re-publish after a header edit sends) is
//! encoded in memory instead, compressed as the official client compresses: a GGUF header is
//! text and compresses well. Each chunk is hashed again as it is read: a file that changed
//! since the check pass fails the upload instead of sending other bytes under the planned
//! hash.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hub_client::xet::{Body, BodyStream, BoxError, MakeStream, SendProgress};
use xet_format::{CHUNK_HEADER_LEN, ChunkHeader, Scheme, chunk_hash};

use super::plan::NewXorb;

/// Chunks buffered between the reading thread and the connection.
const IN_FLIGHT: usize = 4;

/// The most uncompressed bytes of a xorb encoded (and compressed) in memory.
pub const SMALL_XORB: u64 = 1 << 20;

/// Encodes a small xorb in memory, each chunk compressed as the official client would
/// (blocking: run it off the async threads). Returns its bytes and, per chunk, its
/// serialized length (header included).
pub fn small_xorb(xorb: &NewXorb, files: &[PathBuf]) -> Result<(Bytes, Vec<u32>), BoxError> {
    let mut encoder = xet_format::XorbEncoder::new(xet_format::CompressionPolicy::Auto);
    let mut out = Vec::new();
    let mut open = None;
    let mut lens = Vec::with_capacity(xorb.chunks.len());
    let mut last_file = None;
    for c in &xorb.chunks {
        let stored = read_chunk(files, &mut open, c)?;
        if last_file != Some(c.file) {
            encoder.start_file();
            last_file = Some(c.file);
        }
        let chunk = encoder
            .push_hashed_chunk(&stored[CHUNK_HEADER_LEN..], c.hash, &mut out)
            .map_err(|e| format!("cannot encode the xorb: {e}"))?;
        lens.push(chunk.serialized_len);
    }
    let summary = encoder
        .finish()
        .map_err(|e| format!("cannot encode the xorb: {e}"))?;
    if summary.hash != xorb.hash {
        return Err("the xorb encoded to another hash than planned".into());
    }
    Ok((Bytes::from(out), lens))
}

/// The serialized length of a xorb whose chunks are stored as they are.
pub fn stored_len(xorb: &NewXorb) -> u64 {
    xorb.chunks
        .iter()
        .map(|c| u64::from(c.len) + CHUNK_HEADER_LEN as u64)
        .sum()
}

/// The body of `xorb`, whose chunks are read from `files` (indexed as in the plan).
pub fn xorb_body(
    xorb: Arc<NewXorb>,
    files: Arc<Vec<PathBuf>>,
    progress: Option<Arc<dyn SendProgress>>,
) -> Body {
    let len = stored_len(&xorb);
    let make: MakeStream = Arc::new(move || stream(Arc::clone(&xorb), Arc::clone(&files)));
    let body = Body::generated(len, make);
    match progress {
        Some(p) => body.progress(p),
        None => body,
    }
}

/// One pass over the xorb's chunks on a blocking thread, handed over a few at a time.
fn stream(xorb: Arc<NewXorb>, files: Arc<Vec<PathBuf>>) -> BodyStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BoxError>>(IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut open: Option<(usize, File, u64)> = None;
        for c in &xorb.chunks {
            let item = read_chunk(&files, &mut open, c);
            let failed = item.is_err();
            // The receiver is gone when the send was abandoned (a retry makes a new stream).
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Reads one chunk (keeping the file open and its position between chunks), checks its hash
/// and returns it with its header.
fn read_chunk(
    files: &[PathBuf],
    open: &mut Option<(usize, File, u64)>,
    c: &super::plan::NewChunk,
) -> Result<Bytes, BoxError> {
    let path = &files[c.file];
    if open.as_ref().is_none_or(|(f, _, _)| *f != c.file) {
        let file = File::open(path)
            .map_err(|e| format!("cannot open {} to send it: {e}", path.display()))?;
        *open = Some((c.file, file, 0));
    }
    let Some((_, file, position)) = open.as_mut() else {
        return Err("no file open".into());
    };
    if *position != c.offset {
        file.seek(SeekFrom::Start(c.offset))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    let header = ChunkHeader {
        stored_len: c.len,
        scheme: Scheme::None,
        raw_len: c.len,
    };
    let mut out = Vec::with_capacity(CHUNK_HEADER_LEN + c.len as usize);
    out.extend_from_slice(&header.to_bytes());
    out.resize(CHUNK_HEADER_LEN + c.len as usize, 0);
    file.read_exact(&mut out[CHUNK_HEADER_LEN..]).map_err(|e| {
        format!(
            "cannot read {} bytes at {} of {}: {e}; the file changed since it was checked, publish again",
            c.len,
            c.offset,
            path.display()
        )
    })?;
    *position = c.offset + u64::from(c.len);
    if chunk_hash(&out[CHUNK_HEADER_LEN..]) != c.hash {
        return Err(format!(
            "{} changed since it was checked (the bytes at {} differ); publish again",
            path.display(),
            c.offset
        )
        .into());
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xet::plan::NewChunk;
    use futures_util::StreamExt as _;
    use xet_format::{XetHash, decode_xorb, xorb_hash};

    #[tokio::test]
    async fn the_body_decodes_to_the_planned_xorb_and_a_changed_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"0123456789abcdefghij").unwrap();
        std::fs::write(&b, b"ABCDEFGHIJ").unwrap();
        let pieces: [(usize, u64, u32, &[u8]); 3] = [
            (0, 10, 10, b"abcdefghij"),
            (1, 0, 5, b"ABCDE"),
            (0, 0, 4, b"0123"),
        ];
        let chunks: Vec<NewChunk> = pieces
            .iter()
            .map(|(file, offset, len, data)| NewChunk {
                file: *file,
                offset: *offset,
                len: *len,
                hash: chunk_hash(data),
            })
            .collect();
        let leaves: Vec<(XetHash, u64)> = chunks.iter().map(|c| (c.hash, c.len.into())).collect();
        let xorb = Arc::new(NewXorb {
            hash: xorb_hash(&leaves),
            chunks,
        });
        let files = Arc::new(vec![a.clone(), b]);
        let collect = |xorb: Arc<NewXorb>| {
            let files = Arc::clone(&files);
            async move {
                let mut out = Vec::new();
                let mut s = stream(xorb, files);
                while let Some(item) = s.next().await {
                    out.extend_from_slice(&item?);
                }
                Ok::<_, BoxError>(out)
            }
        };
        let bytes = collect(Arc::clone(&xorb)).await.unwrap();
        assert_eq!(bytes.len() as u64, stored_len(&xorb));
        let decoded = decode_xorb(&bytes).unwrap();
        assert_eq!(decoded.summary.hash, xorb.hash);
        assert_eq!(decoded.data, b"abcdefghijABCDE0123");

        // Encoded in memory, the same xorb (compressed where that helps).
        let (small, lens) = small_xorb(&xorb, &files).unwrap();
        assert_eq!(
            lens.iter().map(|l| u64::from(*l)).sum::<u64>(),
            small.len() as u64
        );
        let decoded = decode_xorb(&small).unwrap();
        assert_eq!(decoded.summary.hash, xorb.hash);
        assert_eq!(decoded.data, b"abcdefghijABCDE0123");

        std::fs::write(&a, b"0123456789abcdefgXij").unwrap();
        let err = collect(Arc::clone(&xorb)).await.unwrap_err();
        assert!(
            err.to_string().contains("changed since it was checked"),
            "{err}"
        );
        std::fs::write(&a, b"0123").unwrap();
        let err = collect(xorb).await.unwrap_err();
        assert!(err.to_string().contains("the file changed"), "{err}");
    }
}
