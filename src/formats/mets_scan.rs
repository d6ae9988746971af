//! The local id of a METS document read in one streaming pass, without building its
//! tree: what an import's first pass needs of every file to find files that share an id.
//! It answers exactly what [`super::mets::local_id`] answers — the recordIdentifier of
//! the primary MODS (the dmdSec the first logical div with metadata and no `mptr` names,
//! else the first MODS), else `mets/@OBJID` — or nothing when the document holds
//! anything it does not read the way libxml2 does (another encoding, a document type,
//! entity references, attribute values with references or line breaks, malformed
//! markup), and the caller then asks libxml2.

use super::{METS_NS, MODS_NS};
use crate::xml::{encoding, prolog, ParseLimits};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Where the scan is in the document, as far as the local id cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `/mets:mets`.
    Root,
    /// `/mets:mets/mets:dmdSec`.
    DmdSec,
    /// `…/mets:dmdSec/mets:mdWrap`.
    MdWrap,
    /// `…/mets:mdWrap/mets:xmlData`.
    XmlData,
    /// `…/mets:xmlData/mods:mods`.
    Mods,
    /// `…/mods:mods/mods:recordInfo`.
    RecordInfo,
    /// A `mets:structMap` with `TYPE="LOGICAL"`.
    Logical,
    /// A `mets:div`: the index of its candidate entry when it is one.
    Div(Option<usize>),
    /// Anything else.
    Other,
}

/// A MODS of a dmdSec: its section's id and the string value of its first
/// `recordInfo/recordIdentifier`, once seen.
struct Mods {
    dmd_id: Option<String>,
    identifier: Option<String>,
}

/// A logical div with `DMDID`: its value and whether it has an `mptr` child.
struct Candidate {
    dmdid: String,
    has_mptr: bool,
}

/// The local id (`Some(None)`: the document has none), or `None` when the caller must
/// read the document with libxml2 to know.
pub fn local_id(bytes: &[u8], limits: ParseLimits) -> Option<Option<String>> {
    if bytes.len() > limits.max_bytes {
        return None;
    }
    let source = encoding::decode(bytes).ok()?;
    if !source.utf8 || source.text.contains(&0) {
        return None;
    }
    prolog::check(&source.text).ok()?;
    scan(&source.text, limits.max_text_bytes)
}

fn scan(text: &[u8], max_text: usize) -> Option<Option<String>> {
    let mut reader = NsReader::from_reader(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut objid: Option<String> = None;
    let mut mods: Vec<Mods> = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    // While inside the first recordIdentifier of a MODS: its text so far and depth.
    let mut identifier: Option<(String, usize)> = None;
    let mut seen_root = false;
    // The ID of the dmdSec being read.
    let mut dmd: Option<String> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let ns: Option<&[u8]> = match ns {
            ResolveResult::Bound(n) => Some(n.into_inner()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => return None,
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                if stack.is_empty() {
                    if seen_root || ns != Some(METS_NS.as_bytes()) {
                        return None;
                    }
                    if e.local_name().as_ref() != b"mets" {
                        return None;
                    }
                    seen_root = true;
                    objid = attribute(e, b"OBJID")?;
                }
                if let Some((_, depth)) = identifier.as_mut() {
                    *depth += 1;
                }
                let parent = stack.last().copied();
                let frame = frame_of(e, ns, parent, &stack, &mut dmd, &mut mods, &mut candidates)?;
                if frame == Frame::Other
                    && identifier.is_none()
                    && stack.last() == Some(&Frame::RecordInfo)
                    && ns == Some(MODS_NS.as_bytes())
                    && e.local_name().as_ref() == b"recordIdentifier"
                    && mods.last().is_some_and(|m| m.identifier.is_none())
                {
                    identifier = Some((String::new(), 0));
                }
                if empty {
                    close(&mut identifier, &mut mods);
                } else {
                    stack.push(frame);
                }
            }
            Event::End(_) => {
                stack.pop()?;
                close(&mut identifier, &mut mods);
            }
            Event::Text(t) => push_text(&mut identifier, &t, max_text)?,
            Event::CData(t) => push_text(&mut identifier, &t, max_text)?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().ok()? {
                    Some(c) => c,
                    None => match &*r {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"apos" => '\'',
                        b"quot" => '"',
                        _ => return None,
                    },
                };
                if let Some((value, _)) = identifier.as_mut() {
                    value.push(c);
                }
            }
            Event::DocType(_) => return None,
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !seen_root || !stack.is_empty() {
        return None;
    }
    let primary = candidates.iter().find(|c| !c.has_mptr);
    let dmd_id = primary
        .and_then(|c| c.dmdid.split_whitespace().next())
        .unwrap_or("");
    let chosen = mods
        .iter()
        .find(|m| m.dmd_id.as_deref() == Some(dmd_id))
        .or_else(|| mods.first());
    if let Some(id) = chosen.and_then(|m| m.identifier.as_deref()) {
        let id = normalize_space(id);
        if !id.is_empty() {
            return Some(Some(id));
        }
    }
    Some(
        objid
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
    )
}

/// What an element opened under `parent` is; records MODS sections and logical divs.
fn frame_of(
    e: &BytesStart,
    ns: Option<&[u8]>,
    parent: Option<Frame>,
    stack: &[Frame],
    dmd: &mut Option<String>,
    mods: &mut Vec<Mods>,
    candidates: &mut Vec<Candidate>,
) -> Option<Frame> {
    let local = e.local_name();
    let local = local.as_ref();
    let mets = ns == Some(METS_NS.as_bytes());
    let in_mods = ns == Some(MODS_NS.as_bytes());
    let frame = match parent {
        None => Frame::Root,
        Some(Frame::Root) if mets && local == b"dmdSec" => {
            *dmd = attribute(e, b"ID")?;
            Frame::DmdSec
        }
        Some(Frame::DmdSec) if mets && local == b"mdWrap" => Frame::MdWrap,
        Some(Frame::MdWrap) if mets && local == b"xmlData" => Frame::XmlData,
        Some(Frame::XmlData) if in_mods && local == b"mods" => {
            mods.push(Mods {
                dmd_id: dmd.clone(),
                identifier: None,
            });
            Frame::Mods
        }
        Some(Frame::Mods) if in_mods && local == b"recordInfo" => Frame::RecordInfo,
        _ => Frame::Other,
    };
    // Frames anywhere in the document: logical structMaps and their divs.
    let frame = if mets && local == b"structMap" {
        if attribute(e, b"TYPE")?.as_deref() == Some("LOGICAL") {
            Frame::Logical
        } else {
            frame
        }
    } else if mets && local == b"div" {
        let in_logical = stack.contains(&Frame::Logical);
        match attribute(e, b"DMDID")? {
            Some(dmdid) if in_logical => {
                candidates.push(Candidate {
                    dmdid,
                    has_mptr: false,
                });
                Frame::Div(Some(candidates.len() - 1))
            }
            _ => Frame::Div(None),
        }
    } else {
        if mets && local == b"mptr" {
            if let Some(Frame::Div(Some(i))) = parent {
                candidates[i].has_mptr = true;
            }
        }
        frame
    };
    Some(frame)
}

/// Adds text or CDATA to the recordIdentifier being read; `None` for text longer than
/// libxml2 accepts or not UTF-8.
fn push_text(identifier: &mut Option<(String, usize)>, text: &[u8], max: usize) -> Option<()> {
    if text.len() > max {
        return None;
    }
    if let Some((value, _)) = identifier.as_mut() {
        value.push_str(std::str::from_utf8(text).ok()?);
    }
    Some(())
}

/// Ends the recordIdentifier being read when its element closes.
fn close(identifier: &mut Option<(String, usize)>, mods: &mut [Mods]) {
    let Some((value, depth)) = identifier.as_mut() else {
        return;
    };
    if *depth > 0 {
        *depth -= 1;
        return;
    }
    if let Some(m) = mods.last_mut() {
        m.identifier = Some(std::mem::take(value));
    }
    *identifier = None;
}

/// The value of the unprefixed attribute `name`: `Some(None)` when absent, `None` when
/// its value holds a reference or white space other than spaces (libxml2 normalises
/// them), when a prefixed attribute of the same local name is there too (libxml2's
/// `getAttribute` takes either), or when the tag is malformed: all left to libxml2.
fn attribute(e: &BytesStart, name: &[u8]) -> Option<Option<String>> {
    let mut found = None;
    for a in e.attributes() {
        let a = a.ok()?;
        if a.key.as_ref() == name {
            if a.value
                .iter()
                .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
            {
                return None;
            }
            found = Some(std::str::from_utf8(&a.value).ok()?.to_string());
        } else if a.key.local_name().as_ref() == name {
            return None;
        }
    }
    Some(found)
}

/// XPath's normalize-space: XML white space collapsed to one space, trimmed.
fn normalize_space(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::local_id;
    use crate::formats::mets;
    use crate::xml::ParseLimits;
    use std::path::{Path, PathBuf};

    fn xml_files(dir: &Path) -> Vec<PathBuf> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect()
    }

    /// The scan's answer where it gives one, libxml2's where it does not.
    fn both(bytes: &[u8]) -> (Option<Option<String>>, Option<String>) {
        let full = mets::local_id(bytes, ParseLimits::default()).ok().flatten();
        (local_id(bytes, ParseLimits::default()), full)
    }

    /// Variants of a METS file that move what the local id depends on.
    fn variants(text: &str) -> Vec<String> {
        let mut out = vec![text.to_string()];
        let swaps = [
            ("<mods:recordIdentifier", "<mods:recordIdentifierX"),
            ("</mods:recordIdentifier>", "</mods:recordIdentifierX>"),
            ("TYPE=\"LOGICAL\"", "TYPE=\"PHYSICAL-ALT\""),
            ("DMDID=\"", "DMDID=\"DMDLOG_9999 "),
            ("OBJID=\"", "OBJID=\" x "),
            ("<mets:div ", "<mets:div DMDID=\"\" "),
        ];
        for (from, to) in swaps {
            if text.contains(from) {
                out.push(text.replacen(from, to, 1));
            }
        }
        // The identifier's text with references, CDATA and an element inside it.
        if let Some(at) = text.find("<mods:recordIdentifier") {
            if let Some(gt) = text[at..].find('>') {
                let open = at + gt + 1;
                for insert in [
                    "&amp;&#32;&#x9;",
                    "<![CDATA[ a  b ]]>",
                    "<mods:x>inner</mods:x> ",
                ] {
                    out.push(format!("{}{insert}{}", &text[..open], &text[open..]));
                }
            }
        }
        // A pointer in the first logical div with metadata: the next one is primary.
        if let Some(at) = text.find("<mets:div ") {
            if let Some(gt) = text[at..].find('>') {
                let open = at + gt + 1;
                if !text[..open].ends_with("/>") {
                    out.push(format!(
                        "{}<mets:mptr LOCTYPE=\"URL\" xlink:href=\"http://x/y.xml\"/>{}",
                        &text[..open],
                        &text[open..]
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn the_scan_reads_the_local_id_libxml2_reads_on_corpus_fixtures_and_variants() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let corpus = root.join("../shared/corpus/samples");
        assert!(
            corpus.is_dir(),
            "the corpus is missing: expected METS samples in {}",
            corpus.display()
        );
        let (mut scanned, mut left) = (0, 0);
        for file in xml_files(&corpus)
            .into_iter()
            .chain(xml_files(&root.join("fixtures/demo")))
        {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, variant) in variants(&text).iter().enumerate() {
                let (scan, full) = both(variant.as_bytes());
                match scan {
                    Some(id) => {
                        assert_eq!(id, full, "{} variant {i}", file.display());
                        scanned += 1;
                    }
                    None => left += 1,
                }
            }
        }
        assert!(
            scanned > 200,
            "the scan answered only {scanned} documents ({left} left to libxml2)"
        );
    }

    #[test]
    fn what_the_scan_does_not_read_as_libxml2_does_is_left_to_libxml2() {
        let doc = |root_attrs: &str, body: &str| {
            format!(
                "<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\" \
                 xmlns:mods=\"http://www.loc.gov/mods/v3\" {root_attrs}>{body}</mets:mets>"
            )
        };
        let limits = ParseLimits::default();
        for refused in [
            doc("OBJID=\"a&amp;b\"", ""),
            doc("OBJID=\"a\nb\"", ""),
            doc("OBJID=\"a\" xmlns:x=\"urn:x\" x:OBJID=\"b\"", ""),
            doc("OBJID=\"a\"", "<mets:dmdSec ID=\"&#68;\"/>"),
            doc("OBJID=\"a\"", "&nbsp;"),
            doc("OBJID=\"a\"", "<mets:dmdSec>"),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><mets:mets \
             xmlns:mets=\"http://www.loc.gov/METS/\" OBJID=\"a\"/>"
                .to_string(),
            "<!DOCTYPE mets><mets:mets xmlns:mets=\"http://www.loc.gov/METS/\" OBJID=\"a\"/>"
                .to_string(),
            "<mods:mods xmlns:mods=\"http://www.loc.gov/mods/v3\"/>".to_string(),
        ] {
            assert_eq!(local_id(refused.as_bytes(), limits), None, "{refused}");
        }
        assert_eq!(
            local_id(doc("OBJID=\"  a b \"", "").as_bytes(), limits),
            Some(Some("a b".to_string()))
        );
        assert_eq!(local_id(doc("", "").as_bytes(), limits), Some(None));
    }
}
