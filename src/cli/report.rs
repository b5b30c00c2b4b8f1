//! `kmh report`: the programme indicators on the command line, as a table,
//! CSV or JSON, with the dashboard's filters. Works on the data folder
//! directly, or through the running server when `kmh serve` holds it (with
//! the admin token the server leaves in the folder, like `kmh creds`).
//! `kmh reindex` rebuilds the read models from the statements.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use super::server::{open_existing, server_contact};
use crate::analytics::indicators::{self, Filter, LearnerPage, Overview};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// Headline indicators, modules, pre/post, satisfaction, questions.
    Indicators,
    /// Learner × module progress (one row per learner and module).
    Progress,
    /// Question difficulty.
    Questions,
    /// One row per learner.
    Learners,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// What to report.
    #[arg(value_enum, default_value_t = View::Indicators)]
    pub view: View,
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// Output format.
    #[arg(long, env = "KMH_REPORT_FORMAT", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, env = "KMH_REPORT_OUT")]
    pub out: Option<PathBuf>,
    /// Course IRI or id (default: the course with the most learners).
    #[arg(long, env = "KMH_REPORT_COURSE")]
    pub course: Option<String>,
    /// Module IRI or id.
    #[arg(long, env = "KMH_REPORT_MODULE")]
    pub module: Option<String>,
    /// Cohort (or registration).
    #[arg(long, env = "KMH_REPORT_COHORT")]
    pub cohort: Option<String>,
    /// Language (en, fr).
    #[arg(long, env = "KMH_REPORT_LANGUAGE")]
    pub language: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    #[arg(long, env = "KMH_REPORT_COUNTRY")]
    pub country: Option<String>,
    /// First enrolment day included (YYYY-MM-DD).
    #[arg(long, env = "KMH_REPORT_FROM")]
    pub from: Option<String>,
    /// Last enrolment day included (YYYY-MM-DD).
    #[arg(long, env = "KMH_REPORT_TO")]
    pub to: Option<String>,
    /// Language of titles.
    #[arg(long, env = "KMH_LANG", default_value = "en")]
    pub lang: String,
    /// Name learners by identity instead of pseudonym (whoever can read
    /// the data folder may see them).
    #[arg(long, env = "KMH_REPORT_IDENTITIES")]
    pub identities: bool,
    /// Benchmark: run the query this many times and print latencies.
    #[arg(long, env = "KMH_REPORT_REPEAT", value_name = "N")]
    pub repeat: Option<usize>,
    /// Ask this kmh server (`http://host:port`) instead of a data folder,
    /// with a staff credential (`--key`, the secret in KMH_SECRET): the
    /// report holds only what that credential may read (its course, cohort
    /// and country limits; identities only with the identities scope).
    #[arg(long, env = "KMH_SERVER", value_name = "URL", requires = "key")]
    pub server: Option<String>,
    /// Key of the staff credential used with `--server`.
    #[arg(long, env = "KMH_KEY", requires = "server")]
    pub key: Option<String>,
    /// Its secret; prefer the environment variable, which other users of
    /// the machine cannot read from the process list.
    #[arg(long, env = "KMH_SECRET", hide_env_values = true, requires = "server")]
    pub secret: Option<String>,
}

impl ReportArgs {
    fn filter(&self) -> Filter {
        Filter {
            course: self.course.clone(),
            module: self.module.clone(),
            cohort: self.cohort.clone(),
            language: self.language.clone(),
            country: self.country.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            slice: Default::default(),
        }
        .normalized()
    }
}

#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
}

/// `kmh reindex`: needs the store to itself.
pub fn reindex(args: ReindexArgs) -> anyhow::Result<()> {
    let store = match open_existing(&args.data) {
        Err(StoreError::Locked(dir)) => bail!(
            "{} is in use by a running kmh serve; stop it, then run kmh reindex",
            dir.display()
        ),
        other => other.with_context(|| format!("opening the store in {}", args.data.display()))?,
    };
    let started = Instant::now();
    let n = store.rebuild_analytics()?;
    println!(
        "kmh reindex: rebuilt the read models ({n} learner enrolments) from about {} statements in {:.1} s",
        store.approximate_statement_count(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Where the answers come from.
enum Source {
    Local(Store),
    Remote {
        url: String,
        caller: Caller,
        client: reqwest::Client,
        runtime: tokio::runtime::Runtime,
    },
}

/// Who a remote report asks as.
enum Caller {
    /// The server's admin token (from the data folder): sees everything.
    Admin(String),
    /// A staff credential: sees its slice.
    Staff { key: String, secret: String },
}

impl Source {
    fn open(args: &ReportArgs) -> anyhow::Result<Source> {
        if let Some(server) = &args.server {
            let (Some(key), Some(secret)) = (&args.key, &args.secret) else {
                bail!("--server needs the credential's --key and its secret in KMH_SECRET");
            };
            let url = server.trim_end_matches('/');
            let url = url.strip_suffix("/xapi").unwrap_or(url).to_owned();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--server {server:?}: expected an http(s) URL");
            }
            return Ok(Source::Remote {
                url,
                caller: Caller::Staff {
                    key: key.clone(),
                    secret: secret.clone(),
                },
                client: reqwest::Client::new(),
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?,
            });
        }
        let data = args.data.as_path();
        match open_existing(data) {
            Ok(store) => Ok(Source::Local(store)),
            Err(StoreError::Locked(_)) => {
                let (url, token) = server_contact(data)?;
                Ok(Source::Remote {
                    url,
                    caller: Caller::Admin(token),
                    client: reqwest::Client::new(),
                    runtime: tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?,
                })
            }
            Err(e) => Err(e).with_context(|| format!("opening the store in {}", data.display())),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let Source::Remote {
            url,
            caller,
            client,
            runtime,
        } = self
        else {
            bail!("not a remote source");
        };
        let (status, text) = runtime.block_on(async {
            let request = client.get(format!("{url}{path}"));
            let request = match caller {
                Caller::Admin(token) => request.bearer_auth(token),
                Caller::Staff { key, secret } => request.basic_auth(key, Some(secret)),
            };
            let r = request
                .query(query)
                .send()
                .await
                .with_context(|| format!("reaching the running server at {url}"))?;
            let status = r.status();
            anyhow::Ok((status, r.text().await?))
        })?;
        if !status.is_success() {
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or(text);
            bail!("the server answered {status}: {msg}");
        }
        Ok(serde_json::from_str(&text)?)
    }
}

fn query_of(filter: &Filter, lang: &str) -> Vec<(&'static str, String)> {
    let mut q = vec![("lang", lang.to_owned())];
    for (name, v) in [
        ("course", &filter.course),
        ("module", &filter.module),
        ("cohort", &filter.cohort),
        ("language", &filter.language),
        ("country", &filter.country),
        ("from", &filter.from),
        ("to", &filter.to),
    ] {
        if let Some(v) = v {
            q.push((name, v.clone()));
        }
    }
    q
}

fn overview(src: &Source, filter: &Filter, lang: &str) -> anyhow::Result<Overview> {
    match src {
        Source::Local(store) => Ok(indicators::overview(
            store.analytics()?,
            store,
            filter,
            lang,
        )?),
        remote => remote.get("/analytics/overview", &query_of(filter, lang)),
    }
}

fn progress(
    src: &Source,
    filter: &Filter,
    lang: &str,
    ids: bool,
) -> anyhow::Result<Vec<Vec<String>>> {
    let mut table: Vec<Vec<String>> = match src {
        Source::Local(store) => {
            indicators::progress_table(store.analytics()?, store, filter, ids, lang)?
        }
        remote => remote.get("/analytics/progress", &query_of(filter, lang))?,
    };
    if !ids {
        drop_identity_columns(&mut table);
    }
    Ok(table)
}

/// The admin token sees identities; without `--identities` the report
/// keeps to pseudonyms all the same.
fn drop_identity_columns(table: &mut [Vec<String>]) {
    let Some(header) = table.first() else { return };
    let drop: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| *h == "identity" || *h == "name")
        .map(|(i, _)| i)
        .collect();
    for row in table.iter_mut() {
        for &i in drop.iter().rev() {
            if i < row.len() {
                row.remove(i);
            }
        }
    }
}

fn learners(src: &Source, filter: &Filter, lang: &str, ids: bool) -> anyhow::Result<LearnerPage> {
    let page_size = crate::analytics::http::MAX_LEARNERS_PAGE;
    let mut all: Option<LearnerPage> = None;
    let mut offset = 0;
    loop {
        let page = match src {
            Source::Local(store) => indicators::learners(
                store.analytics()?,
                store,
                filter,
                None,
                offset,
                page_size,
                ids,
                lang,
            )?,
            remote => {
                let mut q = query_of(filter, lang);
                q.push(("offset", offset.to_string()));
                q.push(("limit", page_size.to_string()));
                let mut p: LearnerPage = remote.get("/analytics/learners", &q)?;
                if !ids {
                    for l in &mut p.learners {
                        l.identity = None;
                        l.name = None;
                    }
                }
                p
            }
        };
        let n = page.learners.len();
        let total = page.total as usize;
        match &mut all {
            None => all = Some(page),
            Some(a) => a.learners.extend(page.learners),
        }
        offset += n;
        if n == 0 || offset >= total {
            break;
        }
    }
    Ok(all.unwrap_or(LearnerPage {
        course: None,
        total: 0,
        offset: 0,
        learners: Vec::new(),
    }))
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let src = Source::open(&args)?;
    let filter = args.filter();
    // Reading the data folder directly is access like any other: the audit
    // log keeps it (through a server, the server records the requests).
    if let Source::Local(store) = &src {
        store.audit(&crate::store::AuditEntry {
            credential: "kmh report".into(),
            action: if args.identities {
                crate::store::AuditAction::Reidentify
            } else {
                crate::store::AuditAction::Read
            },
            resource: format!("report {:?}", args.view).to_lowercase(),
            query: serde_json::to_string(&filter)?,
            rows: None,
            status: 0,
        })?;
        store.sync_audit()?;
    }
    if let Some(n) = args.repeat {
        return bench(&src, &args, &filter, n.max(1));
    }
    let lang = args.lang.as_str();
    let text = match (args.view, args.format) {
        (View::Indicators, Format::Json) => {
            serde_json::to_string_pretty(&overview(&src, &filter, lang)?)? + "\n"
        }
        (View::Indicators, Format::Csv) => {
            indicators::to_csv(&indicator_rows(&overview(&src, &filter, lang)?))
        }
        (View::Indicators, Format::Table) => indicators_text(&overview(&src, &filter, lang)?),
        (View::Questions, format) => {
            let o = overview(&src, &filter, lang)?;
            match format {
                Format::Json => serde_json::to_string_pretty(&o.questions)? + "\n",
                f => render(&question_rows(&o), f),
            }
        }
        (View::Progress, format) => {
            render(&progress(&src, &filter, lang, args.identities)?, format)
        }
        (View::Learners, Format::Json) => {
            serde_json::to_string_pretty(&learners(&src, &filter, lang, args.identities)?)? + "\n"
        }
        (View::Learners, format) => render(
            &learner_rows(&learners(&src, &filter, lang, args.identities)?),
            format,
        ),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("kmh report: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// Times the query behind the view (over HTTP when a server holds the
/// store; in process otherwise, after the read models are loaded).
fn bench(src: &Source, args: &ReportArgs, filter: &Filter, n: usize) -> anyhow::Result<()> {
    let lang = args.lang.as_str();
    if let Source::Local(store) = src {
        let t = Instant::now();
        let state = store.analytics()?;
        let enrolments = state.read().map(|s| s.len()).unwrap_or(0);
        eprintln!(
            "loaded the read models ({enrolments} enrolments) in {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        match args.view {
            View::Indicators | View::Questions => {
                overview(src, filter, lang)?;
            }
            View::Progress => {
                progress(src, filter, lang, args.identities)?;
            }
            View::Learners => match src {
                Source::Local(store) => {
                    indicators::learners(
                        store.analytics()?,
                        store,
                        filter,
                        Some(&format!("{:x}", i % 16)),
                        0,
                        50,
                        args.identities,
                        lang,
                    )?;
                }
                remote => {
                    let mut q = query_of(filter, lang);
                    q.push(("q", format!("{:x}", i % 16)));
                    remote.get::<LearnerPage>("/analytics/learners", &q)?;
                }
            },
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{:?} ({}) × {n}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        args.view,
        match src {
            Source::Local(_) => "in process",
            Source::Remote { .. } => "over HTTP",
        },
        at(0.5),
        at(0.95),
        at(1.0)
    );
    Ok(())
}

pub(crate) fn render(table: &[Vec<String>], format: Format) -> String {
    match format {
        Format::Csv => indicators::to_csv(table),
        Format::Json => {
            let Some((header, rows)) = table.split_first() else {
                return "[]\n".into();
            };
            let objects: Vec<Value> = rows
                .iter()
                .map(|r| {
                    Value::Object(
                        header
                            .iter()
                            .cloned()
                            .zip(r.iter().map(|c| Value::String(c.clone())))
                            .collect(),
                    )
                })
                .collect();
            serde_json::to_string_pretty(&objects).unwrap_or_default() + "\n"
        }
        Format::Table => text_table(table),
    }
}

/// Columns aligned for a terminal; long cells are shortened.
fn text_table(table: &[Vec<String>]) -> String {
    const MAX: usize = 48;
    let cut = |s: &str| -> String {
        if s.chars().count() > MAX {
            s.chars().take(MAX - 1).collect::<String>() + "…"
        } else {
            s.to_owned()
        }
    };
    let cells: Vec<Vec<String>> = table
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |s: &str| {
        !s.is_empty()
            && s.trim_end_matches('%')
                .trim_start_matches(['+', '-'])
                .parse::<f64>()
                .is_ok()
    };
    let mut out = String::new();
    for (n, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i].saturating_sub(c.chars().count());
                if n > 0 && numeric(c) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn num(x: Option<f64>, digits: usize) -> String {
    x.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

fn gain(x: Option<f64>) -> String {
    x.map(|v| format!("{:+.0} pts", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn indicators_text(o: &Overview) -> String {
    let mut out = String::new();
    let Some(course) = &o.course else {
        return "No learner activity recorded yet.\n".into();
    };
    out.push_str(&format!("{} ({})\n", course.title, course.id));
    let f = &o.filter;
    let filters: Vec<String> = [
        ("module", &f.module),
        ("cohort", &f.cohort),
        ("language", &f.language),
        ("country", &f.country),
        ("from", &f.from),
        ("to", &f.to),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect();
    if !filters.is_empty() {
        out.push_str(&format!("Filters: {}\n", filters.join(", ")));
    }
    let s = &o.summary;
    let of = |n: u32| {
        if s.enrolled > 0 {
            format!(" ({:.0}%)", n as f64 * 100.0 / s.enrolled as f64)
        } else {
            String::new()
        }
    };
    out.push_str(&format!(
        "\nEnrolled {} · started {}{} · completed {}{} · passed {}{}\n",
        s.enrolled,
        s.started,
        of(s.started),
        s.completed,
        of(s.completed),
        s.passed,
        of(s.passed)
    ));
    out.push_str(&format!(
        "Median time to complete: {} days; median time in modules: {} hours\n",
        num(s.median_days_to_complete, 1),
        num(s.median_hours_spent, 1)
    ));

    out.push_str("\nModules\n");
    let mut t = vec![row(&[
        "module",
        "started",
        "completed",
        "passed",
        "failed",
        "mean score",
        "median min",
        "stopped here",
    ])];
    for r in &o.funnel {
        t.push(vec![
            r.module.clone(),
            r.started.to_string(),
            r.completed.to_string(),
            r.passed.to_string(),
            r.failed.to_string(),
            pct(r.mean_score),
            num(r.median_minutes, 0),
            r.stopped_here.to_string(),
        ]);
    }
    out.push_str(&text_table(&t));

    let a = &o.assessment;
    if a.pairs > 0 {
        out.push_str(&format!(
            "\nPre/post assessment ({} → {}): {} learners with both; {} improved; normalised gain {}\n",
            a.pre_module.as_deref().unwrap_or("?"),
            a.post_module.as_deref().unwrap_or("?"),
            a.pairs,
            pct(a.improved_share),
            num(a.normalized_gain_mean, 2)
        ));
        let mut t = vec![row(&["part", "pairs", "pre", "post", "gain"])];
        t.push(vec![
            "overall".into(),
            a.pairs.to_string(),
            pct(a.pre_mean),
            pct(a.post_mean),
            gain(a.gain_mean),
        ]);
        for r in &a.by_tag {
            t.push(vec![
                r.tag.clone(),
                r.pairs.to_string(),
                pct(r.pre_mean),
                pct(r.post_mean),
                gain(r.gain_mean),
            ]);
        }
        out.push_str(&text_table(&t));
    }

    let sat = &o.satisfaction;
    if !sat.questions.is_empty() {
        out.push_str(&format!(
            "\nSatisfaction ({}): {} respondents\n",
            sat.module.as_deref().unwrap_or("?"),
            sat.respondents
        ));
        let points = sat
            .questions
            .iter()
            .map(|q| q.counts.len())
            .max()
            .unwrap_or(5);
        let mut header = vec!["question".to_owned(), "answers".into(), "mean".into()];
        header.extend((1..=points).map(|p| p.to_string()));
        let mut t = vec![header];
        for q in &sat.questions {
            let mut r = vec![q.question.clone(), q.responses.to_string(), num(q.mean, 2)];
            r.extend(q.counts.iter().map(u32::to_string));
            t.push(r);
        }
        out.push_str(&text_table(&t));
        if !sat.comments.is_empty() {
            out.push_str(&format!(
                "{} comments (kmh report --format json shows them)\n",
                sat.comments.len()
            ));
        }
    }

    if !o.questions.is_empty() {
        let mut qs: Vec<_> = o
            .questions
            .iter()
            .filter(|q| q.correct_rate.is_some())
            .collect();
        qs.sort_by(|a, b| {
            a.correct_rate
                .partial_cmp(&b.correct_rate)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        out.push_str("\nHardest questions (kmh report questions lists all)\n");
        let mut t = vec![row(&["module", "question", "part", "learners", "correct"])];
        for q in qs.into_iter().take(8) {
            t.push(vec![
                q.module.clone(),
                q.question.clone(),
                q.tag.clone().unwrap_or_default(),
                q.learners.to_string(),
                pct(q.correct_rate),
            ]);
        }
        out.push_str(&text_table(&t));
    }
    out
}

/// Every indicator as one long table: section, indicator, key, value.
fn indicator_rows(o: &Overview) -> Vec<Vec<String>> {
    let mut rows = vec![row(&["section", "indicator", "key", "value"])];
    let mut add = |section: &str, indicator: &str, key: &str, value: String| {
        rows.push(vec![section.into(), indicator.into(), key.into(), value]);
    };
    let f = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    if let Some(c) = &o.course {
        add("course", "course", &c.id, c.title.clone());
    }
    let s = &o.summary;
    add("summary", "enrolled", "", s.enrolled.to_string());
    add("summary", "started", "", s.started.to_string());
    add("summary", "completed", "", s.completed.to_string());
    add("summary", "passed", "", s.passed.to_string());
    add("summary", "completion_rate", "", f(s.completion_rate));
    add("summary", "pass_rate", "", f(s.pass_rate));
    add(
        "summary",
        "median_days_to_complete",
        "",
        f(s.median_days_to_complete),
    );
    add("summary", "median_hours_spent", "", f(s.median_hours_spent));
    for r in &o.funnel {
        add("module", "started", &r.module, r.started.to_string());
        add("module", "completed", &r.module, r.completed.to_string());
        add("module", "passed", &r.module, r.passed.to_string());
        add("module", "failed", &r.module, r.failed.to_string());
        add("module", "mean_score", &r.module, f(r.mean_score));
        add("module", "median_minutes", &r.module, f(r.median_minutes));
        add(
            "module",
            "stopped_here",
            &r.module,
            r.stopped_here.to_string(),
        );
    }
    let a = &o.assessment;
    add("assessment", "pairs", "overall", a.pairs.to_string());
    add("assessment", "pre_mean", "overall", f(a.pre_mean));
    add("assessment", "post_mean", "overall", f(a.post_mean));
    add("assessment", "gain_mean", "overall", f(a.gain_mean));
    add(
        "assessment",
        "normalized_gain_mean",
        "overall",
        f(a.normalized_gain_mean),
    );
    add(
        "assessment",
        "improved_share",
        "overall",
        f(a.improved_share),
    );
    for r in &a.by_tag {
        add("assessment", "pairs", &r.tag, r.pairs.to_string());
        add("assessment", "pre_mean", &r.tag, f(r.pre_mean));
        add("assessment", "post_mean", &r.tag, f(r.post_mean));
        add("assessment", "gain_mean", &r.tag, f(r.gain_mean));
    }
    add(
        "satisfaction",
        "respondents",
        "",
        o.satisfaction.respondents.to_string(),
    );
    for q in &o.satisfaction.questions {
        add(
            "satisfaction",
            "responses",
            &q.question,
            q.responses.to_string(),
        );
        add("satisfaction", "mean", &q.question, f(q.mean));
        for (i, c) in q.counts.iter().enumerate() {
            add(
                "satisfaction",
                &format!("answers_{}", i + 1),
                &q.question,
                c.to_string(),
            );
        }
    }
    for q in &o.questions {
        let key = format!("{}/{}", q.module, q.question);
        add("question", "learners", &key, q.learners.to_string());
        add("question", "attempts", &key, q.attempts.to_string());
        add("question", "correct_rate", &key, f(q.correct_rate));
    }
    for p in &o.over_time.points {
        add("over_time", "started", &p.start, p.started.to_string());
        add("over_time", "completed", &p.start, p.completed.to_string());
    }
    rows
}

fn question_rows(o: &Overview) -> Vec<Vec<String>> {
    let mut rows = vec![row(&[
        "module",
        "question",
        "part",
        "type",
        "learners",
        "attempts",
        "graded",
        "correct_rate",
        "title",
    ])];
    for q in &o.questions {
        rows.push(vec![
            q.module.clone(),
            q.question.clone(),
            q.tag.clone().unwrap_or_default(),
            q.kind.clone().unwrap_or_default(),
            q.learners.to_string(),
            q.attempts.to_string(),
            q.graded.to_string(),
            q.correct_rate
                .map(|v| format!("{v:.3}"))
                .unwrap_or_default(),
            q.title.clone(),
        ]);
    }
    rows
}

fn learner_rows(p: &LearnerPage) -> Vec<Vec<String>> {
    let ids = p.learners.iter().any(|l| l.identity.is_some());
    let mut header = vec!["learner"];
    if ids {
        header.extend(["identity", "name"]);
    }
    header.extend([
        "country",
        "language",
        "cohort",
        "status",
        "modules_completed",
        "modules_total",
        "pre",
        "post",
        "first",
        "last",
    ]);
    let mut rows = vec![row(&header)];
    let score = |v: Option<f64>| v.map(|s| format!("{s:.3}")).unwrap_or_default();
    for l in &p.learners {
        let mut r = vec![l.id.clone()];
        if ids {
            r.push(l.identity.clone().unwrap_or_default());
            r.push(l.name.clone().unwrap_or_default());
        }
        r.extend([
            l.country.clone().unwrap_or_default(),
            l.language.clone().unwrap_or_default(),
            l.cohort.clone().unwrap_or_default(),
            l.status.clone(),
            l.modules_completed.to_string(),
            l.modules_total.to_string(),
            score(l.pre),
            score(l.post),
            l.first.clone(),
            l.last.clone(),
        ]);
        rows.push(r);
    }
    rows
}
