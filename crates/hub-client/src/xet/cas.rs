//! The CAS calls of an upload (`docs/XET-NOTES.md#routes`): a xorb, a shard, a global dedup
//! query. Each goes through the [`XetSession`], so the CAS token is fresh and reaches the CAS
//! origin only; each may be sent again (xorbs and shards are content-addressed, a query is a
//! read), so every one is retried on 429, 5xx and network failures.

use bytes::Bytes;
use http_transport::{Body, Request, truncate_chars};
use reqwest::Method;
use reqwest::header::{self, HeaderValue};
use serde::Deserialize;
use xet_format::{MAX_SHARD_BYTES, Shard, XetHash};

use super::token::XetSession;
use crate::error::HubError;

/// The dedup prefix this client sends (what `hf_xet` 1.8.0 sends; the spec says
/// `default-merkledb`, which servers accept too).
pub const DEDUP_PREFIX: &str = "default";

/// What the CAS said about a xorb it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorbUploaded {
    /// False when the CAS already held the xorb (sending it again was harmless).
    pub was_inserted: bool,
}

/// What the CAS said about a shard it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardUploaded {
    /// The CAS's `result`: 1 when the shard was new, 0 when it already had it (a shard sent
    /// again after a lost answer).
    pub result: u64,
}

#[derive(Deserialize)]
struct RawXorbAnswer {
    was_inserted: bool,
}

#[derive(Deserialize)]
struct RawShardAnswer {
    result: u64,
}

impl XetSession {
    /// `POST /v1/xorbs/default/{hash}` with the serialized xorb (no footer). The body is
    /// usually [`Body::generated`] (encoded from the file on the fly for every send). A CAS
    /// that finds another hash answers 400: the bytes changed since they were hashed.
    pub async fn upload_xorb(&self, hash: &XetHash, body: Body) -> Result<XorbUploaded, HubError> {
        let body = body.content_type("application/octet-stream");
        let answer = self
            .send(|cas| {
                let url = cas.join(&format!("/v1/xorbs/default/{}", hash.to_hex()))?;
                Ok(Request::new(Method::POST, url).with_body(body.clone()))
            })
            .await?;
        if !answer.is_success() {
            return Err(self.answer_error(&answer));
        }
        let raw: RawXorbAnswer =
            self.parse(&answer, "a JSON object with `was_inserted` (xorb upload")?;
        Ok(XorbUploaded {
            was_inserted: raw.was_inserted,
        })
    }

    /// `POST /v1/shards` with an encoded shard (no footer, at most [`MAX_SHARD_BYTES`]).
    /// Sending the same shard again (after a lost answer) is harmless: the CAS answers
    /// `result: 0`.
    pub async fn upload_shard(&self, shard: Bytes) -> Result<ShardUploaded, HubError> {
        if shard.len() as u64 > MAX_SHARD_BYTES {
            return Err(HubError::InvalidInput {
                what: "shard".into(),
                reason: format!(
                    "it has {} bytes, more than the CAS's {MAX_SHARD_BYTES}; split the files over several shards",
                    shard.len()
                ),
            });
        }
        let answer = self
            .send(|cas| {
                let url = cas.join("/v1/shards")?;
                Ok(Request::new(Method::POST, url).body(shard.clone(), "application/octet-stream"))
            })
            .await?;
        if !answer.is_success() {
            return Err(self.answer_error(&answer));
        }
        let raw: RawShardAnswer =
            self.parse(&answer, "a JSON object with `result` (shard upload")?;
        Ok(ShardUploaded { result: raw.result })
    }

    /// `GET /v1/chunks/default/{chunk}`: the global dedup query. `None` when the CAS knows no
    /// xorb holding that chunk (404); else the shard it answered (with a footer, its chunk
    /// hashes keyed with the footer's key unless that is zero), decoded and checked.
    pub async fn query_chunk(&self, chunk: &XetHash) -> Result<Option<Shard>, HubError> {
        let answer = self
            .send(|cas| {
                let url = cas.join(&format!("/v1/chunks/{DEDUP_PREFIX}/{}", chunk.to_hex()))?;
                Ok(Request::new(Method::GET, url).header(
                    header::ACCEPT,
                    HeaderValue::from_static("application/octet-stream"),
                ))
            })
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        if !answer.is_success() {
            return Err(self.answer_error(&answer));
        }
        let shard = Shard::decode(&answer.body).map_err(|e| HubError::InvalidResponse {
            request: answer.request.clone(),
            detail: format!("the dedup answer is not a valid shard: {e}"),
        })?;
        Ok(Some(shard))
    }

    /// Parses a CAS JSON answer, saying what was expected when it is not.
    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        answer: &http_transport::Answer,
        expected: &str,
    ) -> Result<T, HubError> {
        serde_json::from_slice(&answer.body).map_err(|e| HubError::InvalidResponse {
            request: answer.request.clone(),
            detail: self.sanitize(&format!(
                "expected {expected}), got {} ({e})",
                truncate_chars(String::from_utf8_lossy(&answer.body).trim(), 120)
            )),
        })
    }
}
