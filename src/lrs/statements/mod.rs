//! The Statement resource (xAPI 1.0.3 part 3, §2.1): PUT, POST, GET, HEAD.

mod get;
mod multipart;
mod params;
mod write;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub use get::get;
pub use params::split as params_split;
pub use write::{CHECK_THREADS, post, put};
pub(crate) use write::{append, prepare_single};

use super::AppState;
use crate::store::format_ms;

pub static CONSISTENT_THROUGH: HeaderName =
    HeaderName::from_static("x-experience-api-consistent-through");

/// Adds `X-Experience-API-Consistent-Through` to every statements response,
/// errors included. Taken after the handler ran, so it never claims more
/// than what was committed when the response left.
pub async fn consistent_through(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let value = format_ms(state.store.consistent_through_ms());
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(CONSISTENT_THROUGH.clone(), v);
    }
    response
}
