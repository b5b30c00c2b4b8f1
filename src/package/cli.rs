//! Arguments and output of `kmh package` and `kmh validate`.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::package::build::{self, BuildOptions, Progress, Target};
use crate::package::error::PackageError;
use crate::package::validate::{self, ValidateOptions};

#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// A course folder (with course.toml) or one module folder (with module.toml).
    pub source: PathBuf,

    /// Package format; repeat or separate with commas. Default: all three
    /// (one zip per format). cmi5 zips carry cmi5.xml and launch through
    /// the LMS's own LRS.
    #[arg(long, value_enum, value_delimiter = ',', env = "KMH_TARGET", default_values_t = Target::ALL)]
    pub target: Vec<Target>,

    /// Folder the zips are written to (created if missing).
    #[arg(long, env = "KMH_OUT", default_value = "dist")]
    pub out: PathBuf,

    /// xAPI endpoint of the LRS the content reports to, written to the
    /// package's kmh-runtime.json.
    #[arg(long, env = "KMH_LRS", value_name = "URL")]
    pub lrs: Option<String>,

    /// Data folder of that LRS (`kmh serve --data`): issue a package
    /// credential there (directly, or through the running server) and write
    /// its key and secret into kmh-runtime.json. The credential may only
    /// write statements and State about this package's own activities;
    /// revoke it with `kmh creds revoke KEY`.
    #[arg(long, env = "KMH_LRS_DATA", value_name = "DIR", requires = "lrs")]
    pub lrs_data: Option<PathBuf>,

    /// Browser origin (the LMS's) allowed to use the package credential;
    /// repeat or separate with commas (default: any origin).
    #[arg(
        long,
        env = "KMH_LRS_ORIGIN",
        value_delimiter = ',',
        requires = "lrs_data"
    )]
    pub lrs_origin: Vec<String>,

    /// Make the package credential store the learners it reports about by
    /// pseudonym, also when the LRS as a whole does not.
    #[arg(long, env = "KMH_LRS_PSEUDONYMISE", requires = "lrs_data")]
    pub lrs_pseudonymise: bool,

    /// Build only these languages of a course; repeat or separate with commas.
    #[arg(long, env = "KMH_LANG", value_delimiter = ',')]
    pub lang: Vec<String>,

    /// One zip per module instead of one multi-SCO zip per course and language.
    #[arg(long, env = "KMH_PER_MODULE")]
    pub per_module: bool,

    /// Cohort of the learners the package is built for (e.g. a partner's
    /// 2026-C1): every statement carries it (`urn:kmh:ext:cohort`) unless
    /// the launch URL gives `cohort=`.
    #[arg(long, env = "KMH_COHORT", value_parser = build::parse_cohort)]
    pub cohort: Option<String>,

    /// Country of the learners the package is built for (ISO 3166-1
    /// alpha-2, e.g. SN): every statement carries it
    /// (`urn:kmh:ext:country`) unless the launch URL gives `country=`.
    #[arg(long, env = "KMH_COUNTRY", value_parser = build::parse_country)]
    pub country: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Package zips or unpacked package folders (SCORM 1.2, SCORM 2004 or
    /// cmi5: imsmanifest.xml or cmi5.xml at the root), or bare
    /// imsmanifest.xml / cmi5.xml files. A cmi5.xml on its own must give
    /// absolute AU URLs (cmi5 §14.2).
    #[arg(required = true)]
    pub packages: Vec<PathBuf>,

    /// Print a machine-readable report (one JSON object; an array for several packages).
    #[arg(long, env = "KMH_JSON")]
    pub json: bool,

    /// Check the manifest (or cmi5.xml) only, not the package's files
    /// (automatic for a bare imsmanifest.xml or cmi5.xml).
    #[arg(long, env = "KMH_MANIFEST_ONLY")]
    pub manifest_only: bool,

    /// Treat warnings as errors.
    #[arg(long, env = "KMH_STRICT")]
    pub strict: bool,
}

/// Runs `kmh package`; returns the process exit code (1: errors in the
/// sources, reported on stderr with file and line).
pub fn run_package(args: &PackageArgs) -> Result<i32, PackageError> {
    let lrs_credential = match (&args.lrs, &args.lrs_data) {
        (Some(lrs), Some(data)) => {
            build::check_lrs(lrs)?;
            let languages = (!args.lang.is_empty()).then_some(args.lang.as_slice());
            let activities = match build::activity_prefixes(&args.source, languages) {
                Ok(a) => a,
                // The build reports the sources' problems with file and line.
                Err(PackageError::Source(_)) => vec![],
                Err(e) => return Err(e),
            };
            if activities.is_empty() {
                None
            } else {
                Some(issue_credential(
                    data,
                    &args.lrs_origin,
                    activities,
                    args.lrs_pseudonymise,
                )?)
            }
        }
        _ => None,
    };
    let opts = BuildOptions {
        targets: args.target.clone(),
        out_dir: args.out.clone(),
        lrs: args.lrs.clone(),
        lrs_credential: lrs_credential.clone(),
        languages: (!args.lang.is_empty()).then(|| args.lang.clone()),
        per_module: args.per_module,
        context: build::LearnerContext {
            cohort: args.cohort.clone(),
            country: args.country.clone(),
        },
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = |p: Progress| match p {
        Progress::Start(n) => {
            // One zip is done before a bar would be worth looking at.
            if n <= 1 {
                bar.set_draw_target(ProgressDrawTarget::hidden());
            }
            bar.set_length(n)
        }
        Progress::Building(name) => bar.set_message(name),
        Progress::Done => bar.inc(1),
    };
    let outcome = match build::build(&args.source, &opts, &progress) {
        Ok(o) => o,
        Err(PackageError::Source(diags)) => {
            bar.finish_and_clear();
            for d in &diags.0 {
                eprintln!("{d}");
            }
            let n = diags.errors().count();
            eprintln!(
                "kmh package: {n} error{} in the sources; nothing written",
                if n == 1 { "" } else { "s" }
            );
            return Ok(1);
        }
        Err(e) => {
            bar.finish_and_clear();
            return Err(e);
        }
    };
    bar.finish_and_clear();
    for w in &outcome.warnings.0 {
        eprintln!("{w}");
    }

    let width = outcome
        .built
        .iter()
        .map(|b| b.path.display().to_string().len())
        .max()
        .unwrap_or(0);
    println!(
        "Wrote {} package{}:",
        outcome.built.len(),
        if outcome.built.len() == 1 { "" } else { "s" }
    );
    let mut total = 0;
    for b in &outcome.built {
        total += b.size;
        let links = match b.links {
            0 => String::new(),
            1 => ", 1 link".to_string(),
            n => format!(", {n} links"),
        };
        // Every module of a cmi5 package is an AU, links included.
        let (units, unit, links) = match b.target {
            Target::Cmi5 => (b.scos + b.links, "AU", String::new()),
            _ => (b.scos, "SCO", links),
        };
        println!(
            "  {:<width$}  {:>10}  {units} {unit}{}{links}, {} files",
            b.path.display().to_string(),
            human_size(b.size),
            if units == 1 { "" } else { "s" },
            b.files,
        );
    }
    if outcome.built.len() > 1 {
        println!("  {:<width$}  {:>10}", "total", human_size(total));
    }
    if let Some(c) = &lrs_credential {
        println!(
            "Package credential {} (statements/write, state; only this package's activities) is in kmh-runtime.json; revoke it with: kmh creds revoke {}",
            c.key, c.key
        );
    } else if args.lrs.is_some() {
        eprintln!(
            "kmh package: no --lrs-data, so the package carries no LRS credential: it reports by xAPI only when launched with xAPI launch parameters (endpoint, auth, actor)"
        );
    }
    Ok(0)
}

/// Issues the package credential (`statements/write` + `state`, limited to
/// the package's activities and the given origins).
fn issue_credential(
    data: &std::path::Path,
    origins: &[String],
    activities: Vec<String>,
    pseudonymise: bool,
) -> Result<build::LrsCredential, PackageError> {
    let label = format!("package: {}", activities.join(" "));
    let issued = crate::cli::creds::add(
        data,
        crate::lrs::admin::NewCredential {
            scopes: vec!["statements/write".into(), "state".into()],
            origins: origins.to_vec(),
            activities,
            courses: vec![],
            cohorts: vec![],
            countries: vec![],
            label,
            pseudonymise,
        },
    )
    .map_err(|e| PackageError::Usage(format!("--lrs-data {}: {e:#}", data.display())))?;
    Ok(build::LrsCredential {
        key: issued.info.key,
        secret: issued.secret,
    })
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Runs `kmh validate`; returns 0 when every package is valid (warnings
/// allowed unless `--strict`), 1 otherwise.
pub fn run_validate(args: &ValidateArgs) -> Result<i32, PackageError> {
    let mut reports = Vec::new();
    for p in &args.packages {
        reports.push(validate::validate_path(
            p,
            ValidateOptions {
                manifest_only: args.manifest_only,
                ..ValidateOptions::default()
            },
        )?);
    }
    let failed = reports
        .iter()
        .any(|r| !r.valid || (args.strict && r.warnings > 0));
    if args.json {
        let json = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])
        } else {
            serde_json::to_string_pretty(&reports)
        }
        .map_err(|e| PackageError::Internal(e.to_string()))?;
        println!("{json}");
    } else {
        for r in &reports {
            print!("{}", r.to_text());
        }
    }
    Ok(if failed { 1 } else { 0 })
}
