//! What people read about a rule of the bundled rule set: its title (the first sentence
//! of its message) and the profile it links to (`see`), read once from `zvdd.sch`.

use super::ZVDD_RULES;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A rule's title and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The first sentence of the rule's message.
    pub title: String,
    /// The profile chapter it points to, if any.
    pub see: Option<String>,
}

/// The title and link of a rule of the bundled rule set, by rule id.
pub fn rule_info(rule_id: &str) -> Option<&'static RuleInfo> {
    static RULES: OnceLock<HashMap<String, RuleInfo>> = OnceLock::new();
    RULES.get_or_init(|| read_rules(ZVDD_RULES)).get(rule_id)
}

fn read_rules(text: &str) -> HashMap<String, RuleInfo> {
    let mut out = HashMap::new();
    let mut reader = Reader::from_str(text);
    // (id, see, text so far, depth inside the check)
    let mut current: Option<(String, Option<String>, String, usize)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                if let Some(check) = current.as_mut() {
                    check.3 += 1;
                } else if name.as_ref() == b"assert" || name.as_ref() == b"report" {
                    let attr = |key: &[u8]| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == key)
                            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                    };
                    if let Some(id) = attr(b"id") {
                        current = Some((id, attr(b"see"), String::new(), 0));
                    }
                }
            }
            Ok(Event::End(_)) => match current.as_mut() {
                Some(check) if check.3 > 0 => check.3 -= 1,
                Some(_) => {
                    if let Some((id, see, text, _)) = current.take() {
                        out.insert(
                            id,
                            RuleInfo {
                                title: first_sentence(&text),
                                see,
                            },
                        );
                    }
                }
                None => {}
            },
            Ok(Event::Empty(e)) => {
                if let Some(check) = current.as_mut() {
                    // <sch:value-of/>, <sch:name/>: a value filled in per finding.
                    if matches!(e.local_name().as_ref(), b"value-of" | b"name") {
                        check.2.push('…');
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(check) = current.as_mut() {
                    if let Ok(text) = t.decode() {
                        check.2.push_str(&text);
                    }
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(check) = current.as_mut() {
                    let entity = String::from_utf8_lossy(r.as_ref()).into_owned();
                    let resolved = match entity.as_str() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    };
                    check.2.push_str(resolved);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// The text up to the end of its first sentence, whitespace collapsed.
fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_of_the_bundled_set_has_its_first_sentence_as_title() {
        let info = rule_info("METS-AP-Kap-2.7-a").expect("a known rule");
        assert_eq!(info.title, "METS-Kopf fehlt.");
        assert!(info
            .see
            .as_deref()
            .is_some_and(|s| s.starts_with("https://")));
        assert!(rule_info("no-such-rule").is_none());
    }
}
