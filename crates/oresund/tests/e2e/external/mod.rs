//! Tests against the field's reference tools and real services: compiled with the
//! `external-tests` feature (`./test` installs and starts everything they need; a missing tool
//! fails the test with an install hint, never skips it).

mod archive;
mod association;
mod audit_log;
mod bcf_input;
mod bcftools_parity;
mod beacon;
mod c4gh_cli;
mod c4gh_interop;
mod catalog_outage;
mod consent;
mod counting_people;
mod delivery;
mod matchmaking;
mod network;
mod operations;
mod passports;
mod portal_page;
mod reidentification;
mod scale;
mod upgrade;
mod vrs_parity;
mod withdrawal;
