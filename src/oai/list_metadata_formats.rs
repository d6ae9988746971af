//! ListMetadataFormats (§4.4): the endpoint's formats, or those of one item.

use super::error::{Code, OaiError};
use super::{envelope::text_element, Endpoint, Failure};
use crate::formats::Format;
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::Writer;

pub(super) async fn run(ep: &Endpoint<'_>, identifier: Option<&str>) -> Result<Vec<u8>, Failure> {
    let formats: Vec<Format> = match identifier {
        None => ep.formats(),
        Some(id) => {
            let Some(known) = ep.store.formats_of(id, ep.scope().as_deref()).await? else {
                return Err(OaiError::new(
                    Code::IdDoesNotExist,
                    format!("no record {id:?} in this repository"),
                )
                .into());
            };
            ep.formats()
                .into_iter()
                .filter(|f| known.iter().any(|(p, _)| p == f.prefix()))
                .collect()
        }
    };
    if formats.is_empty() {
        return Err(
            OaiError::new(Code::NoMetadataFormats, "the item has no metadata formats").into(),
        );
    }
    let mut w = Writer::new(Vec::new());
    for format in formats {
        let _ = w.write_event(Event::Start(BytesStart::new("metadataFormat")));
        text_element(&mut w, "metadataPrefix", format.prefix());
        text_element(&mut w, "schema", format.schema());
        text_element(&mut w, "metadataNamespace", format.namespace());
        let _ = w.write_event(Event::End(BytesEnd::new("metadataFormat")));
    }
    Ok(w.into_inner())
}
