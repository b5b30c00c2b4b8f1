//! Administration of a running server by the `kmh` command line. While
//! `kmh serve` holds the store, `kmh creds …` cannot open it, so it calls
//! these endpoints instead, with the bearer token the server wrote into its
//! data folder (readable only by the folder's owner).

use axum::extract::{FromRequestParts, Path, Query, RawQuery, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::AppState;
use super::audit::Rows;
use super::credentials::{self, Scope};
use super::error::ApiError;
use super::privacy;
use super::statements::params_split;
use super::stream;
use crate::store::{
    AuditFilter, CredentialRecord, ExportOptions, ForgetReport, Mentions, PruneReport, Retention,
};

/// A credential as listed: everything but the secret's digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialInfo {
    pub key: String,
    pub scopes: Vec<String>,
    pub origins: Vec<String>,
    #[serde(default)]
    pub activities: Vec<String>,
    /// The part of the learners it may read (see [`crate::analytics::Slice`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub courses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cohorts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    pub label: String,
    pub created: String,
    #[serde(default)]
    pub pseudonymise: bool,
}

impl From<&CredentialRecord> for CredentialInfo {
    fn from(r: &CredentialRecord) -> Self {
        CredentialInfo {
            key: r.key.clone(),
            scopes: r.scopes.clone(),
            origins: r.origins.clone(),
            activities: r.activities.clone(),
            courses: r.courses.clone(),
            cohorts: r.cohorts.clone(),
            countries: r.countries.clone(),
            label: r.label.clone(),
            created: r.created.clone(),
            pseudonymise: r.pseudonymise,
        }
    }
}

/// What `POST /admin/credentials` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewCredential {
    pub scopes: Vec<String>,
    #[serde(default)]
    pub origins: Vec<String>,
    #[serde(default)]
    pub activities: Vec<String>,
    /// Limit a read credential to these courses (IRIs or ids), cohorts
    /// and countries (ISO 3166-1 alpha-2); empty = all.
    #[serde(default)]
    pub courses: Vec<String>,
    #[serde(default)]
    pub cohorts: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub label: String,
    /// Store the learners this credential writes about by pseudonym.
    #[serde(default)]
    pub pseudonymise: bool,
}

/// Scopes a credential limited to part of the learners may have: reading
/// is all it can be limited for.
const SLICE_SCOPES: [Scope; 3] = [
    Scope::AnalyticsRead,
    Scope::StatementsRead,
    Scope::Identities,
];

impl NewCredential {
    /// Checks the request and issues the credential it asks for; the error
    /// says what is wrong with the request.
    pub fn issue(self) -> Result<credentials::Issued, String> {
        let scopes = self
            .scopes
            .iter()
            .map(|s| s.parse::<Scope>())
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err("a credential needs at least one scope".into());
        }
        let list = |what: &str, values: Vec<String>| -> Result<Vec<String>, String> {
            values
                .into_iter()
                .map(|v| {
                    let v = v.trim().to_owned();
                    if v.is_empty() {
                        Err(format!("an empty {what} limit"))
                    } else {
                        Ok(v)
                    }
                })
                .collect()
        };
        let courses = list("course", self.courses)?;
        let cohorts = list("cohort", self.cohorts)?;
        let countries = list("country", self.countries)?
            .into_iter()
            .map(|c| {
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
                    Ok(c.to_ascii_uppercase())
                } else {
                    Err(format!(
                        "country {c:?} is not an ISO 3166-1 alpha-2 code (two letters, e.g. SN)"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sliced = !(courses.is_empty() && cohorts.is_empty() && countries.is_empty());
        if sliced && let Some(bad) = scopes.iter().find(|s| !SLICE_SCOPES.contains(s)) {
            return Err(format!(
                "a credential limited to a course, cohort or country may only read \
                 (scopes analytics/read, statements/read, identities), not {bad}"
            ));
        }
        let mut issued =
            credentials::issue_limited(&scopes, self.origins, self.activities, self.label);
        issued.record.courses = courses;
        issued.record.cohorts = cohorts;
        issued.record.countries = countries;
        issued.record.pseudonymise = self.pseudonymise;
        Ok(issued)
    }
}

/// What issuing a credential answers; the only time the secret is shown.
#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedCredential {
    #[serde(flatten)]
    pub info: CredentialInfo,
    pub secret: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/credentials", get(list).post(add))
        .route("/credentials/{key}", delete(revoke))
}

/// Proof that the caller holds the server's admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        if bool::from(token.as_bytes().ct_eq(state.config.admin_token.as_bytes())) {
            Ok(Admin)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

async fn list(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<CredentialInfo>>, ApiError> {
    let records = state.store.credentials()?;
    Ok(Json(records.iter().map(CredentialInfo::from).collect()))
}

async fn add(
    _: Admin,
    State(state): State<AppState>,
    Json(req): Json<NewCredential>,
) -> Result<Json<IssuedCredential>, ApiError> {
    let issued = req.issue().map_err(ApiError::BadRequest)?;
    state.store.put_credential(&issued.record)?;
    state.reload_credentials()?;
    Ok(Json(IssuedCredential {
        info: CredentialInfo::from(&issued.record),
        secret: issued.secret,
    }))
}

async fn revoke(
    _: Admin,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<CredentialInfo>, ApiError> {
    let record = state
        .store
        .credentials()?
        .into_iter()
        .find(|r| r.key == key)
        .ok_or_else(|| ApiError::NotFound(format!("no credential with key {key}")))?;
    state.store.delete_credential(&key)?;
    state.reload_credentials()?;
    Ok(Json(CredentialInfo::from(&record)))
}

/// Routes for moving data out of and into a running server.
pub fn data_router() -> Router<AppState> {
    Router::new()
        .route("/backup", get(backup))
        .route("/export", get(export))
        .route("/import", axum::routing::post(import))
        .route("/identities", get(identities))
        .route("/audit", get(audit))
        .route("/forget", axum::routing::post(forget))
        .route("/prune", axum::routing::post(prune))
}

/// What `POST /admin/prune` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct PruneRequest {
    #[serde(flatten)]
    pub policy: Retention,
    #[serde(default)]
    pub dry_run: bool,
    /// The time to apply the policy as of (RFC 3339), instead of now: for
    /// tests and to preview a policy's effect on a later day.
    #[serde(default)]
    pub now: Option<String>,
}

/// Parses an RFC 3339 time into Unix milliseconds.
pub fn parse_now(now: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|e| format!("now must be an RFC 3339 time, not {now:?}: {e}"))
}

/// POST /admin/prune: applies a retention policy (see
/// [`crate::store::Store::prune`]) and, unless it is a dry run, answers only
/// once what it deleted is gone from the store's files.
async fn prune(
    _: Admin,
    State(state): State<AppState>,
    Json(req): Json<PruneRequest>,
) -> Result<Json<PruneReport>, ApiError> {
    let now = match &req.now {
        Some(t) => parse_now(t).map_err(ApiError::BadRequest)?,
        None => crate::store::now_ms(),
    };
    let (policy, dry_run) = (req.policy, req.dry_run);
    let report = state
        .writer
        .exclusive(move |store| store.prune(policy, now, dry_run, "admin"))
        .await?;
    purge(&state, report.purge_needed()).await?;
    Ok(Json(report))
}

/// Pushes what a forget or prune deleted out of the store's files (with
/// `Some(true)`, the identities database's too); writers go on meanwhile.
pub async fn purge(state: &AppState, needed: Option<bool>) -> Result<(), ApiError> {
    let Some(identities) = needed else {
        return Ok(());
    };
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.purge(identities))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(())
}

/// What `POST /admin/forget` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForgetRequest {
    /// The learner, as an xAPI Agent (only its identifier matters).
    pub agent: serde_json::Value,
    /// What becomes of statements that only mention them.
    #[serde(default)]
    pub mentions: Mentions,
    /// Count what would go, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// POST /admin/forget: forgets a learner (see [`crate::store::Store::forget`])
/// and, unless it is a dry run, answers only once the deleted bytes are
/// gone from the store's files.
async fn forget(
    _: Admin,
    State(state): State<AppState>,
    Json(req): Json<ForgetRequest>,
) -> Result<Json<ForgetReport>, ApiError> {
    crate::xapi::validate::agent(&req.agent, "agent").map_err(ApiError::Invalid)?;
    let ForgetRequest {
        agent,
        mentions,
        dry_run,
    } = req;
    let report = state
        .writer
        .exclusive(move |store| store.forget(&agent, mentions, dry_run, "admin"))
        .await?;
    purge(&state, (!dry_run).then_some(report.identity_records > 0)).await?;
    Ok(Json(report))
}

/// GET /admin/backup: a consistent backup taken while writers go on,
/// sent while it is written.
async fn backup(_: Admin, State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let (body, rows) = stream::body_from_blocking(move |out, rows| {
        store.backup(out, |n| stream::count(rows, n)).map(|_| ())
    });
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Extension(rows),
        body,
    )
        .into_response()
}

/// GET /admin/export: every statement as NDJSON; `?redact=free-text`
/// replaces free-text answers (see [`crate::store::ExportOptions`]).
async fn export(
    _: Admin,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = params_split(query.as_deref().unwrap_or(""))?;
    let mut options = ExportOptions::default();
    for (k, v) in &params {
        match (k.as_str(), v.as_str()) {
            ("redact", "free-text") => options.redact_free_text = true,
            ("redact", other) => {
                return Err(ApiError::BadRequest(format!(
                    "redact takes free-text, not {other:?}"
                )));
            }
            (other, _) => {
                return Err(ApiError::BadRequest(format!(
                    "GET /admin/export takes only redact, not {other}"
                )));
            }
        }
    }
    let store = state.store.clone();
    let (body, rows) = stream::body_from_blocking(move |out, rows| {
        store
            .export_ndjson_with(out, &options, |n| stream::count(rows, n))
            .map(|_| ())
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Extension(rows),
        body,
    )
        .into_response())
}

/// GET /admin/identities?pseudonym=…|agent=…: re-identification for
/// `kmh identities` while the server holds the store.
async fn identities(
    _: Admin,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pseudonym = privacy::requested_pseudonym(&state.privacy.key, query.as_deref())?;
    let store = state.store.clone();
    let record = tokio::task::spawn_blocking(move || privacy::lookup(&store, &pseudonym))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((Extension(Rows(1)), Json(record)).into_response())
}

/// GET /admin/audit: the audit records matching a [`AuditFilter`] given as
/// query parameters (`since_ms`, `until_ms`, `credential`, `action`).
async fn audit(
    _: Admin,
    State(state): State<AppState>,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let records = tokio::task::spawn_blocking(move || store.audit_records(&filter))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((Extension(Rows(records.len() as u64)), Json(records)).into_response())
}

/// POST /admin/import: NDJSON statements, validated and stored.
async fn import(
    _: Admin,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<super::import::ImportReport>, ApiError> {
    Ok(Json(
        super::import::ndjson(&state, &body[..], |_| {}).await?,
    ))
}
