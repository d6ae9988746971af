//! `POST /api/v1/domains/{dname}/exports`: the call a Goobi or Kitodo HTTP step makes
//! after its export wrote a METS (and anchor files) into a folder vitrine can read.
//! The body names a file or folder under one of `ingest.export_dirs`; anything outside
//! them — `..`, a symbolic link leading out, an absolute path elsewhere — is refused with
//! 403 before anything is read. The answer lists every file like `vitrine import` does.

use super::auth::{authorize_token, bearer};
use super::body::{no_query, read_limited, require_json};
use super::json;
use super::problem::Problem;
use crate::ingest::{collect_files, ingest_files, IngestOptions, ValidateMode};
use crate::store::TokenScope;
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::path::{Component, Path, PathBuf};

/// The JSON body of an export call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    path: String,
    #[serde(default)]
    release: bool,
    #[serde(default)]
    validate: Option<String>,
    #[serde(default)]
    reject_invalid: bool,
    /// The bearer token, for workflow systems whose HTTP step cannot send headers.
    #[serde(default)]
    token: Option<String>,
}

/// Largest JSON body accepted.
const MAX_JSON: usize = 64 * 1024;

/// `POST /api/v1/domains/{dname}/exports`.
#[tracing::instrument(skip_all, fields(dname = %path))]
pub async fn post(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    let dname = path.into_inner();
    // With the header, the token is checked before the body is read; without it, the
    // token may come in the body (Goobi's HTTP step sends a body, but no headers).
    let header = bearer(&req)?;
    let mut auth = match header {
        Some(text) => Some(authorize_token(&state, text, &dname, TokenScope::Ingest).await?),
        None => None,
    };
    no_query(&req)?;
    require_json(&req)?;
    let body = read_limited(&req, payload, MAX_JSON).await?;
    let parsed: Result<ExportRequest, _> = serde_json::from_slice(&body);
    if auth.is_none() {
        let token = parsed
            .as_ref()
            .ok()
            .and_then(|r| r.token.clone())
            .ok_or_else(|| {
                Problem::unauthorized(
                "this API needs a token: send 'Authorization: Bearer vit_…', or \"token\" in the \
                 JSON body (create one with `vitrine token create --domain D --scope ingest`)",
            )
            })?;
        auth = Some(authorize_token(&state, &token, &dname, TokenScope::Ingest).await?);
    }
    let auth = auth.ok_or_else(|| Problem::unauthorized("no token"))?;
    let request: ExportRequest = parsed.map_err(|e| {
        Problem::bad_request(
            "malformed-json",
            format!(
                "the body is not the expected JSON object {{\"path\", \"release\", \"validate\", \"reject_invalid\", \"token\"}}: {e}"
            ),
        )
        .with("line", e.line())
        .with("column", e.column())
    })?;
    let validate = match request.validate.as_deref() {
        None => ValidateMode::Background,
        Some(v) => ValidateMode::parse(v).ok_or_else(|| {
            Problem::bad_request(
                "bad-argument",
                format!("validate {v:?}: use \"sync\" or \"background\""),
            )
        })?,
    };
    let target = confine(&request.path, &state.config.ingest.export_dirs)?;
    let files = collect_files(std::slice::from_ref(&target)).map_err(Problem::not_found)?;
    if files.is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-files",
            "Nothing to import",
            format!("{} holds no .xml files", request.path),
        ));
    }
    let limit = state.config.ingest.max_document_bytes;
    let options = IngestOptions {
        release: request.release,
        validate,
        reject_invalid: request.reject_invalid,
        limits: crate::xml::ParseLimits::with_max_bytes(limit),
        public_url: state.config.server.public_url.clone(),
        clock: state.clock.clone(),
    };
    let results = ingest_files(
        state.store.clone(),
        auth.tree.clone(),
        auth.domain.id,
        files,
        &options,
    )
    .await;
    let mut counts = [0usize; 4];
    let mut listed = Vec::with_capacity(results.len());
    for file in &results {
        let shown = file.path.display().to_string();
        match &file.result {
            Ok(ingested) => {
                counts[match ingested.outcome {
                    crate::store::PutOutcome::Created => 0,
                    crate::store::PutOutcome::Replaced => 1,
                    crate::store::PutOutcome::Unchanged => 2,
                }] += 1;
                let mut entry = json::ingested(&dname, ingested);
                entry["file"] = shown.into();
                listed.push(entry);
            }
            Err(e) => {
                counts[3] += 1;
                let problem = json::refused(e);
                let mut entry = problem.body();
                entry["file"] = shown.into();
                entry["outcome"] = "failed".into();
                listed.push(entry);
            }
        }
    }
    tracing::info!(
        path = %request.path,
        created = counts[0],
        replaced = counts[1],
        unchanged = counts[2],
        failed = counts[3],
        token = auth.token.id,
        "export imported through the API"
    );
    let summary = json!({
        "path": request.path,
        "created": counts[0],
        "replaced": counts[1],
        "unchanged": counts[2],
        "failed": counts[3],
        "files": listed,
    });
    if counts[3] > 0 {
        let reasons: Vec<String> = results
            .iter()
            .filter_map(|f| {
                let name = f.path.file_name().map_or_else(
                    || f.path.display().to_string(),
                    |n| n.to_string_lossy().to_string(),
                );
                f.result
                    .as_ref()
                    .err()
                    .map(|e| format!("{name}: {}", json::refused(e).detail()))
            })
            .take(5)
            .collect();
        let stored = if counts[3] == results.len() {
            "nothing was stored"
        } else {
            "the other files were stored"
        };
        let more = if counts[3] > reasons.len() {
            " | … (see files)"
        } else {
            ""
        };
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "export-failed",
            "Some files were not imported",
            format!(
                "{} of {} files of {} were not imported ({stored}): {}{more}",
                counts[3],
                results.len(),
                request.path,
                reasons.join(" | "),
            ),
        );
        for key in [
            "path",
            "created",
            "replaced",
            "unchanged",
            "failed",
            "files",
        ] {
            problem = problem.with(key, summary[key].clone());
        }
        return Err(problem);
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(summary.to_string()))
}

/// Resolves `path` inside one of the export folders: an absolute path must lie in one,
/// a relative one is taken relative to each in turn. The real path (symbolic links
/// followed) must stay inside the folder.
fn confine(path: &str, dirs: &[PathBuf]) -> Result<PathBuf, Problem> {
    if dirs.is_empty() {
        return Err(Problem::forbidden(
            "no export folders are configured: set ingest.export_dirs to the folders Goobi or Kitodo export into",
        ));
    }
    let given = Path::new(path);
    if path.is_empty()
        || given
            .components()
            .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(Problem::forbidden(format!(
            "{path:?} is not allowed: the path must name a file or folder inside an export folder, without '..'"
        )));
    }
    let candidates: Vec<(PathBuf, &PathBuf)> = if given.is_absolute() {
        dirs.iter()
            .filter(|d| given.starts_with(d))
            .map(|d| (given.to_path_buf(), d))
            .collect()
    } else {
        dirs.iter().map(|d| (d.join(given), d)).collect()
    };
    if candidates.is_empty() {
        return Err(Problem::forbidden(format!(
            "{path} is outside the export folders (ingest.export_dirs)"
        )));
    }
    for (candidate, dir) in &candidates {
        let (Ok(real), Ok(real_dir)) = (candidate.canonicalize(), dir.canonicalize()) else {
            continue;
        };
        if real.starts_with(&real_dir) {
            return Ok(real);
        }
        return Err(Problem::forbidden(format!(
            "{path} leads outside the export folders (a symbolic link?); it is not imported"
        )));
    }
    Err(Problem::not_found(format!(
        "there is no file or folder {path} in the export folders"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_export_folders_are_forbidden() {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export");
        std::fs::create_dir_all(export.join("PPN1")).unwrap();
        std::fs::create_dir_all(dir.path().join("secret")).unwrap();
        let dirs = vec![export.clone()];
        assert!(confine("PPN1", &dirs).is_ok());
        assert!(confine(export.join("PPN1").to_str().unwrap(), &dirs).is_ok());
        let status = |p: &str| confine(p, &dirs).unwrap_err().status().as_u16();
        assert_eq!(status("../secret"), 403);
        assert_eq!(status("PPN1/../../secret"), 403);
        assert_eq!(status(dir.path().join("secret").to_str().unwrap()), 403);
        assert_eq!(status("/etc/passwd"), 403);
        assert_eq!(status("PPN2"), 404);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), export.join("out")).unwrap();
            assert_eq!(status("out"), 403);
        }
        assert_eq!(confine("PPN1", &[]).unwrap_err().status().as_u16(), 403);
    }
}
