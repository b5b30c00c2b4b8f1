//! GET /statements (xAPI 1.0.3 part 3, §2.1.3): one statement by id, or a
//! filtered, paged list with a `more` link that pages stably while new
//! statements arrive (each query is pinned to the statements committed when
//! its first page was read).

use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::multipart::{self, Part};
use super::params::{self, Filters, Request, View};
use crate::lrs::audit::Rows;
use crate::lrs::auth::Auth;
use crate::lrs::error::ApiError;
use crate::lrs::{AppState, MAX_PAGE, http_date};
use crate::store::{Query, StoredStatement, seq_bounds};
use crate::xapi::Version;
use crate::xapi::format::{self, Format};

/// The state a `more` link carries: the original query and the seq window
/// still to be read.
#[derive(Serialize, Deserialize)]
struct Cursor {
    q: String,
    lo: u64,
    hi: u64,
}

pub async fn get(
    State(state): State<AppState>,
    Extension(version): Extension<Version>,
    auth: Auth,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !auth.credential.reads_statements() {
        return Err(ApiError::Forbidden(format!(
            "credential {} lacks a statements read scope",
            auth.credential.key
        )));
    }
    let raw = query.unwrap_or_default();
    let split = params::split(&raw)?;
    let languages = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(format::accept_language)
        .unwrap_or_default();

    let (raw, window) = match split.get("more") {
        Some(token) => {
            if split.len() > 1 {
                return Err(ApiError::BadRequest(
                    "more cannot be combined with other parameters".into(),
                ));
            }
            let cursor = decode_cursor(token)?;
            (cursor.q, Some((cursor.lo, cursor.hi)))
        }
        None => (raw, None),
    };
    let mut request = params::parse(&params::split(&raw)?)?;
    if let Request::Many(filters) = &mut request
        && let Some(agent) = &filters.agent_json
    {
        filters.agent = Some(state.privacy.query_identity(&auth.credential, agent)?);
    }
    let store = state.store.clone();
    let mine = (!auth.credential.reads_all_statements()).then(|| auth.credential.key.clone());
    // `statements/read/mine` lists statements whose authority is the one
    // this credential writes with (xAPI 1.0.3 part 4, §4.2).
    let mine_authority = match &mine {
        None => None,
        Some(key) => Some(
            crate::xapi::ifi::identity(&auth.authority(&state.config.public_url)).ok_or_else(
                || ApiError::Internal(format!("credential {key} has no authority identity")),
            )?,
        ),
    };
    let slice = auth.credential.slice.clone();

    tokio::task::spawn_blocking(move || match request {
        Request::Single { id, voided, view } => {
            let found = store.statement_by_id(id)?;
            let statement = match found {
                Some(s) if s.voided == voided => s,
                _ => {
                    let what = if voided {
                        "voided statement"
                    } else {
                        "statement"
                    };
                    return Err(ApiError::NotFound(format!("no {what} with id {id}")));
                }
            };
            if let Some(key) = &mine
                && !written_by(&statement, key)
            {
                return Err(ApiError::NotFound(format!("no statement with id {id}")));
            }
            if !slice.is_all() && !in_slice(&store, &slice, &statement.json)? {
                return Err(ApiError::NotFound(format!("no statement with id {id}")));
            }
            let stored_ms = statement.stored_ms();
            let parts = attachment_parts(&store, view, std::slice::from_ref(&statement))?;
            let body = render(&store, &statement, view, &languages, version)?;
            respond(body, view, Some(stored_ms), parts, 1)
        }
        Request::Many(filters) => {
            let limit = if filters.limit == 0 {
                MAX_PAGE
            } else {
                filters.limit.min(MAX_PAGE)
            };
            let (lo, hi) = window.unwrap_or_else(|| {
                let (lo, hi) = seq_bounds(filters.since_ms, filters.until_ms);
                (lo, hi.min(store.last_seq()))
            });
            let query = to_store_query(&filters, mine_authority, lo, hi, limit);
            let page = if slice.is_all() {
                store.query(&query)?
            } else {
                let analytics = store.analytics()?;
                let keep = |json: &[u8]| {
                    let Ok(v) = serde_json::from_slice::<Value>(json) else {
                        return false;
                    };
                    analytics
                        .read()
                        .is_ok_and(|state| slice.admits_statement(&v, &state))
                };
                store.query_where(&query, Some(&keep))?
            };
            let more = match (page.more, page.statements.last()) {
                (true, Some(last)) => {
                    let (lo, hi) = if filters.ascending {
                        (last.seq + 1, hi)
                    } else {
                        (lo, last.seq - 1)
                    };
                    Some(format!(
                        "/xapi/statements?more={}",
                        encode_cursor(&Cursor { q: raw, lo, hi })
                    ))
                }
                _ => None,
            };
            let newest = page.statements.iter().map(StoredStatement::stored_ms).max();
            let mut body = Vec::with_capacity(
                page.statements
                    .iter()
                    .map(|s| s.json.len() + 1)
                    .sum::<usize>()
                    + 64,
            );
            body.extend_from_slice(b"{\"statements\":[");
            for (i, s) in page.statements.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(&render(&store, s, filters.view, &languages, version)?);
            }
            body.extend_from_slice(b"],\"more\":");
            body.extend_from_slice(
                &serde_json::to_vec(&more.unwrap_or_default()).unwrap_or_default(),
            );
            body.push(b'}');
            let parts = attachment_parts(&store, filters.view, &page.statements)?;
            respond(body, filters.view, newest, parts, page.statements.len())
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
}

fn to_store_query(f: &Filters, authority: Option<String>, lo: u64, hi: u64, limit: usize) -> Query {
    Query {
        agent: f.agent.clone(),
        related_agents: f.related_agents,
        verb: f.verb.clone(),
        activity: f.activity.clone(),
        related_activities: f.related_activities,
        registration: f.registration.clone(),
        authority,
        min_seq: lo,
        max_seq: hi,
        ascending: f.ascending,
        limit,
    }
}

/// The statement is about learners a limited credential may read
/// ([`crate::analytics::Slice`]).
fn in_slice(
    store: &crate::store::Store,
    slice: &crate::analytics::Slice,
    json: &[u8],
) -> Result<bool, ApiError> {
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| ApiError::Internal(format!("stored statement: {e}")))?;
    let state = store
        .analytics()?
        .read()
        .map_err(|_| ApiError::Internal("analytics state poisoned".into()))?;
    Ok(slice.admits_statement(&v, &state))
}

fn written_by(statement: &StoredStatement, key: &str) -> bool {
    serde_json::from_slice::<Value>(&statement.json)
        .ok()
        .and_then(|v| {
            v.pointer("/authority/account/name")
                .and_then(Value::as_str)
                .map(|n| n == key)
        })
        .unwrap_or(false)
}

/// A stored statement in the requested format. `exact` is the stored bytes.
fn render(
    store: &crate::store::Store,
    statement: &StoredStatement,
    view: View,
    languages: &[String],
    version: Version,
) -> Result<Vec<u8>, ApiError> {
    let downgrade = version == Version::V1_0_3 && format::needs_downgrade(&statement.json);
    if view.format == Format::Exact && !downgrade {
        return Ok(statement.json.clone());
    }
    let mut value: Value = serde_json::from_slice(&statement.json)
        .map_err(|e| ApiError::Internal(format!("stored statement seq {}: {e}", statement.seq)))?;
    match view.format {
        Format::Ids => format::to_ids(&mut value),
        Format::Canonical => {
            let lookup = |iri: &str| store.activity_definition(iri).ok().flatten();
            format::to_canonical(&mut value, &lookup, languages);
        }
        Format::Exact => {}
    }
    if downgrade {
        format::downgrade_to_1_0(&mut value);
    }
    serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))
}

const BOUNDARY: &str = "kmh-xapi-attachments-7f3a9c";

/// The stored data of every attachment the statements refer to, each once,
/// when the client asked for it (`attachments=true`).
fn attachment_parts(
    store: &crate::store::Store,
    view: View,
    statements: &[StoredStatement],
) -> Result<Vec<(String, Part)>, ApiError> {
    if !view.attachments {
        return Ok(Vec::new());
    }
    let mut hashes = std::collections::BTreeSet::new();
    for s in statements {
        let value: Value =
            serde_json::from_slice(&s.json).map_err(|e| ApiError::Internal(e.to_string()))?;
        for a in value
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(h) = a.get("sha2").and_then(Value::as_str) {
                hashes.insert(h.to_ascii_lowercase());
            }
        }
    }
    let mut parts = Vec::with_capacity(hashes.len());
    for h in hashes {
        if let Some(a) = store.attachment(&h)? {
            parts.push((
                h,
                Part {
                    content_type: a.content_type,
                    data: a.data.into(),
                },
            ));
        }
    }
    Ok(parts)
}

fn respond(
    json: Vec<u8>,
    view: View,
    stored_ms: Option<i64>,
    parts: Vec<(String, Part)>,
    rows: usize,
) -> Result<Response, ApiError> {
    let mut response = if view.attachments {
        let body = multipart::response_body(BOUNDARY, &json, &parts);
        let mut r = (StatusCode::OK, Body::from(body)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&format!("multipart/mixed; boundary={BOUNDARY}"))
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        r
    } else {
        let mut r = (StatusCode::OK, Body::from(json)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if let Some(ms) = stored_ms
        && let Ok(v) = HeaderValue::from_str(&http_date(ms))
    {
        response.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    response.extensions_mut().insert(Rows(rows as u64));
    Ok(response)
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_cursor(token: &str) -> Result<Cursor, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::BadRequest("the more token is not one this server issued".into()))
}
