//! The OAI-PMH response envelope (§3.2): XML declaration, the `OAI-PMH` root in the
//! default namespace with its schema location, `responseDate`, `request` echoing the
//! arguments (none on badVerb/badArgument), then the verb's element or the errors.

use super::document::{Chunks, Document};
use super::error::{Code, OaiError};
use crate::domain::Datestamp;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// OAI-PMH namespace.
pub const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";
const OAI_SCHEMA: &str =
    "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";

/// The arguments OAI-PMH defines (the attributes the `request` element may carry).
const PROTOCOL_ARGUMENTS: [&str; 7] = [
    "verb",
    "identifier",
    "metadataPrefix",
    "from",
    "until",
    "set",
    "resumptionToken",
];

/// Writes a whole response around the inner XML of the verb element.
pub fn response(
    response_date: i64,
    base_url: &str,
    echo: &[(String, String)],
    outcome: Result<(&str, Chunks), Vec<OaiError>>,
) -> Document {
    let mut out = Chunks::default();
    let w = out.writer();
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    w.get_mut().push(b'\n');
    let mut root = BytesStart::new("OAI-PMH");
    root.push_attribute(("xmlns", OAI_NS));
    root.push_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"));
    root.push_attribute(("xsi:schemaLocation", OAI_SCHEMA));
    let _ = w.write_event(Event::Start(root));
    text_element(
        w,
        "responseDate",
        &Datestamp::from_seconds(response_date).to_string(),
    );
    let mut request = BytesStart::new("request");
    let echo_arguments = match &outcome {
        Err(errors) => !errors
            .iter()
            .any(|e| matches!(e.code, Code::BadVerb | Code::BadArgument)),
        Ok(_) => true,
    };
    if echo_arguments {
        // Only protocol arguments: the schema of `request` has no room for extensions
        // such as diag.
        for (k, v) in echo
            .iter()
            .filter(|(k, _)| PROTOCOL_ARGUMENTS.contains(&k.as_str()))
        {
            let v = crate::xml::text::strip_illegal_str(v);
            request.push_attribute((k.as_str(), v.as_ref()));
        }
    }
    let _ = w.write_event(Event::Start(request));
    let _ = w.write_event(Event::Text(BytesText::new(base_url)));
    let _ = w.write_event(Event::End(BytesEnd::new("request")));
    match outcome {
        Ok((verb, body)) => {
            let _ = w.write_event(Event::Start(BytesStart::new(verb)));
            out.append(body);
            let _ = out.writer().write_event(Event::End(BytesEnd::new(verb)));
        }
        Err(errors) => {
            for e in errors {
                let mut el = BytesStart::new("error");
                el.push_attribute(("code", e.code.as_str()));
                let _ = w.write_event(Event::Start(el));
                let _ = w.write_event(Event::Text(BytesText::new(&e.message)));
                let _ = w.write_event(Event::End(BytesEnd::new("error")));
            }
        }
    }
    let _ = out
        .writer()
        .write_event(Event::End(BytesEnd::new("OAI-PMH")));
    out.finish()
}

/// Writes `<name>text</name>`.
pub fn text_element(w: &mut Writer<Vec<u8>>, name: &str, text: &str) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::new(
        &crate::xml::text::strip_illegal_str(text),
    )));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}
