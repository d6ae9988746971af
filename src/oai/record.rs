//! Writing headers and records, and resolving sets, for one endpoint: a record's setSpecs
//! are the path of its domain below the endpoint's domain (every level: `zd`, `zd:zd1`)
//! plus the configured sets it belongs to (OAI-TRAPS "Sets").

use super::document::{Chunks, Piece};
use super::envelope::text_element;
use super::Endpoint;
use crate::domain::{Datestamp, SetSpec};
use crate::store::{Item, StoreError, StoredBody};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::Writer;
use std::borrow::Cow;

/// What a `set` argument selects within an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetScope {
    /// Domains covered.
    pub domain_ids: Vec<i64>,
    /// Configured set (owner domain id, spec), if the set is one.
    pub configured: Option<(i64, String)>,
}

impl Endpoint<'_> {
    /// Resolves a setSpec in this endpoint; `None` when no such set exists.
    pub fn resolve_set(&self, set: &SetSpec) -> Option<SetScope> {
        let segments: Vec<&str> = set.segments().collect();
        let mut current = self.domain.id;
        for (i, segment) in segments.iter().enumerate() {
            if let Some(child) = self
                .tree
                .children(current)
                .find(|d| d.name.as_str() == *segment)
                .filter(|d| self.visible_subtree(current).contains(&d.id))
            {
                current = child.id;
                continue;
            }
            let last = i + 1 == segments.len();
            if last
                && self
                    .tree
                    .configured_sets(current)
                    .iter()
                    .any(|s| s.spec == *segment)
            {
                return Some(SetScope {
                    domain_ids: self.visible_subtree(current),
                    configured: Some((current, segment.to_string())),
                });
            }
            return None;
        }
        Some(SetScope {
            domain_ids: self.visible_subtree(current),
            configured: None,
        })
    }

    /// Every setSpec of an item in this endpoint.
    pub fn set_specs(&self, item: &Item) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(path) = self.tree.path_below(self.domain.id, item.domain_id) {
            for depth in 1..=path.len() {
                out.push(
                    path[..depth]
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(":"),
                );
            }
        }
        for (owner, spec) in &item.sets {
            if let Some(path) = self.tree.path_below(self.domain.id, *owner) {
                let mut full: Vec<&str> = path.iter().map(|d| d.name.as_str()).collect();
                full.push(spec);
                out.push(full.join(":"));
            }
        }
        out
    }

    /// Writes `<header>`.
    pub fn write_header(&self, w: &mut Writer<Vec<u8>>, item: &Item) {
        let mut header = BytesStart::new("header");
        if item.deleted {
            header.push_attribute(("status", "deleted"));
        }
        let _ = w.write_event(Event::Start(header));
        text_element(w, "identifier", &item.oai_identifier);
        text_element(
            w,
            "datestamp",
            &Datestamp::from_seconds(item.datestamp).to_string(),
        );
        for spec in self.set_specs(item) {
            text_element(w, "setSpec", &spec);
        }
        let _ = w.write_event(Event::End(BytesEnd::new("header")));
    }

    /// Writes `<record>` with header and, unless deleted, metadata (and diagnostics when
    /// given). The metadata is `stored` when given, else the item's body. A stored body
    /// known to be sent as stored goes into the document still compressed; any other
    /// body is moved into it as a chunk of its own, without characters illegal in XML.
    pub fn write_record(
        &self,
        out: &mut Chunks,
        item: Item,
        stored: Option<StoredBody>,
        diag: Option<&crate::store::RecordDiagnostics>,
    ) -> Result<(), StoreError> {
        let w = out.writer();
        let _ = w.write_event(Event::Start(BytesStart::new("record")));
        self.write_header(w, &item);
        let body = match (item.deleted, stored, item.body) {
            (true, _, _) => None,
            (false, Some(stored), _) => match stored.size() {
                Some(size) if stored.clean => Some(Piece::Stored(stored, size as usize)),
                _ => Some(Piece::Bytes(stored.decompress()?)),
            },
            (false, None, body) => body.map(Piece::Bytes),
        };
        if let Some(body) = body {
            let _ = w.write_event(Event::Start(BytesStart::new("metadata")));
            match body {
                Piece::Stored(stored, size) => out.push_stored(stored, size),
                Piece::Bytes(body) => {
                    let cleaned = match crate::xml::text::strip_illegal_chars(&body) {
                        Cow::Borrowed(_) => None,
                        Cow::Owned(cleaned) => Some(cleaned),
                    };
                    out.push(cleaned.unwrap_or(body));
                }
            }
            let w = out.writer();
            let _ = w.write_event(Event::End(BytesEnd::new("metadata")));
            if let Some(diag) = diag {
                self.write_about(w, diag);
            }
        }
        let _ = out
            .writer()
            .write_event(Event::End(BytesEnd::new("record")));
        Ok(())
    }
}
