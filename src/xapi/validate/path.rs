//! JSON paths for error messages (`context.contextActivities.parent[1].id`).
//!
//! The validators walk a statement with a chain of [`Path`] values that live
//! on the stack and only borrow keys from the document, so the happy path
//! never allocates: the string is rendered only when an error is returned.

use super::Invalid;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    /// The prefix the caller gave (empty for a statement).
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

/// One step of a JSON path plus a link to its parent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl<'a> Path<'a> {
    pub(crate) const fn root(prefix: &'a str) -> Self {
        Path {
            parent: None,
            seg: Seg::Root(prefix),
        }
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(index),
        }
    }

    /// The error for this location.
    pub(crate) fn err(&self, rule: impl Into<String>) -> Invalid {
        Invalid {
            path: self.render(),
            rule: rule.into(),
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.seg {
            Seg::Root(prefix) => out.push_str(prefix),
            Seg::Key(key) if is_plain(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            // Extension keys are IRIs and language-map keys may be anything the
            // client sent: quote them so the path stays unambiguous.
            Seg::Key(key) => {
                out.push('[');
                out.push_str(&serde_json::Value::from(key).to_string());
                out.push(']');
            }
            Seg::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
        }
    }
}

fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_indexes_and_quoted_keys() {
        let root = Path::root("");
        let ctx = root.key("context");
        let ca = ctx.key("contextActivities");
        let parent = ca.key("parent");
        let one = parent.index(1);
        assert_eq!(
            one.key("id").render(),
            "context.contextActivities.parent[1].id"
        );
        let result = root.key("result");
        let exts = result.key("extensions");
        assert_eq!(
            exts.key("http://example.com/x").render(),
            r#"result.extensions["http://example.com/x"]"#
        );
        assert_eq!(
            root.key("verb").key("display").key("en-US").render(),
            "verb.display.en-US"
        );
    }

    #[test]
    fn prefix_is_kept() {
        let root = Path::root("agent");
        assert_eq!(root.key("mbox").render(), "agent.mbox");
        assert_eq!(Path::root("").render(), "");
    }
}
