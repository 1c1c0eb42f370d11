//! Reading small request bodies (JSON and forms) with a size limit, for both APIs. Large
//! bodies (uploaded bytes, NDJSON commits) are streamed by their handlers instead.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use futures_util::StreamExt as _;
use serde::Deserialize;

use super::Ctx;
use crate::error::ApiError;

/// Reads a whole (small) request body, refusing more than `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {limit} bytes"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Reads and parses a JSON body of at most `max_json_bytes`; an empty body reads as `{}`.
pub(crate) async fn read_json<T: for<'de> Deserialize<'de>>(
    ctx: &Ctx,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
