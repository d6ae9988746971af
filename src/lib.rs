//! vitrine: an OAI-PMH 2.0 data provider for digitised collections with built-in
//! ZVDD METS/MODS validation.

pub mod schematron;
pub mod xml;
