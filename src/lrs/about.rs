//! GET /about (xAPI 1.0.3 part 3, §7.7): no authentication, no version
//! header needed.

use axum::Json;
use serde_json::{Value, json};

use crate::xapi::Version;

pub async fn about() -> Json<Value> {
    Json(json!({
        "version": Version::SUPPORTED,
        "extensions": {
            "urn:kmh:about:server": {
                "name": "kmh",
                "version": env!("CARGO_PKG_VERSION"),
            }
        }
    }))
}
