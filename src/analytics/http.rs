//! The dashboard's HTTP face, merged into the LRS router:
//!
//! - `GET /dashboard`: the page, embedded in the binary, behind HTTP Basic
//!   like the data it shows: without a read credential it answers 401 with
//!   a `Basic realm="kmh"` challenge, so the browser asks for the key and
//!   secret and then sends them with the page's own requests to the
//!   endpoints below (the page never handles or stores the secret).
//!   `/dashboard/signout` answers 401 to whatever it is sent, which makes
//!   browsers forget the credential. `/dashboard/app.js` and `app.css`
//!   hold no data and are served to anyone.
//! - `GET /analytics/overview`: every indicator ([`indicators::Overview`]).
//! - `GET /analytics/learners`: learners, searchable (`q`), paged
//!   (`offset`, `limit` ≤ 500).
//! - `GET /analytics/learners/{id}`: one learner's progress, by pseudonym.
//! - `GET /analytics/progress.csv`: learner × module progress as CSV;
//!   `GET /analytics/progress` gives the same table as JSON (an array of
//!   rows, the header first).
//!
//! Every `/analytics` endpoint takes the filters `course`, `module`,
//! `cohort`, `language`, `country`, `from`, `to` and `lang` (the language of
//! titles), and needs HTTP Basic with a credential that has the
//! `analytics/read`, `statements/read`, `all/read` or `all` scope (or the
//! server's admin token, which `kmh report` uses). Learners are shown by
//! pseudonym unless the credential also has the `identities` scope.

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::Slice;
use super::indicators::{self, Filter, Overview, QueryError};
use crate::lrs::AppState;
use crate::lrs::audit::Rows;
use crate::lrs::auth::Auth;
use crate::lrs::credentials::Scope;
use crate::lrs::error::ApiError;
use crate::store::Store;

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");

/// Most learners one page of `/analytics/learners` returns.
pub const MAX_LEARNERS_PAGE: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/", get(page))
        .route("/dashboard/signout", get(signout))
        .route("/dashboard/app.js", get(app_js))
        .route("/dashboard/app.css", get(app_css))
        .route("/analytics/overview", get(overview))
        .route("/analytics/learners", get(learners))
        .route("/analytics/learners/{id}", get(learner))
        .route("/analytics/progress", get(progress_json))
        .route("/analytics/progress.csv", get(progress_csv))
}

/// A caller allowed to read analytics.
pub struct Reader {
    /// May see learners' identities (scope `identities`).
    pub identities: bool,
    /// The learners it may see (a staff credential's course, cohort and
    /// country limits); every query is confined to them.
    pub slice: Slice,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return if bool::from(token.as_bytes().ct_eq(state.config.admin_token.as_bytes())) {
                Ok(Reader {
                    identities: true,
                    slice: Slice::default(),
                })
            } else {
                Err(ApiError::Unauthorized)
            };
        }
        let auth = Auth::from_request_parts(parts, state).await?;
        let c = &auth.credential;
        if !(c.has(Scope::AnalyticsRead) || c.reads_all_statements()) {
            return Err(ApiError::Forbidden(format!(
                "credential {} lacks a read scope (analytics/read, statements/read or all/read)",
                c.key
            )));
        }
        Ok(Reader {
            identities: c.has(Scope::Identities),
            slice: c.slice.clone(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(flatten)]
    filter: Filter,
    lang: Option<String>,
    q: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::BadFilter(m) => ApiError::BadRequest(m),
            QueryError::NoLearner(id) => ApiError::NotFound(format!("no learner {id}")),
            QueryError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

/// The language titles are shown in: `lang`, else the first of
/// Accept-Language, else English.
fn language(params: &Params, headers: &HeaderMap) -> String {
    params
        .lang
        .clone()
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split([',', ';']).next())
                .map(str::to_owned)
        })
        .map(|l| {
            l.trim()
                .split(['-', '_'])
                .next()
                .unwrap_or("en")
                .to_ascii_lowercase()
        })
        .filter(|l| !l.is_empty() && l != "*")
        .unwrap_or_else(|| "en".into())
}

fn number(value: &Option<String>, name: &str, default: usize) -> Result<usize, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{name}: {v:?} is not a whole number"))),
    }
}

/// Runs a query over the read models off the async threads.
async fn blocking<T: Send + 'static>(
    store: Store,
    f: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let out = f(&store);
        // A query's working set (and the first one's loading) is freed by
        // now; the thread may idle until the next request.
        crate::memory::release_freed();
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("analytics task: {e}")))?
}

async fn overview(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<Params>,
) -> Result<Json<Overview>, ApiError> {
    let lang = language(&params, &headers);
    params.filter.slice = reader.slice;
    let out = blocking(state.store.clone(), move |store| {
        Ok(indicators::overview(
            store.analytics()?,
            store,
            &params.filter,
            &lang,
        )?)
    })
    .await?;
    Ok(Json(out))
}

async fn learners(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let lang = language(&params, &headers);
    params.filter.slice = reader.slice.clone();
    let offset = number(&params.offset, "offset", 0)?;
    let limit = number(&params.limit, "limit", 50)?.min(MAX_LEARNERS_PAGE);
    let out = blocking(state.store.clone(), move |store| {
        Ok(indicators::learners(
            store.analytics()?,
            store,
            &params.filter,
            params.q.as_deref(),
            offset,
            limit,
            reader.identities,
            &lang,
        )?)
    })
    .await?;
    // The audit log counts the learners shown.
    let rows = Rows(out.learners.len() as u64);
    Ok((Extension(rows), Json(out)).into_response())
}

async fn learner(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let lang = language(&params, &headers);
    let out = blocking(state.store.clone(), move |store| {
        Ok(indicators::learner(
            store.analytics()?,
            store,
            params.filter.course.as_deref().filter(|c| !c.is_empty()),
            &reader.slice,
            &id,
            reader.identities,
            &lang,
        )?)
    })
    .await?;
    Ok((Extension(Rows(1)), Json(out)).into_response())
}

async fn progress_json(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let lang = language(&params, &headers);
    params.filter.slice = reader.slice.clone();
    let (body, count) = blocking(state.store.clone(), move |store| {
        // The same JSON as the whole table would serialise to, written row
        // by row: the table (a string per cell, 77,000 rows at 1.1 M
        // statements) never exists in memory.
        let mut body = Vec::from(b"[".as_slice());
        let mut count = 0u64;
        let mut failed = None;
        indicators::progress_rows(
            store.analytics()?,
            store,
            &params.filter,
            reader.identities,
            &lang,
            &mut |row| {
                if count > 0 {
                    body.push(b',');
                }
                count += 1;
                if let Err(e) = serde_json::to_writer(&mut body, &row) {
                    failed.get_or_insert(e);
                }
            },
        )?;
        if let Some(e) = failed {
            return Err(ApiError::Internal(format!("progress table: {e}")));
        }
        body.push(b']');
        Ok((body, count))
    })
    .await?;
    // Rows after the header row.
    let rows = Rows(count.saturating_sub(1));
    let json = [(header::CONTENT_TYPE, "application/json")];
    Ok((Extension(rows), json, body).into_response())
}

async fn progress_csv(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<Params>,
) -> Result<Response, ApiError> {
    let lang = language(&params, &headers);
    params.filter.slice = reader.slice.clone();
    let (body, course) = blocking(state.store.clone(), move |store| {
        // The byte-order mark makes spreadsheet programs read UTF-8 (French
        // titles) correctly. Rows go straight into the body: an export of
        // every learner never exists as a table in memory.
        let mut body = String::from("\u{feff}");
        let mut course_at = None;
        let mut course = None;
        indicators::progress_rows(
            store.analytics()?,
            store,
            &params.filter,
            reader.identities,
            &lang,
            &mut |row| {
                match course_at {
                    None => course_at = Some(row.iter().position(|h| h == "course")),
                    Some(at) if course.is_none() => {
                        course = at.and_then(|at| row.get(at).cloned());
                    }
                    Some(_) => {}
                }
                indicators::csv_line(&mut body, &row);
            },
        )?;
        Ok((body, course))
    })
    .await?;
    let name = format!(
        "kmh-progress-{}-{}.csv",
        course.unwrap_or_else(|| "all".into()),
        indicators::day(crate::store::now_ms())
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Everything the page needs comes from this server; no inline script.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// The page for a reader; for anyone else a short page saying what is
/// needed, with the challenge that makes the browser ask for it.
async fn page(reader: Result<Reader, ApiError>) -> Response {
    match reader {
        Ok(_) => asset("text/html; charset=utf-8", INDEX_HTML),
        Err(ApiError::Unauthorized) => challenge(
            "Sign in to the training dashboard with a credential that has the analytics/read \
             scope (or statements/read).",
            "Connectez-vous au tableau de bord avec un identifiant qui a le droit analytics/read \
             (ou statements/read).",
        ),
        Err(ApiError::Forbidden(why)) => {
            let mut r = notice(
                StatusCode::FORBIDDEN,
                &format!("This credential may not read the analytics: {why}."),
                "Cet identifiant ne peut pas lire les indicateurs.",
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(other) => other.into_response(),
    }
}

/// Always 401: a browser drops the credential it sent for this realm.
async fn signout() -> Response {
    challenge(
        "You are signed out of the training dashboard. To sign in again, open /dashboard.",
        "Vous êtes déconnecté du tableau de bord. Pour vous reconnecter, ouvrez /dashboard.",
    )
}

fn challenge(en: &str, fr: &str) -> Response {
    let mut r = notice(StatusCode::UNAUTHORIZED, en, fr);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"kmh\", charset=\"UTF-8\""),
    );
    r
}

/// A small bilingual page (the dashboard's styles, no script).
fn notice(status: StatusCode, en: &str, fr: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>kmh · Training dashboard</title>\
         <link rel=\"stylesheet\" href=\"/dashboard/app.css\"></head>\
         <body><main><section class=\"panel signin\"><h1>kmh</h1>\
         <p>{}</p><p lang=\"fr\">{}</p><p><a href=\"/dashboard\">/dashboard</a></p>\
         </section></main></body></html>",
        esc(en),
        esc(fr)
    );
    let mut r = asset("text/html; charset=utf-8", "");
    *r.status_mut() = status;
    *r.body_mut() = axum::body::Body::from(body);
    r
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}
