//! Clinical metadata of one individual, as kept by a node (never the local id itself).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::pseudonym::Pseudonym;

/// Sex as recorded in the individuals file. Beacon v2 maps it to NCIT:C16576 (female) and
/// NCIT:C20197 (male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Unknown => "unknown",
        }
    }

    /// The NCIT term Beacon v2 uses for this sex.
    pub fn ncit(self) -> Option<&'static str> {
        match self {
            Sex::Female => Some("NCIT:C16576"),
            Sex::Male => Some("NCIT:C20197"),
            Sex::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sex must be female, male or unknown (or F/M), got {0:?}")]
pub struct SexParseError(pub String);

impl FromStr for Sex {
    type Err = SexParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "female" | "f" | "ncit:c16576" => Ok(Sex::Female),
            "male" | "m" | "ncit:c20197" => Ok(Sex::Male),
            "unknown" | "" | "na" | "other" => Ok(Sex::Unknown),
            _ => Err(SexParseError(s.to_string())),
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a node stores about a person: every column of the individuals file, with the local id
/// replaced by its pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Individual {
    pub pseudonym: Pseudonym,
    pub sex: Sex,
    pub birth_year: Option<u16>,
    /// HPO term ids as given (`HP:0001250`).
    pub hpo_terms: Vec<String>,
    /// ICD-10 codes as given (`G40.9`).
    pub icd10_codes: Vec<String>,
    /// DUO codes plus an optional disease restriction (`DUO:0000007`, `MONDO:0005027`).
    pub consent: Vec<String>,
}

/// ICD-10 codes are hierarchical by prefix: `G40.9` lies under the category `G40`.
/// Returns the code and its category (the part before the dot), each prefixed `ICD10:`.
pub fn icd10_closure(code: &str) -> Vec<String> {
    let code = code.trim().trim_start_matches("ICD10:").to_ascii_uppercase();
    let mut out = vec![format!("ICD10:{code}")];
    if let Some((category, _)) = code.split_once('.') {
        out.push(format!("ICD10:{category}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sex_parses_common_spellings() {
        assert_eq!("Female".parse::<Sex>().unwrap(), Sex::Female);
        assert_eq!("M".parse::<Sex>().unwrap(), Sex::Male);
        assert_eq!("".parse::<Sex>().unwrap(), Sex::Unknown);
        assert!("woman?".parse::<Sex>().is_err());
        assert_eq!(Sex::Male.ncit(), Some("NCIT:C20197"));
    }

    #[test]
    fn icd10_codes_include_their_category() {
        assert_eq!(icd10_closure("g40.9"), ["ICD10:G40.9", "ICD10:G40"]);
        assert_eq!(icd10_closure("ICD10:I10"), ["ICD10:I10"]);
    }
}
