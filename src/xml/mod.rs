//! The XML boundary of vitrine: the one hardened entry point through which every
//! untrusted document is parsed ([`parse()`]), the small text-level tools that
//! keep responses well-formed ([`text`]), and the raw libxml2 layer the Schematron
//! engine evaluates XPath through ([`node`], [`xpath`], [`xpath_value`]). The one module
//! allowed `unsafe` code; who else may use libxml is said in the crate documentation.

#![allow(unsafe_code)]

pub mod alloc;
pub mod encoding;
pub mod node;
pub mod parse;
pub mod prolog;
mod strict;
pub mod text;
pub mod xpath;
pub mod xpath_value;

pub use parse::{parse, parse_source, ParseError, ParseLimits, Parsed};
