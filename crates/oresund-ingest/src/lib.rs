//! Getting data into a node, exactly as the reference tools would read it.
//!
//! - [`reference`]: import a FASTA once; random access afterwards;
//! - [`vcf`]: VCF header, records and genotypes, with line numbers for every error;
//! - [`bcf`]: BCF read as the VCF text `bcftools view` prints for it;
//! - [`normalize`]: `bcftools norm -f REF -m -any`, re-implemented and tested against it;
//! - [`carrier_builder`]: genotypes to carrier bitmaps, split like bcftools;
//! - [`pipeline`]: all of that for one file, streaming;
//! - [`individuals`]: the clinical metadata file, pseudonymised as it is read;
//! - [`alternate`]: which ALT alleles are bases, symbolic, breakends, or malformed;
//! - [`subset`]: a withdrawn participant's sample columns removed from an archived VCF, as `bcftools view -s ^ID`.

pub mod alternate;
pub mod bcf;
pub mod carrier_builder;
pub mod individuals;
pub mod input;
pub mod line;
pub mod normalize;
pub mod pipeline;
pub mod read_ahead;
pub mod reference;
pub mod subset;
pub mod vcf;
pub mod warning;
