//! A small variant: one contig, one 1-based position, one REF and one ALT allele.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A biallelic variant in VCF terms: `pos` is 1-based, alleles are upper-case `A C G T N`.
///
/// Written `CHROM-POS-REF-ALT`, the notation of gnomAD and the Beacon network (`22-17000017-C-A`).
/// Contig names may themselves contain `-`: the last three fields are always POS, REF and ALT.
///
/// The fields are private so that every `Variant` went through [`Variant::new`] (or [`FromStr`],
/// or deserialisation, which both call it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "VariantFields")]
pub struct Variant {
    chrom: String,
    pos: u64,
    reference: String,
    alternate: String,
}

/// A variant as serialised, checked by [`Variant::new`] on the way in.
#[derive(Deserialize)]
struct VariantFields {
    chrom: String,
    pos: u64,
    reference: String,
    alternate: String,
}

impl TryFrom<VariantFields> for Variant {
    type Error = VariantParseError;

    fn try_from(v: VariantFields) -> Result<Self, Self::Error> {
        Variant::new(v.chrom, v.pos, &v.reference, &v.alternate)
    }
}

/// Why a `CHROM-POS-REF-ALT` string is not a variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariantParseError {
    #[error("expected CHROM-POS-REF-ALT (for example 22-17000017-C-A), got {0:?}")]
    Shape(String),
    #[error("position {0:?} is not a positive whole number (positions are 1-based, as in VCF)")]
    Position(String),
    #[error("allele {0:?} must be a non-empty string of A, C, G, T or N")]
    Allele(String),
    #[error("REF and ALT are both {0:?}: that is not a variant")]
    NoChange(String),
}

impl Variant {
    /// Builds a variant, upper-casing and checking both alleles.
    pub fn new(
        chrom: impl Into<String>,
        pos: u64,
        reference: &str,
        alternate: &str,
    ) -> Result<Self, VariantParseError> {
        if pos == 0 {
            return Err(VariantParseError::Position("0".into()));
        }
        let reference = checked_allele(reference)?;
        let alternate = checked_allele(alternate)?;
        if reference == alternate {
            return Err(VariantParseError::NoChange(reference));
        }
        Ok(Self { chrom: chrom.into(), pos, reference, alternate })
    }

    pub fn chrom(&self) -> &str {
        &self.chrom
    }

    /// 1-based position of the first base of REF.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// REF, upper-case.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// ALT, upper-case.
    pub fn alternate(&self) -> &str {
        &self.alternate
    }

    /// Last 1-based position covered by REF.
    pub fn end(&self) -> u64 {
        self.pos + self.reference.len() as u64 - 1
    }
}

/// True for a non-empty allele made only of `ACGTN` in either case.
pub fn is_plain_allele(allele: &str) -> bool {
    !allele.is_empty() && allele.bytes().all(|b| matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'N'))
}

fn checked_allele(allele: &str) -> Result<String, VariantParseError> {
    if is_plain_allele(allele) {
        Ok(allele.to_ascii_uppercase())
    } else {
        Err(VariantParseError::Allele(allele.to_string()))
    }
}

impl FromStr for Variant {
    type Err = VariantParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || VariantParseError::Shape(s.to_string());
        let mut fields = s.trim().rsplitn(4, '-');
        let alternate = fields.next().ok_or_else(shape)?;
        let reference = fields.next().ok_or_else(shape)?;
        let pos = fields.next().ok_or_else(shape)?;
        let chrom = fields.next().filter(|c| !c.is_empty()).ok_or_else(shape)?;
        let pos = pos.parse::<u64>().map_err(|_| VariantParseError::Position(pos.to_string()))?;
        Variant::new(chrom, pos, reference, alternate)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}-{}", self.chrom, self.pos, self.reference, self.alternate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_network_notation() {
        let v: Variant = "22-17000017-c-a".parse().unwrap();
        assert_eq!(v, Variant::new("22", 17000017, "C", "A").unwrap());
        assert_eq!(v.to_string(), "22-17000017-C-A");
        let hla: Variant = "HLA-A-5-AC-A".parse().unwrap();
        assert_eq!(hla.chrom(), "HLA-A");
        assert_eq!((hla.pos(), hla.reference(), hla.alternate()), (5, "AC", "A"));
        assert_eq!(hla.end(), 6);
    }

    #[test]
    fn deserialising_checks_like_new() {
        let v = Variant::new("22", 17000017, "c", "a").unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"chrom":"22","pos":17000017,"reference":"C","alternate":"A"}"#);
        assert_eq!(serde_json::from_str::<Variant>(&json).unwrap(), v);
        let lower = r#"{"chrom":"22","pos":17000017,"reference":"c","alternate":"a"}"#;
        assert_eq!(serde_json::from_str::<Variant>(lower).unwrap(), v, "alleles upper-cased");
        for bad in [
            r#"{"chrom":"22","pos":0,"reference":"C","alternate":"A"}"#,
            r#"{"chrom":"22","pos":5,"reference":"C","alternate":"<DEL>"}"#,
            r#"{"chrom":"22","pos":5,"reference":"C","alternate":"C"}"#,
        ] {
            assert!(serde_json::from_str::<Variant>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_notation() {
        assert!(matches!("22-17000017-C".parse::<Variant>(), Err(VariantParseError::Shape(_))));
        assert!(matches!("22-x-C-A".parse::<Variant>(), Err(VariantParseError::Position(_))));
        assert!(matches!("22-0-C-A".parse::<Variant>(), Err(VariantParseError::Position(_))));
        assert!(matches!("22-5-C-<DEL>".parse::<Variant>(), Err(VariantParseError::Allele(_))));
        assert!(matches!("22-5-C-c".parse::<Variant>(), Err(VariantParseError::NoChange(_))));
        assert!(matches!("-5-C-A".parse::<Variant>(), Err(VariantParseError::Shape(_))));
    }
}
