//! ListSets (§4.6): the sub-domains below this endpoint's domain (hierarchical specs) and
//! the configured sets of this domain and its sub-domains. The list is small and never
//! paged, so any resumption token is bad.

use super::error::{Code, OaiError};
use super::{envelope::text_element, Endpoint, Failure};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::Writer;

pub(super) async fn run(ep: &Endpoint<'_>, token: Option<&str>) -> Result<Vec<u8>, Failure> {
    if token.is_some() {
        return Err(OaiError::new(
            Code::BadResumptionToken,
            "ListSets is answered in one response; this token was not issued by this repository",
        )
        .into());
    }
    let mut sets: Vec<(String, String, Option<String>)> = Vec::new();
    for id in ep.visible_subtree(ep.domain.id) {
        let prefix = ep.tree.set_spec(ep.domain.id, id);
        if let Some(spec) = &prefix {
            sets.push((spec.clone(), ep.tree.repository_name(id), None));
        }
        for set in ep.tree.configured_sets(id) {
            let spec = match &prefix {
                Some(p) => format!("{p}:{}", set.spec),
                None => set.spec.clone(),
            };
            sets.push((spec, set.name.clone(), set.description.clone()));
        }
    }
    if sets.is_empty() {
        return Err(OaiError::new(Code::NoSetHierarchy, "this repository has no sets").into());
    }
    let mut w = Writer::new(Vec::new());
    for (spec, name, description) in sets {
        let _ = w.write_event(Event::Start(BytesStart::new("set")));
        text_element(&mut w, "setSpec", &spec);
        text_element(&mut w, "setName", &name);
        if let Some(description) = description {
            let _ = w.write_event(Event::Start(BytesStart::new("setDescription")));
            let mut dc = BytesStart::new("oai_dc:dc");
            dc.push_attribute((
                "xmlns:oai_dc",
                "http://www.openarchives.org/OAI/2.0/oai_dc/",
            ));
            dc.push_attribute(("xmlns:dc", "http://purl.org/dc/elements/1.1/"));
            dc.push_attribute((
                "xsi:schemaLocation",
                "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            ));
            let _ = w.write_event(Event::Start(dc));
            text_element(&mut w, "dc:description", &description);
            let _ = w.write_event(Event::End(BytesEnd::new("oai_dc:dc")));
            let _ = w.write_event(Event::End(BytesEnd::new("setDescription")));
        }
        let _ = w.write_event(Event::End(BytesEnd::new("set")));
    }
    Ok(w.into_inner())
}
