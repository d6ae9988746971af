//! The metadata formats vitrine disseminates and how each is made from a stored METS:
//! `mets` as ingested, `mods` (the primary MODS), `oai_dc` (crosswalked from the MODS),
//! and the ZVDD formats `zmets`/`zmods`.

pub mod crosswalk;
pub mod document;
pub mod mets;
pub mod mets_scan;

use std::fmt;

/// A metadata format (OAI-PMH metadataPrefix) vitrine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Dublin Core, crosswalked from the primary MODS.
    OaiDc,
    /// The METS as ingested.
    Mets,
    /// The primary MODS.
    Mods,
    /// METS after the ZVDD conformance repairs.
    Zmets,
    /// The MODS of zmets.
    Zmods,
}

impl Format {
    /// Every format, in the order ListMetadataFormats lists them.
    pub const ALL: [Format; 5] = [
        Format::OaiDc,
        Format::Mets,
        Format::Mods,
        Format::Zmets,
        Format::Zmods,
    ];

    /// Parses a metadataPrefix; unknown prefixes are `None` (cannotDisseminateFormat).
    pub fn parse(prefix: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.prefix() == prefix)
    }

    /// The metadataPrefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Format::OaiDc => "oai_dc",
            Format::Mets => "mets",
            Format::Mods => "mods",
            Format::Zmets => "zmets",
            Format::Zmods => "zmods",
        }
    }

    /// The namespace of the format's root element.
    pub fn namespace(self) -> &'static str {
        match self {
            Format::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc/",
            Format::Mets | Format::Zmets => METS_NS,
            Format::Mods | Format::Zmods => MODS_NS,
        }
    }

    /// The schema location announced in ListMetadataFormats and on the record roots
    /// vitrine produces.
    pub fn schema(self) -> &'static str {
        match self {
            Format::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            Format::Mets | Format::Zmets => "http://www.loc.gov/standards/mets/mets.xsd",
            Format::Mods | Format::Zmods => "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// The METS namespace.
pub const METS_NS: &str = "http://www.loc.gov/METS/";
/// The MODS namespace.
pub const MODS_NS: &str = "http://www.loc.gov/mods/v3";
/// The XLink namespace.
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
/// The XML Schema instance namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.prefix()), Some(format));
        }
        assert_eq!(Format::parse("marc21"), None);
        assert_eq!(Format::parse("OAI_DC"), None);
    }
}
