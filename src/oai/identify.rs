//! Identify (§4.2).

use super::{envelope::text_element, Endpoint, Failure};
use crate::domain::Datestamp;
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::Writer;

pub(super) async fn run(ep: &Endpoint<'_>) -> Result<Vec<u8>, Failure> {
    let scope = ep.scope();
    let earliest = ep
        .store
        .earliest_datestamp(scope.as_deref())
        .await?
        .unwrap_or(ep.domain.created_at)
        .min(ep.response_date);
    let id = ep.domain.id;
    let repository_identifier = ep.tree.repository_identifier(id);
    let mut w = Writer::new(Vec::new());
    text_element(&mut w, "repositoryName", &ep.tree.repository_name(id));
    text_element(&mut w, "baseURL", ep.base_url);
    text_element(&mut w, "protocolVersion", "2.0");
    for email in ep.tree.admin_emails(id) {
        text_element(&mut w, "adminEmail", &email);
    }
    text_element(
        &mut w,
        "earliestDatestamp",
        &Datestamp::from_seconds(earliest).to_string(),
    );
    text_element(&mut w, "deletedRecord", "persistent");
    text_element(&mut w, "granularity", "YYYY-MM-DDThh:mm:ssZ");
    text_element(&mut w, "compression", "gzip");
    text_element(&mut w, "compression", "deflate");
    let _ = w.write_event(Event::Start(BytesStart::new("description")));
    let mut oai_id = BytesStart::new("oai-identifier");
    oai_id.push_attribute((
        "xmlns",
        "http://www.openarchives.org/OAI/2.0/oai-identifier",
    ));
    oai_id.push_attribute((
        "xsi:schemaLocation",
        "http://www.openarchives.org/OAI/2.0/oai-identifier http://www.openarchives.org/OAI/2.0/oai-identifier.xsd",
    ));
    let _ = w.write_event(Event::Start(oai_id));
    text_element(&mut w, "scheme", "oai");
    text_element(&mut w, "repositoryIdentifier", &repository_identifier);
    text_element(&mut w, "delimiter", ":");
    text_element(
        &mut w,
        "sampleIdentifier",
        &format!("oai:{repository_identifier}:PPN123456789"),
    );
    let _ = w.write_event(Event::End(BytesEnd::new("oai-identifier")));
    let _ = w.write_event(Event::End(BytesEnd::new("description")));
    Ok(w.into_inner())
}
