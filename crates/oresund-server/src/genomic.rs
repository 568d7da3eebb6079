//! Beacon v2 genomic queries (`requestParameters` of g_variants; framework requests/
//! requestParameters.json, default model genomicVariations/requestParameters): sequence, range and
//! bracket queries, 0-based interbase coordinates, checked against the node's assembly and
//! reference before anything is looked up.

use oresund_core::variant::is_plain_allele;

use crate::error::BeaconError;
use crate::request::BeaconRequest;

/// The request parameters `/g_variants` accepts.
pub const G_VARIANT_PARAMETERS: [&str; 14] = [
    "start",
    "end",
    "assemblyId",
    "referenceName",
    "referenceBases",
    "alternateBases",
    "variantType",
    "variantMinLength",
    "variantMaxLength",
    "allele",
    "geneId",
    "geneid",
    "aminoacidChange",
    "datasets",
];

/// What a genomic request asks for, in 1-based inclusive VCF coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantQuery {
    /// No genomic parameters: every variant.
    All,
    /// One allele at one position (`start` + `referenceBases` + `alternateBases`).
    Sequence { chrom: String, pos: u64, reference: String, alternate: String },
    /// Variants overlapping `start..=end`, optionally restricted by type, ALT and length.
    Range { chrom: String, start: u64, end: u64, constraints: Constraints },
    /// Variants starting in `start` and ending in `end` (each an inclusive 1-based interval).
    Bracket { chrom: String, start: (u64, u64), end: (u64, u64) },
}

/// Extra conditions of a range query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    pub reference: Option<String>,
    pub alternate: Option<String>,
    pub variant_type: Option<VariantType>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// `variantType` values this node understands (VCF-style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantType {
    Snp,
    Mnp,
    Insertion,
    Deletion,
    Indel,
}

impl VariantType {
    fn parse(text: &str) -> Result<Self, BeaconError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "SNP" | "SNV" => Ok(VariantType::Snp),
            "MNP" => Ok(VariantType::Mnp),
            "INS" => Ok(VariantType::Insertion),
            "DEL" => Ok(VariantType::Deletion),
            "INDEL" => Ok(VariantType::Indel),
            other => Err(BeaconError::bad_request(format!(
                "variantType {other:?} is not supported; use SNP, MNP, INS, DEL or INDEL"
            ))),
        }
    }

    /// Whether a normalised REF/ALT pair is of this type.
    pub fn matches(self, reference: &str, alternate: &str) -> bool {
        let (r, a) = (reference.len(), alternate.len());
        match self {
            VariantType::Snp => r == 1 && a == 1,
            VariantType::Mnp => r == a && r > 1,
            VariantType::Insertion => a > r,
            VariantType::Deletion => r > a,
            VariantType::Indel => r != a,
        }
    }
}

impl Constraints {
    /// Whether a normalised variant satisfies every constraint.
    pub fn accept(&self, reference: &str, alternate: &str) -> bool {
        let length = reference.len().max(alternate.len()) as u64;
        self.reference.as_deref().is_none_or(|r| r == reference)
            && self.alternate.as_deref().is_none_or(|a| a == alternate)
            && self.variant_type.is_none_or(|t| t.matches(reference, alternate))
            && self.min_length.is_none_or(|m| length >= m)
            && self.max_length.is_none_or(|m| length <= m)
    }
}

fn coordinates(name: &str, text: &str) -> Result<Vec<u64>, BeaconError> {
    text.split(',')
        .map(|part| {
            part.trim().parse::<u64>().map_err(|_| {
                BeaconError::bad_request(format!(
                    "{name} must be 0-based non-negative integers (comma-joined), got {text:?}"
                ))
            })
        })
        .collect()
}

fn bases(name: &str, text: &str) -> Result<String, BeaconError> {
    if is_plain_allele(text) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(BeaconError::bad_request(format!("{name} must be bases A, C, G, T or N, got {text:?}")))
    }
}

fn length(name: &str, text: &str) -> Result<u64, BeaconError> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| BeaconError::bad_request(format!("{name} must be a whole number, got {text:?}")))
}

/// Whether a request names one variant: `referenceName` and `start` without `end`, which
/// [`parse_variant_query`] reads as a [`VariantQuery::Sequence`] or refuses. Looks at no more than
/// that, before any parsing: it decides where the answer is counted (`answer.rs`).
pub fn names_one_variant(request: &BeaconRequest) -> bool {
    ["referenceName", "start"].iter().all(|p| request.parameter(p).is_some()) && request.parameter("end").is_none()
}

/// Reads the genomic part of a request. `assembly` is the node's; `contig_length` answers the
/// length of a contig, or `None` if the node does not have it.
pub fn parse_variant_query(
    request: &BeaconRequest,
    assembly: &str,
    contig_length: impl Fn(&str) -> Option<u64>,
) -> Result<VariantQuery, BeaconError> {
    for unsupported in ["geneId", "geneid", "aminoacidChange", "allele"] {
        if request.parameter(unsupported).is_some() {
            return Err(BeaconError::bad_request(format!(
                "{unsupported} queries are not supported by this node; query by position (referenceName, start, end)"
            )));
        }
    }
    if let Some(requested) = request.parameter("assemblyId").filter(|r| !same_assembly(r, assembly)) {
        return Err(BeaconError::bad_request(format!(
            "assemblyId {requested:?} does not match this node's assembly {assembly}"
        )));
    }
    let Some(chrom) = request.parameter("referenceName") else {
        let genomic = ["start", "end", "referenceBases", "alternateBases", "variantType"];
        if let Some(given) = genomic.iter().find(|p| request.parameter(p).is_some()) {
            return Err(BeaconError::bad_request(format!(
                "{given} needs referenceName (the chromosome, for example 22)"
            )));
        }
        // Counting every variant of the genome for a filtered subset is a scan of the whole
        // index per request: filtered variant queries name a region.
        if !request.filters.is_empty() {
            return Err(BeaconError::bad_request(
                "filtered variant queries need a region: give referenceName, start and end",
            ));
        }
        return Ok(VariantQuery::All);
    };
    let chrom = chrom.trim().to_string();
    let length = contig_length(&chrom).ok_or_else(|| {
        BeaconError::bad_request(format!("referenceName {chrom:?} is not a sequence of this node's assembly"))
    })?;
    let starts = request.parameter("start").map(|s| coordinates("start", s)).transpose()?.unwrap_or_default();
    let ends = request.parameter("end").map(|s| coordinates("end", s)).transpose()?.unwrap_or_default();
    // A start is a base (0-based, so below the length); an end is exclusive (at most the length).
    let beyond = starts.iter().find(|&&c| c >= length).or_else(|| ends.iter().find(|&&c| c > length));
    if let Some(c) = beyond {
        return Err(BeaconError::bad_request(format!(
            "coordinate {c} is beyond the end of {chrom} ({length} bases; coordinates are 0-based)"
        )));
    }
    let reference = request.parameter("referenceBases").map(|b| bases("referenceBases", b)).transpose()?;
    let alternate = request.parameter("alternateBases").map(|b| bases("alternateBases", b)).transpose()?;
    match (starts.as_slice(), ends.as_slice()) {
        ([], _) => Err(BeaconError::bad_request("start is required with referenceName (0-based position)")),
        ([start], []) => {
            let (Some(reference), Some(alternate)) = (reference, alternate) else {
                return Err(BeaconError::bad_request(
                    "a sequence query needs start, referenceBases and alternateBases (or give end for a range query)",
                ));
            };
            if reference == alternate {
                return Err(BeaconError::bad_request("referenceBases and alternateBases are the same: not a variant"));
            }
            Ok(VariantQuery::Sequence { chrom, pos: start + 1, reference, alternate })
        }
        ([start], [end]) => {
            if end <= start {
                return Err(BeaconError::bad_request(format!(
                    "end ({end}) must be greater than start ({start}); coordinates are 0-based, end exclusive"
                )));
            }
            within_span(*start, *end)?;
            let constraints = Constraints {
                reference,
                alternate,
                variant_type: request.parameter("variantType").map(VariantType::parse).transpose()?,
                min_length: request
                    .parameter("variantMinLength")
                    .map(|l| length_param("variantMinLength", l))
                    .transpose()?,
                max_length: request
                    .parameter("variantMaxLength")
                    .map(|l| length_param("variantMaxLength", l))
                    .transpose()?,
            };
            Ok(VariantQuery::Range { chrom, start: start + 1, end: *end, constraints })
        }
        ([s1, s2], [e1, e2]) => {
            if s1 > s2 || e1 > e2 {
                return Err(BeaconError::bad_request("bracket queries need start=min,max and end=min,max in order"));
            }
            within_span(*s1, *e2)?;
            Ok(VariantQuery::Bracket { chrom, start: (s1 + 1, s2 + 1), end: (*e1, *e2) })
        }
        _ => Err(BeaconError::bad_request(
            "give start (sequence), start and end (range), or two starts and two ends (bracket query)",
        )),
    }
}

/// The widest range one request may cover: a bound on the work of one request (a chromosome arm
/// of a large cohort is millions of variants). Wider questions are asked in pieces.
pub const MAX_RANGE_SPAN: u64 = 10_000_000;

pub(crate) fn within_span(start: u64, end: u64) -> Result<(), BeaconError> {
    if end.saturating_sub(start) > MAX_RANGE_SPAN {
        return Err(BeaconError::bad_request(format!(
            "the range {start}-{end} spans more than {} Mb; ask in smaller pieces",
            MAX_RANGE_SPAN / 1_000_000
        )));
    }
    Ok(())
}

fn length_param(name: &str, text: &str) -> Result<u64, BeaconError> {
    length(name, text)
}

/// Names of one assembly: GRCh38 and hg38 name the same (and GRCh37 / hg19).
const ASSEMBLY_NAMES: [[&str; 2]; 2] = [["GRCh38", "hg38"], ["GRCh37", "hg19"]];

/// The names a request may give `assembly` (the node's), in any case.
pub(crate) fn assembly_names(assembly: &str) -> Vec<String> {
    let assembly = assembly.trim();
    ASSEMBLY_NAMES
        .iter()
        .find(|names| names.iter().any(|n| n.eq_ignore_ascii_case(assembly)))
        .map_or_else(|| vec![assembly.to_string()], |names| names.iter().map(|n| n.to_string()).collect())
}

fn same_assembly(requested: &str, node: &str) -> bool {
    assembly_names(node).iter().any(|name| name.eq_ignore_ascii_case(requested.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<VariantQuery, BeaconError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let request = BeaconRequest::from_query(&pairs, &G_VARIANT_PARAMETERS)?;
        parse_variant_query(&request, "GRCh38", |c| (c == "22").then_some(17_999_999))
    }

    #[test]
    fn sequence_range_and_bracket_queries() {
        assert_eq!(
            query(&[("referenceName", "22"), ("start", "17000016"), ("referenceBases", "C"), ("alternateBases", "a")])
                .unwrap(),
            VariantQuery::Sequence { chrom: "22".into(), pos: 17000017, reference: "C".into(), alternate: "A".into() }
        );
        let range =
            query(&[("referenceName", "22"), ("start", "16000000"), ("end", "16100000"), ("variantType", "DEL")]);
        assert!(matches!(range.unwrap(), VariantQuery::Range { start: 16000001, end: 16100000, .. }));
        let bracket = query(&[("referenceName", "22"), ("start", "10,20"), ("end", "30,40"), ("assemblyId", "hg38")]);
        assert_eq!(bracket.unwrap(), VariantQuery::Bracket { chrom: "22".into(), start: (11, 21), end: (30, 40) });
        assert_eq!(query(&[]).unwrap(), VariantQuery::All);
    }

    #[test]
    fn bad_genomic_input_is_400_with_a_reason() {
        for (pairs, needle) in [
            (vec![("referenceName", "22"), ("start", "5"), ("assemblyId", "GRCh37")], "does not match"),
            (vec![("referenceName", "7"), ("start", "5")], "not a sequence"),
            (vec![("referenceName", "22"), ("start", "99999999999")], "beyond the end"),
            (
                vec![("referenceName", "22"), ("start", "5"), ("referenceBases", "C"), ("alternateBases", "Z")],
                "alternateBases",
            ),
            (vec![("referenceName", "22"), ("start", "10"), ("end", "5")], "greater than start"),
            (vec![("referenceName", "22"), ("start", "-3")], "0-based"),
            (vec![("start", "5")], "needs referenceName"),
            (vec![("geneId", "BRCA1")], "not supported"),
            (vec![("referenceName", "22"), ("start", "5")], "sequence query needs"),
        ] {
            let err = query(&pairs).unwrap_err();
            assert_eq!(err.status.as_u16(), 400);
            assert!(err.message.contains(needle), "{pairs:?}: {}", err.message);
        }
    }

    #[test]
    fn constraints_select_by_type_and_length() {
        let c = Constraints { variant_type: Some(VariantType::Deletion), min_length: Some(3), ..Default::default() };
        assert!(c.accept("TCTG", "T"));
        assert!(!c.accept("TC", "T"));
        assert!(!c.accept("T", "TCTG"));
    }
}
