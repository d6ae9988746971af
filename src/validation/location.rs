//! Finding locations for people. A finding's location is kept in the long form the ISO
//! Schematron skeleton writes into SVRL (`/*[local-name()='mets' and
//! namespace-uri()='http://www.loc.gov/METS/']/*[local-name()='dmdSec' and …][2]`), which
//! tools read; [`short`] turns it into the path a librarian reads
//! (`/mets:mets/mets:dmdSec[2]/…`), with the usual prefixes of the METS/MODS world. The
//! command line and the pages show this form; SVRL and JSON keep the long one.

/// Prefixes for the namespaces of METS records and their surroundings.
const PREFIXES: &[(&str, &str)] = &[
    ("mets", crate::formats::METS_NS),
    ("mods", crate::formats::MODS_NS),
    ("xlink", crate::formats::XLINK_NS),
    ("xsi", crate::formats::XSI_NS),
    ("dv", "http://dfg-viewer.de/"),
    ("oai", "http://www.openarchives.org/OAI/2.0/"),
    ("premis", "info:lc/xmlns/premis-v2"),
    ("mix", "http://www.loc.gov/mix/v20"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
];

/// The readable form of a skeleton location: each namespaced step
/// `*[local-name()='L' and namespace-uri()='U']` becomes `p:L` (with the prefix of `U`,
/// or `{U}L` for a namespace without one), positions `[n]` stay. Anything else (plain
/// names, a text node's text) is returned as it is.
pub fn short(location: &str) -> String {
    if !location.starts_with('/') {
        return location.to_string();
    }
    let mut out = String::with_capacity(location.len() / 3);
    for step in steps(location) {
        out.push('/');
        out.push_str(&short_step(step));
    }
    out
}

/// The steps of a path: split at `/` outside predicates and quotes.
fn steps(path: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 1usize);
    for (i, c) in path.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '/') if depth == 0 => {
                steps.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    steps.push(&path[start..]);
    steps
}

fn short_step(step: &str) -> String {
    let (attribute, rest) = match step.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", step),
    };
    let Some(test) = rest.strip_prefix("*[local-name()='") else {
        return step.to_string();
    };
    let Some((local, test)) = test.split_once("' and namespace-uri()='") else {
        return step.to_string();
    };
    let Some((uri, position)) = test.split_once("']") else {
        return step.to_string();
    };
    let name = match PREFIXES.iter().find(|(_, ns)| *ns == uri) {
        Some((prefix, _)) => format!("{prefix}:{local}"),
        None => format!("{{{uri}}}{local}"),
    };
    format!("{attribute}{name}{position}")
}

#[cfg(test)]
mod tests {
    use super::short;

    const METS: &str = "namespace-uri()='http://www.loc.gov/METS/'";

    #[test]
    fn namespaced_steps_get_their_usual_prefixes_and_keep_positions() {
        let long = format!(
            "/*[local-name()='mets' and {METS}]/*[local-name()='dmdSec' and {METS}][2]\
             /*[local-name()='mdWrap' and {METS}]/*[local-name()='xmlData' and {METS}]\
             /*[local-name()='mods' and namespace-uri()='http://www.loc.gov/mods/v3']"
        );
        assert_eq!(
            short(&long),
            "/mets:mets/mets:dmdSec[2]/mets:mdWrap/mets:xmlData/mods:mods"
        );
    }

    #[test]
    fn attributes_plain_names_and_unknown_namespaces_stay_readable() {
        assert_eq!(
            short("/@*[local-name()='href' and namespace-uri()='http://www.w3.org/1999/xlink']"),
            "/@xlink:href"
        );
        assert_eq!(
            short("/record/header[3]/@status"),
            "/record/header[3]/@status"
        );
        assert_eq!(
            short("/*[local-name()='a' and namespace-uri()='urn:x/y']/b"),
            "/{urn:x/y}a/b"
        );
        assert_eq!(short("some text"), "some text");
        assert_eq!(short(""), "");
    }
}
