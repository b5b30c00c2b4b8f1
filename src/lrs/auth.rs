//! Authentication as an extractor: HTTP Basic with a key/secret pair
//! (xAPI 1.0.3 part 4, §4), then the credential's origin allowlist, so that
//! a package's credential only works from the LMS origins it was made for.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use serde_json::{Value, json};

use super::AppState;
use super::credentials::{Credential, Scope};
use super::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Auth {
    pub credential: Credential,
}

impl Auth {
    /// The `authority` the LRS puts on statements this caller writes.
    pub fn authority(&self, public_url: &str) -> Value {
        let name = if self.credential.label.is_empty() {
            &self.credential.key
        } else {
            &self.credential.label
        };
        json!({
            "objectType": "Agent",
            "name": name,
            "account": {"homePage": public_url, "name": self.credential.key},
        })
    }

    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.credential.has(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "credential {} lacks the {scope} scope",
                self.credential.key
            )))
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, encoded) = header.split_once(' ').ok_or(ApiError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(ApiError::Unauthorized);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ApiError::Unauthorized)?;
        let decoded = String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized)?;
        let (key, secret) = decoded.split_once(':').ok_or(ApiError::Unauthorized)?;
        let credential = {
            let set = state
                .credentials
                .read()
                .map_err(|_| ApiError::Internal("credential set poisoned".into()))?;
            set.authenticate(key, secret)
                .cloned()
                .ok_or(ApiError::Unauthorized)?
        };
        if let Some(origin) = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            && !credential.allows_origin(origin)
        {
            return Err(ApiError::Forbidden(format!(
                "credential {} may not be used from origin {origin}",
                credential.key
            )));
        }
        if let Some(limiter) = &state.limiter {
            limiter
                .take(&credential.key)
                .map_err(|retry_after| ApiError::TooManyRequests {
                    key: credential.key.clone(),
                    retry_after,
                })?;
        }
        Ok(Auth { credential })
    }
}
