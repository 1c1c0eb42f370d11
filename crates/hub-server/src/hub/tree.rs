//! Listing a revision's files: `GET .../tree/{rev}[/{path}]` with cursor pagination and
//! `expand` (each entry's last commit), and `POST .../paths-info/{rev}`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{MAX_HISTORY, json_page, load_rev, paginate};
use crate::context::{Ctx, parse_form, read_body};
use crate::error::{ApiError, ApiResult};
use crate::store::{CommitRecord, FileEntry, RepoId, lfs_pointer, tree_ids};

/// The most paths a paths-info request may ask for (the Hub answers 413 above 1000).
const MAX_PATHS_INFO: usize = 1000;

fn file_json(ctx: &Ctx, path: &str, e: &FileEntry) -> Value {
    let mut v = json!({"type": "file", "oid": e.oid, "size": e.size, "path": path});
    if let Some(lfs) = &e.lfs {
        v["lfs"] = json!({
            "oid": lfs.sha256,
            "size": lfs.size,
            "pointerSize": lfs_pointer(&lfs.sha256, lfs.size).len(),
        });
        if let Some(hash) = super::xet::xet_hash_of(ctx, &lfs.sha256) {
            v["xetHash"] = json!(hash);
        }
    }
    v
}

fn dir_json(path: &str, oid: &str) -> Value {
    json!({"type": "directory", "oid": oid, "size": 0, "path": path})
}

/// Finds the newest commit on the first-parent chain that changed `path` (file oid or
/// directory tree id differs from its parent's).
struct History<'a> {
    ctx: &'a Ctx,
    id: &'a RepoId,
    chain: Vec<(CommitRecord, BTreeMap<String, String>)>,
    exhausted: bool,
}

impl<'a> History<'a> {
    fn new(ctx: &'a Ctx, id: &'a RepoId, head: CommitRecord) -> History<'a> {
        let dirs = tree_ids(&head.files);
        History {
            ctx,
            id,
            chain: vec![(head, dirs)],
            exhausted: false,
        }
    }

    fn oid_at(entry: &(CommitRecord, BTreeMap<String, String>), path: &str) -> Option<String> {
        entry
            .0
            .files
            .get(path)
            .map(|e| e.oid.clone())
            .or_else(|| entry.1.get(path).cloned())
    }

    fn extend(&mut self) -> Result<bool, ApiError> {
        if self.exhausted || self.chain.len() >= MAX_HISTORY {
            return Ok(false);
        }
        let Some(parent) = self.chain.last().and_then(|c| c.0.parents.first().cloned()) else {
            self.exhausted = true;
            return Ok(false);
        };
        match self.ctx.state.store.commit(self.id, &parent)? {
            Some(rec) => {
                let dirs = tree_ids(&rec.files);
                self.chain.push((rec, dirs));
                Ok(true)
            }
            None => {
                self.exhausted = true;
                Ok(false)
            }
        }
    }

    fn last_commit(&mut self, path: &str) -> Result<Value, ApiError> {
        let mut i = 0;
        loop {
            if i + 1 >= self.chain.len() && !self.extend()? {
                break;
            }
            if i + 1 >= self.chain.len() {
                break;
            }
            if Self::oid_at(&self.chain[i], path) != Self::oid_at(&self.chain[i + 1], path) {
                break;
            }
            i += 1;
        }
        let c = &self.chain[i].0;
        Ok(json!({"id": c.id, "title": c.title, "date": c.date}))
    }
}

/// `GET /api/{t}/{repo}/tree/{rev}[/{path}]?recursive=&expand=&cursor=`.
pub(super) fn tree(ctx: &Ctx, id: &RepoId, rev: &str, path: &str) -> ApiResult {
    let (_, record) = load_rev(ctx, id, rev)?;
    let recursive = ctx.q_true("recursive");
    let expand = ctx.q_true("expand");
    let dirs = tree_ids(&record.files);
    let base = path.trim_matches('/');
    let mut entries: Vec<(String, Value)> = Vec::new();
    if !base.is_empty() && !dirs.contains_key(base) {
        match record.files.get(base) {
            Some(e) => entries.push((base.to_owned(), file_json(ctx, base, e))),
            None => return Err(ApiError::entry_not_found(base, &record.id)),
        }
    } else {
        let prefix = if base.is_empty() {
            String::new()
        } else {
            format!("{base}/")
        };
        let is_listed = |p: &str| -> bool {
            match p.strip_prefix(prefix.as_str()) {
                Some(rest) if !rest.is_empty() => recursive || !rest.contains('/'),
                _ => false,
            }
        };
        for (p, oid) in &dirs {
            if is_listed(p) {
                entries.push((p.clone(), dir_json(p, oid)));
            }
        }
        for (p, e) in &record.files {
            if is_listed(p) {
                entries.push((p.clone(), file_json(ctx, p, e)));
            }
        }
        // Directories first, then files, each sorted by path (as the Hub lists them).
        entries.sort_by(|a, b| {
            let a_dir = a.1["type"] == "directory";
            let b_dir = b.1["type"] == "directory";
            b_dir.cmp(&a_dir).then_with(|| a.0.cmp(&b.0))
        });
    }
    let page_size = if expand {
        ctx.state.config.tree_expand_page_size
    } else {
        ctx.state.config.tree_page_size
    }
    .max(1);
    let (start, link) = paginate(ctx, entries.len(), page_size)?;
    let end = (start + page_size).min(entries.len());
    let mut page: Vec<Value> = entries
        .drain(..)
        .skip(start)
        .take(end.saturating_sub(start))
        .map(|(_, v)| v)
        .collect();
    if expand {
        let mut history = History::new(ctx, id, record);
        for v in &mut page {
            let p = v["path"].as_str().unwrap_or_default().to_owned();
            v["lastCommit"] = history.last_commit(&p)?;
        }
    }
    json_page(page, link)
}

/// `POST /api/{t}/{repo}/paths-info/{rev}`, with a form (Python) or JSON (Rust) body.
pub(super) async fn paths_info(ctx: &Ctx, id: &RepoId, rev: &str, body: Body) -> ApiResult {
    let is_json = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let bytes = read_body(body, ctx.state.config.max_json_bytes).await?;
    let (paths, expand) = if is_json {
        #[derive(Deserialize)]
        struct PathsBody {
            paths: Vec<String>,
            #[serde(default)]
            expand: bool,
        }
        let b: PathsBody = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
        (b.paths, b.expand)
    } else {
        let form = parse_form(&String::from_utf8_lossy(&bytes));
        let paths: Vec<String> = form
            .iter()
            .filter(|(k, _)| k == "paths" || k == "paths[]")
            .map(|(_, v)| v.clone())
            .collect();
        let expand = form
            .iter()
            .any(|(k, v)| k == "expand" && matches!(v.as_str(), "1" | "true" | "True"));
        (paths, expand)
    };
    if paths.len() > MAX_PATHS_INFO {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "too many paths ({}): ask for at most {MAX_PATHS_INFO} per request",
                paths.len()
            ),
        ));
    }
    let (_, record) = load_rev(ctx, id, rev)?;
    let dirs = tree_ids(&record.files);
    let mut out = Vec::new();
    let mut history = expand.then(|| History::new(ctx, id, record.clone()));
    for p in &paths {
        let p = p.trim_matches('/');
        let mut v = if let Some(e) = record.files.get(p) {
            file_json(ctx, p, e)
        } else if let Some(oid) = dirs.get(p).filter(|_| !p.is_empty()) {
            dir_json(p, oid)
        } else {
            continue;
        };
        if let Some(h) = history.as_mut() {
            v["lastCommit"] = h.last_commit(p)?;
        }
        out.push(v);
    }
    Ok(axum::Json(out).into_response())
}
