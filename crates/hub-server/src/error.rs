//! The one error type of every handler: an HTTP status, a message that says what to do, and
//! the machine-readable parts clients read. It has two wire forms: the Hub's (`X-Error-Code`,
//! `X-Error-Message`, `{"error": ...}`) for the Hub API and the transfers, and ModelScope's
//! envelope for the ModelScope API, so shared code (body readers, the intake, upload sessions)
//! returns one type and the mode that answers picks the form.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::random_hex;

/// An error answer: status, message, and what each wire form adds.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: Option<&'static str>,
    /// ModelScope's business code (`Code`); the status when unset.
    business_code: Option<u64>,
    message: String,
    extra: Vec<(&'static str, Value)>,
    headers: Vec<(HeaderName, String)>,
}

/// What every handler returns.
pub(crate) type ApiResult = Result<Response, ApiError>;

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: None,
            business_code: None,
            message: message.into(),
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message).code("BadRequest")
    }

    /// Sets the `X-Error-Code` huggingface_hub maps to its exception classes.
    pub(crate) fn code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    /// Sets ModelScope's business code, which its SDK reads from the envelope's `Code`.
    pub(crate) fn business_code(mut self, code: u64) -> ApiError {
        self.business_code = Some(code);
        self
    }

    /// The ModelScope form: `{"Code", "Message", "RequestId", "Success": false}` with the
    /// status, which the SDK maps to its errors. `X-Error-Code` and extra fields are the Hub's
    /// and are left out.
    pub(crate) fn into_modelscope_response(self) -> Response {
        let body = json!({
            "Code": self.business_code.unwrap_or(u64::from(self.status.as_u16())),
            "Message": self.message,
            "RequestId": random_hex(16),
            "Success": false,
        });
        (self.status, axum::Json(body)).into_response()
    }

    /// Adds a field to the JSON body next to `error`.
    pub(crate) fn with(mut self, key: &'static str, value: Value) -> ApiError {
        self.extra.push((key, value));
        self
    }

    /// Adds a response header.
    pub(crate) fn header(mut self, name: HeaderName, value: String) -> ApiError {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {err}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal server error: {err}"),
        )
    }

    pub(crate) fn revision_not_found(rev: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("Invalid rev id: {rev}"))
            .code("RevisionNotFound")
    }

    pub(crate) fn entry_not_found(path: &str, commit: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("Entry not found: {path}"))
            .code("EntryNotFound")
            .header(HeaderName::from_static("x-repo-commit"), commit.to_owned())
    }

    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this path",
        )
    }

    pub(crate) fn page_not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "Sorry, we can't find the page you are looking for.",
        )
        .code("NotFound")
    }
}

impl From<std::io::Error> for ApiError {
    fn from(err: std::io::Error) -> ApiError {
        ApiError::internal(err)
    }
}

/// The message as a header value when it is printable ASCII (as every message of this server
/// is, except those naming a non-ASCII path): a changed copy would make clients that join the
/// header and the body show the message twice, so such a message travels in the body only.
fn header_message(message: &str) -> Option<HeaderValue> {
    if message.len() > 2000 || !message.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return None;
    }
    HeaderValue::from_str(message).ok()
}

/// The Hub's form: `{"error": message, ...extra}` with `X-Error-Code`, `X-Error-Message` (the
/// only message a `HEAD` answer can carry; huggingface_hub shows it first) and extra headers.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message_header = header_message(&self.message);
        let mut body = serde_json::Map::new();
        body.insert("error".into(), Value::String(self.message));
        for (k, v) in self.extra {
            body.insert(k.into(), v);
        }
        let mut resp = (self.status, axum::Json(Value::Object(body))).into_response();
        if let Some(code) = self.code {
            resp.headers_mut()
                .insert("x-error-code", HeaderValue::from_static(code));
        }
        if let Some(message) = message_header {
            resp.headers_mut().insert("x-error-message", message);
        }
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}
