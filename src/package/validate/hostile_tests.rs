//! Hostile packages: each ends in the right finding, quickly, with no
//! crash and no unbounded read.

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::limits::Limits;
use super::report::{Report, Severity};
use super::{ValidateOptions, validate_document, validate_path};

const SCORM12: &str = r#"<manifest identifier="M" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
<organizations default="O"><organization identifier="O"><title>T</title>
<item identifier="I" identifierref="R"><title>T</title></item></organization></organizations>
<resources><resource identifier="R" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource></resources>
</manifest>
"#;

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn validate(path: &Path, limits: Limits) -> Report {
    validate_path(
        path,
        ValidateOptions {
            limits,
            ..ValidateOptions::default()
        },
    )
    .expect("validates")
}

/// Runs `f` and fails when it takes longer than `budget` (debug build, a
/// shared machine: the budgets are generous, the point is "not hours").
fn quickly<T>(budget: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < budget,
        "took {:?}, over {budget:?}",
        start.elapsed()
    );
    out
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, SimpleFileOptions::default())
            .expect("entry");
        w.write_all(bytes).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

#[test]
fn a_100k_deep_document_is_reported_at_the_depth_limit() {
    let depth = 100_000;
    for root in [
        r#"<manifest identifier="M" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2">"#,
        r#"<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">"#,
    ] {
        let mut xml = String::from(root);
        xml.push('\n');
        xml.push_str(&"<item>".repeat(depth));
        xml.push_str(&"</item>".repeat(depth));
        xml.push_str(if root.starts_with("<manifest") {
            "</manifest>"
        } else {
            "</courseStructure>"
        });
        let r = quickly(Duration::from_secs(20), || {
            validate_document(
                "deep",
                "imsmanifest.xml",
                xml.as_bytes(),
                None,
                false,
                vec![],
            )
        });
        assert!(!r.valid);
        assert_eq!(codes(&r), ["xml-too-deep"], "{r:?}");
        let f = &r.findings[0];
        assert_eq!((f.file.as_str(), f.line), ("imsmanifest.xml", Some(2)));
        assert!(
            f.message
                .starts_with("<item> is nested more than 256 elements deep"),
            "{}",
            f.message
        );
    }
    // The limit itself is fine: 256 levels parse and are checked.
    let mut xml = SCORM12.replace("</manifest>", "");
    xml.push_str(&"<x:e xmlns:x=\"urn:x\">".repeat(254));
    xml.push_str(&"</x:e>".repeat(254));
    xml.push_str("</manifest>");
    let r = validate_document("d", "imsmanifest.xml", xml.as_bytes(), None, false, vec![]);
    assert!(!codes(&r).contains(&"xml-too-deep"), "{r:?}");
}

#[test]
fn an_oversized_control_document_is_not_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let limits = Limits {
        max_document_bytes: 1024,
        ..Limits::DEFAULT
    };
    let big = SCORM12.replace(
        "<title>T</title>",
        &format!("<title>{}</title>", "x".repeat(2000)),
    );
    // A bare manifest, a folder and a zip.
    let bare = tmp.path().join("imsmanifest.xml");
    std::fs::write(&bare, &big).expect("write");
    let folder = tmp.path().join("pkg");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::write(folder.join("imsmanifest.xml"), &big).expect("write");
    std::fs::write(folder.join("index.html"), "<p>").expect("write");
    let zip = tmp.path().join("pkg.zip");
    std::fs::write(
        &zip,
        zip_of(&[("imsmanifest.xml", big.as_bytes()), ("index.html", b"<p>")]),
    )
    .expect("write");
    for path in [&bare, &folder, &zip] {
        let r = validate(path, limits);
        assert!(!r.valid, "{r:?}");
        let f = r
            .findings
            .iter()
            .find(|f| f.code == "document-too-large")
            .unwrap_or_else(|| panic!("{}: {r:?}", path.display()));
        assert!(f.file.ends_with("imsmanifest.xml"), "{f:?}");
        assert!(
            f.message.starts_with("is larger than 1 KiB, the limit"),
            "{f:?}"
        );
        assert_eq!(r.summary.items, 0, "the document was not checked");
    }
    // Under the limit, the same package is valid.
    let r = validate(&zip, Limits::DEFAULT);
    assert!(r.valid, "{r:?}");
}

/// A zip bomb: one entry of 8 MiB of zeros (8 KiB compressed), copied
/// 1024 times without recompressing: 8 GiB declared, 8 MiB on disk.
#[test]
fn a_zip_bomb_is_reported_from_its_declared_size_without_unpacking() {
    let tmp = tempfile::tempdir().expect("tmp");
    let zeros = vec![0u8; 8 << 20];
    let seed = zip_of(&[("imsmanifest.xml", SCORM12.as_bytes()), ("z", &zeros)]);
    let mut seed = zip::ZipArchive::new(Cursor::new(seed)).expect("seed");
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.raw_copy_file(seed.by_index_raw(0).expect("manifest"))
        .expect("copy");
    w.raw_copy_file_rename(seed.by_index_raw(1).expect("z"), "index.html")
        .expect("copy");
    for i in 0..1024 {
        w.raw_copy_file_rename(seed.by_index_raw(1).expect("z"), format!("bomb/{i}.bin"))
            .expect("copy");
    }
    let bytes = w.finish().expect("finish").into_inner();
    assert!(bytes.len() < 16 << 20, "{} bytes", bytes.len());
    let path = tmp.path().join("bomb.zip");
    std::fs::write(&path, &bytes).expect("write");

    let r = quickly(Duration::from_secs(20), || validate(&path, Limits::DEFAULT));
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "zip-too-large")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.file, path.display().to_string());
    assert!(
        f.message
            .starts_with("the zip's files declare 8.0 GiB unpacked, more than 4 GiB, the limit"),
        "{f:?}"
    );
    // The control document was still read and checked.
    assert_eq!(r.summary.items, 1, "{r:?}");
}

/// Under the limit, every file is unpacked (and its CRC checked), and the
/// bytes counted: a package just under the limit is valid.
#[test]
fn files_within_the_unpacked_limit_are_all_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let zeros = vec![0u8; 4 << 20];
    let bytes = zip_of(&[
        ("imsmanifest.xml", SCORM12.as_bytes()),
        ("index.html", &zeros),
    ]);
    let path = tmp.path().join("ok.zip");
    std::fs::write(&path, &bytes).expect("write");
    let limits = Limits {
        max_unpacked_bytes: 5 << 20,
        ..Limits::DEFAULT
    };
    let r = validate(&path, limits);
    assert!(r.valid && r.findings.is_empty(), "{r:?}");
    let limits = Limits {
        max_unpacked_bytes: 4 << 20,
        ..Limits::DEFAULT
    };
    let r = validate(&path, limits);
    assert_eq!(codes(&r), ["zip-too-large"], "{r:?}");

    // A flipped byte in the compressed data: the entry is reported.
    let mut broken = bytes.clone();
    let at = broken.len() / 2;
    broken[at] ^= 0xff;
    std::fs::write(&path, &broken).expect("write");
    let r = validate(&path, Limits::DEFAULT);
    assert!(codes(&r).contains(&"zip-entry-unreadable"), "{r:?}");
}

/// Sizes that lie: the central directory says 100 bytes, the entry
/// inflates to 8 MiB. Reading stops at the declared size.
#[test]
fn an_entry_larger_than_it_declares_stops_at_its_declared_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let zeros = vec![0u8; 8 << 20];
    let mut bytes = zip_of(&[
        ("imsmanifest.xml", SCORM12.as_bytes()),
        ("index.html", &zeros),
    ]);
    // Central directory header of index.html: signature PK\1\2, the
    // uncompressed size at offset 24 (and the local header's at 22).
    let name = b"index.html";
    let central = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .find(|&i| bytes[i + 46..].starts_with(name))
        .expect("central header");
    bytes[central + 24..central + 28].copy_from_slice(&100u32.to_le_bytes());
    let local = u32::from_le_bytes(bytes[central + 42..central + 46].try_into().expect("4"));
    let local = local as usize;
    bytes[local + 22..local + 26].copy_from_slice(&100u32.to_le_bytes());
    let path = tmp.path().join("liar.zip");
    std::fs::write(&path, &bytes).expect("write");

    let r = quickly(Duration::from_secs(20), || validate(&path, Limits::DEFAULT));
    assert_eq!(codes(&r), ["zip-entry-unreadable"], "{r:?}");
    assert_eq!(r.findings[0].file, "index.html");
    assert!(
        r.findings[0].message.contains("larger than its declared"),
        "{:?}",
        r.findings[0]
    );
}

#[test]
fn too_many_entries_are_refused_before_any_is_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let n = 100_000;
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..n {
        w.start_file(format!("f/{i}"), stored).expect("entry");
    }
    let path = tmp.path().join("many.zip");
    std::fs::write(&path, w.finish().expect("finish").into_inner()).expect("write");
    let limits = Limits {
        max_entries: 10_000,
        ..Limits::DEFAULT
    };
    let r = quickly(Duration::from_secs(5), || validate(&path, limits));
    assert_eq!(codes(&r), ["too-many-files"], "{r:?}");
    assert_eq!(
        r.findings[0].message,
        "the zip declares 100000 files, more than 10000, the limit of kmh validate; not checked further"
    );
    assert!(!r.valid);
}

#[test]
fn unsafe_entry_names_are_reported_not_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bytes = zip_of(&[
        ("imsmanifest.xml", SCORM12.as_bytes()),
        ("index.html", b"<p>"),
        ("../evil.html", b"x"),
        ("/etc/cron.d/x", b"x"),
        ("a/../../b", b"x"),
        ("C:/Windows/x", b"x"),
        ("nul\0.html", b"x"),
    ]);
    let path = tmp.path().join("slip.zip");
    std::fs::write(&path, bytes).expect("write");
    let r = validate(&path, Limits::DEFAULT);
    let unsafe_: Vec<(&str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.code == "zip-unsafe-path")
        .map(|f| (f.file.as_str(), f.message.split(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        unsafe_,
        [
            (
                "../evil.html",
                "zip entry name climbs out of the package with .."
            ),
            ("/etc/cron.d/x", "zip entry name is an absolute path"),
            ("C:/Windows/x", "zip entry name starts with a drive letter"),
            (
                "a/../../b",
                "zip entry name climbs out of the package with .."
            ),
            ("nul\\u{0}.html", "zip entry name contains a NUL character"),
        ]
    );
    // Nothing else is wrong: the unsafe entries are not package files.
    assert_eq!(r.errors, 5, "{r:?}");
    assert_eq!(r.summary.files_present, Some(2));
}

#[test]
fn a_folder_with_too_many_files_stops_at_the_limit() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("imsmanifest.xml"), SCORM12).expect("write");
    for i in 0..20 {
        std::fs::write(tmp.path().join(format!("{i}.html")), "x").expect("write");
    }
    let limits = Limits {
        max_entries: 10,
        ..Limits::DEFAULT
    };
    let r = validate(tmp.path(), limits);
    assert_eq!(codes(&r), ["too-many-files"], "{r:?}");
    assert!(
        r.findings[0]
            .message
            .starts_with("the folder has at least 11 files, more than 10"),
        "{:?}",
        r.findings[0]
    );
}

/// Shapes that make naive checks quadratic: 50 000 attributes on one
/// element, 50 000 namespace declarations in scope, 50 000 listed files
/// missing from a package of 50 000 others (the case hint once scanned
/// the package per missing file: ten minutes here).
#[test]
fn wide_documents_stay_linear() {
    let n = 50_000;
    let attrs: String = (0..n).map(|i| format!(" a{i}=\"\"")).collect();
    let xml =
        format!("<manifest xmlns=\"http://www.imsproject.org/xsd/imscp_rootv1p1p2\"{attrs}/>");
    quickly(Duration::from_secs(10), || {
        validate_document("p", "imsmanifest.xml", xml.as_bytes(), None, false, vec![])
    });
    let decls: String = (0..n).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
    let kids = "<p0:x p0:y=\"1\"/>".repeat(n);
    let xml = format!(
        "<manifest xmlns=\"http://www.imsproject.org/xsd/imscp_rootv1p1p2\"{decls}>{kids}</manifest>"
    );
    quickly(Duration::from_secs(10), || {
        validate_document("p", "imsmanifest.xml", xml.as_bytes(), None, false, vec![])
    });
    let files: String = (0..n).map(|i| format!("<file href=\"m{i}\"/>")).collect();
    let xml = SCORM12.replace("<file href=\"index.html\"/>", &files);
    let mut present: std::collections::BTreeSet<String> = (0..n).map(|i| format!("p{i}")).collect();
    present.insert("M7".into());
    let r = quickly(Duration::from_secs(10), || {
        validate_document(
            "p",
            "imsmanifest.xml",
            xml.as_bytes(),
            Some(&present),
            false,
            vec![],
        )
    });
    let missing: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.code == "file-missing")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(missing.len(), n);
    assert!(
        missing.contains(&"resource R: file \"m7\" is listed but not in the package (the package has \"M7\": names are case-sensitive on most LMS servers)"),
        "the hint is still given"
    );
}

/// Mutated and arbitrary documents: the validators never panic, and the
/// report always agrees with its findings.
mod properties {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::super::report::Severity;
    use super::super::validate_document;
    use super::SCORM12;

    const CMI5: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd" xmlns:x="urn:x">
  <course id="https://example.org/c"><title><langstring lang="en">C</langstring></title>
    <description><langstring lang="en">D</langstring></description></course>
  <objectives><objective id="https://example.org/o1"><title><langstring>T</langstring></title>
    <description><langstring>D</langstring></description></objective></objectives>
  <block id="https://example.org/c/b"><title><langstring>B</langstring></title>
    <description><langstring>B</langstring></description>
  <au id="https://example.org/c/a1" moveOn="Passed" masteryScore="0.8" x:extra="1">
    <title><langstring lang="en">One</langstring></title>
    <description><langstring lang="en">First</langstring></description>
    <objectives><objective idref="https://example.org/o1"/></objectives>
    <url>a1/index.html?start=1</url><launchParameters>m</launchParameters>
  </au></block>
</courseStructure>
"#;

    /// Pieces of XML syntax to splice in: structure, references,
    /// namespaces and what usually breaks parsers.
    const TOKENS: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "\"",
        "'",
        "&",
        "&amp;",
        "&#0;",
        "&#x10FFFF;",
        "&foo;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?x?>",
        "<!DOCTYPE a [<!ENTITY e \"x\">]>",
        "xmlns:p=\"urn:p\"",
        " p:a=\"1\"",
        "<p:e/>",
        "<item identifier=\"I\">",
        "</item>",
        "<au id=\"x\">",
        "</au>",
        "<block>",
        "<url>../../x</url>",
        "<file href=\"/abs\"/>",
        "identifierref=\"R\"",
        "xml:base=\"../\"",
        "\0",
        "\u{feff}",
        "é",
        "\n",
        "masteryScore=\"1e9\"",
        "<resources/>",
        "<manifest>",
    ];

    #[derive(Debug, Clone)]
    enum Edit {
        Delete(usize, usize),
        Insert(usize, usize),
        Replace(usize, u8),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
            (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        ]
    }

    fn mutate(seed: &str, edits: &[Edit]) -> Vec<u8> {
        let mut b = seed.as_bytes().to_vec();
        for e in edits {
            let len = b.len().max(1);
            match *e {
                Edit::Delete(at, n) => {
                    let at = at % len;
                    let end = (at + n).min(b.len());
                    b.drain(at.min(end)..end);
                }
                Edit::Insert(at, t) => {
                    let at = at % (b.len() + 1);
                    b.splice(at..at, TOKENS[t].bytes());
                }
                Edit::Replace(at, byte) => {
                    if !b.is_empty() {
                        let at = at % b.len();
                        b[at] = byte;
                    }
                }
            }
        }
        b
    }

    fn check(bytes: &[u8]) {
        let files: BTreeSet<String> = ["index.html", "a1/index.html", "A1/Index.html"]
            .into_iter()
            .map(String::from)
            .collect();
        for (files, standalone) in [(Some(&files), false), (None, true), (None, false)] {
            let r = validate_document("p", "doc.xml", bytes, files, standalone, vec![]);
            let errors = r
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            assert_eq!(r.errors, errors);
            assert_eq!(r.warnings, r.findings.len() - errors);
            assert_eq!(r.valid, errors == 0);
            let _ = r.to_text();
        }
    }

    proptest! {
        #[test]
        fn mutated_scorm_manifests_never_panic(edits in prop::collection::vec(edit(), 1..8)) {
            check(&mutate(SCORM12, &edits));
        }

        #[test]
        fn mutated_course_structures_never_panic(edits in prop::collection::vec(edit(), 1..8)) {
            check(&mutate(CMI5, &edits));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            check(&bytes);
        }

        #[test]
        fn arbitrary_token_soup_never_panics(tokens in prop::collection::vec(0..TOKENS.len(), 0..64)) {
            let xml: String = tokens.iter().map(|&t| TOKENS[t]).collect();
            check(xml.as_bytes());
        }
    }
}
