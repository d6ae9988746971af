//! `diag=true`: a record's validation diagnostics in its `about` element, in vitrine's
//! namespace (`urn:vitrine:diagnostics:1`, schema `xsd/diagnostics.xsd`, served at
//! `/schemas/diagnostics.xsd`): findings before repairs, each repair applied, findings
//! after repairs, and the final class (SPEC §3).

use super::envelope::text_element;
use super::Endpoint;
use crate::domain::Datestamp;
use crate::store::{RecordDiagnostics, StoredFinding};
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// The diagnostics namespace.
pub const DIAG_NS: &str = "urn:vitrine:diagnostics:1";

impl Endpoint<'_> {
    /// Where the diagnostics schema is served on this host.
    pub fn diagnostics_schema(&self) -> String {
        let origin_end = self
            .base_url
            .find("://")
            .and_then(|p| self.base_url[p + 3..].find('/').map(|q| p + 3 + q))
            .unwrap_or(self.base_url.len());
        format!("{}/schemas/diagnostics.xsd", &self.base_url[..origin_end])
    }

    /// Writes `<about><vd:diagnostics …/></about>`.
    pub fn write_about(&self, w: &mut Writer<Vec<u8>>, diag: &RecordDiagnostics) {
        let _ = w.write_event(Event::Start(BytesStart::new("about")));
        let mut root = BytesStart::new("vd:diagnostics");
        root.push_attribute(("xmlns:vd", DIAG_NS));
        let location = format!("{DIAG_NS} {}", self.diagnostics_schema());
        root.push_attribute(("xsi:schemaLocation", location.as_str()));
        root.push_attribute(("class", diag.state.as_str()));
        if let Some(at) = diag.validated_at {
            root.push_attribute((
                "validated",
                Datestamp::from_seconds(at).to_string().as_str(),
            ));
        }
        if let Some(version) = &diag.rule_set_version {
            root.push_attribute(("ruleSet", version.as_str()));
        }
        let _ = w.write_event(Event::Start(root));
        text_element(w, "vd:reason", &diag.reason);
        let before: Vec<&StoredFinding> = diag
            .findings
            .iter()
            .filter(|f| f.stage == "before")
            .collect();
        write_findings(w, "vd:before", &before, true);
        let _ = w.write_event(Event::Start(BytesStart::new("vd:repairs")));
        for repair in &diag.repairs {
            let mut el = BytesStart::new("vd:repair");
            el.push_attribute(("rule", repair.rule_id.as_str()));
            el.push_attribute(("xpath", repair.xpath.as_str()));
            let _ = w.write_event(Event::Start(el));
            text_element(w, "vd:old", &repair.before);
            text_element(w, "vd:new", &repair.after);
            let _ = w.write_event(Event::End(BytesEnd::new("vd:repair")));
        }
        let _ = w.write_event(Event::End(BytesEnd::new("vd:repairs")));
        let after: Vec<&StoredFinding> = diag
            .findings
            .iter()
            .filter(|f| f.stage == "after" || !f.repaired)
            .collect();
        write_findings(w, "vd:after", &after, false);
        let _ = w.write_event(Event::End(BytesEnd::new("vd:diagnostics")));
        let _ = w.write_event(Event::End(BytesEnd::new("about")));
    }
}

fn write_findings(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    findings: &[&StoredFinding],
    with_repaired: bool,
) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    for f in findings {
        let mut el = BytesStart::new("vd:finding");
        el.push_attribute(("rule", f.rule_id.as_str()));
        el.push_attribute(("class", f.class.as_str()));
        el.push_attribute(("location", f.location.as_str()));
        if with_repaired {
            el.push_attribute(("repaired", if f.repaired { "true" } else { "false" }));
        }
        el.push_attribute(("ruleSet", f.rule_set.as_str()));
        if let Some(role) = &f.role {
            el.push_attribute(("role", role.as_str()));
        }
        let _ = w.write_event(Event::Start(el));
        let text = crate::xml::text::strip_illegal_str(&f.message);
        let _ = w.write_event(Event::Text(BytesText::new(&text)));
        let _ = w.write_event(Event::End(BytesEnd::new("vd:finding")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}
