//! The LFS batch call offering `xet` besides `basic` and `multipart`, as LFS batch clients
//! (hf-hub, git-xet, huggingface.js) do: the Hub answers either `transfer: "xet"` with a CAS
//! token and its refresh route in each object's upload action, or a basic/multipart answer
//! that the ordinary LFS transfers handle (`docs/XET-NOTES.md#routes`).

use http_transport::Token;

use super::token::{XetSession, XetToken};
use crate::client::HubClient;
use crate::error::HubError;
use crate::lfs::{BatchObject, LFS_BATCH, LfsObject, RawBatchObject};
use crate::repo::RepoId;

/// What an LFS batch answer offering `xet` chose.
#[derive(Debug)]
pub enum BatchTransfer {
    /// A basic or multipart answer: what to do with each object, as
    /// [`HubClient::lfs_batch`] gives it.
    Lfs(Vec<BatchObject>),
    /// Xet: a session for the CAS (its first token from the answer, the next ones from the
    /// refresh route), and the objects the Hub still wants (the others it already has).
    Xet {
        /// The CAS session; `None` when the Hub already has every object (no upload action
        /// carried a token).
        session: Option<XetSession>,
        /// The objects to send through the CAS, in the order asked.
        wanted: Vec<LfsObject>,
        /// The objects the Hub already has.
        present: Vec<LfsObject>,
    },
}

impl HubClient {
    /// `POST …/info/lfs/objects/batch` offering `basic`, `multipart` and `xet`, in batches of
    /// [`LFS_BATCH`]. A server that mixes transfers across batches is refused.
    pub async fn lfs_batch_offering_xet(
        &self,
        repo: &RepoId,
        revision: &str,
        objects: &[LfsObject],
    ) -> Result<BatchTransfer, HubError> {
        let mut lfs = Vec::new();
        let mut xet: Option<(XetToken, url::Url)> = None;
        let mut wanted = Vec::new();
        let mut present = Vec::new();
        for batch in objects.chunks(LFS_BATCH) {
            let (raw, request) = self
                .lfs_batch_call(repo, revision, batch, &["basic", "multipart", "xet"])
                .await?;
            let is_xet = raw.transfer.as_deref() == Some("xet");
            if (is_xet && !lfs.is_empty())
                || (!is_xet && (!wanted.is_empty() || !present.is_empty()))
            {
                return Err(HubError::InvalidResponse {
                    request,
                    detail: "the LFS batch answers mix the xet transfer with others".into(),
                });
            }
            for (object, raw) in batch.iter().zip(raw.objects) {
                if !is_xet {
                    lfs.push(self.parse_batch_object(object, raw, &request)?);
                    continue;
                }
                match self.xet_action(object, raw, &request)? {
                    Some(found) => {
                        xet.get_or_insert(found);
                        wanted.push(*object);
                    }
                    None => present.push(*object),
                }
            }
        }
        if !lfs.is_empty() || objects.is_empty() {
            return Ok(BatchTransfer::Lfs(lfs));
        }
        let session = match xet {
            Some((token, route)) => Some(self.xet_session_at(route, Some(token)).await?),
            None => None,
        };
        Ok(BatchTransfer::Xet {
            session,
            wanted,
            present,
        })
    }

    /// The CAS token and refresh route of one object of a xet answer; `None` when the Hub
    /// already has the object (no upload action).
    fn xet_action(
        &self,
        object: &LfsObject,
        raw: RawBatchObject,
        request: &str,
    ) -> Result<Option<(XetToken, url::Url)>, HubError> {
        if let Some(error) = &raw.error {
            return Err(self.object_error(object, error, request));
        }
        let Some(upload) = raw.actions.and_then(|a| a.upload) else {
            return Ok(None);
        };
        let invalid = |detail: String| HubError::InvalidResponse {
            request: request.to_owned(),
            detail,
        };
        let header = |name: &str| {
            upload
                .header
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
        };
        let route = self.resolve_href(&upload.href, request)?;
        let access_token = header("X-Xet-Access-Token")
            .and_then(Token::new)
            .ok_or_else(|| {
                invalid("expected X-Xet-Access-Token in the xet upload action".into())
            })?;
        let expires_at = header("X-Xet-Token-Expiration")
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                invalid("expected X-Xet-Token-Expiration in the xet upload action".into())
            })?;
        let cas = header("X-Xet-Cas-Url")
            .ok_or_else(|| invalid("expected X-Xet-Cas-Url in the xet upload action".into()))?;
        let token = self.checked_xet_token(access_token, expires_at, &cas, request)?;
        Ok(Some((token, route)))
    }
}
