//! GetRecord (§4.1): one record in one format; a deleted record answers with its header
//! marked `status="deleted"` and no metadata.

use super::document::Chunks;
use super::error::{Code, OaiError};
use super::{Endpoint, Failure};

pub(super) async fn run(
    ep: &Endpoint<'_>,
    identifier: &str,
    prefix: &str,
    diag: bool,
) -> Result<Chunks, Failure> {
    let scope = ep.scope();
    let format = ep.format(prefix);
    let item = match &format {
        Ok(format) => {
            ep.store
                .get(identifier, format.prefix(), scope.as_deref())
                .await?
        }
        Err(_) => None,
    };
    let Some(item) = item else {
        let mut errors = Vec::new();
        let known = ep.store.formats_of(identifier, scope.as_deref()).await?;
        if known.is_none() {
            errors.push(OaiError::new(
                Code::IdDoesNotExist,
                format!("no record {identifier:?} in this repository"),
            ));
        }
        match format {
            Err(e) => errors.push(e),
            Ok(format) if known.is_some() => errors.push(OaiError::new(
                Code::CannotDisseminateFormat,
                format!("record {identifier:?} is not available as {format}"),
            )),
            Ok(_) => {}
        }
        return Err(Failure::Protocol(errors));
    };
    let mut out = Chunks::default();
    let diagnostics = if diag && !item.deleted {
        ep.store.diagnostics(&[item.record_id]).await?
    } else {
        Vec::new()
    };
    ep.write_record(&mut out, item, None, diagnostics.first())?;
    Ok(out)
}
