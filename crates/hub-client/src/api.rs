//! The repository-level API calls: identity, repositories, info, trees, refs, commits, YAML.

use std::collections::HashSet;

use reqwest::Method;
use reqwest::header::{self, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::json;
use url::Url;

use http_transport::{Redirects, Request, RetryDecision, quote_path, quote_segment};

use crate::client::HubClient;
use crate::error::HubError;
use crate::link::next_link;
use crate::repo::{RepoId, RepoType, validate_repo_path, validate_revision};
use crate::types::{
    CommitInfo, CreatedRepo, FileMetadata, ModelInfo, RawTreeEntry, Refs, TreeEntry, WhoAmI,
    YamlValidation,
};

/// Paths per paths-info call (the Hub refuses more than 1000).
pub const PATHS_INFO_BATCH: usize = 500;

impl HubClient {
    /// `GET /api/whoami-v2`: who the token belongs to.
    pub async fn whoami(&self) -> Result<WhoAmI, HubError> {
        self.require_token("whoami")?;
        let answer = self
            .send_ok(&Request::new(Method::GET, self.url("/api/whoami-v2")?))
            .await?;
        let mut who: WhoAmI = self.parse_json(&answer, "a JSON object with `name` (whoami)")?;
        let value: serde_json::Value = self.parse_json(&answer, "a JSON object (whoami)")?;
        who.token_role = value
            .pointer("/auth/accessToken/role")
            .and_then(|r| r.as_str())
            .map(str::to_owned);
        Ok(who)
    }

    /// `POST /api/repos/create`. An existing repository (409) is not an error: the answer
    /// then has `existed: true` and the URL from the 409 body (or built from the endpoint).
    ///
    /// The call is retried on 5xx and dropped connections, and on the Hub's 409 "another
    /// conflicting operation is in progress". If an attempt was applied but its
    /// answer lost, the retry sees 409 and reports `existed: true`: the repository exists
    /// either way, which is what callers rely on.
    pub async fn create_repo(&self, repo: &RepoId, private: bool) -> Result<CreatedRepo, HubError> {
        self.require_token("creating a repository")?;
        let mut body = json!({
            "name": repo.name(),
            "organization": repo.namespace(),
            "private": private,
        });
        if repo.repo_type() != RepoType::Model {
            body["type"] = json!(repo.repo_type().singular());
        }
        let call = Request::new(Method::POST, self.url("/api/repos/create")?).json(&body);
        let mut attempt = 0u32;
        let answer = loop {
            let answer = self.send(&call).await?;
            // The Hub answers this 409 while another operation on the repo runs: wait, retry.
            let busy = answer.status == 409
                && String::from_utf8_lossy(&answer.body).contains("conflicting operation");
            match self.retry_policy().decide(attempt, None, None) {
                RetryDecision::RetryAfter(delay) if busy => {
                    tracing::debug!(attempt, "repository busy; retrying create");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => break answer,
            }
        };
        let existed = match answer.status {
            200..=299 => false,
            409 if !String::from_utf8_lossy(&answer.body).contains("conflicting operation") => true,
            _ => return Err(self.answer_error(&answer)),
        };
        let value: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
        let url = value
            .as_ref()
            .and_then(|v| v.get("url"))
            .and_then(|u| u.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}/{}", self.endpoint(), repo));
        if !existed && value.is_none() {
            return Err(self
                .parse_json::<serde_json::Value>(&answer, "a JSON object with `url`")
                .unwrap_err());
        }
        Ok(CreatedRepo { url, existed })
    }

    /// `DELETE /api/repos/delete`. A missing repository is [`HubError::RepoNotFound`].
    pub async fn delete_repo(&self, repo: &RepoId) -> Result<(), HubError> {
        self.require_token("deleting a repository")?;
        let mut body = json!({ "name": repo.name(), "organization": repo.namespace() });
        if repo.repo_type() != RepoType::Model {
            body["type"] = json!(repo.repo_type().singular());
        }
        self.send_ok(&Request::new(Method::DELETE, self.url("/api/repos/delete")?).json(&body))
            .await?;
        Ok(())
    }

    /// `GET /api/{models|datasets|spaces}/{repo}[/revision/{rev}][?blobs=true]`.
    ///
    /// With `blobs`, siblings carry sizes and LFS sha256s. Every sibling path is validated.
    pub async fn model_info(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
        blobs: bool,
    ) -> Result<ModelInfo, HubError> {
        let mut path = format!("/api/{}/{}", repo.repo_type().api_segment(), repo.as_path());
        if let Some(rev) = revision {
            validate_revision(rev)?;
            path.push_str(&format!("/revision/{}", quote_segment(rev)));
        }
        if blobs {
            path.push_str("?blobs=true");
        }
        let answer = self
            .send_ok(&Request::new(Method::GET, self.url(&path)?))
            .await?;
        let info: ModelInfo =
            self.parse_json(&answer, "a JSON repository info object with `id`")?;
        for sibling in &info.siblings {
            validate_repo_path(&sibling.rfilename)?;
        }
        Ok(info)
    }

    /// The commit a revision (usually a branch) points at now, from `model_info`.
    pub async fn resolve_revision(
        &self,
        repo: &RepoId,
        revision: &str,
    ) -> Result<String, HubError> {
        let info = self.model_info(repo, Some(revision), false).await?;
        info.sha
            .filter(|s| !s.is_empty())
            .ok_or_else(|| HubError::InvalidResponse {
                request: format!(
                    "GET {}/api/{}/{}/revision/{}",
                    self.endpoint(),
                    repo.repo_type().api_segment(),
                    repo.as_path(),
                    quote_segment(revision)
                ),
                detail: "expected the repository info to carry `sha`, the commit of the revision"
                    .into(),
            })
    }

    /// `GET /api/{t}/{repo}/tree/{rev}[/{path}]`, following every `Link: rel="next"` page.
    ///
    /// Every entry is validated ([`TreeEntry`]); an unsafe path or malformed entry fails the
    /// whole listing. The pages and entries followed are capped by the client's limits.
    pub async fn list_tree(
        &self,
        repo: &RepoId,
        revision: &str,
        path: Option<&str>,
        recursive: bool,
    ) -> Result<Vec<TreeEntry>, HubError> {
        validate_revision(revision)?;
        let mut url_path = format!(
            "/api/{}/{}/tree/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(revision)
        );
        if let Some(p) = path.filter(|p| !p.is_empty()) {
            validate_repo_path(p)?;
            url_path.push('/');
            url_path.push_str(&quote_segment(p));
        }
        url_path.push_str(if recursive {
            "?recursive=true&expand=false"
        } else {
            "?recursive=false&expand=false"
        });
        let raw: Vec<(RawTreeEntry, String)> = self
            .paginate(self.url(&url_path)?, "a JSON array of tree entries", |_| {
                false
            })
            .await?;
        raw.into_iter()
            .map(|(entry, request)| entry.validate(&request))
            .collect()
    }

    /// `POST /api/{t}/{repo}/paths-info/{rev}`: the entries for the given paths (missing
    /// paths are left out). Sent as a form in batches of [`PATHS_INFO_BATCH`].
    pub async fn paths_info(
        &self,
        repo: &RepoId,
        revision: &str,
        paths: &[String],
    ) -> Result<Vec<TreeEntry>, HubError> {
        validate_revision(revision)?;
        for p in paths {
            validate_repo_path(p.trim_end_matches('/'))?;
        }
        let url = self.url(&format!(
            "/api/{}/{}/paths-info/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(revision)
        ))?;
        let mut out = Vec::new();
        for batch in paths.chunks(PATHS_INFO_BATCH) {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for p in batch {
                form.append_pair("paths", p);
            }
            form.append_pair("expand", "false");
            let call = Request::new(Method::POST, url.clone())
                .body(form.finish(), "application/x-www-form-urlencoded");
            let answer = self.send_ok(&call).await?;
            let raw: Vec<RawTreeEntry> =
                self.parse_json(&answer, "a JSON array of tree entries (paths-info)")?;
            for entry in raw {
                out.push(entry.validate(&answer.request)?);
            }
        }
        Ok(out)
    }

    /// `GET /api/{t}/{repo}/refs`: branches and tags.
    pub async fn list_refs(&self, repo: &RepoId) -> Result<Refs, HubError> {
        let url = self.url(&format!(
            "/api/{}/{}/refs",
            repo.repo_type().api_segment(),
            repo.as_path()
        ))?;
        let answer = self.send_ok(&Request::new(Method::GET, url)).await?;
        self.parse_json(&answer, "a JSON object with `branches` and `tags`")
    }

    /// `/api/{t}/{repo}/{kind}/{name}`, the one URL shape of tag and branch requests
    /// (`kind` is `tag` or `branch`; `name` is percent-encoded as one segment).
    fn ref_url(&self, repo: &RepoId, kind: &str, name: &str) -> Result<Url, HubError> {
        self.url(&format!(
            "/api/{}/{}/{kind}/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(name)
        ))
    }

    /// `POST /api/{t}/{repo}/tag/{revision}`: tags `revision` (default `main`).
    /// An existing tag is [`HubError::Conflict`].
    pub async fn create_tag(
        &self,
        repo: &RepoId,
        tag: &str,
        revision: Option<&str>,
        message: Option<&str>,
    ) -> Result<(), HubError> {
        self.require_token("creating a tag")?;
        validate_revision(tag)?;
        let revision = revision.unwrap_or("main");
        validate_revision(revision)?;
        let mut body = json!({ "tag": tag });
        if let Some(m) = message {
            body["message"] = json!(m);
        }
        let url = self.ref_url(repo, "tag", revision)?;
        self.send_ok(&Request::new(Method::POST, url).json(&body))
            .await?;
        Ok(())
    }

    /// `DELETE /api/{t}/{repo}/tag/{tag}`.
    pub async fn delete_tag(&self, repo: &RepoId, tag: &str) -> Result<(), HubError> {
        self.require_token("deleting a tag")?;
        validate_revision(tag)?;
        let url = self.ref_url(repo, "tag", tag)?;
        self.send_ok(&Request::new(Method::DELETE, url)).await?;
        Ok(())
    }

    /// `POST /api/{t}/{repo}/branch/{branch}`, from `starting_point` (default: the main
    /// branch head). An existing branch is [`HubError::Conflict`].
    pub async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        starting_point: Option<&str>,
    ) -> Result<(), HubError> {
        self.require_token("creating a branch")?;
        validate_revision(branch)?;
        let body = match starting_point {
            Some(start) => {
                validate_revision(start)?;
                json!({ "startingPoint": start })
            }
            None => json!({}),
        };
        let url = self.ref_url(repo, "branch", branch)?;
        self.send_ok(&Request::new(Method::POST, url).json(&body))
            .await?;
        Ok(())
    }

    /// `DELETE /api/{t}/{repo}/branch/{branch}`.
    pub async fn delete_branch(&self, repo: &RepoId, branch: &str) -> Result<(), HubError> {
        self.require_token("deleting a branch")?;
        validate_revision(branch)?;
        let url = self.ref_url(repo, "branch", branch)?;
        self.send_ok(&Request::new(Method::DELETE, url)).await?;
        Ok(())
    }

    /// `GET /api/{t}/{repo}/commits/{rev}`: the history, newest first, every page.
    pub async fn list_commits(
        &self,
        repo: &RepoId,
        revision: &str,
    ) -> Result<Vec<CommitInfo>, HubError> {
        self.list_commits_until(repo, revision, None).await
    }

    /// Like [`list_commits`](Self::list_commits), but stops paging once `stop_at` is seen.
    pub(crate) async fn list_commits_until(
        &self,
        repo: &RepoId,
        revision: &str,
        stop_at: Option<&str>,
    ) -> Result<Vec<CommitInfo>, HubError> {
        validate_revision(revision)?;
        let url = self.url(&format!(
            "/api/{}/{}/commits/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(revision)
        ))?;
        let raw: Vec<(CommitInfo, String)> = self
            .paginate(
                url,
                "a JSON array of commits",
                |page: &[(CommitInfo, String)]| {
                    stop_at.is_some_and(|s| page.iter().any(|(c, _)| c.id == s))
                },
            )
            .await?;
        Ok(raw.into_iter().map(|(c, _)| c).collect())
    }

    /// `POST /api/validate-yaml`: checks a model card's front matter.
    pub async fn validate_yaml(
        &self,
        content: &str,
        repo_type: RepoType,
    ) -> Result<YamlValidation, HubError> {
        let body = json!({ "content": content, "repoType": repo_type.singular() });
        let answer = self
            .send(&Request::new(Method::POST, self.url("/api/validate-yaml")?).json(&body))
            .await?;
        let value: serde_json::Value =
            match self.parse_json(&answer, "a JSON object with `errors` and `warnings`") {
                Ok(v) => v,
                Err(_) if !(200..300).contains(&answer.status) => {
                    return Err(self.answer_error(&answer));
                }
                Err(e) => return Err(e),
            };
        let messages = |key: &str| -> Vec<String> {
            value
                .get(key)
                .and_then(|v| v.as_array())
                .map(|items| {
                    items
                        .iter()
                        .map(|i| match i {
                            serde_json::Value::String(s) => s.clone(),
                            other => other
                                .get("message")
                                .and_then(|m| m.as_str())
                                .map(str::to_owned)
                                .unwrap_or_else(|| other.to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let result = YamlValidation {
            errors: messages("errors"),
            warnings: messages("warnings"),
        };
        if !(200..300).contains(&answer.status) && result.errors.is_empty() {
            return Err(self.answer_error(&answer));
        }
        Ok(result)
    }

    /// `HEAD /{pfx}{repo}/resolve/{rev}/{path}`: commit, etag, size, content location, and the
    /// Xet hash and token route of a file stored in Xet.
    ///
    /// Same-origin redirects are followed; at a redirect to another origin (a CDN) the
    /// client stops and reads the metadata from the redirect itself, like the official client.
    pub async fn file_metadata(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
    ) -> Result<FileMetadata, HubError> {
        let url = self.resolve_url(repo, revision, path)?;
        let call = Request::new(Method::HEAD, url)
            .header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            )
            .redirects(Redirects::StopAtOtherOrigin);
        let answer = self.send(&call).await?;
        if !(200..400).contains(&answer.status) {
            return Err(self.answer_error(&answer));
        }
        let h = &answer.headers;
        let text = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let invalid = |detail: &str| HubError::InvalidResponse {
            request: answer.request.clone(),
            detail: detail.to_owned(),
        };
        let commit = text("x-repo-commit")
            .ok_or_else(|| invalid("expected an X-Repo-Commit header"))?
            .to_owned();
        let etag = text("x-linked-etag")
            .or_else(|| text("etag"))
            .map(|e| e.trim_start_matches("W/").trim_matches('"').to_owned())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| invalid("expected an ETag or X-Linked-Etag header"))?;
        let is_redirect = (300..400).contains(&answer.status);
        let size = match text("x-linked-size") {
            Some(s) => Some(
                s.parse::<u64>()
                    .map_err(|_| invalid("X-Linked-Size is not a number"))?,
            ),
            None if !is_redirect => text("content-length").and_then(|s| s.parse().ok()),
            None => None,
        };
        let location = match text("location").filter(|_| is_redirect) {
            Some(loc) => answer
                .url
                .join(loc)
                .map_err(|_| invalid("the Location header is not a valid URL"))?,
            None => answer.url.clone(),
        };
        self.check_hop(&answer.url, &location)?;
        let xet = crate::xet::XetFileInfo::from_headers(self, &answer.url, h);
        Ok(FileMetadata {
            commit,
            etag,
            size,
            location,
            xet,
        })
    }

    /// The `/resolve/` URL of a file.
    pub(crate) fn resolve_url(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
    ) -> Result<Url, HubError> {
        validate_revision(revision)?;
        validate_repo_path(path)?;
        self.url(&format!(
            "/{}{}/resolve/{}/{}",
            repo.repo_type().url_prefix(),
            repo.as_path(),
            quote_segment(revision),
            quote_path(path)
        ))
    }

    /// The pagination loop behind listings: follows `Link: rel="next"` verbatim, refuses
    /// https-to-http downgrades and loops, caps pages and entries, and stops early when
    /// `stop` says so after a page.
    pub(crate) async fn paginate<T: DeserializeOwned>(
        &self,
        first: Url,
        expected: &str,
        mut stop: impl FnMut(&[(T, String)]) -> bool,
    ) -> Result<Vec<(T, String)>, HubError> {
        let limits = self.inner.limits.clone();
        let mut out: Vec<(T, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut next = Some(first);
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            let request = self.describe(&Method::GET, &url);
            if pages > limits.max_pages {
                return Err(HubError::TooLarge {
                    request,
                    detail: format!("the listing has more than {} pages", limits.max_pages),
                });
            }
            seen.insert(url.to_string());
            let answer = self.send_ok(&Request::new(Method::GET, url)).await?;
            let items: Vec<T> = self.parse_json(&answer, expected)?;
            if out.len() + items.len() > limits.max_entries {
                return Err(HubError::TooLarge {
                    request: answer.request.clone(),
                    detail: format!("the listing has more than {} entries", limits.max_entries),
                });
            }
            out.extend(items.into_iter().map(|i| (i, answer.request.clone())));
            if stop(&out) {
                break;
            }
            if let Some(link) = next_link(&answer.headers) {
                let target = answer
                    .url
                    .join(&link)
                    .map_err(|_| HubError::InvalidResponse {
                        request: answer.request.clone(),
                        detail: "the `Link: rel=\"next\"` URL is not valid".into(),
                    })?;
                self.check_hop(&answer.url, &target)?;
                if seen.contains(target.as_str()) {
                    return Err(HubError::InvalidResponse {
                        request: answer.request.clone(),
                        detail: "the `Link: rel=\"next\"` pages loop back to a page already read"
                            .into(),
                    });
                }
                next = Some(target);
            }
        }
        Ok(out)
    }
}
