//! Path and URL helpers shared by the source reader, the renderer and the
//! manifest writers. Package paths are always `/`-separated and relative to
//! the package root, whatever the host OS.

use std::path::{Component, Path, PathBuf};

/// Resolves `.` and `..` without touching the file system (the target may
/// not exist yet, and symlinks must not let a path escape its folder).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// True for `http:`, `mailto:` and every other URL with a scheme, and for
/// protocol-relative `//host` URLs.
pub fn has_scheme(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        // A Windows drive letter (`C:\…`) is not a scheme.
        && scheme.len() > 1
}

/// Splits `path#frag` or `path?query` into the path and the rest
/// (including its `#` or `?`).
pub fn split_suffix(url: &str) -> (&str, &str) {
    match url.find(['#', '?']) {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    }
}

/// Percent-encodes a package path for use in an `href`: everything but
/// unreserved characters and `/` is encoded, so a file called
/// `Plan de S&E.docx` still resolves in every LMS.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
pub fn decode_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The relative URL that leads from the package file `from` to the package
/// file `to` (both `/`-separated, relative to the package root), encoded.
pub fn relative_url(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = match from.rsplit_once('/') {
        Some((dir, _)) => dir.split('/').collect(),
        None => Vec::new(),
    };
    let to_parts: Vec<&str> = to.split('/').collect();
    let (to_dir, to_file) = to_parts.split_at(to_parts.len() - 1);
    let common = from_dir
        .iter()
        .zip(to_dir.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for _ in common..from_dir.len() {
        out.push_str("../");
    }
    for part in &to_dir[common..] {
        out.push_str(&encode_path(part));
        out.push('/');
    }
    out.push_str(&encode_path(to_file[0]));
    out
}

/// The prefix (`""`, `"../"`, `"../../"`…) that leads from a package file
/// back to the package root.
pub fn root_prefix(from: &str) -> String {
    "../".repeat(from.matches('/').count())
}

/// A path as a `/`-separated string; `None` if a component is not UTF-8.
pub fn to_slash(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_string()),
            Component::ParentDir => parts.push("..".to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_between_package_files() {
        assert_eq!(
            relative_url("m/pages/a.html", "m/media/x.svg"),
            "../media/x.svg"
        );
        assert_eq!(
            relative_url("m/index.html", "m/pages/a.html"),
            "pages/a.html"
        );
        assert_eq!(relative_url("m/pages/a.html", "m/pages/b.html"), "b.html");
        assert_eq!(
            relative_url("m/pages/a.html", "kmh/kmh.css"),
            "../../kmh/kmh.css"
        );
        assert_eq!(relative_url("index.html", "m/a b.html"), "m/a%20b.html");
    }

    #[test]
    fn schemes_are_recognised() {
        assert!(has_scheme("https://example.org"));
        assert!(has_scheme("mailto:a@b"));
        assert!(has_scheme("//cdn.example.org/x.js"));
        assert!(!has_scheme("media/x.svg"));
        assert!(!has_scheme("../shared/a.md"));
        assert!(!has_scheme("C:\\x"));
    }

    #[test]
    fn encoding_round_trips() {
        let p = "handouts/Plan de S&E (v2).docx";
        assert_eq!(encode_path(p), "handouts/Plan%20de%20S%26E%20%28v2%29.docx");
        assert_eq!(decode_path(&encode_path(p)), p);
        assert_eq!(decode_path("a%2"), "a%2");
        assert_eq!(decode_path("%C3%A9t%C3%A9"), "été");
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }

    #[test]
    fn root_prefix_counts_folders() {
        assert_eq!(root_prefix("imsmanifest.xml"), "");
        assert_eq!(root_prefix("m/pages/a.html"), "../../");
    }
}
