//! The courses published for learners at `/courses/` (`kmh serve
//! --courses DIR`): an index of courses and languages, a page per course
//! and language listing its modules with a launch form, and the course's
//! rendered files ([`crate::package::web`]) from memory.
//!
//! A module is launched standalone with Tin Can launch parameters: this
//! server's `/xapi/` and the course's own credential, which may only write
//! statements and State about the course's activities. That credential is
//! public by design (every learner's browser holds it); nothing else secret
//! is ever sent from here.

mod pages;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::package::web::WebCourse;

const LAUNCH_JS: &[u8] = include_bytes!("../../../assets/courses/courses.js");
const COURSES_CSS: &[u8] = include_bytes!("../../../assets/courses/courses.css");

/// A course as served: its rendered languages (their files move into the
/// [`CourseSite`]'s table) and the credential its learners report with.
#[derive(Debug, Clone)]
pub struct PublishedCourse {
    pub course: WebCourse,
    /// The course credential (`statements/write` and `state`, limited to
    /// [`WebCourse::activity_prefixes`]).
    pub key: String,
    pub secret: String,
}

/// Every course served, with each file's response ready.
#[derive(Debug, Default)]
pub struct CourseSite {
    courses: Vec<PublishedCourse>,
    /// `<course>/<lang>/<path>` → file.
    files: BTreeMap<String, StaticFile>,
}

#[derive(Debug)]
struct StaticFile {
    bytes: axum::body::Bytes,
    content_type: HeaderValue,
    etag: HeaderValue,
    cache: &'static str,
}

impl StaticFile {
    fn new(path: &str, bytes: Vec<u8>) -> StaticFile {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let content_type = match mime.type_() {
            mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
            _ if mime == mime_guess::mime::APPLICATION_JAVASCRIPT => {
                "text/javascript; charset=utf-8".to_owned()
            }
            _ if mime == mime_guess::mime::APPLICATION_JSON => {
                "application/json; charset=utf-8".to_owned()
            }
            _ => mime.to_string(),
        };
        let digest = Sha256::digest(&bytes);
        let etag = format!("\"{}\"", hex::encode(&digest[..12]));
        // Pages and the runtime config change when the course does (a
        // restart with new sources): revalidate them every time. Other
        // assets may be kept an hour.
        let cache = if mime.subtype() == mime_guess::mime::HTML
            || mime.subtype() == mime_guess::mime::JSON
        {
            "no-cache"
        } else {
            "public, max-age=3600"
        };
        StaticFile {
            bytes: axum::body::Bytes::from(bytes),
            content_type: HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            cache,
        }
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == self.etag)
            });
        let headers = [
            (header::CONTENT_TYPE, self.content_type.clone()),
            (header::ETAG, self.etag.clone()),
            (header::CACHE_CONTROL, HeaderValue::from_static(self.cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (headers, axum::body::Body::from(self.bytes.clone())).into_response()
    }
}

impl CourseSite {
    pub fn new(mut courses: Vec<PublishedCourse>) -> CourseSite {
        let mut files = BTreeMap::new();
        for c in &mut courses {
            for l in &mut c.course.languages {
                // Moved, not copied: the site keeps one copy of each file.
                for (path, bytes) in std::mem::take(&mut l.files) {
                    let key = format!("{}/{}/{path}", c.course.id, l.language);
                    let file = StaticFile::new(&path, bytes);
                    files.insert(key, file);
                }
            }
        }
        CourseSite { courses, files }
    }

    pub fn is_empty(&self) -> bool {
        self.courses.is_empty()
    }

    pub fn courses(&self) -> &[PublishedCourse] {
        &self.courses
    }

    fn course(&self, id: &str) -> Option<&PublishedCourse> {
        self.courses.iter().find(|c| c.course.id == id)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/courses",
            get(|| async { Redirect::permanent("/courses/") }),
        )
        .route("/courses/", get(index))
        .route("/courses/{*path}", get(path))
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    html(pages::index(state.courses.courses()), &headers)
}

/// Everything below `/courses/`. `rest` is already percent-decoded, so an
/// encoded `..` (`%2e%2e`, `..%2f`) is seen here as the segment it is.
async fn path(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let segments: Vec<&str> = rest.split('/').collect();
    if segments
        .iter()
        .any(|s| *s == ".." || *s == "." || s.contains('\\') || s.contains('\0'))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!(
                "refused: the path {rest:?} has a \"..\", \".\", backslash or NUL segment; only files of the published courses are served here"
            ),
        );
    }
    let site = &state.courses;
    match segments.as_slice() {
        ["courses.js"] => StaticFile::new("courses.js", LAUNCH_JS.to_vec()).respond(&headers),
        ["courses.css"] => StaticFile::new("courses.css", COURSES_CSS.to_vec()).respond(&headers),
        [course] | [course, ""] => match site.course(course) {
            Some(c) => Redirect::to(&format!(
                "/courses/{}/{}/",
                c.course.id, c.course.default_language
            ))
            .into_response(),
            None => not_found(&rest),
        },
        [course, lang] => match site
            .course(course)
            .filter(|c| c.course.languages.iter().any(|l| l.language == *lang))
        {
            Some(_) => Redirect::permanent(&format!("/courses/{course}/{lang}/")).into_response(),
            None => not_found(&rest),
        },
        [course, lang, ""] => {
            let found = site.course(course).and_then(|c| {
                c.course
                    .languages
                    .iter()
                    .find(|l| l.language == *lang)
                    .map(|l| (c, l))
            });
            match found {
                Some((c, l)) => html(pages::language(c, l), &headers),
                None => not_found(&rest),
            }
        }
        _ => match site.files.get(rest.as_str()) {
            Some(file) => file.respond(&headers),
            None => not_found(&rest),
        },
    }
}

fn html(body: String, request: &HeaderMap) -> Response {
    StaticFile::new("page.html", body.into_bytes()).respond(request)
}

fn not_found(rest: &str) -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        &format!("no such course page or file: /courses/{rest}"),
    )
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// The `Authorization` value a course's learners report with.
fn basic_auth(c: &PublishedCourse) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.key, c.secret))
    )
}
