//! What a client asks before it commits: `POST .../preupload/{rev}` (regular or LFS, and the
//! oid already stored) and `POST /api/validate-yaml` (the card's front matter), and the card
//! check a commit applies to a root `README.md`.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse as _;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::load_rev;
use super::yaml::check_card;
use crate::context::{Ctx, read_body, read_json};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    CommitRecord, Gitignore, RepoId, RepoKind, check_repo_path, lfs_patterns, pattern_matches,
};

/// Files above this size must go through LFS.
const LFS_SIZE_RULE: u64 = 10 * 1024 * 1024;
/// The most files one preupload request may list.
const MAX_PREUPLOAD_FILES: usize = 1000;

/// Whether a sample looks binary: a NUL byte in the first 8 KiB, or invalid UTF-8 (a multibyte
/// character cut at the end of the sample does not count).
pub(super) fn looks_binary(sample: &[u8]) -> bool {
    if sample.iter().take(8192).any(|&b| b == 0) {
        return true;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

/// The text of a regular file at the revision (`.gitattributes`, `.gitignore`); `None` when
/// it is absent, stored in LFS or unreadable.
pub(super) fn text_at(ctx: &Ctx, record: &CommitRecord, path: &str) -> Option<String> {
    let entry = record.files.get(path).filter(|e| e.lfs.is_none())?;
    std::fs::read(ctx.state.store.blob_path(&entry.oid))
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `POST /api/{t}/{repo}/preupload/{rev}`.
pub(super) async fn preupload(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct PreFile {
        path: String,
        #[serde(default)]
        sample: String,
        size: u64,
    }
    #[derive(Deserialize)]
    struct PreBody {
        files: Vec<PreFile>,
        /// The `.gitignore` the commit will have, which huggingface_hub sends when the commit
        /// adds one; otherwise the revision's own `.gitignore` applies.
        #[serde(rename = "gitIgnore")]
        git_ignore: Option<String>,
    }
    ctx.writable_repo(id)?;
    let req: PreBody = read_json(ctx, body).await?;
    if req.files.len() > MAX_PREUPLOAD_FILES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("too many files: send at most {MAX_PREUPLOAD_FILES} per preupload request"),
        ));
    }
    let (_, record) = load_rev(ctx, id, rev)?;
    let patterns = text_at(ctx, &record, ".gitattributes")
        .map(|t| lfs_patterns(&t))
        .unwrap_or_default();
    let ignore = req
        .git_ignore
        .or_else(|| text_at(ctx, &record, ".gitignore"))
        .map(|t| Gitignore::parse(&t))
        .unwrap_or_default();
    let mut files = Vec::new();
    for f in &req.files {
        let path = check_repo_path(&f.path, false)
            .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m).code("InvalidPath"))?;
        let sample = base64::engine::general_purpose::STANDARD
            .decode(f.sample.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("sample of {path} is not base64: {e}")))?;
        let lfs = patterns.iter().any(|p| pattern_matches(p, &path))
            || f.size > LFS_SIZE_RULE
            || looks_binary(&sample);
        let mut v = json!({
            "path": f.path,
            "uploadMode": if lfs { "lfs" } else { "regular" },
            "shouldIgnore": ignore.is_ignored(&path),
        });
        if let Some(e) = record.files.get(&path) {
            v["oid"] = Value::String(e.etag().to_owned());
        }
        files.push(v);
    }
    Ok(axum::Json(json!({"files": files, "commitOid": record.id})).into_response())
}

/// `POST /api/validate-yaml` with `{"content": "<README.md>", "repoType"?: "model"}`: the
/// card's front matter checked as at commit time (see the `yaml` module).
///
/// Answer: 200 `{"errors": [], "warnings": [{"message"}]}`, or 400 with the same shape and
/// at least one error. huggingface_hub reads `errors[].message` and `warnings[].message`
/// and calls `response.json()` before it checks the status, so every answer, even a refused
/// body, is this JSON. The Hub's exact messages are not public; the shape is what the client
/// reads. A request that accepts only `text/plain` gets the error messages as text.
pub(crate) async fn validate_yaml(ctx: &Ctx, body: Body) -> ApiResult {
    #[derive(Deserialize)]
    struct ValidateBody {
        content: String,
        #[serde(rename = "repoType")]
        repo_type: Option<String>,
    }
    let refused = |message: String| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errors": [{"message": message}], "warnings": []})),
        )
            .into_response()
    };
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    let req: ValidateBody = match serde_json::from_slice(&bytes) {
        Ok(req) => req,
        Err(e) => {
            return Ok(refused(format!(
                "the body must be JSON with a string \"content\" and an optional \"repoType\": {e}"
            )));
        }
    };
    let repo_type = req.repo_type.as_deref().unwrap_or("model");
    if !matches!(repo_type, "model" | "dataset" | "space") {
        return Ok(refused(format!(
            "unknown repoType {repo_type:?}: use model, dataset or space"
        )));
    }
    let found = check_card(&req.content, repo_type);
    let status = if found.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    // `ModelCard.validate` asks for `text/plain` and raises the body as its error: one line
    // per finding, `- Error: ...` then `- Warning: ...` (assumption: the Hub's text form; the
    // client shows the body whatever it is).
    let wants_text = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/plain") && !a.contains("json"));
    if wants_text {
        let text: String = (found.errors.iter().map(|e| format!("- Error: {e}\n")))
            .chain(found.warnings.iter().map(|w| format!("- Warning: {w}\n")))
            .collect();
        return Ok((
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response());
    }
    let messages =
        |list: &[String]| -> Vec<Value> { list.iter().map(|m| json!({ "message": m })).collect() };
    Ok((
        status,
        axum::Json(json!({
            "errors": messages(&found.errors),
            "warnings": messages(&found.warnings),
        })),
    )
        .into_response())
}

/// Refuses a root `README.md` whose front matter the Hub would refuse, as the Hub does when
/// it applies a commit: 400 "Invalid metadata in README.md: ..." (the words huggingface_hub
/// uses for a refused validate-yaml), every problem in the one `error` message.
pub(super) fn check_readme(kind: RepoKind, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
    if path != "README.md" {
        return Ok(());
    }
    // Bytes that are not UTF-8 are replaced, as a renderer would; only the metadata counts.
    let text = String::from_utf8_lossy(bytes);
    let found = check_card(&text, kind.singular());
    if found.errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "Invalid metadata in README.md: {}; fix the YAML block at the top of the card",
        found.errors.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_detection() {
        assert!(!looks_binary(b"hello world\n"));
        assert!(looks_binary(b"GGUF\0\0\0\x03"));
        assert!(looks_binary(&[0xff, 0xfe, 0x41]));
        // A multibyte character cut by the sample boundary is still text.
        let text = "é".repeat(10);
        assert!(!looks_binary(&text.as_bytes()[..text.len() - 1]));
    }
}
