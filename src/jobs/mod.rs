//! Jobs: work vitrine does over many records, started from the command line, the
//! scheduler or the admin pages. Each job is a function that tests call directly.

pub mod oai_output_validator;
pub mod schedule;
