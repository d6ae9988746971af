//! SVRL (Schematron Validation Report Language) output of a [`Report`].

use super::options::SVRL_NS;
use super::report::{Kind, Report};
use quick_xml::events::{BytesText, Event};
use quick_xml::Writer;
use std::io;

/// Writes `report` as an `svrl:schematron-output` document.
pub fn to_svrl(report: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_svrl(&mut w, report).expect("writing to a Vec cannot fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
}

fn write_svrl(w: &mut Writer<Vec<u8>>, report: &Report) -> io::Result<()> {
    let mut root = w
        .create_element("svrl:schematron-output")
        .with_attribute(("xmlns:svrl", SVRL_NS));
    if let Some(title) = &report.title {
        root = root.with_attribute(("title", title.as_str()));
    }
    root.write_inner_content(|w| {
        for (prefix, uri) in &report.namespaces {
            w.create_element("svrl:ns-prefix-in-attribute-values")
                .with_attribute(("uri", uri.as_str()))
                .with_attribute(("prefix", prefix.as_str()))
                .write_empty()?;
        }
        for (pi, pattern) in report.active_patterns.iter().enumerate() {
            let mut e = w.create_element("svrl:active-pattern");
            if let Some(id) = &pattern.id {
                e = e.with_attribute(("id", &**id));
            }
            if let Some(name) = &pattern.name {
                e = e.with_attribute(("name", &**name));
            }
            e.write_empty()?;
            for (ri, fired) in report
                .fired_rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.pattern == pi)
            {
                let mut e = w
                    .create_element("svrl:fired-rule")
                    .with_attribute(("context", &*fired.context));
                if let Some(id) = &fired.id {
                    e = e.with_attribute(("id", &**id));
                }
                e.write_empty()?;
                for f in report
                    .findings
                    .iter()
                    .filter(|f| f.fired_rule == ri && !f.context.is_empty())
                {
                    let name = match f.kind {
                        Kind::Assert => "svrl:failed-assert",
                        Kind::Report => "svrl:successful-report",
                    };
                    let mut e = w
                        .create_element(name)
                        .with_attribute(("test", &*f.test))
                        .with_attribute(("location", f.location.as_str()))
                        .with_attribute(("id", &*f.rule_id));
                    for (attr, value) in [("role", &f.role), ("flag", &f.flag), ("see", &f.see)] {
                        if let Some(v) = value {
                            e = e.with_attribute((attr, &**v));
                        }
                    }
                    e.write_inner_content(|w| {
                        for d in &f.diagnostics {
                            let (id, text) = (&d.id, &d.text);
                            w.create_element("svrl:diagnostic-reference")
                                .with_attribute(("diagnostic", &**id))
                                .write_text_content(BytesText::new(text))?;
                        }
                        w.create_element("svrl:text")
                            .write_text_content(BytesText::new(&f.message))?;
                        Ok(())
                    })?;
                }
            }
        }
        // Errors outside any rule firing (schema-level lets, keys).
        for f in report.findings.iter().filter(|f| f.context.is_empty()) {
            w.create_element("svrl:failed-assert")
                .with_attribute(("test", &*f.test))
                .with_attribute(("location", f.location.as_str()))
                .with_attribute(("id", &*f.rule_id))
                .write_inner_content(|w| {
                    w.create_element("svrl:text")
                        .write_text_content(BytesText::new(&f.message))?;
                    Ok(())
                })?;
        }
        Ok(())
    })?;
    w.write_event(Event::Text(BytesText::new("\n")))?;
    Ok(())
}
