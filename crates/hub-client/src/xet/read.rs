//! Reading a file from the Xet CAS: what `HEAD resolve` says about it ([`XetFileInfo`]), its
//! reconstruction (`GET /v1/reconstructions/{file}`, which xorb chunk ranges rebuild it and
//! where to fetch them) and the ranged reads of xorb bytes from the signed URLs the
//! reconstruction gives, which never carry a credential.
//!
//! The CAS needs its own access token, handed out by the Hub's read-token route (the
//! `xet-auth` link of `HEAD resolve`); a [`XetReader`] asks for it on its first call and keeps
//! it fresh through a [`XetSession`] (`token.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use futures_util::StreamExt;
use http_transport::{Opened, Request};
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Deserialize;
use url::Url;
use xet_format::{MAX_XORB_CHUNKS, MAX_XORB_RAW_BYTES, MAX_XORB_SERIALIZED_BYTES, XetHash};

use crate::client::HubClient;
use crate::download::{ByteStream, parse_content_range};
use crate::error::{HubError, error_from_answer};
use crate::link::link_with_rel;
use crate::xet::XetSession;

/// What `HEAD resolve` says about a file stored in Xet: its Xet hash (`X-Xet-Hash`) and the
/// Hub route that hands out read tokens for its CAS (the `xet-auth` link, else
/// `X-Xet-Refresh-Route`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XetFileInfo {
    /// The file's Xet hash.
    pub hash: XetHash,
    /// The read-token route.
    pub token_route: Url,
}

impl XetFileInfo {
    /// Reads the Xet headers of a `HEAD resolve` answer from `url`. `None` when the file is
    /// not in Xet, and when the headers cannot be used (then the plain download is the way,
    /// so that is logged rather than failed), such as a token route off the Hub's origin,
    /// which would not get the Hub token.
    pub(crate) fn from_headers(
        client: &HubClient,
        url: &Url,
        headers: &HeaderMap,
    ) -> Option<XetFileInfo> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let hash = text("x-xet-hash")?;
        let Ok(hash) = XetHash::from_hex(hash) else {
            tracing::warn!("X-Xet-Hash is not a Xet hash; the file is downloaded without Xet");
            return None;
        };
        let route = link_with_rel(headers, "xet-auth")
            .or_else(|| text("x-xet-refresh-route").map(str::to_owned));
        let Some(route) = route else {
            tracing::warn!("X-Xet-Hash comes without a token route; downloading without Xet");
            return None;
        };
        let token_route = match url.join(&route) {
            Ok(r) if client.endpoint().same_origin(&r) => r,
            _ => {
                tracing::warn!("the Xet token route is not a usable URL; downloading without Xet");
                return None;
            }
        };
        Some(XetFileInfo { hash, token_route })
    }
}

/// The plan to rebuild a file (or the part of it a range asked for): its terms in order, and
/// the xorb byte ranges that hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconstruction {
    /// Bytes of the first term's data that come before the range asked for (0 without a
    /// range).
    pub offset_into_first_range: u64,
    /// The terms, in file order: the file is their data end to end.
    pub terms: Vec<ReconstructionTerm>,
    /// Where to fetch the terms' chunks ([`ReconstructionTerm::fetch`] indexes this list).
    pub fetches: Vec<XorbFetch>,
}

impl Reconstruction {
    /// The bytes the terms rebuild, `offset_into_first_range` included.
    pub fn unpacked_len(&self) -> u64 {
        self.terms.iter().map(|t| t.unpacked_length).sum()
    }
}

/// A run of consecutive chunks of one xorb that comes next in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconstructionTerm {
    /// The xorb.
    pub xorb: XetHash,
    /// Its chunks, end-exclusive.
    pub chunks: Range<u32>,
    /// Their uncompressed length.
    pub unpacked_length: u64,
    /// The entry of [`Reconstruction::fetches`] whose bytes hold these chunks.
    pub fetch: usize,
}

/// A byte range of a serialized xorb to fetch, and the chunks it holds.
#[derive(Clone, PartialEq, Eq)]
pub struct XorbFetch {
    /// The xorb.
    pub xorb: XetHash,
    /// The chunks the bytes hold, end-exclusive.
    pub chunks: Range<u32>,
    /// The signed URL (no credential is sent to it). Its query is a credential of its own:
    /// never show it.
    pub url: Url,
    /// The serialized bytes, end-exclusive (the answer's inclusive `url_range` plus one).
    pub bytes: Range<u64>,
}

impl fmt::Debug for XorbFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XorbFetch")
            .field("xorb", &self.xorb)
            .field("chunks", &self.chunks)
            .field("url", &http_transport::without_query(&self.url))
            .field("bytes", &self.bytes)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawReconstruction {
    #[serde(default)]
    offset_into_first_range: u64,
    terms: Vec<RawTerm>,
    #[serde(default)]
    fetch_info: BTreeMap<String, Vec<RawFetch>>,
}

#[derive(Deserialize)]
struct RawTerm {
    hash: String,
    unpacked_length: u64,
    range: RawRange,
}

#[derive(Deserialize)]
struct RawFetch {
    range: RawRange,
    url: String,
    url_range: RawRange,
}

#[derive(Deserialize)]
struct RawRange {
    start: u64,
    end: u64,
}

/// Reads files of one repository from its Xet CAS. Cheap to clone; clones share the session,
/// which is opened (a read token asked for) on the first call only.
#[derive(Clone)]
pub struct XetReader {
    inner: Arc<ReaderInner>,
}

struct ReaderInner {
    hub: HubClient,
    route: Url,
    session: tokio::sync::OnceCell<XetSession>,
}

impl fmt::Debug for XetReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XetReader")
            .field("route", &self.inner.route.as_str())
            .finish_non_exhaustive()
    }
}

impl HubClient {
    /// A reader of the Xet CAS that holds the file `info` describes.
    pub fn xet_reader(&self, info: &XetFileInfo) -> XetReader {
        XetReader {
            inner: Arc::new(ReaderInner {
                hub: self.clone(),
                route: info.token_route.clone(),
                session: tokio::sync::OnceCell::new(),
            }),
        }
    }
}

impl XetReader {
    /// The CAS session, opened with a first read token when there is none yet.
    async fn session(&self) -> Result<&XetSession, HubError> {
        let inner = &self.inner;
        inner
            .session
            .get_or_try_init(|| inner.hub.xet_session_at(inner.route.clone(), None))
            .await
    }

    /// `GET /v1/reconstructions/{file}` (with `Range: bytes=a-b` for `range`), checked: every
    /// hash parses, every range is within the format's limits, and every term has a fetch
    /// entry of its xorb that holds its chunks.
    pub async fn reconstruction(
        &self,
        file: &XetHash,
        range: Option<Range<u64>>,
    ) -> Result<Reconstruction, HubError> {
        let range = match &range {
            Some(r) if r.is_empty() => {
                return Err(HubError::InvalidInput {
                    what: "reconstruction range".into(),
                    reason: "it is empty".into(),
                });
            }
            Some(r) => Some(range_header(r.start, r.end - 1)?),
            None => None,
        };
        let path = format!("/v1/reconstructions/{}", file.to_hex());
        let session = self.session().await?;
        let answer = session
            .send(|cas| {
                let call = Request::new(Method::GET, cas.join(&path)?);
                Ok(match &range {
                    Some(value) => call.header(header::RANGE, value.clone()),
                    None => call,
                })
            })
            .await?;
        if !answer.is_success() {
            return Err(session.answer_error(&answer));
        }
        let raw: RawReconstruction = self.inner.hub.parse_json(
            &answer,
            "a reconstruction (offset_into_first_range, terms, fetch_info)",
        )?;
        check_reconstruction(raw, &answer.request, &answer.url, &self.inner.hub)
    }

    /// Opens `fetch.bytes` of a xorb (or the sub-range `bytes`, which must lie inside them) at
    /// its signed URL, without any credential; the body arrives as a stream. The opening is
    /// retried like every request; a failure inside the body is an error item.
    pub async fn xorb_bytes(
        &self,
        fetch: &XorbFetch,
        bytes: Range<u64>,
    ) -> Result<ByteStream, HubError> {
        if bytes.is_empty() || bytes.start < fetch.bytes.start || bytes.end > fetch.bytes.end {
            return Err(HubError::InvalidInput {
                what: "xorb range".into(),
                reason: format!(
                    "{}..{} is not inside the fetch range {}..{}",
                    bytes.start, bytes.end, fetch.bytes.start, fetch.bytes.end
                ),
            });
        }
        let hub = &self.inner.hub;
        let call = Request::new(Method::GET, fetch.url.clone())
            .no_auth()
            .header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            )
            .header(header::RANGE, range_header(bytes.start, bytes.end - 1)?);
        let Opened {
            response, request, ..
        } = hub.transport().open(&call).await?;
        let status = response.status().as_u16();
        if status != 206 {
            let headers = response.headers().clone();
            let body = hub
                .transport()
                .read_body(response, &request)
                .await
                .unwrap_or_default();
            if (200..300).contains(&status) {
                return Err(HubError::InvalidResponse {
                    request,
                    detail: format!(
                        "asked for bytes {}-{} of a xorb, the answer was HTTP {status} without a range",
                        bytes.start,
                        bytes.end - 1
                    ),
                });
            }
            return Err(error_from_answer(status, &headers, &body, request, None));
        }
        let announced = response
            .headers()
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        match announced {
            Some((a, b, _)) if a == bytes.start && b + 1 == bytes.end => {}
            _ => {
                return Err(HubError::InvalidResponse {
                    request,
                    detail: format!(
                        "asked for bytes {}-{} of a xorb, the Content-Range of the answer says otherwise",
                        bytes.start,
                        bytes.end - 1
                    ),
                });
            }
        }
        Ok(hub
            .transport()
            .body_stream(response, request)
            .map(|chunk| chunk.map_err(HubError::from))
            .boxed())
    }
}

/// `bytes=a-b` (inclusive).
fn range_header(first: u64, last: u64) -> Result<HeaderValue, HubError> {
    HeaderValue::from_str(&format!("bytes={first}-{last}")).map_err(|_| HubError::InvalidInput {
        what: "range".into(),
        reason: "cannot build the Range header".into(),
    })
}

/// Checks a reconstruction answer and turns it into the typed plan.
fn check_reconstruction(
    raw: RawReconstruction,
    request: &str,
    answer_url: &Url,
    hub: &HubClient,
) -> Result<Reconstruction, HubError> {
    let invalid = |detail: String| HubError::InvalidResponse {
        request: request.to_owned(),
        detail,
    };
    let hash = |text: &str, what: &str| {
        XetHash::from_hex(text).map_err(|_| invalid(format!("{what} {text:?} is not a Xet hash")))
    };
    let chunk_range = |r: &RawRange, what: &str| -> Result<Range<u32>, HubError> {
        if r.start < r.end && r.end <= MAX_XORB_CHUNKS as u64 {
            Ok(r.start as u32..r.end as u32)
        } else {
            Err(invalid(format!(
                "{what} has the chunk range {}..{}, not a non-empty range within {MAX_XORB_CHUNKS} chunks",
                r.start, r.end
            )))
        }
    };
    let mut fetches = Vec::new();
    for (xorb, entries) in &raw.fetch_info {
        let xorb = hash(xorb, "the fetch_info key")?;
        for e in entries {
            let what = format!("a fetch_info entry of xorb {xorb}");
            let chunks = chunk_range(&e.range, &what)?;
            let r = &e.url_range;
            if r.start > r.end || r.end - r.start >= MAX_XORB_SERIALIZED_BYTES {
                return Err(invalid(format!(
                    "{what} has the byte range {}-{}, not one within a xorb",
                    r.start, r.end
                )));
            }
            let url = answer_url
                .join(&e.url)
                .map_err(|_| invalid(format!("{what} has no valid URL")))?;
            hub.check_hop(answer_url, &url).map_err(|_| {
                invalid(format!(
                    "{what} has a URL that is not http(s) or goes from https down to http"
                ))
            })?;
            fetches.push(XorbFetch {
                xorb,
                chunks,
                url,
                bytes: r.start..r.end + 1,
            });
        }
    }
    let mut terms = Vec::with_capacity(raw.terms.len());
    for (i, t) in raw.terms.iter().enumerate() {
        let what = format!("term {i}");
        let xorb = hash(&t.hash, &format!("the xorb of {what}"))?;
        let chunks = chunk_range(&t.range, &what)?;
        if t.unpacked_length == 0 || t.unpacked_length > MAX_XORB_RAW_BYTES {
            return Err(invalid(format!(
                "{what} has {} unpacked bytes, not 1 to {MAX_XORB_RAW_BYTES}",
                t.unpacked_length
            )));
        }
        let fetch = fetches
            .iter()
            .position(|f| {
                f.xorb == xorb && f.chunks.start <= chunks.start && chunks.end <= f.chunks.end
            })
            .ok_or_else(|| {
                invalid(format!(
                    "{what} (xorb {xorb}, chunks {}..{}) has no fetch_info entry that holds it",
                    chunks.start, chunks.end
                ))
            })?;
        terms.push(ReconstructionTerm {
            xorb,
            chunks,
            unpacked_length: t.unpacked_length,
            fetch,
        });
    }
    if let Some(first) = terms.first()
        && raw.offset_into_first_range >= first.unpacked_length
    {
        return Err(invalid(format!(
            "offset_into_first_range {} is not inside the first term ({} bytes)",
            raw.offset_into_first_range, first.unpacked_length
        )));
    }
    Ok(Reconstruction {
        offset_into_first_range: raw.offset_into_first_range,
        terms,
        fetches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_transport::Endpoint;

    fn hub() -> HubClient {
        HubClient::builder()
            .endpoint(Endpoint::parse("https://hub.test").unwrap())
            .build()
            .unwrap()
    }

    fn parse(json: &str) -> Result<Reconstruction, HubError> {
        let raw: RawReconstruction = serde_json::from_str(json).unwrap();
        let url = Url::parse("https://cas.test/v1/reconstructions/x").unwrap();
        check_reconstruction(raw, "GET x", &url, &hub())
    }

    fn h(byte: u8) -> String {
        XetHash([byte; 32]).to_hex()
    }

    #[test]
    fn reconstructions_are_checked() {
        let (a, b) = (h(1), h(2));
        let ok = format!(
            r#"{{"offset_into_first_range": 0,
                "terms": [{{"hash": "{a}", "unpacked_length": 10, "range": {{"start": 0, "end": 2}}}},
                          {{"hash": "{b}", "unpacked_length": 5, "range": {{"start": 3, "end": 4}}}},
                          {{"hash": "{a}", "unpacked_length": 4, "range": {{"start": 1, "end": 2}}}}],
                "fetch_info": {{
                  "{a}": [{{"range": {{"start": 0, "end": 2}}, "url": "https://cdn.test/x?sig=s", "url_range": {{"start": 0, "end": 99}}}}],
                  "{b}": [{{"range": {{"start": 3, "end": 4}}, "url": "/xorb/b", "url_range": {{"start": 500, "end": 599}}}}]}}}}"#
        );
        let r = parse(&ok).unwrap();
        assert_eq!(r.unpacked_len(), 19);
        assert_eq!(r.terms.len(), 3);
        let f = &r.fetches[r.terms[1].fetch];
        assert_eq!(f.url.as_str(), "https://cas.test/xorb/b");
        assert_eq!(f.bytes, 500..600);
        assert_eq!(r.terms[0].fetch, r.terms[2].fetch);
        let shown = format!("{:?}", r.fetches[r.terms[0].fetch]);
        assert!(!shown.contains("sig=s"), "{shown}");

        for (bad, why) in [
            (
                ok.replace(r#""start": 3, "end": 4}},"#, r#""start": 3, "end": 9}},"#),
                "no fetch_info entry",
            ),
            (
                ok.replace(r#""unpacked_length": 5"#, r#""unpacked_length": 0"#),
                "unpacked bytes",
            ),
            (
                ok.replace(r#""start": 0, "end": 2}},"#, r#""start": 2, "end": 2}},"#),
                "chunk range",
            ),
            (
                ok.replace(
                    r#""offset_into_first_range": 0"#,
                    r#""offset_into_first_range": 10"#,
                ),
                "offset_into_first_range",
            ),
            (
                ok.replace("https://cdn.test", "ftp://cdn.test"),
                "not http(s)",
            ),
            (
                ok.replace(
                    r#""url_range": {"start": 500"#,
                    r#""url_range": {"start": 700"#,
                ),
                "byte range",
            ),
            (ok.replacen(&a, "zz", 1), "not a Xet hash"),
        ] {
            let err = parse(&bad).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn xet_headers_are_read_or_ignored() {
        let client = hub();
        let url = Url::parse("https://hub.test/a/b/resolve/main/f").unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(XetFileInfo::from_headers(&client, &url, &h), None);
        h.insert(
            "x-xet-hash",
            HeaderValue::from_str(&XetHash([7; 32]).to_hex()).unwrap(),
        );
        assert_eq!(
            XetFileInfo::from_headers(&client, &url, &h),
            None,
            "no route"
        );
        h.insert(
            "link",
            HeaderValue::from_static(r#"</api/models/a/b/xet-read-token/c>; rel="xet-auth""#),
        );
        let info = XetFileInfo::from_headers(&client, &url, &h).unwrap();
        assert_eq!(info.hash, XetHash([7; 32]));
        assert_eq!(
            info.token_route.as_str(),
            "https://hub.test/api/models/a/b/xet-read-token/c"
        );
        h.remove("link");
        h.insert(
            "x-xet-refresh-route",
            HeaderValue::from_static("http://hub.test/r"),
        );
        assert_eq!(
            XetFileInfo::from_headers(&client, &url, &h),
            None,
            "downgrade"
        );
        h.insert(
            "x-xet-refresh-route",
            HeaderValue::from_static("https://hub.test/r"),
        );
        assert!(XetFileInfo::from_headers(&client, &url, &h).is_some());
        h.insert("x-xet-hash", HeaderValue::from_static("abc"));
        assert_eq!(
            XetFileInfo::from_headers(&client, &url, &h),
            None,
            "bad hash"
        );
    }
}
