//! What an aggregate answer may disclose below the CONTROLLED tier.
//!
//! A small count identifies people (Shringarpure & Bustamante 2015; FinnGen releases only
//! aggregates of at least 5 individuals). Below CONTROLLED, a count `c` with `0 < c < threshold`
//! is reported as `threshold` and marked imprecise (the Beacon v2.2 `countPrecision` convention).
//! Zero stays zero: it says no more than a boolean `exists: false`, which even anonymous callers get.

use serde::Serialize;

/// Whether a disclosed count is the true value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Exact,
    Imprecise,
}

/// A count as it may be disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosed {
    pub value: u64,
    pub precision: Precision,
}

/// The small-count rule of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountThreshold(pub u64);

impl Default for CountThreshold {
    fn default() -> Self {
        CountThreshold(5)
    }
}

impl CountThreshold {
    /// The count as disclosed to a caller; `exact` is true at the CONTROLLED tier.
    pub fn disclose(&self, count: u64, exact: bool) -> Disclosed {
        if exact || count == 0 || count >= self.0 {
            Disclosed { value: count, precision: Precision::Exact }
        } else {
            Disclosed { value: self.0, precision: Precision::Imprecise }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_raised_to_the_threshold() {
        let t = CountThreshold::default();
        assert_eq!(t.disclose(2, false), Disclosed { value: 5, precision: Precision::Imprecise });
        assert_eq!(t.disclose(0, false), Disclosed { value: 0, precision: Precision::Exact });
        assert_eq!(t.disclose(5, false), Disclosed { value: 5, precision: Precision::Exact });
        assert_eq!(t.disclose(2, true), Disclosed { value: 2, precision: Precision::Exact });
    }
}
