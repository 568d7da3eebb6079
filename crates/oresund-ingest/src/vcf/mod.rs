//! VCF 4.x text, as much of it as a node needs: header, records, genotypes.

pub mod genotype;
pub mod header;
pub mod reader;
