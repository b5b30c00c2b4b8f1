//! The HTTP layer's one error type, mapped to a status in one `match`.
//! Clients get a message that names what is wrong; internal failures are
//! logged and answered with a generic message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;
use crate::xapi::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many requests from credential {key}; retry in {retry_after} s")]
    TooManyRequests { key: String, retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// Seconds a client is asked to wait after a 503 (storage refusing writes,
/// shutting down): long enough for an operator to free space and restart.
const UNAVAILABLE_RETRY_AFTER: &str = "60";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(id) => ApiError::Conflict(format!(
                "statement {id} already exists with different content; statements are immutable"
            )),
            StoreError::Closed => ApiError::Unavailable("the server is shutting down".into()),
            StoreError::Invalid(msg) => ApiError::BadRequest(msg),
            StoreError::Engine(msg) => ApiError::Unavailable(format!("storage unavailable: {msg}")),
            refused @ (StoreError::WriteRefused(_) | StoreError::DiskFull { .. }) => {
                ApiError::Unavailable(refused.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) | ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = match &self {
            ApiError::Invalid(inv) => json!({
                "error": format!("invalid statement: {inv}"),
                "path": inv.path,
                "rule": inv.rule,
            }),
            ApiError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                json!({"error": "internal error; the server log has the details"})
            }
            ApiError::Unavailable(detail) => {
                tracing::error!("unavailable: {detail}");
                json!({"error": detail})
            }
            other => json!({"error": other.to_string()}),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after, .. } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let ApiError::Unavailable(_) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"kmh\", charset=\"UTF-8\""),
            );
        }
        response
    }
}
