//! Deterministic zip: the same files give the same bytes on every machine
//! and every run. Entries are written in sorted order, with one fixed
//! timestamp (1980-01-01, the zip epoch, or `SOURCE_DATE_EPOCH` when set,
//! see reproducible-builds.org), fixed permissions (0644), no extra fields
//! and no directory entries.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::package::render::Files;

/// Formats that are already compressed: deflating them again only costs
/// time.
const STORED: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "mp3", "mp4", "m4a", "webm", "ogg", "zip", "docx", "xlsx",
    "pptx", "woff2",
];

pub fn zip_files(files: &Files, mtime: DateTime) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let method = if STORED.contains(&ext.as_str()) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(mtime)
            .unix_permissions(0o644)
            .large_file(false);
        w.start_file(name.as_str(), opts)?;
        w.write_all(bytes).map_err(zip::result::ZipError::Io)?;
    }
    Ok(w.finish()?.into_inner())
}

/// The timestamp for every entry: `SOURCE_DATE_EPOCH` (seconds since 1970,
/// UTC) if set and representable in a zip, else 1980-01-01 00:00:00.
pub fn timestamp() -> DateTime {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| {
            DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn files() -> Files {
        let mut f = Files::new();
        f.insert("b/x.html".into(), b"<p>hello hello hello</p>".to_vec());
        f.insert("a.png".into(), vec![0x89, 0x50, 0x4e, 0x47]);
        f.insert("imsmanifest.xml".into(), b"<manifest/>".to_vec());
        f
    }

    #[test]
    fn same_files_same_bytes() {
        let a = zip_files(&files(), DateTime::default()).expect("zip");
        let b = zip_files(&files(), DateTime::default()).expect("zip");
        assert_eq!(a, b);
    }

    #[test]
    fn entries_are_sorted_with_fixed_metadata() {
        let bytes = zip_files(&files(), DateTime::default()).expect("zip");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("readable");
        let names: Vec<String> = (0..archive.len())
            .map(|i| {
                archive
                    .by_index(i)
                    .expect("entry")
                    .name()
                    .expect("name")
                    .to_string()
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 3);
        for (i, expected) in sorted.iter().enumerate() {
            let mut f = archive.by_index(i).expect("entry");
            let name = f.name().expect("name").to_string();
            assert_eq!(&name, expected);
            assert_eq!(f.unix_mode(), Some(0o100644));
            assert_eq!(f.last_modified(), Some(DateTime::default()));
            let mut content = Vec::new();
            f.read_to_end(&mut content).expect("read");
            assert_eq!(content, files()[&name]);
        }
    }
}
