//! A genomic interval: `CHROM:START-END`, 1-based and inclusive, as in samtools and bcftools `-r`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    pub chrom: String,
    /// First base, 1-based.
    pub start: u64,
    /// Last base, 1-based, inclusive.
    pub end: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionParseError {
    #[error("expected CHROM:START-END (for example 22:16000000-16100000), got {0:?}")]
    Shape(String),
    #[error("{0:?} is not a positive whole number (region coordinates are 1-based)")]
    Coordinate(String),
    #[error("region start {start} is after its end {end}")]
    Reversed { start: u64, end: u64 },
}

impl Region {
    pub fn new(chrom: impl Into<String>, start: u64, end: u64) -> Result<Self, RegionParseError> {
        if start == 0 {
            return Err(RegionParseError::Coordinate("0".into()));
        }
        if start > end {
            return Err(RegionParseError::Reversed { start, end });
        }
        Ok(Self { chrom: chrom.into(), start, end })
    }

    /// Number of bases covered.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

fn coordinate(text: &str) -> Result<u64, RegionParseError> {
    text.replace(',', "").parse::<u64>().map_err(|_| RegionParseError::Coordinate(text.to_string()))
}

impl FromStr for Region {
    type Err = RegionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (chrom, span) = s.rsplit_once(':').ok_or_else(|| RegionParseError::Shape(s.to_string()))?;
        let (start, end) = span.split_once('-').ok_or_else(|| RegionParseError::Shape(s.to_string()))?;
        if chrom.is_empty() {
            return Err(RegionParseError::Shape(s.to_string()));
        }
        Region::new(chrom, coordinate(start)?, coordinate(end)?)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}-{}", self.chrom, self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samtools_regions() {
        let r: Region = "22:16,000,000-16100000".parse().unwrap();
        assert_eq!((r.chrom.as_str(), r.start, r.end, r.len()), ("22", 16_000_000, 16_100_000, 100_001));
        assert_eq!(r.to_string(), "22:16000000-16100000");
    }

    #[test]
    fn rejects_bad_regions() {
        assert!(matches!("22".parse::<Region>(), Err(RegionParseError::Shape(_))));
        assert!(matches!("22:5".parse::<Region>(), Err(RegionParseError::Shape(_))));
        assert!(matches!("22:9-5".parse::<Region>(), Err(RegionParseError::Reversed { .. })));
        assert!(matches!("22:0-5".parse::<Region>(), Err(RegionParseError::Coordinate(_))));
        assert!(matches!("22:a-5".parse::<Region>(), Err(RegionParseError::Coordinate(_))));
    }
}
