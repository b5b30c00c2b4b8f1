//! Rules of the cmi5 checks on small hand-written course structures. The
//! spec's examples and our own packages are exercised in
//! `tests/integration/package.rs`.

use std::collections::BTreeSet;

use super::super::report::{Report, Severity};
use super::super::validate_document;
use super::{is_decimal, is_language};

/// One AU with everything the XSD allows, and an extension element and
/// attribute where `##other` allows them.
const COURSE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd" xmlns:x="urn:x">
  <course id="https://example.org/c">
    <title><langstring lang="en">Course</langstring></title>
    <description><langstring lang="en">About</langstring></description>
  </course>
  <objectives>
    <objective id="https://example.org/o1">
      <description><langstring>D</langstring></description>
      <title><langstring>T</langstring></title>
    </objective>
  </objectives>
  <au id="https://example.org/c/a1" moveOn="Passed" masteryScore="0.8" x:extra="1">
    <title><langstring lang="en">One</langstring></title>
    <description><langstring lang="en">First</langstring></description>
    <objectives><objective idref="https://example.org/o1"/></objectives>
    <url>a1/index.html?start=1</url>
    <launchParameters>mode=1</launchParameters>
    <entitlementKey>k</entitlementKey>
    <x:note>extension</x:note>
  </au>
</courseStructure>
"#;

fn check(xml: &str, files: Option<&[&str]>) -> Report {
    let files: Option<BTreeSet<String>> = files.map(|f| f.iter().map(|s| s.to_string()).collect());
    validate_document(
        "pkg",
        "cmi5.xml",
        xml.as_bytes(),
        files.as_ref(),
        false,
        vec![],
    )
}

/// `(severity, code, line, message)` of every finding.
fn findings(r: &Report) -> Vec<(Severity, &'static str, Option<usize>, String)> {
    r.findings
        .iter()
        .map(|f| (f.severity, f.code, f.line, f.message.clone()))
        .collect()
}

#[track_caller]
fn only_error(xml: &str, line: usize, message: &str) {
    let r = check(xml, None);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{}", r.to_text());
    assert_eq!(
        (f[0].0, f[0].2, f[0].3.as_str()),
        (Severity::Error, Some(line), message),
        "{}",
        r.to_text()
    );
}

#[test]
fn a_full_course_structure_is_valid() {
    let r = check(COURSE, Some(&["cmi5.xml", "a1/index.html"]));
    assert!(r.valid && r.findings.is_empty(), "{}", r.to_text());
    assert_eq!(r.standard, Some("cmi5"));
    assert_eq!((r.summary.aus, r.summary.blocks), (Some(1), Some(0)));
}

#[test]
fn order_and_occurrences_follow_the_xsd() {
    only_error(
        &COURSE.replace("<entitlementKey>k</entitlementKey>", "<url>b.html</url>"),
        19,
        "<url> must come before <launchParameters> inside <au>",
    );
    only_error(
        &COURSE.replace(
            "<launchParameters>mode=1</launchParameters>",
            "<url>b.html</url>",
        ),
        18,
        "<au> may contain only one <url>",
    );
    only_error(
        &COURSE.replace(
            "<entitlementKey>k</entitlementKey>\n    <x:note>extension</x:note>",
            "<x:note>extension</x:note>\n    <entitlementKey>k</entitlementKey>",
        ),
        20,
        "<entitlementKey> must come before the extension element <x:note> (line 19)",
    );
    only_error(
        &COURSE.replace("<x:note>extension</x:note>", "<note xmlns=\"\"/>"),
        20,
        "<note> is in no namespace: course-structure elements are in https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd and extensions in a namespace of their own",
    );
    only_error(
        &COURSE
            .replace("<title>T</title>", "")
            .replace("      <title><langstring>T</langstring></title>\n", ""),
        8,
        "<objective> needs a <title>",
    );
    only_error(
        &COURSE.replace("\n  <au id", "\n  stray text\n  <au id"),
        2,
        "<courseStructure> may not contain text (found \"stray text\")",
    );
}

#[test]
fn attributes_follow_the_xsd() {
    // Extension attributes are allowed on an AU, not on an objective reference.
    only_error(
        &COURSE.replace("<objective idref=", "<objective x:weight=\"2\" idref="),
        16,
        "<objective>: attribute x:weight is not allowed",
    );
    only_error(
        &COURSE.replace(" moveOn=\"Passed\"", " moveOn=\"Passed\" lang=\"en\""),
        13,
        "<au>: attribute lang is not allowed; a cmi5 <au> takes id, moveOn, masteryScore, launchMethod, activityType",
    );
    let r = check(
        &COURSE.replace(" masteryScore=\"0.8\"", " masteryScore=\"0.80001\""),
        None,
    );
    assert_eq!(findings(&r)[0].0, Severity::Warning, "{}", r.to_text());
    assert_eq!(findings(&r)[0].1, "value-precision");
    only_error(
        &COURSE.replace(" masteryScore=\"0.8\"", " masteryScore=\"1.5\""),
        13,
        "au https://example.org/c/a1: masteryScore \"1.5\" must be a decimal from 0 to 1 (a scaled score: 0.8, not 80)",
    );
}

#[test]
fn ids_and_references() {
    only_error(
        &COURSE.replace(
            "id=\"https://example.org/c/a1\"",
            "id=\"https://example.org/c\"",
        ),
        13,
        "au https://example.org/c: id \"https://example.org/c\" is already used on line 3; AU and block ids must be unique in the course structure, and differ from the course id",
    );
    // Surrounding whitespace does not count (cmi5 §13.1).
    let r = check(
        &COURSE.replace(
            "idref=\"https://example.org/o1\"",
            "idref=\" https://example.org/o1 \"",
        ),
        None,
    );
    assert!(r.findings.is_empty(), "{}", r.to_text());
    let r = check(
        &COURSE.replace(
            "<objective idref=\"https://example.org/o1\"/>",
            "<objective/>",
        ),
        None,
    );
    assert_eq!(findings(&r)[0].1, "idref-missing");
    assert!(r.valid, "a warning only: the XSD allows it");
}

#[test]
fn urls_name_package_files_or_are_absolute() {
    let r = check(COURSE, Some(&["cmi5.xml"]));
    assert_eq!(
        findings(&r),
        [(
            Severity::Error,
            "launch-file-missing",
            Some(17),
            "au https://example.org/c/a1: url \"a1/index.html?start=1\" is not a file of the package".to_string()
        )]
    );
    // Without files (--manifest-only) a relative url is not looked up.
    assert!(check(COURSE, None).findings.is_empty());
    let absolute = COURSE.replace("a1/index.html?start=1", "https://content.example.org/a1/");
    assert!(check(&absolute, Some(&["cmi5.xml"])).findings.is_empty());
    only_error(
        &COURSE.replace("a1/index.html?start=1", "//content.example.org/a1/"),
        17,
        "au https://example.org/c/a1: url \"//content.example.org/a1/\" has no scheme; write it in full (https://…)",
    );
    only_error(
        &COURSE.replace("a1/index.html?start=1", "/a1/index.html"),
        17,
        "au https://example.org/c/a1: url \"/a1/index.html\" starts with /: hrefs are relative to the package",
    );
    // Decoded and normalised, the path is named as the package has it.
    let r = check(
        &COURSE.replace("a1/index.html?start=1", "a1/./my%20page.html"),
        Some(&["cmi5.xml"]),
    );
    assert_eq!(
        findings(&r)[0].3,
        "au https://example.org/c/a1: url \"a1/./my%20page.html\", that is \"a1/my page.html\", is not a file of the package"
    );
    let standalone = validate_document(
        "cmi5.xml",
        "cmi5.xml",
        COURSE.as_bytes(),
        None,
        true,
        vec![],
    );
    assert_eq!(findings(&standalone)[0].1, "url-relative");
}

#[test]
fn decimals_and_language_tags_follow_xml_schema() {
    for ok in ["0", "1", "0.8", "1.0", ".5", "+0.25", "00.1000"] {
        assert!(is_decimal(ok), "{ok}");
    }
    for bad in ["", ".", "8e-1", "0,8", "1/2", "NaN", " 0.8"] {
        assert!(!is_decimal(bad), "{bad}");
    }
    for ok in ["en", "fr-CA", "de-De", "zh-Hant-TW", "x-kmh1"] {
        assert!(is_language(ok), "{ok}");
    }
    for bad in ["", "en US", "en_US", "englishlanguage", "-en", "en-"] {
        assert!(!is_language(bad), "{bad}");
    }
}
