//! Øresund domain types. Nothing here touches files, networks or clocks: the other crates bring data
//! in and out, this one says what it means.
//!
//! - [`variant::Variant`], [`region::Region`]: what users ask about;
//! - [`digest`] and [`vrs`]: GA4GH identifiers (refget, VRS 2.0 computed ids);
//! - [`ontology::Ontology`] (HPO) and [`duo`]: the vocabularies of phenotypes and consent;
//! - [`pseudonym`], [`individual`]: people as a node keeps them;
//! - [`carriers`]: who carries a variant, as bitmaps, and the allele counts they give; sets coded
//!   against another variant's ([`carrier_links`]) or in a block's order of people ([`carrier_order`]);
//! - [`audit`]: the hash chain of the audit log; [`time`]: UTC timestamps as RFC 3339 text;
//!   [`hex`]: bytes as lower-case hex text; [`varint`]: LEB128 integers for compact encodings.

pub mod association;
pub mod audit;
pub mod carrier_links;
pub mod carrier_order;
pub mod carriers;
pub mod digest;
pub mod duo;
pub mod hex;
pub mod individual;
pub mod ontology;
mod ordered_filter;
pub mod pseudonym;
pub mod query_note;
pub mod region;
pub mod sequence;
pub mod time;
pub mod variant;
pub mod varint;
pub mod vrs;
