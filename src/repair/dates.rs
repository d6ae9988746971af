//! Dates (MODS-AP Kap. 2.3.1): W3CDTF values with `encoding="w3cdtf"`, and exactly one
//! `keyDate="yes"`. Only spellings that determine the date exactly are normalised
//! (`1795`, `[1795]`, `18.03.1848`, `1848-3-18`, `18480318`); uncertain or vague dates
//! (`[1795?]`, `um 1795`, `18. Jh.`) stay as they are and remain findings. A transcribed
//! date is never overwritten: the normalised form is added next to it.

use super::tree::Tree;
use super::RepairKind;
use libxml::tree::Node;
use regex::Regex;
use std::sync::OnceLock;

const DATES: &str = "mods:originInfo/mods:*[self::mods:dateIssued or self::mods:dateCreated or self::mods:dateCaptured or self::mods:dateOther]";

/// Runs the date repairs on every MODS, and the key date repair on the primary MODS.
pub fn repair(tree: &mut Tree) {
    let all = tree.nodes(
        "/mets:mets/mets:dmdSec/mets:mdWrap/mets:xmlData/mods:mods",
        None,
    );
    for mods in &all {
        for date in tree.nodes(DATES, Some(mods)) {
            normalise(tree, date);
        }
        // MODS-AP-Kap-2.3.1-a: only the first key date over all originInfo keeps it.
        let keyed = tree.nodes("mods:originInfo/mods:*[@keyDate = 'yes']", Some(mods));
        for later in keyed.iter().skip(1) {
            let mut later = later.clone();
            tree.remove_attr(
                &mut later,
                "keyDate",
                "MODS-AP-Kap-2.3.1-a",
                RepairKind::KeyDate,
            );
        }
    }
    if let Some(mods) = tree.primary_mods() {
        key_date(tree, &mods);
    }
}

/// MODS-AP-Kap-2.3.1-d/-f: an encoded date is normalised in place; a key date without
/// encoding gets `encoding` when it already is W3CDTF, else a normalised sibling takes
/// over the `keyDate`.
fn normalise(tree: &mut Tree, mut date: Node) {
    let value = date
        .get_content()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let encoding = date.get_attribute("encoding");
    let encoded = matches!(encoding.as_deref(), Some("w3cdtf") | Some("iso8601"));
    let key = date.get_attribute("keyDate").as_deref() == Some("yes");
    if encoded {
        if !is_w3cdtf(&value) {
            if let Some(normal) = w3cdtf(&value) {
                tree.set_text(&mut date, &normal, "MODS-AP-Kap-2.3.1-d", RepairKind::Date);
            }
        }
    } else if key && encoding.is_none() && !has_encoded_twin(tree, &date) {
        if is_w3cdtf(&value) {
            tree.set_attr(
                &mut date,
                "encoding",
                "w3cdtf",
                "MODS-AP-Kap-2.3.1-f",
                RepairKind::Date,
            );
        } else if let Some(normal) = w3cdtf(&value) {
            if add_normalised(tree, &mut date, &normal, "MODS-AP-Kap-2.3.1-f") {
                tree.remove_attr(
                    &mut date,
                    "keyDate",
                    "MODS-AP-Kap-2.3.1-f",
                    RepairKind::KeyDate,
                );
            }
        }
    }
}

/// MODS-AP-Kap-2.3.1-b: without a key date, the first publication/creation date that is
/// or can be made W3CDTF becomes it.
fn key_date(tree: &mut Tree, mods: &Node) {
    if tree
        .node("mods:originInfo/mods:*[@keyDate = 'yes']", Some(mods))
        .is_some()
    {
        return;
    }
    let candidates = tree.nodes(
        "mods:originInfo[not(@eventType = 'digitization')][not(mods:edition = '[Electronic ed.]')]\
         /mods:*[self::mods:dateIssued or self::mods:dateCreated][normalize-space() != '']\
         [not(@point) or @point = 'start']",
        Some(mods),
    );
    const RULE: &str = "MODS-AP-Kap-2.3.1-b";
    let text = |d: &Node| {
        d.get_content()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let encoded = |d: &Node| {
        matches!(
            d.get_attribute("encoding").as_deref(),
            Some("w3cdtf") | Some("iso8601")
        )
    };
    if let Some(date) = candidates
        .iter()
        .find(|d| encoded(d) && is_w3cdtf(&text(d)))
    {
        let mut date = date.clone();
        tree.set_attr(&mut date, "keyDate", "yes", RULE, RepairKind::KeyDate);
        return;
    }
    // Encoding a plain date must not make it the second encoded one of its kind
    // (MODS-AP-Kap-2.3.1-c).
    let plain: Vec<&Node> = candidates
        .iter()
        .filter(|d| d.get_attribute("encoding").is_none() && !has_encoded_twin(tree, d))
        .collect();
    if let Some(date) = plain.iter().find(|d| is_w3cdtf(&text(d))) {
        let mut date = (*date).clone();
        tree.set_attr(&mut date, "encoding", "w3cdtf", RULE, RepairKind::Date);
        tree.set_attr(&mut date, "keyDate", "yes", RULE, RepairKind::KeyDate);
        return;
    }
    if let Some((date, normal)) = plain.iter().find_map(|d| w3cdtf(&text(d)).map(|n| (*d, n))) {
        let mut date = date.clone();
        add_normalised(tree, &mut date, &normal, RULE);
    }
}

/// Whether `date` has a sibling of the same name and `point` that carries `encoding`.
fn has_encoded_twin(tree: &mut Tree, date: &Node) -> bool {
    let point = match date.get_attribute("point") {
        Some(p) if !p.contains('\'') => format!("[@point = '{p}']"),
        Some(_) => return true,
        None => "[not(@point)]".to_string(),
    };
    let query = format!("../mods:{}[@encoding]{point}", date.get_name());
    tree.node(&query, Some(date)).is_some()
}

/// Adds `<same name encoding="w3cdtf" keyDate="yes">{normal}</…>` after `date`, with its
/// `point` and `qualifier`, keeping the transcription as it is.
fn add_normalised(tree: &mut Tree, date: &mut Node, normal: &str, rule: &str) -> bool {
    let name = date.get_name();
    let Some(mut new) = tree.insert_after(date, crate::formats::MODS_NS, "mods", &name) else {
        return false;
    };
    let _ = new.set_attribute("encoding", "w3cdtf");
    for attr in ["point", "qualifier"] {
        if let Some(v) = date.get_attribute(attr) {
            let _ = new.set_attribute(attr, &v);
        }
    }
    let _ = new.set_attribute("keyDate", "yes");
    if !super::edit::set_content(&mut new, normal) {
        return false;
    }
    tree.record_added(&new, rule, RepairKind::Date);
    true
}

/// `$rx-w3cdtf` of the rule set.
pub fn is_w3cdtf(value: &str) -> bool {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| {
        Regex::new(
            r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?$",
        )
        .expect("valid regex")
    })
    .is_match(value)
}

/// The W3CDTF form of a date spelled so that it determines year, month and day
/// exactly; `None` for anything uncertain, vague or impossible.
pub fn w3cdtf(value: &str) -> Option<String> {
    static RX: OnceLock<[Regex; 4]> = OnceLock::new();
    let [year, iso, german, compact] = RX.get_or_init(|| {
        [
            Regex::new(r"^(\d{4})\.?$").expect("valid regex"),
            Regex::new(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$").expect("valid regex"),
            Regex::new(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$").expect("valid regex"),
            Regex::new(r"^(\d{4})(\d{2})(\d{2})$").expect("valid regex"),
        ]
    });
    let mut v = value.trim();
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        v = inner.trim();
    }
    let num = |s: Option<regex::Match>| s.and_then(|m| m.as_str().parse::<u32>().ok());
    let (y, m, d) = if let Some(c) = year.captures(v) {
        (num(c.get(1))?, None, None)
    } else if let Some(c) = iso.captures(v) {
        (num(c.get(1))?, num(c.get(2)), num(c.get(3)))
    } else if let Some(c) = german.captures(v) {
        (num(c.get(3))?, num(c.get(2)), num(c.get(1)))
    } else if let Some(c) = compact.captures(v) {
        (num(c.get(1))?, num(c.get(2)), num(c.get(3)))
    } else {
        return None;
    };
    match (m, d) {
        (None, _) => Some(format!("{y:04}")),
        (Some(m), None) if (1..=12).contains(&m) => Some(format!("{y:04}-{m:02}")),
        (Some(m), Some(d)) if (1..=12).contains(&m) && d >= 1 && d <= days_in(y, m) => {
            Some(format!("{y:04}-{m:02}-{d:02}"))
        }
        _ => None,
    }
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}
