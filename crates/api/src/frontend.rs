//! Same-origin hosting: the CIPP frontend's static build (`CIPP_FRONTEND_DIR`) served beside
//! `/api`, so a provider needs no Azure Static Web Apps. A path naming a file serves it (also
//! `<path>.html` and `<path>/index.html`, as a static export lays pages out); any other path
//! outside `/api/` serves `index.html` (the single-page app routes it). Off: every such path is
//! "Endpoint not found", as before.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use std::path::{Path, PathBuf};

use crate::error::ApiError;
use crate::state::AppState;

pub async fn serve(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(root) = state.settings.sign_in.frontend_dir.as_deref() else {
        return Err(ApiError::not_found_endpoint());
    };
    let path = request.path();
    if path == "/api" || path.starts_with("/api/") || path.starts_with("/.auth/") {
        return Err(ApiError::not_found_endpoint());
    }
    if !matches!(request.method().as_str(), "GET" | "HEAD") {
        return Err(ApiError::method_not_allowed());
    }
    let found = match relative_path(path) {
        Some(relative) => find_file(root, &relative).await,
        None => None,
    };
    let (file, fallback) = match found {
        Some(file) => (file, false),
        None => (root.join("index.html"), true),
    };
    let bytes = tokio::fs::read(&file).await.map_err(|error| {
        tracing::warn!(%error, file = %file.display(), "a frontend file could not be read");
        ApiError::not_found_endpoint()
    })?;
    let is_html = fallback || file.extension().is_some_and(|e| e == "html");
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, content_type(&file)));
    // Pages name hashed assets; a page must be re-read after a deployment, an asset need not.
    response.insert_header((
        CACHE_CONTROL,
        if is_html {
            "no-cache"
        } else {
            "public, max-age=3600"
        },
    ));
    response.insert_header(("X-Content-Type-Options", "nosniff"));
    if request.method() == actix_web::http::Method::HEAD {
        return Ok(response.finish());
    }
    Ok(response.body(bytes))
}

/// The request path as segments under the root, or `None` when it tries to leave it
/// (`..`, backslashes, NUL) or does not decode.
fn relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => relative.push(s),
        }
    }
    Some(relative)
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file a path names, if it is a regular file inside the root (symbolic links that lead
/// out of it are not followed).
async fn find_file(root: &Path, relative: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let base = root.join(relative);
    let mut candidates = vec![base.clone(), base.join("index.html")];
    if let Some(name) = base.file_name() {
        let mut html = name.to_os_string();
        html.push(".html");
        candidates.push(base.with_file_name(html));
    }
    for candidate in candidates {
        let Ok(real) = tokio::fs::canonicalize(&candidate).await else {
            continue;
        };
        if real.starts_with(&root) && tokio::fs::metadata(&real).await.is_ok_and(|m| m.is_file()) {
            return Some(real);
        }
    }
    None
}

fn content_type(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_leaving_the_frontend_folder_is_refused() {
        assert_eq!(relative_path("/../etc/passwd"), None);
        assert_eq!(relative_path("/a/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(relative_path("/a\\..\\b"), None);
        assert_eq!(relative_path("/x%00y"), None);
        assert_eq!(
            relative_path("/users/edit/index.html"),
            Some(PathBuf::from("users/edit/index.html"))
        );
    }
}
