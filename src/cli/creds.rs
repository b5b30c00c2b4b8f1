//! `kmh creds add|list|revoke`: manage credentials. Works on the store
//! directly when no server holds it, and through the running server's
//! admin endpoints when one does.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::serve::{ADMIN_TOKEN_FILE, SERVER_FILE};
use crate::lrs::admin::{CredentialInfo, IssuedCredential, NewCredential};
use crate::lrs::credentials::{self, Scope};
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
        /// profile, define.
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
        /// What the credential is for (shown as the authority's name).
        #[arg(long, env = "KMH_CREDS_LABEL", default_value = "")]
        label: String,
    },
    /// List credentials (never their secrets).
    List,
    /// Revoke a credential at once.
    Revoke {
        /// The credential's key.
        key: String,
    },
}

pub fn run(args: CredsArgs) -> anyhow::Result<()> {
    match Store::open(&args.data) {
        Ok(store) => run_local(&store, &args),
        Err(StoreError::Locked(_)) => run_remote(&args),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", args.data.display())),
    }
}

fn run_local(store: &Store, args: &CredsArgs) -> anyhow::Result<()> {
    match &args.action {
        CredsAction::Add {
            scopes,
            origins,
            label,
        } => {
            let issued = credentials::issue(scopes, origins.clone(), label.clone());
            store.put_credential(&issued.record)?;
            print_issued(
                &IssuedCredential {
                    info: CredentialInfo::from(&issued.record),
                    secret: issued.secret,
                },
                args.json,
            )
        }
        CredsAction::List => {
            let list: Vec<CredentialInfo> = store
                .credentials()?
                .iter()
                .map(CredentialInfo::from)
                .collect();
            print_list(&list, args.json)
        }
        CredsAction::Revoke { key } => {
            if !store.delete_credential(key)? {
                bail!("no credential with key {key}");
            }
            println!("revoked {key}");
            Ok(())
        }
    }
}

/// The store is held by a running `kmh serve`: ask it.
fn run_remote(args: &CredsArgs) -> anyhow::Result<()> {
    let (url, token) = server_contact(&args.data)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("{url}/admin/credentials");
        let response = match &args.action {
            CredsAction::Add {
                scopes,
                origins,
                label,
            } => {
                let body = NewCredential {
                    scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                    origins: origins.clone(),
                    label: label.clone(),
                };
                client
                    .post(&base)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
            }
            CredsAction::List => client.get(&base).bearer_auth(&token).send().await,
            CredsAction::Revoke { key } => {
                client
                    .delete(format!("{base}/{key}"))
                    .bearer_auth(&token)
                    .send()
                    .await
            }
        }
        .with_context(|| format!("reaching the running server at {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            let msg = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or(text);
            bail!("the server answered {status}: {msg}");
        }
        match &args.action {
            CredsAction::Add { .. } => print_issued(&serde_json::from_str(&text)?, args.json),
            CredsAction::List => print_list(
                &serde_json::from_str::<Vec<CredentialInfo>>(&text)?,
                args.json,
            ),
            CredsAction::Revoke { key } => {
                println!("revoked {key}");
                Ok(())
            }
        }
    })
}

fn server_contact(data: &Path) -> anyhow::Result<(String, String)> {
    let server = std::fs::read(data.join(SERVER_FILE)).with_context(|| {
        format!(
            "{} is locked by another process, but it left no {SERVER_FILE}",
            data.display()
        )
    })?;
    let server: serde_json::Value = serde_json::from_slice(&server)?;
    let url = server
        .get("url")
        .and_then(|u| u.as_str())
        .context("server.json has no url")?
        .to_owned();
    let token = std::fs::read_to_string(data.join(ADMIN_TOKEN_FILE)).with_context(|| {
        format!(
            "reading {} (only the data folder's owner may)",
            ADMIN_TOKEN_FILE
        )
    })?;
    Ok((url, token.trim().to_owned()))
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
            "{}  {}  [{}]  {}  created {}",
            c.key,
            c.label,
            c.scopes.join(", "),
            origins,
            c.created
        );
    }
    Ok(())
}
