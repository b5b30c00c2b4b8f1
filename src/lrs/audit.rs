//! The access audit log, HTTP side: one middleware records every request
//! that reads, exports, re-identifies or deletes learner data (see
//! [`crate::store::AuditEntry`]), with the credential key (never its
//! secret), the resource, the query string, the rows a handler reports
//! with a [`Rows`] response extension, and the status answered. Writes of
//! statements and documents are not access and are not recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::AppState;
use crate::store::{AuditAction, AuditEntry};
use crate::xapi::pseudonym::{self, Key};

/// How many rows (statements, documents, records) a response carries; set
/// by handlers as a response extension for the audit record.
#[derive(Debug, Clone, Copy)]
pub struct Rows(pub u64);

/// Set instead of [`Rows`] by handlers whose body is produced while it is
/// sent: the count grows with the body, and the record is written when the
/// body ends (or the client goes away), with the rows produced by then.
#[derive(Debug, Clone)]
pub struct StreamedRows(pub Arc<AtomicU64>);

/// Writes a streamed response's audit record once its body is dropped.
struct RecordWhenDone {
    state: AppState,
    entry: AuditEntry,
    rows: Arc<AtomicU64>,
}

impl Drop for RecordWhenDone {
    fn drop(&mut self) {
        self.entry.rows = Some(self.rows.load(Ordering::Relaxed));
        if let Err(e) = self.state.store.audit(&self.entry) {
            tracing::error!("audit record not written: {e}");
        }
    }
}

/// What kind of access a request is, if it is one the log records.
fn action(method: &Method, path: &str) -> Option<AuditAction> {
    let reading = method == Method::GET || method == Method::HEAD;
    match path {
        "/identities" | "/admin/identities" if reading => Some(AuditAction::Reidentify),
        "/admin/export" | "/admin/backup" if reading => Some(AuditAction::Export),
        "/admin/audit" if reading => Some(AuditAction::Read),
        "/xapi/about" => None,
        p if p.starts_with("/xapi/") && reading => Some(AuditAction::Read),
        p if p.starts_with("/xapi/") && method == Method::DELETE => Some(AuditAction::Delete),
        p if p.starts_with("/analytics/") && reading => Some(AuditAction::Read),
        _ => None,
    }
}

/// Who made the request: the key of a Basic credential, `admin` for the
/// admin bearer token. The secret is never looked at here.
fn caller(req: &Request) -> String {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return String::new();
    };
    if value.starts_with("Bearer ") {
        return "admin".into();
    }
    value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| pair.split_once(':').map(|(key, _)| key.to_owned()))
        .unwrap_or_default()
}

/// The query string as the log keeps it: parameters that might carry a
/// secret are dropped (no kmh endpoint takes one, but a client may send
/// anything); a `more` token (which encodes the first page's query) is
/// not kept; and, when learners are stored by pseudonym, an `agent`
/// parameter naming a real identifier is replaced by its pseudonym, so
/// that the log holds no learner's identifier either.
fn loggable_query(query: &str, key: Option<&Key>) -> String {
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["auth", "secret", "token", "password", "key"]
            .iter()
            .any(|s| k.contains(s))
    };
    let rewrite = |k: &str, v: &str| -> Option<String> {
        match k {
            "more" => Some("(next page)".into()),
            "agent" => {
                let key = key?;
                let agent: Value = serde_json::from_str(v).ok()?;
                if pseudonym::is_pseudonym(&agent) {
                    return None;
                }
                let p = pseudonym::pseudonym_of_agent(key, &agent)?;
                Some(json!({"account": {"homePage": pseudonym::HOME_PAGE, "name": p}}).to_string())
            }
            _ => None,
        }
    };
    let pairs = form_urlencoded::parse(query.as_bytes());
    if !pairs
        .clone()
        .any(|(k, v)| secret(&k) || rewrite(&k, &v).is_some())
    {
        return query.to_owned();
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.filter(|(k, _)| !secret(k)).map(|(k, v)| {
            let v = rewrite(&k, &v).unwrap_or_else(|| v.into_owned());
            (k, v)
        }))
        .finish()
}

/// The middleware: answers the request, then appends its audit record.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(action) = action(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let credential = caller(&req);
    let resource = format!("{} {}", req.method(), req.uri().path());
    let key = state.privacy.store_wide.then_some(&state.privacy.key);
    let query = loggable_query(req.uri().query().unwrap_or(""), key);
    let response = next.run(req).await;
    let mut entry = AuditEntry {
        credential,
        action,
        resource,
        query,
        rows: response.extensions().get::<Rows>().map(|r| r.0),
        status: response.status().as_u16(),
    };
    if let Some(StreamedRows(rows)) = response.extensions().get::<StreamedRows>().cloned() {
        entry.rows = None;
        let mut done = Some(RecordWhenDone { state, entry, rows });
        let (parts, body) = response.into_parts();
        // The record is written when the body's last chunk has been
        // produced (before the client can see the end and ask for the log),
        // or, if the client goes away first, when the body is dropped.
        let body = body
            .into_data_stream()
            .map(Some)
            .chain(futures_util::stream::once(async { None }))
            .filter_map(move |chunk| {
                if chunk.is_none() {
                    drop(done.take());
                }
                futures_util::future::ready(chunk)
            });
        return Response::from_parts(parts, Body::from_stream(body));
    }
    if let Err(e) = state.store.audit(&entry) {
        tracing::error!("audit record not written: {e}");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_classified_and_writes_are_not() {
        assert_eq!(
            action(&Method::GET, "/xapi/statements"),
            Some(AuditAction::Read)
        );
        assert_eq!(action(&Method::POST, "/xapi/statements"), None);
        assert_eq!(action(&Method::PUT, "/xapi/activities/state"), None);
        assert_eq!(
            action(&Method::DELETE, "/xapi/activities/state"),
            Some(AuditAction::Delete)
        );
        assert_eq!(action(&Method::GET, "/xapi/about"), None);
        assert_eq!(
            action(&Method::GET, "/admin/export"),
            Some(AuditAction::Export)
        );
        assert_eq!(
            action(&Method::GET, "/identities"),
            Some(AuditAction::Reidentify)
        );
        assert_eq!(
            action(&Method::GET, "/analytics/overview"),
            Some(AuditAction::Read)
        );
        assert_eq!(action(&Method::GET, "/admin/credentials"), None);
    }

    #[test]
    fn secrets_and_real_identifiers_never_reach_the_log() {
        assert_eq!(loggable_query("verb=x&limit=2", None), "verb=x&limit=2");
        assert_eq!(
            loggable_query("verb=x&secret=s&Authorization=b", None),
            "verb=x"
        );
        assert_eq!(loggable_query("more=abc", None), "more=%28next+page%29");
        let agent = r#"agent={"mbox":"mailto:ana@example.org"}"#;
        assert_eq!(loggable_query(agent, None), agent);
        let key = Key::new([1; 32]);
        let logged = loggable_query(agent, Some(&key));
        assert!(!logged.contains("ana"), "{logged}");
        assert!(logged.contains("pseudonym"), "{logged}");
        let req = Request::builder()
            .header(header::AUTHORIZATION, "Basic a2V5MTpzM2NyZXQ=")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(caller(&req), "key1");
    }
}
