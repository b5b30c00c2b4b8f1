//! Rules of `kmh validate` on small hand-written manifests. The ADL
//! fixtures and our own packages are exercised in `tests/integration/package.rs`.

use std::collections::BTreeSet;

use super::report::{Report, Severity};
use super::validate_manifest;

const SCORM12: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M" version="1"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="ORG">
    <organization identifier="ORG">
      <title>Course</title>
      <item identifier="I1" identifierref="R1">
        <title>One</title>
        <adlcp:masteryscore>80</adlcp:masteryscore>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="R1" type="webcontent" adlcp:scormtype="sco" href="one/index.html" xml:base="content/">
      <file href="one/index.html"/>
      <file href="one/My%20Photo.png"/>
    </resource>
  </resources>
</manifest>
"#;

const SCORM2004: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M" version="1"
    xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
    xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>2004 4th Edition</schemaversion>
  </metadata>
  <organizations default="ORG">
    <organization identifier="ORG">
      <title>Course</title>
      <item identifier="I1" identifierref="R1">
        <title>One</title>
        <imsss:sequencing IDRef="SEQ"/>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="R1" type="webcontent" adlcp:scormType="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="SEQ"/>
  </imsss:sequencingCollection>
</manifest>
"#;

fn check(xml: &str, files: Option<&[&str]>) -> Report {
    let files: Option<BTreeSet<String>> = files.map(|f| f.iter().map(|s| s.to_string()).collect());
    validate_manifest(
        "pkg",
        "imsmanifest.xml",
        xml.as_bytes(),
        files.as_ref(),
        vec![],
    )
}

/// `(severity, code, line)` of every finding, for compact assertions.
fn codes(r: &Report) -> Vec<(Severity, &'static str, Option<usize>)> {
    r.findings
        .iter()
        .map(|f| (f.severity, f.code, f.line))
        .collect()
}

#[test]
fn valid_manifests_of_both_versions() {
    let r = check(
        SCORM12,
        Some(&[
            "imsmanifest.xml",
            "content/one/index.html",
            "content/one/My Photo.png",
        ]),
    );
    assert!(r.valid && r.findings.is_empty(), "{}", r.to_text());
    assert_eq!(r.standard, Some("scorm12"));
    assert_eq!(
        (r.summary.items, r.summary.scos, r.summary.files_listed),
        (1, 1, 2)
    );

    let r = check(SCORM2004, None);
    assert!(r.valid && r.findings.is_empty(), "{}", r.to_text());
    assert_eq!(r.schemaversion.as_deref(), Some("2004 4th Edition"));
}

#[test]
fn missing_schemaversion_is_an_error_only_in_2004() {
    let strip = |xml: &str| {
        xml.replace("<schemaversion>1.2</schemaversion>", "")
            .replace("<schemaversion>2004 4th Edition</schemaversion>", "")
    };
    let r12 = check(&strip(SCORM12), None);
    assert!(r12.valid);
    assert!(codes(&r12).contains(&(Severity::Warning, "schemaversion-missing", Some(5))));
    let r04 = check(&strip(SCORM2004), None);
    assert!(!r04.valid);
    assert!(codes(&r04).contains(&(Severity::Error, "schemaversion-missing", Some(6))));
}

#[test]
fn schemaversion_must_be_known_and_match_the_namespaces() {
    let r = check(&SCORM2004.replace("2004 4th Edition", "2004"), None);
    assert_eq!(
        codes(&r),
        [(Severity::Error, "schemaversion-unknown", Some(8))]
    );
    let r = check(&SCORM12.replace("adlcp_rootv1p2", "adlcp_v1p3"), None);
    assert!(
        codes(&r).contains(&(Severity::Error, "schemaversion-mismatch", Some(7))),
        "{}",
        r.to_text()
    );
    assert!(
        r.findings[0]
            .message
            .contains("http://www.adlnet.org/xsd/adlcp_v1p3")
    );
}

#[test]
fn the_root_must_be_a_cp_manifest() {
    let r = check("<?xml version=\"1.0\"?>\n<course xmlns=\"urn:x\"/>", None);
    assert_eq!(codes(&r), [(Severity::Error, "not-a-manifest", Some(2))]);
    assert!(
        r.to_text().ends_with("pkg: INVALID: 1 error, 0 warnings\n"),
        "{}",
        r.to_text()
    );
}

#[test]
fn element_order_and_unknown_elements() {
    let r = check(
        &SCORM12.replace(
            "<title>One</title>\n        <adlcp:masteryscore>",
            "<adlcp:masteryscore>",
        ),
        None,
    );
    assert!(codes(&r).contains(&(Severity::Error, "title-missing", Some(12))));
    let moved = SCORM2004
        .replace("<title>Course</title>\n      <item", "<item")
        .replace(
            "</item>\n    </organization>",
            "</item>\n      <title>Course</title>\n    </organization>",
        );
    let r = check(&moved, None);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message == "<title> must come before <item> inside <organization>"),
        "{}",
        r.to_text()
    );
    let r = check(
        &SCORM2004.replace(
            "<file href=\"index.html\"/>",
            "<files href=\"index.html\"/>",
        ),
        None,
    );
    assert_eq!(
        r.findings[0].message,
        "<files> is not allowed inside <resource>"
    );
}

#[test]
fn identifiers_are_compared_after_whitespace_collapse() {
    let r = check(
        &SCORM2004.replace("identifier=\"R1\"", "identifier=\"  R1 \""),
        None,
    );
    assert!(r.valid, "{}", r.to_text());
}

#[test]
fn leaf_items_need_a_resource_more_strictly_in_2004() {
    let r = check(&SCORM2004.replace(" identifierref=\"R1\"", ""), None);
    assert!(codes(&r).contains(&(Severity::Error, "item-structure", Some(13))));
    let r = check(&SCORM12.replace(" identifierref=\"R1\"", ""), None);
    assert!(r.valid);
    assert!(codes(&r).contains(&(Severity::Warning, "item-structure", Some(12))));
}

#[test]
fn sequencing_references_must_resolve() {
    let r = check(&SCORM2004.replace("IDRef=\"SEQ\"", "IDRef=\"SEQ2\""), None);
    assert_eq!(
        codes(&r),
        [(Severity::Error, "identifierref-dangling", Some(15))]
    );
}

#[test]
fn files_follow_xml_base_and_hint_at_case() {
    let r = check(
        SCORM12,
        Some(&[
            "imsmanifest.xml",
            "content/one/index.html",
            "content/one/my photo.png",
        ]),
    );
    assert!(!r.valid);
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "file-missing")
        .expect("file-missing");
    assert_eq!(f.line, Some(21));
    assert!(f.message.contains("\"content/one/My Photo.png\" is listed but not in the package (the package has \"content/one/my photo.png\""), "{}", f.message);
    // The launch file is checked too.
    let r = check(
        SCORM12,
        Some(&["imsmanifest.xml", "content/one/My Photo.png"]),
    );
    assert!(codes(&r).contains(&(Severity::Error, "launch-file-missing", Some(19))));
}

#[test]
fn paths_may_not_leave_the_package() {
    let r = check(
        &SCORM2004.replace(
            "<file href=\"index.html\"/>",
            "<file href=\"../secret.txt\"/>",
        ),
        None,
    );
    assert_eq!(codes(&r), [(Severity::Error, "path-invalid", Some(21))]);
}

#[test]
fn unlisted_files_warn_but_control_documents_do_not() {
    let files = [
        "imsmanifest.xml",
        "index.html",
        "imscp_v1p1.xsd",
        "common/anyElement.xsd",
        "notes.txt",
    ];
    let r = check(SCORM2004, Some(&files));
    assert!(r.valid);
    assert_eq!(codes(&r), [(Severity::Warning, "file-unlisted", None)]);
    assert_eq!(r.findings[0].file, "notes.txt");
}

#[test]
fn malformed_and_non_utf8_input() {
    let r = check("<manifest>\n<a></b>\n</manifest>", None);
    assert_eq!(codes(&r), [(Severity::Error, "xml-malformed", Some(2))]);
    let r = validate_manifest(
        "pkg",
        "imsmanifest.xml",
        b"<manifest>\n\xff</manifest>",
        None,
        vec![],
    );
    assert_eq!(codes(&r), [(Severity::Error, "xml-malformed", Some(2))]);
}
