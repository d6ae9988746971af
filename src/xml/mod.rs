//! The XML boundary of vitrine: the one hardened entry point through which every
//! untrusted document is parsed ([`parse`]), and the small text-level tools that
//! keep responses well-formed ([`text`]). Only this module and `schematron` touch libxml.

pub mod parse;
pub mod text;

pub use parse::{parse, ParseError, ParseLimits};
