//! The xAPI HTTP API (xAPI 1.0.3 part 3, "Communication"), on axum.
//! Handlers are thin: they parse, check scopes, call [`crate::xapi`] rules
//! and the [`crate::store`]. Middleware adds the version header, the
//! consistent-through header, CORS and limits.
//!
//! [`serve`] is how both the binary and the tests start the server.

mod about;
pub mod admin;
mod agents;
mod alternate;
pub mod audit;
pub mod auth;
pub mod courses;
pub mod credentials;
mod documents;
pub mod error;
pub mod import;
mod limit;
mod local;
pub use local::{LocalServer, LocalServerError};
pub mod privacy;
mod statements;
pub use statements::CHECK_THREADS;
mod stream;
mod version;

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, header};
use axum::middleware;
use axum::routing::{any, get};
use axum::{Extension, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::store::{Store, StoreError, Writer};
use credentials::CredentialSet;

/// Most statements one POST may carry.
pub const MAX_BATCH: usize = 10_000;
/// Most statements one page of GET /statements returns.
pub const MAX_PAGE: usize = 500;
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Largest request head (request line and headers) accepted; beyond it,
/// 431 and the connection is closed.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// How long a client may take: a bounded time to send its request head
/// (then the connection is closed, so that clients trickling bytes cannot
/// hold connections open) and to have its request read and answered
/// (then 408).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Settings of a running LRS.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL clients reach the server at; the `homePage` of the authority
    /// accounts the LRS writes.
    pub public_url: String,
    /// The bearer token `kmh` commands use to administer a running server.
    pub admin_token: String,
    /// The version answered when a request names none (errors, `/about`).
    pub default_version: crate::xapi::Version,
    /// Requests per second allowed to each credential; 0 means no limit.
    pub rate_limit: u32,
    /// Time limits for clients.
    pub limits: ClientLimits,
}

/// What every handler shares. One pointer: the router's layers and
/// extractors clone it several times per request, and a clone of the
/// fields themselves would touch each of their reference counts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub writer: Writer,
    pub credentials: Arc<RwLock<CredentialSet>>,
    pub config: Arc<Config>,
    /// The pseudonym key and the store-wide pseudonymisation setting.
    pub privacy: Arc<privacy::Privacy>,
    /// The courses published at `/courses/` (none unless [`AppState::with_courses`]).
    pub courses: Arc<courses::CourseSite>,
    limiter: Option<Arc<limit::RateLimiter>>,
}

impl AppState {
    /// Builds the state over an open store; the writer must already run.
    pub fn new(store: Store, writer: Writer, config: Config) -> Result<Self, StoreError> {
        let set = CredentialSet::from_records(&store.credentials()?);
        let privacy = Arc::new(privacy::Privacy::load(&store)?);
        Ok(AppState(Arc::new(Shared {
            privacy,
            store,
            writer,
            credentials: Arc::new(RwLock::new(set)),
            courses: Arc::default(),
            limiter: limit::RateLimiter::new(config.rate_limit).map(Arc::new),
            config: Arc::new(config),
        })))
    }

    /// Publishes these courses at `/courses/`.
    pub fn with_courses(self, site: courses::CourseSite) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.courses = Arc::new(site);
        AppState(Arc::new(shared))
    }

    /// Re-reads the credentials after one was added or revoked.
    pub fn reload_credentials(&self) -> Result<(), StoreError> {
        let set = CredentialSet::from_records(&self.store.credentials()?);
        if let Ok(mut guard) = self.credentials.write() {
            *guard = set;
        }
        Ok(())
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let request_timeout = state.config.limits.request_timeout;
    let statements = Router::new()
        .route(
            "/xapi/statements",
            get(statements::get)
                .put(statements::put)
                .post(statements::post),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            version::require_version,
        ))
        // Outermost, so that version errors carry the header too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            statements::consistent_through,
        ));
    let documents = Router::new()
        .route(
            "/xapi/activities/state",
            any(documents::handle).layer(Extension(documents::Resource::State)),
        )
        .route(
            "/xapi/activities/profile",
            any(documents::handle).layer(Extension(documents::Resource::ActivityProfile)),
        )
        .route(
            "/xapi/agents/profile",
            any(documents::handle).layer(Extension(documents::Resource::AgentProfile)),
        )
        .route("/xapi/agents", get(agents::agents))
        .route("/xapi/activities", get(agents::activities))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            version::require_version,
        ));
    let xapi = Router::new().merge(statements).merge(documents);
    let open = Router::new().route("/xapi/about", get(about::about)).layer(
        middleware::from_fn_with_state(state.clone(), version::answer_version),
    );

    let routes = Router::new()
        .merge(xapi)
        .merge(open)
        .nest("/admin", admin::router().merge(admin::data_router()))
        .merge(crate::analytics::http::router())
        .merge(courses::router())
        .route("/identities", get(privacy::identities))
        .fallback(version::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), audit::record))
        .with_state(state);
    // The alternate request syntax changes the method, so it must run
    // before the routes pick a handler by method: it wraps the whole router.
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn(alternate::rewrite))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors())
        .layer(middleware::from_fn(move |req, next| {
            deadline(request_timeout, req, next)
        }))
        .layer(CatchPanicLayer::new())
}

/// Answers 408 when a request (its body included) is not read and
/// answered within `limit`. Administration (`/admin/…`, the operator's own
/// token) is exempt: forgetting a learner or backing up a large store takes
/// longer, and its client is the `kmh` command on the same machine.
async fn deadline(
    limit: Duration,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/admin/") {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({
                "error": format!("the request was not completed within {} s", limit.as_secs())
            })),
        )
            .into_response(),
    }
}

/// CORS for content served from an LMS on another origin. Preflights carry
/// no credentials, so they are answered for any origin; the credential's
/// own origin allowlist is enforced on the real request ([`auth::Auth`]).
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT_LANGUAGE,
            HeaderName::from_static("x-experience-api-version"),
        ])
        .expose_headers([
            header::ETAG,
            header::LAST_MODIFIED,
            HeaderName::from_static("x-experience-api-version"),
            HeaderName::from_static("x-experience-api-consistent-through"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Audit records are appended without a sync of their own; this makes
    // them durable within a second when no statement write does it first.
    let store = state.store.clone();
    let syncing = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let store = store.clone();
            match tokio::task::spawn_blocking(move || store.sync_audit()).await {
                Ok(Err(e)) => tracing::error!("audit log sync failed: {e}"),
                Err(e) => tracing::error!("audit log sync task failed: {e}"),
                Ok(Ok(())) => {}
            }
        }
    });
    let releasing = tokio::spawn(crate::memory::release_freed_every(Duration::from_secs(5)));
    let store = state.store.clone();
    let header_timeout = state.config.limits.header_timeout;
    let served = serve_connections(listener, router(state), header_timeout, shutdown).await;
    syncing.abort();
    releasing.abort();
    if let Err(e) = tokio::task::spawn_blocking(move || store.sync_audit()).await {
        tracing::error!("audit log sync task failed: {e}");
    }
    served
}

/// The accept loop: HTTP/1.1 connections with a bounded request head
/// ([`MAX_HEAD_BYTES`]) and a deadline to receive it (hyper's header read
/// timeout, which needs a timer, so this loop builds each connection
/// itself rather than using `axum::serve`). When `shutdown` resolves, no
/// connection is accepted any more and those open finish their request.
async fn serve_connections(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_header_size(MAX_HEAD_BYTES);
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
        // Forget connections that have ended.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// An HTTP date (RFC 9110 §5.6.7) for a Unix-millisecond time.
pub fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).unwrap_or_default()
}
