//! `GET /api/{t}/{repo}[/revision/{rev}]`: a model's, dataset's or Space's info, with the
//! fields huggingface_hub's `ModelInfo`, `DatasetInfo` and `SpaceInfo` read, the card's
//! metadata (`cardData`, and what the Hub lifts out of it: `library_name`, `pipeline_tag`,
//! `tags`, a Space's `sdk`), and `expand[]`, which narrows the answer to the fields asked for.

use axum::response::IntoResponse as _;
use serde_json::{Map, Value, json};

use super::preupload::text_at;
use super::repos::gated_json;
use super::yaml::card_data;
use super::{load_rev, short_id};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::store::{RepoId, RepoKind, lfs_pointer};

/// The `expand[]` values huggingface_hub 2.4.0 knows per kind (`ExpandModelProperty_T`,
/// `ExpandDatasetProperty_T`, `ExpandSpaceProperty_T`); the Hub refuses others with 400.
/// Assumption: the Hub's lists are these; fields this server has no value for are left out of
/// the answer, which the client reads as absent.
#[rustfmt::skip]
const MODEL_EXPAND: &[&str] = &[
    "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt",
    "disabled", "downloads", "downloadsAllTime", "evalResults", "gated", "gguf", "inference",
    "inferenceProviderMapping", "lastModified", "library_name", "likes", "mask_token",
    "model-index", "pipeline_tag", "private", "resourceGroup", "safetensors", "sha", "siblings",
    "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage", "widgetData",
];
#[rustfmt::skip]
const DATASET_EXPAND: &[&str] = &[
    "author", "cardData", "citation", "createdAt", "description", "disabled", "downloads",
    "downloadsAllTime", "gated", "lastModified", "likes", "mainSize", "paperswithcode_id",
    "private", "resourceGroup", "sha", "siblings", "tags", "trendingScore", "usedStorage",
];
#[rustfmt::skip]
const SPACE_EXPAND: &[&str] = &[
    "author", "cardData", "createdAt", "datasets", "disabled", "lastModified", "likes",
    "models", "private", "region", "resourceGroup", "runtime", "sdk", "sha", "siblings",
    "subdomain", "tags", "trendingScore", "usedStorage",
];

/// The fields asked for with `expand` / `expand[]` (repeated or comma-separated), checked
/// against the kind's list; `None` when none were asked for (the whole answer).
fn expand_fields(ctx: &Ctx, kind: RepoKind) -> Result<Option<Vec<String>>, ApiError> {
    let asked: Vec<String> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "expand" || k == "expand[]")
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_owned())
        .collect();
    if asked.is_empty() {
        return Ok(None);
    }
    let known = match kind {
        RepoKind::Model => MODEL_EXPAND,
        RepoKind::Dataset => DATASET_EXPAND,
        RepoKind::Space => SPACE_EXPAND,
    };
    for (i, field) in asked.iter().enumerate() {
        if !known.contains(&field.as_str()) {
            return Err(ApiError::bad_request(format!(
                "\"expand[{i}]\" must be one of [{}]; {field:?} is not a {} field",
                known.join(", "),
                kind.singular()
            )));
        }
    }
    Ok(Some(asked))
}

/// `GET /api/{t}/{repo}[/revision/{rev}][?blobs=true][&expand[]=...]`.
pub(super) fn info(ctx: &Ctx, id: &RepoId, rev: &str) -> ApiResult {
    let expand = expand_fields(ctx, id.kind)?;
    let (meta, record) = load_rev(ctx, id, rev)?;
    let blobs = ctx.q_true("blobs");
    let siblings: Vec<Value> = record
        .files
        .iter()
        .map(|(path, e)| {
            if blobs {
                let mut v = json!({"rfilename": path, "size": e.size, "blobId": e.oid});
                if let Some(lfs) = &e.lfs {
                    v["lfs"] = json!({
                        "size": lfs.size,
                        "sha256": lfs.sha256,
                        "pointerSize": lfs_pointer(&lfs.sha256, lfs.size).len(),
                    });
                }
                v
            } else {
                json!({"rfilename": path})
            }
        })
        .collect();
    let used: u64 = record.files.values().map(|e| e.size).sum();
    let card = text_at(ctx, &record, "README.md")
        .and_then(|text| card_data(&text))
        .unwrap_or(Value::Null);
    let full = id.full();
    let mut info = json!({
        "_id": short_id(&full),
        "id": full,
        "author": id.namespace,
        "sha": record.id,
        "lastModified": record.date,
        "createdAt": meta.created_at,
        "private": meta.private,
        "gated": gated_json(&meta),
        "disabled": false,
        "downloads": 0,
        "downloadsAllTime": 0,
        "likes": 0,
        "trendingScore": 0,
        "tags": card_tags(&card),
        "siblings": siblings,
        "usedStorage": used,
    });
    if card.is_object() {
        info["cardData"] = card.clone();
    }
    match id.kind {
        RepoKind::Model => {
            info["modelId"] = Value::String(id.full());
            info["spaces"] = json!([]);
            for key in ["library_name", "pipeline_tag"] {
                if let Some(v) = card.get(key).filter(|v| v.is_string()) {
                    info[key] = v.clone();
                }
            }
        }
        RepoKind::Space => {
            // A Space's SDK is the one its card names (the Hub writes it at creation).
            if let Some(sdk) = card.get("sdk").filter(|v| v.is_string()) {
                info["sdk"] = sdk.clone();
            }
        }
        RepoKind::Dataset => {}
    }
    if let Some(fields) = expand {
        let Value::Object(all) = info else {
            return Err(ApiError::internal("the info is not an object"));
        };
        let mut narrowed = Map::new();
        for key in ["_id", "id"] {
            if let Some(v) = all.get(key) {
                narrowed.insert(key.to_owned(), v.clone());
            }
        }
        for field in fields {
            if let Some(v) = all.get(&field) {
                narrowed.insert(field, v.clone());
            }
        }
        info = Value::Object(narrowed);
    }
    Ok(axum::Json(info).into_response())
}

/// The tags the card names (`tags`, a string or a list of strings). Assumption: the Hub adds
/// tags of its own (library, licence, region); only the card's are listed here.
fn card_tags(card: &Value) -> Value {
    match card.get("tags") {
        Some(Value::String(tag)) => json!([tag]),
        Some(Value::Array(tags)) => {
            Value::Array(tags.iter().filter(|t| t.is_string()).cloned().collect())
        }
        _ => json!([]),
    }
}
