//! `kmh serve --courses DIR`: finds the courses to publish at `/courses/`,
//! renders them with the packager and gives each its course credential.
//!
//! A course credential is made once and kept: its key is in the store like
//! any credential (labelled `course site: <course IRI>`), its secret in
//! `course-credentials.json` in the data folder (readable by the owner
//! only), since the store keeps only a digest of secrets. When the course's
//! modules change, or the secret is lost (a restored backup), a new one is
//! made and the old one revoked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::lrs::courses::{CourseSite, PublishedCourse};
use crate::lrs::credentials::{self, Scope};
use crate::package::PackageError;
use crate::package::web::{self, WebCourse};
use crate::store::Store;

/// Where the course credentials' secrets are kept, in the data folder.
pub const SECRETS_FILE: &str = "course-credentials.json";
/// The folder published when `--courses` is not given, if it exists.
const DEFAULT_DIR: &str = "./packages";

#[derive(Debug, Clone, clap::Args)]
pub struct CoursesArgs {
    /// Course sources to publish for learners at /courses/: a course folder
    /// (with course.toml) or a folder of them (see packages/FORMAT.md).
    /// Default: ./packages when it exists. An empty value publishes none.
    #[arg(long, env = "KMH_COURSES", value_name = "DIR")]
    pub courses: Option<PathBuf>,
    /// Publish no course (same as `--courses ''`).
    #[arg(long, env = "KMH_NO_COURSES", conflicts_with = "courses")]
    pub no_courses: bool,
}

impl CoursesArgs {
    /// The folder to publish, and whether the user named it (then finding
    /// no course in it is an error).
    fn folder(&self) -> Option<(PathBuf, bool)> {
        if self.no_courses {
            return None;
        }
        match &self.courses {
            Some(dir) if dir.as_os_str().is_empty() => None,
            Some(dir) => Some((dir.clone(), true)),
            None => {
                let dir = PathBuf::from(DEFAULT_DIR);
                dir.is_dir().then_some((dir, false))
            }
        }
    }

    /// The same choice as arguments of `kmh serve` (for `kmh demo --serve`).
    pub fn to_args(&self) -> Vec<String> {
        if self.no_courses {
            vec!["--no-courses".into()]
        } else if let Some(dir) = &self.courses {
            vec!["--courses".into(), dir.display().to_string()]
        } else {
            vec![]
        }
    }
}

/// The course folders in `dir`: `dir` itself when it holds `course.toml`,
/// else each of its subfolders that does, sorted by name.
fn course_folders(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join("course.toml").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("--courses {}: cannot read the folder", dir.display()))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("--courses {}: cannot read the folder", dir.display()))?
            .path();
        if path.join("course.toml").is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Renders every course of the chosen folder (none without one). Problems
/// in the sources stop the start, each with file and line.
pub fn load(args: &CoursesArgs) -> anyhow::Result<Vec<WebCourse>> {
    let Some((dir, named)) = args.folder() else {
        return Ok(vec![]);
    };
    let folders = course_folders(&dir)?;
    if folders.is_empty() && named {
        bail!(
            "--courses {}: no course there (no course.toml in it or in its subfolders); \
             `--courses ''` or --no-courses publishes none",
            dir.display()
        );
    }
    let mut courses: Vec<WebCourse> = Vec::new();
    for folder in folders {
        let course = match web::load(&folder) {
            Ok(c) => c,
            Err(PackageError::Source(diags)) => {
                let lines: Vec<String> = diags.0.iter().map(ToString::to_string).collect();
                bail!(
                    "the course in {} has errors, so it cannot be published (fix them, or start with --no-courses):\n{}",
                    folder.display(),
                    lines.join("\n")
                );
            }
            Err(e) => {
                return Err(anyhow::anyhow!("{e}"))
                    .with_context(|| format!("publishing the course in {}", folder.display()));
            }
        };
        if let Some(other) = courses.iter().find(|c| c.id == course.id) {
            bail!(
                "two courses have the id {:?} ({} and {}): course ids must differ to be published together",
                course.id,
                other.iri,
                course.iri
            );
        }
        for w in &course.warnings.0 {
            tracing::warn!("{w}");
        }
        courses.push(course);
    }
    Ok(courses)
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Secrets(BTreeMap<String, KeptCredential>);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptCredential {
    key: String,
    secret: String,
}

fn label(course: &WebCourse) -> String {
    format!("course site: {}", course.iri)
}

/// Gives each course its credential (the one kept if it still fits) and
/// builds the site to serve.
pub fn publish(store: &Store, data: &Path, courses: Vec<WebCourse>) -> anyhow::Result<CourseSite> {
    if courses.is_empty() {
        return Ok(CourseSite::default());
    }
    let path = data.join(SECRETS_FILE);
    let mut secrets: Secrets = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a course credentials file", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Secrets::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let stored = store.credentials()?;
    let wanted_scopes = ["state".to_owned(), "statements/write".to_owned()];
    let mut changed = false;
    let mut published = Vec::new();
    for course in courses {
        let label = label(&course);
        let kept = secrets.0.get(&course.iri).filter(|k| {
            stored.iter().any(|r| {
                r.key == k.key
                    && r.label == label
                    && r.scopes == wanted_scopes
                    && r.activities == course.activity_prefixes
                    && credentials::CredentialSet::from_records(std::slice::from_ref(r))
                        .authenticate(&k.key, &k.secret)
                        .is_some()
            })
        });
        let kept = match kept {
            Some(k) => k.clone(),
            None => {
                let issued = credentials::issue_limited(
                    &[Scope::StatementsWrite, Scope::State],
                    Vec::new(),
                    course.activity_prefixes.clone(),
                    label.clone(),
                );
                store.put_credential(&issued.record)?;
                let k = KeptCredential {
                    key: issued.record.key.clone(),
                    secret: issued.secret,
                };
                secrets.0.insert(course.iri.clone(), k.clone());
                changed = true;
                k
            }
        };
        // An earlier credential of this course (its modules changed, or its
        // secret was lost) is no longer handed out: revoke it.
        for old in stored
            .iter()
            .filter(|r| r.label == label && r.key != kept.key)
        {
            store.delete_credential(&old.key)?;
        }
        published.push(PublishedCourse {
            course,
            key: kept.key,
            secret: kept.secret,
        });
    }
    if changed {
        super::serve::write_private(&path, &serde_json::to_vec_pretty(&secrets)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(CourseSite::new(published))
}
