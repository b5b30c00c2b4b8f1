//! `kmh creds add|list|revoke`: manage credentials. Works on the store
//! directly when no server holds it, and through the running server's
//! admin endpoints when one does.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::server::{admin_call, admin_post_json};
use crate::lrs::admin::{CredentialInfo, IssuedCredential, NewCredential};
use crate::lrs::credentials::Scope;
use crate::store::{Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct CredsArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data", global = true)]
    pub data: PathBuf,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub action: CredsAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum CredsAction {
    /// Create a credential; its secret is shown once.
    Add {
        /// A scope to grant (repeat for several): statements/write,
        /// statements/read, statements/read/mine, all/read, all, state,
        /// profile, define, analytics/read, identities.
        #[arg(
            long = "scope",
            env = "KMH_CREDS_SCOPES",
            value_delimiter = ',',
            required = true
        )]
        scopes: Vec<Scope>,
        /// A browser origin allowed to use it (repeat for several; default: any).
        #[arg(long = "origin", env = "KMH_CREDS_ORIGINS", value_delimiter = ',')]
        origins: Vec<String>,
        /// An activity IRI prefix the credential is limited to (repeat for
        /// several; default: any activity). Such a credential may only write
        /// statements whose object is one of those activities, and their State.
        #[arg(long = "activity", env = "KMH_CREDS_ACTIVITIES", value_delimiter = ',')]
        activities: Vec<String>,
        /// Limit reading to learners of this course (IRI or id; repeat
        /// for several): the analytics, the dashboard, CSV and GET
        /// statements then show only them. Only with read scopes
        /// (analytics/read, statements/read, identities).
        #[arg(long = "course", env = "KMH_CREDS_COURSES", value_delimiter = ',')]
        courses: Vec<String>,
        /// Limit reading to learners of this cohort (or registration;
        /// repeat for several).
        #[arg(long = "cohort", env = "KMH_CREDS_COHORTS", value_delimiter = ',')]
        cohorts: Vec<String>,
        /// Limit reading to learners in this country (ISO 3166-1 alpha-2;
        /// repeat for several).
        #[arg(long = "country", env = "KMH_CREDS_COUNTRIES", value_delimiter = ',')]
        countries: Vec<String>,
        /// What the credential is for (shown as the authority's name).
        #[arg(long, env = "KMH_CREDS_LABEL", default_value = "")]
        label: String,
        /// Store the learners this credential writes about (statements,
        /// State and Agent Profile documents) by pseudonym, also when the
        /// store as a whole does not.
        #[arg(long, env = "KMH_CREDS_PSEUDONYMISE")]
        pseudonymise: bool,
    },
    /// List credentials (never their secrets).
    List,
    /// Revoke a credential at once.
    Revoke {
        /// The credential's key.
        key: String,
    },
}

/// Issues a credential in the store at `data`, directly or through the
/// `kmh serve` that holds it. `kmh package --lrs` uses this too.
pub fn add(data: &Path, request: NewCredential) -> anyhow::Result<IssuedCredential> {
    match Store::open(data) {
        Ok(store) => {
            let issued = request.issue().map_err(anyhow::Error::msg)?;
            store.put_credential(&issued.record)?;
            Ok(IssuedCredential {
                info: CredentialInfo::from(&issued.record),
                secret: issued.secret,
            })
        }
        Err(StoreError::Locked(_)) => admin_post_json(data, "/credentials", &request),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", data.display())),
    }
}

pub fn run(args: CredsArgs) -> anyhow::Result<()> {
    match &args.action {
        CredsAction::Add {
            scopes,
            origins,
            activities,
            courses,
            cohorts,
            countries,
            label,
            pseudonymise,
        } => {
            let request = NewCredential {
                scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                origins: origins.clone(),
                activities: activities.clone(),
                courses: courses.clone(),
                cohorts: cohorts.clone(),
                countries: countries.clone(),
                label: label.clone(),
                pseudonymise: *pseudonymise,
            };
            print_issued(&add(&args.data, request)?, args.json)
        }
        CredsAction::List => {
            let list: Vec<CredentialInfo> = match Store::open(&args.data) {
                Ok(store) => store
                    .credentials()?
                    .iter()
                    .map(CredentialInfo::from)
                    .collect(),
                Err(StoreError::Locked(_)) => serde_json::from_slice(&admin_call(
                    &args.data,
                    reqwest::Method::GET,
                    "/credentials",
                    None,
                )?)?,
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("opening the store in {}", args.data.display()));
                }
            };
            print_list(&list, args.json)
        }
        CredsAction::Revoke { key } => {
            match Store::open(&args.data) {
                Ok(store) => {
                    if !store.delete_credential(key)? {
                        bail!("no credential with key {key}");
                    }
                }
                Err(StoreError::Locked(_)) => {
                    admin_call(
                        &args.data,
                        reqwest::Method::DELETE,
                        &format!("/credentials/{key}"),
                        None,
                    )?;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("opening the store in {}", args.data.display()));
                }
            }
            println!("revoked {key}");
            Ok(())
        }
    }
}

fn print_issued(issued: &IssuedCredential, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(issued)?);
    } else {
        println!("key:     {}", issued.info.key);
        println!("secret:  {}", issued.secret);
        println!("scopes:  {}", issued.info.scopes.join(", "));
        if !issued.info.origins.is_empty() {
            println!("origins: {}", issued.info.origins.join(", "));
        }
        if !issued.info.activities.is_empty() {
            println!("activities: {}", issued.info.activities.join(", "));
        }
        for (what, values) in [
            ("courses", &issued.info.courses),
            ("cohorts", &issued.info.cohorts),
            ("countries", &issued.info.countries),
        ] {
            if !values.is_empty() {
                println!("{what}: {} (reads only these learners)", values.join(", "));
            }
        }
        if issued.info.pseudonymise {
            println!("learners: stored by pseudonym");
        }
        println!("The secret is shown only now; it is stored as a digest.");
    }
    Ok(())
}

fn print_list(list: &[CredentialInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    if list.is_empty() {
        println!("no credentials");
    }
    for c in list {
        let origins = if c.origins.is_empty() {
            "any origin".to_owned()
        } else {
            c.origins.join(", ")
        };
        println!(
            "{}  {}  [{}]  {}  created {}{}",
            c.key,
            c.label,
            c.scopes.join(", "),
            origins,
            c.created,
            if c.pseudonymise {
                "  pseudonymises"
            } else {
                ""
            }
        );
    }
    Ok(())
}
