//! Keeps `schemas/course.schema.json` and `schemas/module.schema.json` in
//! step with the Rust structs: serde's "unknown field" message lists every
//! field a struct accepts, which must equal the schema's properties.

use std::collections::BTreeSet;
use std::path::Path;

fn schema_properties(json: &str, pointer: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("schema is JSON");
    v.pointer(pointer)
        .and_then(|p| p.as_object())
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

/// The fields named in serde's "unknown field `x`, expected one of `a`, `b`".
fn accepted_fields(message: &str) -> BTreeSet<String> {
    let list = message
        .split("expected")
        .nth(1)
        .expect("serde lists the expected fields");
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn module_schema_matches_module_toml() {
    let err = super::module::parse_module(Path::new("m.toml"), "zzz = 1\n")
        .unwrap_err()
        .to_string();
    let schema = schema_properties(
        include_str!("../../../schemas/module.schema.json"),
        "/properties",
    );
    assert_eq!(accepted_fields(&err), schema);
}

#[test]
fn course_schema_matches_course_toml() {
    let err = super::course::parse_course(Path::new("c.toml"), "zzz = 1\n")
        .unwrap_err()
        .to_string();
    let schema = schema_properties(
        include_str!("../../../schemas/course.schema.json"),
        "/properties",
    );
    assert_eq!(accepted_fields(&err), schema);
    let err = super::course::parse_course(Path::new("c.toml"), "[[modules]]\nzzz = 1\n")
        .unwrap_err()
        .to_string();
    let schema = schema_properties(
        include_str!("../../../schemas/course.schema.json"),
        "/properties/modules/items/oneOf/1/properties",
    );
    assert_eq!(accepted_fields(&err), schema);
}
