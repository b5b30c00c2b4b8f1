//! `kmh serve`: the LRS on its embedded store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::lrs::{self, AppState, Config, credentials};
use crate::store::{Store, StoreError, Writer};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KMH_LISTEN", default_value = "127.0.0.1:8600")]
    pub listen: SocketAddr,
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// URL clients use to reach this server (default: http://LISTEN).
    #[arg(long, env = "KMH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The xAPI version named in answers to requests that name none
    /// (which are refused with 400, as every xAPI request must name one).
    #[arg(long, env = "KMH_XAPI_DEFAULT_VERSION", value_enum, default_value_t = DefaultVersion::V1_0_3)]
    pub default_version: DefaultVersion,
    /// Requests per second each credential may make (a burst of twice that
    /// is allowed); beyond it, 429 with Retry-After. 0 turns the limit off.
    #[arg(long, env = "KMH_RATE_LIMIT", default_value_t = 0)]
    pub rate_limit: u32,
    /// Seconds a client has to send a request's line and headers; a slower
    /// one is disconnected.
    #[arg(long, env = "KMH_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a request may take to be read and answered (a client sending
    /// its body slowly included); beyond it, 408.
    #[arg(long, env = "KMH_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout: u64,
    /// Free space (MiB) the data folder's disk must keep: below it, writes
    /// get 503 until space is freed (0 turns the check off).
    #[arg(long, env = "KMH_MIN_FREE_DISK_MB", default_value_t = 64)]
    pub min_free_disk_mb: u64,
    /// Courses published for learners at /courses/.
    #[command(flatten)]
    pub courses: super::courses::CoursesArgs,
    /// Retention, applied at start and then daily.
    #[command(flatten)]
    pub retention: super::prune::RetentionArgs,
    /// Store learners by pseudonym: every agent in a statement but its
    /// authority, and the agent of State and Agent Profile documents, is
    /// replaced by a keyed pseudonym at ingest (on by default for a new data
    /// folder). Chosen before data arrives: once the folder holds
    /// statements it cannot change. `--pseudonymise=false` or
    /// `--no-pseudonymise` turns it off (e.g. for the ADL conformance suite).
    #[arg(
        long,
        env = "KMH_PSEUDONYMISE",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        conflicts_with = "no_pseudonymise"
    )]
    pub pseudonymise: Option<bool>,
    /// Store learners with their real identifiers (same as
    /// `--pseudonymise=false` and `KMH_PSEUDONYMISE=false`).
    #[arg(long, env = "KMH_NO_PSEUDONYMISE")]
    pub no_pseudonymise: bool,
    /// The country office a partner LMS serves, as HOMEPAGE=CC (ISO 3166-1
    /// alpha-2; repeatable, comma-separated in the variable): a learner
    /// whose xAPI account has this homePage counts in that country when
    /// their statements carry no country extension, pseudonymised learners
    /// included. With --lms-countries, replaces the mapping the data folder
    /// keeps (and `kmh report` uses); without either, the kept one applies.
    /// Learners already stored count by the new mapping at once.
    #[arg(
        long = "country-of-lms",
        env = "KMH_COUNTRY_OF_LMS",
        value_delimiter = ',',
        value_name = "HOMEPAGE=CC"
    )]
    pub country_of_lms: Vec<String>,
    /// A file of partner LMSs and their countries: one "HOMEPAGE CC" per
    /// line (or HOMEPAGE,CC), # for comments. An empty file clears the
    /// mapping.
    #[arg(long = "lms-countries", env = "KMH_LMS_COUNTRIES", value_name = "FILE")]
    pub lms_countries: Option<PathBuf>,
}

impl ServeArgs {
    /// The LMS countries the flags give, or `None` when no flag does.
    fn lms_countries(&self) -> anyhow::Result<Option<crate::analytics::LmsCountries>> {
        if self.country_of_lms.is_empty() && self.lms_countries.is_none() {
            return Ok(None);
        }
        let mut lms = crate::analytics::LmsCountries::default();
        if let Some(path) = &self.lms_countries {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --lms-countries {}", path.display()))?;
            lms.insert_lines(&text)
                .map_err(|e| anyhow::anyhow!("--lms-countries {}: {e}", path.display()))?;
        }
        for entry in &self.country_of_lms {
            lms.insert_entry(entry)
                .map_err(|e| anyhow::anyhow!("--country-of-lms: {e}"))?;
        }
        Ok(Some(lms))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DefaultVersion {
    #[value(name = "1.0.3")]
    V1_0_3,
    #[value(name = "2.0.0")]
    V2_0_0,
}

impl From<DefaultVersion> for crate::xapi::Version {
    fn from(v: DefaultVersion) -> Self {
        match v {
            DefaultVersion::V1_0_3 => crate::xapi::Version::V1_0_3,
            DefaultVersion::V2_0_0 => crate::xapi::Version::V2_0_0,
        }
    }
}

/// Files `kmh serve` keeps in the data folder while it runs, so that other
/// `kmh` commands can reach it.
pub const SERVER_FILE: &str = "server.json";
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    ignore_file_size_signal();
    // Checked before the store is opened, so a typo changes nothing.
    let lms_countries = args.lms_countries()?;
    let store = match Store::open(&args.data) {
        Err(StoreError::Locked(dir)) => anyhow::bail!(
            "{} is in use by another kmh process (is `kmh serve` already running on it?)",
            dir.display()
        ),
        other => other.with_context(|| format!("opening the store in {}", args.data.display()))?,
    };
    let requested = if args.no_pseudonymise {
        Some(false)
    } else {
        args.pseudonymise
    };
    store
        .settle_pseudonymisation(requested, true)
        .with_context(|| format!("the data folder {}", args.data.display()))?;
    store.set_min_free_bytes(args.min_free_disk_mb.saturating_mul(1024 * 1024));
    if let Some(lms) = &lms_countries {
        store
            .set_lms_countries(lms)
            .context("keeping the countries of the partner LMSs")?;
    }
    bootstrap_credential(&store)?;
    let courses = super::courses::load(&args.courses)?;
    let site = super::courses::publish(&store, &args.data, courses)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let (writer, writer_thread) = Writer::start(store.clone());
    let result = runtime.block_on(serve(&args, store, writer, site));
    // Every writer handle is gone with the server: the writer drains what
    // is queued, commits it and stops.
    if writer_thread.join().is_err() {
        eprintln!("kmh serve: the writer thread panicked; unacknowledged writes may be lost");
    }
    remove_runtime_files(&args.data);
    result
}

async fn serve(
    args: &ServeArgs,
    store: Store,
    writer: Writer,
    site: crate::lrs::courses::CourseSite,
) -> anyhow::Result<()> {
    let stop = shutdown_signal().context("installing the Ctrl-C and SIGTERM handlers")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let admin_token = crate::lrs::credentials::random_token(32);
    write_runtime_files(&args.data, &url, &admin_token)?;
    let config = Config {
        public_url: args.public_url.clone().unwrap_or_else(|| url.clone()),
        admin_token,
        default_version: args.default_version.into(),
        rate_limit: args.rate_limit,
        limits: crate::lrs::ClientLimits {
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        },
    };
    let state = AppState::new(store, writer, config)?.with_courses(site);
    let retention = args.retention.is_set().then(|| {
        tokio::spawn(apply_retention_daily(
            state.clone(),
            args.retention.policy(),
        ))
    });
    println!("kmh serve: listening on {url}");
    println!("  xAPI endpoint: {url}/xapi/");
    println!("  dashboard:     {url}/dashboard");
    if state.courses.is_empty() {
        println!("  courses:       none published (see --courses)");
    } else {
        let list: Vec<String> = state
            .courses
            .courses()
            .iter()
            .map(|c| {
                let langs: Vec<String> = c
                    .course
                    .languages
                    .iter()
                    .map(|l| l.language.to_uppercase())
                    .collect();
                format!("{} ({})", c.course.id, langs.join(", "))
            })
            .collect();
        println!("  courses:       {url}/courses/  {}", list.join("; "));
    }
    println!("  data folder:   {}", args.data.display());
    println!(
        "  learners:      {}",
        if state.privacy.store_wide {
            "stored by pseudonym (identities apart, readable with the identities scope)"
        } else {
            "stored with their identifiers (pseudonymised only for credentials made with --pseudonymise)"
        }
    );
    let lms = state.store.lms_countries()?;
    if !lms.is_empty() {
        let list: Vec<String> = lms.entries().map(|(h, c)| format!("{h} {c}")).collect();
        println!("  LMS countries: {}", list.join("; "));
    }
    println!("Press Ctrl-C to stop.");
    let served = lrs::serve(listener, state, stop).await;
    if let Some(task) = retention {
        task.abort();
        let _ = task.await;
    }
    served?;
    println!("kmh serve: stopped; every acknowledged statement is on disk.");
    Ok(())
}

/// On the first start there is no credential at all, so nobody could
/// administer the LRS: create one with every scope and show its secret once.
fn bootstrap_credential(store: &Store) -> anyhow::Result<()> {
    if !store.credentials()?.is_empty() {
        return Ok(());
    }
    let issued = credentials::issue(
        &[credentials::Scope::All],
        Vec::new(),
        "administrator".into(),
    );
    store.put_credential(&issued.record)?;
    println!("First start: created an administrator credential (scope: all).");
    println!("  key:    {}", issued.record.key);
    println!("  secret: {}", issued.secret);
    println!("The secret is shown only now. Create narrower ones with `kmh creds add`.");
    Ok(())
}

fn write_runtime_files(dir: &Path, url: &str, token: &str) -> anyhow::Result<()> {
    let info = serde_json::json!({ "url": url, "pid": std::process::id() });
    std::fs::write(dir.join(SERVER_FILE), serde_json::to_vec_pretty(&info)?)?;
    let token_path = dir.join(ADMIN_TOKEN_FILE);
    write_private(&token_path, token.as_bytes())
        .with_context(|| format!("writing {}", token_path.display()))
}

#[cfg(unix)]
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn remove_runtime_files(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(ADMIN_TOKEN_FILE));
    let _ = std::fs::remove_file(dir.join(SERVER_FILE));
}

/// Applies the retention policy now and then every day while serving.
async fn apply_retention_daily(state: AppState, policy: crate::store::Retention) {
    let mut day = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        day.tick().await;
        let now = crate::store::now_ms();
        match state
            .writer
            .exclusive(move |store| store.prune(policy, now, false, "kmh serve (retention)"))
            .await
        {
            Ok(r) => {
                tracing::info!(
                    "retention: {} statements deleted, {} attachments, {} identities dropped, {} statements pseudonymised",
                    r.statements_deleted,
                    r.attachments,
                    r.identities_dropped,
                    r.statements_pseudonymised
                );
                if let Err(e) = crate::lrs::admin::purge(&state, r.purge_needed()).await {
                    tracing::error!(
                        "retention: purging the deleted data from the files failed: {e}"
                    );
                }
            }
            Err(e) => tracing::error!("retention failed: {e}"),
        }
    }
}

/// A write past the process's file-size limit (`ulimit -f`) raises
/// SIGXFSZ, whose default action kills the process. A server must rather
/// see the write fail (EFBIG), refuse that write with 503 and keep serving
/// reads, as it does when the disk is full.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN at start-up, before
    // any thread that could race on it exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Installs the Ctrl-C and SIGTERM handlers now and answers a future that
/// resolves on either. Installed before the server says it listens, so a
/// supervisor that stops it right after start gets a clean shutdown, not
/// the default action of the signal (death by SIGTERM).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        println!("kmh serve: shutting down, finishing requests in flight…");
    })
}
