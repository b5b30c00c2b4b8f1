//! The Agents and Activities resources (xAPI 1.0.3 part 3, §2.4–2.5):
//! what the LRS knows about an agent (a Person object) and the canonical
//! definition of an activity, merged from the statements that described it.

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Map, Value, json};

use super::AppState;
use super::auth::Auth;
use super::credentials::Scope;
use super::error::ApiError;
use super::statements::params_split;
use crate::xapi::validate;

fn may_read(auth: &Auth) -> Result<(), ApiError> {
    let c = &auth.credential;
    if !c.slice.is_all() {
        // A Person object gathers names from every statement, inside the
        // credential's slice of learners or not.
        return Err(ApiError::Forbidden(format!(
            "credential {} is limited to a course, cohort or country and cannot read agents",
            c.key
        )));
    }
    if c.has(Scope::AllRead)
        || c.has(Scope::Define)
        || c.reads_all_statements()
        || c.has(Scope::Profile)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "credential {} lacks a read scope",
            c.key
        )))
    }
}

/// The value of the one parameter `name` that GET `endpoint` takes.
fn only_param(query: Option<&str>, endpoint: &str, name: &str) -> Result<String, ApiError> {
    let mut params = params_split(query.unwrap_or(""))?;
    if let Some(other) = params.keys().find(|k| k.as_str() != name) {
        return Err(ApiError::BadRequest(format!(
            "GET {endpoint} takes only {name}, not {other}"
        )));
    }
    params
        .remove(name)
        .ok_or_else(|| ApiError::BadRequest(format!("the {name} parameter is required")))
}

/// GET /agents?agent=…: a Person with every name and identifier known.
pub async fn agents(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    may_read(&auth)?;
    let raw = only_param(q.as_deref(), "/agents", "agent")?;
    let agent: Value = serde_json::from_str(&raw)
        .map_err(|e| ApiError::BadRequest(format!("agent is not valid JSON: {e}")))?;
    validate::agent(&agent, "agent").map_err(ApiError::Invalid)?;
    let identity = state.privacy.query_identity(&auth.credential, &agent)?;
    let store = state.store.clone();
    let names = tokio::task::spawn_blocking(move || store.agent_names(&identity))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let mut person = Map::new();
    person.insert("objectType".into(), json!("Person"));
    let mut all_names: Vec<Value> = names.into_iter().map(Value::String).collect();
    if let Some(name) = agent.get("name")
        && !all_names.contains(name)
    {
        all_names.push(name.clone());
    }
    if !all_names.is_empty() {
        person.insert("name".into(), Value::Array(all_names));
    }
    for key in ["mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = agent.get(key) {
            person.insert(key.into(), Value::Array(vec![v.clone()]));
        }
    }
    Ok(Json(Value::Object(person)))
}

/// GET /activities?activityId=…: the activity with its canonical definition.
pub async fn activities(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    may_read(&auth)?;
    let id = only_param(q.as_deref(), "/activities", "activityId")?;
    if !validate::iri(&id) {
        return Err(ApiError::BadRequest(format!(
            "activityId must be an IRI, not {id:?}"
        )));
    }
    let store = state.store.clone();
    let lookup = id.clone();
    let definition = tokio::task::spawn_blocking(move || store.activity_definition(&lookup))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let mut activity = json!({"objectType": "Activity", "id": id});
    if let Some(def) = definition {
        activity["definition"] = def;
    }
    Ok(Json(activity))
}
