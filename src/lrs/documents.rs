//! The document resources (xAPI 1.0.3 part 3, §2.2–2.7): State
//! (`/activities/state`), Activity Profile (`/activities/profile`) and
//! Agent Profile (`/agents/profile`). Any content type round-trips byte for
//! byte; POST merges JSON objects; ETags are the quoted SHA-1 of the
//! content and guard writes through `If-Match` / `If-None-Match` (§3.1).

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::audit::Rows;
use super::auth::Auth;
use super::credentials::Scope;
use super::error::ApiError;
use super::statements::params_split;
use super::{AppState, http_date};
use crate::store::{DocScope, Document, now_ms};
use crate::xapi::{Version, validate};

/// Which resource a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

impl Resource {
    fn id_param(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            _ => "profileId",
        }
    }

    fn allowed(self) -> &'static [&'static str] {
        match self {
            Resource::State => &["activityId", "agent", "registration", "stateId", "since"],
            Resource::ActivityProfile => &["activityId", "profileId", "since"],
            Resource::AgentProfile => &["agent", "profileId", "since"],
        }
    }

    fn scope(self) -> Scope {
        match self {
            Resource::State => Scope::State,
            _ => Scope::Profile,
        }
    }
}

/// A parsed request: the document set, the document id when one is named,
/// and `since` for listings.
struct Target {
    scope: DocScope,
    /// For a State DELETE without `registration`: every registration.
    scope_all_registrations: Option<DocScope>,
    id: Option<String>,
    since_ms: Option<i64>,
}

/// `identity_of` turns the `agent` parameter into the identity documents
/// are kept under (its pseudonym, when the credential pseudonymises).
fn parse(
    resource: Resource,
    raw: Option<&str>,
    identity_of: impl Fn(&Value) -> Result<String, ApiError>,
) -> Result<Target, ApiError> {
    let params = params_split(raw.unwrap_or(""))?;
    if let Some(unknown) = params
        .keys()
        .find(|k| !resource.allowed().contains(&k.as_str()))
    {
        return Err(ApiError::BadRequest(format!(
            "unknown query parameter {unknown:?}; allowed here: {}",
            resource.allowed().join(", ")
        )));
    }
    let activity = match resource {
        Resource::AgentProfile => None,
        _ => Some(required_iri(&params, "activityId")?),
    };
    let agent = match resource {
        Resource::ActivityProfile => None,
        _ => Some(required_agent(&params, identity_of)?),
    };
    let registration = params
        .get("registration")
        .map(|r| {
            if validate::is_uuid(r) {
                Ok(r.to_ascii_lowercase())
            } else {
                Err(ApiError::BadRequest(format!(
                    "registration must be a UUID, not {r:?}"
                )))
            }
        })
        .transpose()?;
    let since_ms = params
        .get("since")
        .map(|s| {
            validate::timestamp(s)
                .map(|t| (t.unix_timestamp_nanos().div_euclid(1_000_000)) as i64)
                .map_err(|e| ApiError::BadRequest(format!("since must be a timestamp: {e}")))
        })
        .transpose()?;
    let id = params.get(resource.id_param()).cloned();
    if id.is_some() && since_ms.is_some() {
        return Err(ApiError::BadRequest(format!(
            "since cannot be combined with {}",
            resource.id_param()
        )));
    }
    let (scope, all) = match resource {
        Resource::State => {
            let (a, g) = (
                activity.as_deref().unwrap_or(""),
                agent.as_deref().unwrap_or(""),
            );
            let all = registration.is_none().then(|| DocScope::state_all(a, g));
            (DocScope::state(a, g, registration.as_deref()), all)
        }
        Resource::ActivityProfile => (
            DocScope::activity_profile(activity.as_deref().unwrap_or("")),
            None,
        ),
        Resource::AgentProfile => (
            DocScope::agent_profile(agent.as_deref().unwrap_or("")),
            None,
        ),
    };
    Ok(Target {
        scope,
        scope_all_registrations: all,
        id,
        since_ms,
    })
}

fn required_iri(params: &BTreeMap<String, String>, name: &str) -> Result<String, ApiError> {
    let v = params
        .get(name)
        .ok_or_else(|| ApiError::BadRequest(format!("the {name} parameter is required")))?;
    if validate::iri(v) {
        Ok(v.clone())
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be an IRI, not {v:?}"
        )))
    }
}

/// The `agent` parameter as an identity string.
fn required_agent(
    params: &BTreeMap<String, String>,
    identity_of: impl Fn(&Value) -> Result<String, ApiError>,
) -> Result<String, ApiError> {
    let raw = params
        .get("agent")
        .ok_or_else(|| ApiError::BadRequest("the agent parameter is required".into()))?;
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::BadRequest(format!("agent is not valid JSON: {e}")))?;
    validate::agent(&value, "agent").map_err(ApiError::Invalid)?;
    identity_of(&value)
}

/// Every document request; the route says which resource it is for with a
/// [`Resource`] extension.
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    Extension(resource): Extension<Resource>,
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let reading = method == Method::GET || method == Method::HEAD;
    let allowed =
        auth.credential.has(resource.scope()) || (reading && auth.credential.has(Scope::AllRead));
    if !allowed {
        return Err(ApiError::Forbidden(format!(
            "credential {} lacks the {} scope",
            auth.credential.key,
            resource.scope()
        )));
    }
    let target = parse(resource, query.as_deref(), |agent| {
        state.privacy.document_identity(&auth.credential, agent)
    })?;
    if resource == Resource::State && !auth.credential.activities.is_empty() {
        let activity = activity_param(query.as_deref());
        if !auth.credential.allows_activity(&activity) {
            return Err(ApiError::Forbidden(format!(
                "credential {} may only use the State of activities under {}",
                auth.credential.key,
                auth.credential.activities.join(", ")
            )));
        }
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let write = Write {
            resource,
            version,
            headers: &headers,
            body: &body,
        };
        match method {
            Method::GET | Method::HEAD => read(&store, &target),
            Method::PUT => write.put(&store, &target),
            Method::POST => write.post(&store, &target),
            Method::DELETE => write.delete(&store, &target),
            other => Err(ApiError::BadRequest(format!(
                "method {other} is not supported here"
            ))),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("document task failed: {e}")))?
}

fn read(store: &crate::store::Store, target: &Target) -> Result<Response, ApiError> {
    match &target.id {
        Some(id) => {
            let doc = store
                .document(&target.scope, id)?
                .ok_or_else(|| ApiError::NotFound(format!("no document with id {id:?}")))?;
            let mut r = (StatusCode::OK, Body::from(doc.body.clone())).into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&doc.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", doc.sha1)) {
                h.insert(header::ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(&http_date(doc.updated_ms)) {
                h.insert(header::LAST_MODIFIED, v);
            }
            r.extensions_mut().insert(Rows(1));
            Ok(r)
        }
        None => {
            let ids = store.document_ids(&target.scope, target.since_ms)?;
            let rows = Rows(ids.len() as u64);
            Ok((Extension(rows), axum::Json(ids)).into_response())
        }
    }
}

/// The parts of a write request the precondition and merge rules need.
struct Write<'a> {
    resource: Resource,
    version: Version,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Write<'_> {
    fn id<'t>(&self, target: &'t Target) -> Result<&'t str, ApiError> {
        target.id.as_deref().ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the {} parameter is required",
                self.resource.id_param()
            ))
        })
    }

    fn content_type(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned()
    }

    /// `If-Match` / `If-None-Match` against the current document (RFC 9110
    /// §13.1.1–2): a mismatch is 412.
    fn check_preconditions(&self, current: Option<&Document>) -> Result<(), ApiError> {
        if let Some(if_match) = header_str(self.headers, header::IF_MATCH) {
            let ok = current.is_some_and(|d| etag_list_matches(if_match, &d.sha1));
            if !ok {
                return Err(ApiError::PreconditionFailed(
                    "If-Match does not match the document's current ETag; fetch it again".into(),
                ));
            }
        }
        if let Some(if_none) = header_str(self.headers, header::IF_NONE_MATCH)
            && let Some(doc) = current
            && (if_none.trim() == "*" || etag_list_matches(if_none, &doc.sha1))
        {
            return Err(ApiError::PreconditionFailed(
                "If-None-Match: the document already exists".into(),
            ));
        }
        Ok(())
    }

    fn has_precondition(&self) -> bool {
        self.headers.contains_key(header::IF_MATCH)
            || self.headers.contains_key(header::IF_NONE_MATCH)
    }

    fn put(&self, store: &crate::store::Store, target: &Target) -> Result<Response, ApiError> {
        let id = self.id(target)?;
        let doc = Document::new(self.content_type(), self.body.to_vec(), now_ms());
        store.update_document(&target.scope, id, |current| -> Result<Option<Document>, ApiError> {
            self.check_preconditions(current.as_ref())?;
            if !self.has_precondition() {
                // Profiles always need a precondition (1.0.3 §3.1); State
                // only from 2.0 on, since widely used 1.0.x clients send
                // every State PUT blind.
                let guarded = self.resource != Resource::State || self.version == Version::V2_0_0;
                if guarded && current.is_some() {
                    return Err(ApiError::Conflict(
                        "the document exists: fetch it and send If-Match with its ETag (or If-None-Match: * to create only)".into(),
                    ));
                }
                if self.resource != Resource::State && self.version == Version::V1_0_3 {
                    return Err(ApiError::BadRequest(
                        "a profile PUT must carry If-Match or If-None-Match (xAPI 1.0.3 §3.1)".into(),
                    ));
                }
            }
            Ok(Some(doc))
        })?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn post(&self, store: &crate::store::Store, target: &Target) -> Result<Response, ApiError> {
        let id = self.id(target)?;
        let incoming = json_object(&self.content_type(), self.body).map_err(|why| {
            ApiError::BadRequest(format!(
                "POST merges JSON objects: the posted document {why}"
            ))
        })?;
        store.update_document(
            &target.scope,
            id,
            |current| -> Result<Option<Document>, ApiError> {
                self.check_preconditions(current.as_ref())?;
                let merged = match &current {
                    None => incoming,
                    Some(doc) => {
                        let mut existing =
                            json_object(&doc.content_type, &doc.body).map_err(|why| {
                                ApiError::BadRequest(format!(
                                    "POST merges JSON objects: the stored document {why}"
                                ))
                            })?;
                        existing.extend(incoming);
                        existing
                    }
                };
                let body = serde_json::to_vec(&Value::Object(merged))
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(Some(Document::new(
                    "application/json".into(),
                    body,
                    now_ms(),
                )))
            },
        )?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn delete(&self, store: &crate::store::Store, target: &Target) -> Result<Response, ApiError> {
        match &target.id {
            Some(id) => store.update_document(
                &target.scope,
                id,
                |current| -> Result<Option<Document>, ApiError> {
                    self.check_preconditions(current.as_ref())?;
                    Ok(None)
                },
            )?,
            None if self.resource == Resource::State => {
                let scope = target
                    .scope_all_registrations
                    .as_ref()
                    .unwrap_or(&target.scope);
                store.delete_documents(scope)?;
            }
            None => {
                return Err(ApiError::BadRequest(format!(
                    "the {} parameter is required",
                    self.resource.id_param()
                )));
            }
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

fn activity_param(raw: Option<&str>) -> String {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "activityId")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// True when a comma-separated ETag list holds `sha1` (quoted, weak or not) or `*`.
fn etag_list_matches(list: &str, sha1: &str) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag.trim_matches('"').eq_ignore_ascii_case(sha1)
    })
}

fn json_object(
    content_type: &str,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, &'static str> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err("is not application/json");
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("is not a JSON object"),
        Err(_) => Err("is not valid JSON"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists_match_quoted_weak_and_star() {
        let sha = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        assert!(etag_list_matches(&format!("\"{sha}\""), sha));
        assert!(etag_list_matches(&format!("\"abc\", W/\"{sha}\""), sha));
        assert!(etag_list_matches("*", sha));
        assert!(!etag_list_matches("\"1234\"", sha));
    }

    #[test]
    fn merge_needs_json_objects() {
        assert!(json_object("application/json; charset=utf-8", br#"{"a":1}"#).is_ok());
        assert_eq!(
            json_object("text/plain", b"{}"),
            Err("is not application/json")
        );
        assert_eq!(
            json_object("application/json", b"[1]"),
            Err("is not a JSON object")
        );
    }
}
