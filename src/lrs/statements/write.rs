//! PUT and POST /statements: validate every statement, fill in what the LRS
//! assigns (`id`, `authority`, `version`), then hand the request to the
//! group-commit writer. All-or-nothing: one bad statement rejects the batch.

use std::collections::HashSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use super::params::split;
use crate::lrs::auth::Auth;
use crate::lrs::credentials::Scope;
use crate::lrs::error::ApiError;
use crate::lrs::{AppState, MAX_BATCH};
use crate::store::NewStatement;
use crate::xapi::{Invalid, Version, compare, normalize, validate};

/// PUT /statements?statementId=…: stores one statement under that id.
pub async fn put(
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(Scope::StatementsWrite)?;
    let params = split(query.as_deref().unwrap_or(""))?;
    if let Some(other) = params.keys().find(|k| k.as_str() != "statementId") {
        return Err(ApiError::BadRequest(format!(
            "PUT /statements takes only statementId, not {other}"
        )));
    }
    let id = params.get("statementId").ok_or_else(|| {
        ApiError::BadRequest("PUT /statements requires the statementId parameter".into())
    })?;
    if !validate::is_uuid(id) {
        return Err(ApiError::BadRequest(format!(
            "statementId must be a UUID, not {id:?}"
        )));
    }
    let id = Uuid::parse_str(id)
        .map_err(|_| ApiError::BadRequest(format!("statementId must be a UUID, not {id:?}")))?;
    let mut statement = parse_body(&headers, &body)?;
    if !statement.is_object() {
        return Err(ApiError::BadRequest(
            "PUT /statements takes a single statement object".into(),
        ));
    }
    match statement.get("id").and_then(Value::as_str) {
        Some(body_id) if Uuid::parse_str(body_id).ok() != Some(id) => {
            return Err(ApiError::BadRequest(format!(
                "the statement's id {body_id} differs from statementId {id}"
            )));
        }
        Some(_) => {}
        None => {
            if let Some(obj) = statement.as_object_mut() {
                obj.insert("id".into(), Value::String(id.to_string()));
            }
        }
    }
    let prepared = prepare(&state, &auth, version, vec![statement], false)?;
    state.writer.append(prepared).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /statements: one statement or an array; answers their ids in order.
pub async fn post(
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(Scope::StatementsWrite)?;
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let params = split(&q)?;
        if let Some(name) = params.keys().next() {
            return Err(ApiError::BadRequest(format!(
                "POST /statements takes no query parameters, not {name}"
            )));
        }
    }
    let (statements, batch) = match parse_body(&headers, &body)? {
        Value::Array(items) => (items, true),
        single @ Value::Object(_) => (vec![single], false),
        _ => {
            return Err(ApiError::BadRequest(
                "the body must be a statement object or an array of statements".into(),
            ));
        }
    };
    if statements.is_empty() {
        return Err(ApiError::BadRequest("the statement array is empty".into()));
    }
    if statements.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!(
            "a batch holds at most {MAX_BATCH} statements; this one has {}",
            statements.len()
        )));
    }
    let prepared = prepare(&state, &auth, version, statements, batch)?;
    let appended = state.writer.append(prepared).await?;
    let ids: Vec<String> = appended.iter().map(|a| a.id.to_string()).collect();
    Ok(Json(ids).into_response())
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("multipart/mixed") {
        return Err(ApiError::BadRequest(
            "statements with attachment data (multipart/mixed) are not accepted yet; send attachments by fileUrl".into(),
        ));
    }
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::BadRequest(format!(
            "Content-Type must be application/json, not {content_type:?}"
        )));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// Validates and completes a request's statements. `batch` tells whether
/// the client sent an array, so error paths say `[i].…` only then.
fn prepare(
    state: &AppState,
    auth: &Auth,
    version: Version,
    statements: Vec<Value>,
    batch: bool,
) -> Result<Vec<NewStatement>, ApiError> {
    let authority = auth.authority(&state.config.public_url);
    let mut seen = HashSet::with_capacity(statements.len());
    let mut out = Vec::with_capacity(statements.len());
    for (i, statement) in statements.into_iter().enumerate() {
        let at = |e: Invalid| {
            if batch {
                Invalid {
                    path: format!("[{i}].{}", e.path),
                    rule: e.rule,
                }
            } else {
                e
            }
        };
        validate::statement(&statement, version).map_err(|e| ApiError::Invalid(at(e)))?;
        for attachment in statement
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if attachment.get("fileUrl").is_none() {
                return Err(ApiError::Invalid(at(Invalid {
                    path: "attachments".into(),
                    rule: "an attachment without fileUrl needs its data in a multipart/mixed request, which this server does not accept yet".into(),
                })));
            }
        }
        let fingerprint = compare::fingerprint(&statement);
        let Value::Object(mut json) = statement else {
            return Err(ApiError::Invalid(at(Invalid {
                path: String::new(),
                rule: "a statement must be a JSON object".into(),
            })));
        };
        let id = match json.get("id").and_then(Value::as_str) {
            Some(id) => Uuid::parse_str(id).map_err(|_| {
                ApiError::Invalid(at(Invalid {
                    path: "id".into(),
                    rule: "must be a UUID".into(),
                }))
            })?,
            None => {
                let id = Uuid::new_v4();
                json.insert("id".into(), Value::String(id.to_string()));
                id
            }
        };
        if !seen.insert(id) {
            return Err(ApiError::BadRequest(format!(
                "statement id {id} appears more than once in the batch"
            )));
        }
        normalize::context_activities_as_arrays(&mut json);
        json.insert("authority".into(), authority.clone());
        if !json.contains_key("version") {
            let v = match version {
                Version::V1_0_3 => "1.0.0",
                Version::V2_0_0 => "2.0.0",
            };
            json.insert("version".into(), Value::String(v.into()));
        }
        out.push(NewStatement {
            id,
            json,
            fingerprint,
            authority: auth.credential.key.clone(),
        });
    }
    Ok(out)
}
