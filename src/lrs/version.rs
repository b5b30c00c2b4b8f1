//! The `X-Experience-API-Version` header (xAPI 1.0.3 part 3, §6.2): required
//! on every request but `/about`, answered on every response.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::xapi::Version;

pub static VERSION_HEADER: HeaderName = HeaderName::from_static("x-experience-api-version");

/// Rejects requests without a supported version and stores the version in
/// the request's extensions for the handlers.
pub async fn require_version(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let fallback = state.config.default_version;
    let version = match req.headers().get(&VERSION_HEADER) {
        None => {
            return with_version(
                ApiError::BadRequest("the X-Experience-API-Version header is required".into())
                    .into_response(),
                fallback,
            );
        }
        Some(value) => match value.to_str().ok().and_then(Version::from_header) {
            Some(v) => v,
            None => {
                let shown = String::from_utf8_lossy(value.as_bytes()).into_owned();
                return with_version(
                    ApiError::BadRequest(format!(
                        "X-Experience-API-Version {shown:?} is not supported; supported: {}",
                        Version::SUPPORTED.join(", ")
                    ))
                    .into_response(),
                    fallback,
                );
            }
        },
    };
    req.extensions_mut().insert(version);
    with_version(next.run(req).await, version)
}

/// Adds the version header to responses that do not need one from the
/// request (`/about`), unless a handler set it.
pub async fn answer_version(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let version = req
        .headers()
        .get(&VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header)
        .unwrap_or(state.config.default_version);
    let response = next.run(req).await;
    if response.headers().contains_key(&VERSION_HEADER) {
        response
    } else {
        with_version(response, version)
    }
}

fn with_version(mut response: Response, version: Version) -> Response {
    response.headers_mut().insert(
        VERSION_HEADER.clone(),
        HeaderValue::from_static(version.as_str()),
    );
    response
}

/// Answers paths no route serves: under `/xapi` the version header is still
/// checked first (a client learns about a missing header before a missing
/// resource), then 404 names the path.
pub async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let version = req
        .headers()
        .get(&VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header);
    let error = if path.starts_with("/xapi/") && version.is_none() {
        ApiError::BadRequest("a supported X-Experience-API-Version header is required".into())
    } else {
        ApiError::NotFound(format!("no resource at {path}"))
    };
    with_version(
        error.into_response(),
        version.unwrap_or(state.config.default_version),
    )
}
