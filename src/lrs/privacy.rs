//! Pseudonymisation in the HTTP layer: which requests it applies to, how a
//! real identifier in a query or document request is mapped to its
//! pseudonym, and `GET /identities`, the one way back from a pseudonym to
//! the learner (with the `identities` scope).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::Value;

use super::AppState;
use super::audit::Rows;
use super::auth::Auth;
use super::credentials::{Credential, Scope};
use super::error::ApiError;
use super::statements::params_split;
use crate::store::{IdentityRecord, Store};
use crate::xapi::pseudonym::{self, Key};
use crate::xapi::{ifi, validate};

/// The pseudonym key and the store-wide setting, loaded at start.
#[derive(Debug, Clone)]
pub struct Privacy {
    pub key: Key,
    /// Every credential's writes are pseudonymised.
    pub store_wide: bool,
}

impl Privacy {
    pub fn load(store: &Store) -> Result<Privacy, crate::store::StoreError> {
        Ok(Privacy {
            key: store.pseudonym_key()?,
            store_wide: store.pseudonymisation()?.unwrap_or(false),
        })
    }

    /// True when what `credential` writes is stored by pseudonym.
    pub fn applies_to(&self, credential: &Credential) -> bool {
        self.store_wide || credential.pseudonymise
    }

    /// The identity (as the indexes hold it) that an `agent` parameter of a
    /// State or Agent Profile request stands for: the pseudonym, when the
    /// credential's documents are stored by pseudonym.
    pub fn document_identity(
        &self,
        credential: &Credential,
        agent: &Value,
    ) -> Result<String, ApiError> {
        if (self.applies_to(credential) || pseudonym::is_pseudonym(agent))
            && let Some(p) = pseudonym::pseudonym_of_agent(&self.key, agent)
        {
            return Ok(pseudonym::pseudonym_identity(&p));
        }
        ifi::identity(agent).ok_or_else(no_identifier)
    }

    /// The identity a statement query's `agent` filter (or GET /agents)
    /// stands for. A real identifier is mapped to its pseudonym for a
    /// credential allowed to see identities, or one that reads only the
    /// statements it wrote itself; in a store where every statement is
    /// pseudonymous, other credentials are told that they cannot query by
    /// a real identifier rather than being shown nothing.
    pub fn query_identity(
        &self,
        credential: &Credential,
        agent: &Value,
    ) -> Result<String, ApiError> {
        if pseudonym::is_pseudonym(agent) || !self.applies_to(credential) {
            return ifi::identity(agent).ok_or_else(no_identifier);
        }
        let may_map = credential.has(Scope::Identities) || !credential.reads_all_statements();
        if may_map {
            let p = pseudonym::pseudonym_of_agent(&self.key, agent).ok_or_else(no_identifier)?;
            return Ok(pseudonym::pseudonym_identity(&p));
        }
        if self.store_wide {
            return Err(ApiError::Forbidden(format!(
                "learners are stored by pseudonym: credential {} needs the identities scope to query by a real identifier (or query by the pseudonym account, homePage {})",
                credential.key,
                pseudonym::HOME_PAGE
            )));
        }
        ifi::identity(agent).ok_or_else(no_identifier)
    }
}

fn no_identifier() -> ApiError {
    ApiError::BadRequest(
        "agent must have an inverse functional identifier (mbox, mbox_sha1sum, openid or account)"
            .into(),
    )
}

/// Which pseudonym a re-identification request names: `pseudonym=` (the
/// pseudonym account's name) or `agent=` (a pseudonym agent, or a real
/// one, mapped with the server's key).
pub fn requested_pseudonym(key: &Key, query: Option<&str>) -> Result<String, ApiError> {
    let params = params_split(query.unwrap_or(""))?;
    if let Some(other) = params
        .keys()
        .find(|k| k.as_str() != "pseudonym" && k.as_str() != "agent")
    {
        return Err(ApiError::BadRequest(format!(
            "GET /identities takes pseudonym or agent, not {other}"
        )));
    }
    match (params.get("pseudonym"), params.get("agent")) {
        (Some(p), None) => {
            if p.len() == 32 && p.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(p.to_ascii_lowercase())
            } else {
                Err(ApiError::BadRequest(format!(
                    "pseudonym must be 32 hexadecimal digits (the name of a {} account), not {p:?}",
                    pseudonym::HOME_PAGE
                )))
            }
        }
        (None, Some(raw)) => {
            let agent: Value = serde_json::from_str(raw)
                .map_err(|e| ApiError::BadRequest(format!("agent is not valid JSON: {e}")))?;
            validate::agent(&agent, "agent").map_err(ApiError::Invalid)?;
            pseudonym::pseudonym_of_agent(key, &agent).ok_or_else(no_identifier)
        }
        _ => Err(ApiError::BadRequest(
            "GET /identities takes exactly one of pseudonym and agent".into(),
        )),
    }
}

/// Looks a pseudonym up; 404 when nothing is known about it.
pub fn lookup(store: &Store, pseudonym: &str) -> Result<IdentityRecord, ApiError> {
    store.identity(pseudonym)?.ok_or_else(|| {
        ApiError::NotFound(format!("no identity is known for pseudonym {pseudonym}"))
    })
}

/// GET /identities?pseudonym=…|agent=…: the identifiers and names a
/// pseudonym replaced. Needs the `identities` scope.
pub async fn identities(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    auth.require(Scope::Identities)?;
    let pseudonym = requested_pseudonym(&state.privacy.key, query.as_deref())?;
    let store = state.store.clone();
    let record = tokio::task::spawn_blocking(move || lookup(&store, &pseudonym))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((Extension(Rows(1)), Json(record)).into_response())
}
