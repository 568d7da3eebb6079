//! Keeping local ids out of what a node writes about requests. A caller can type anything into a
//! request — a CPR number as an individual id, a filter or a parameter name — and the audit log
//! records requests. Before a text is recorded, every word of it that is the local id of one of
//! this node's individuals is replaced by that person's pseudonym, which is what the log may hold.

use crate::error::NodeError;
use crate::node::Node;

/// Words that are never local ids: request vocabulary, checked without computing a pseudonym.
const VOCABULARY: [&str; 38] = [
    "g_variants",
    "individuals",
    "datasets",
    "cohorts",
    "biosamples",
    "analyses",
    "runs",
    "referenceName",
    "referenceBases",
    "alternateBases",
    "start",
    "end",
    "assemblyId",
    "variantType",
    "variantMinLength",
    "variantMaxLength",
    "mateName",
    "geneId",
    "aminoacidChange",
    "allele",
    "filters",
    "requestedGranularity",
    "requestedSchema",
    "includeResultsetResponses",
    "skip",
    "limit",
    "testMode",
    "boolean",
    "count",
    "record",
    "GRCh38",
    "GRCh37",
    "network",
    "query",
    "HTTP",
    "dataset",
    "needs",
    "access",
];

/// Characters that separate words in paths, queries and messages.
fn separator(c: char) -> bool {
    c.is_whitespace() || "/?&=,;:\"'(){}[]<>".contains(c)
}

/// Whether a word could be a local id at all (and is worth a pseudonym's HMAC).
fn candidate(word: &str) -> bool {
    let digits_only = word.bytes().all(|b| b.is_ascii_digit());
    let bases_only = word.bytes().all(|b| b"ACGTN".contains(&b));
    // Positions have at most 9 digits; CPR numbers and personnummer have 10 or 12.
    let position = digits_only && word.len() <= 9;
    !(word.len() < 4 || position || bases_only || VOCABULARY.contains(&word))
}

impl Node {
    /// `text` with every word that is an individual's local id replaced by their pseudonym.
    pub fn scrub_local_ids(&self, text: &str) -> Result<String, NodeError> {
        let words: Vec<&str> = text.split(separator).filter(|w| candidate(w)).collect();
        if words.is_empty() {
            return Ok(text.to_string());
        }
        let cohort = self.cohort()?;
        let people = self.people(&cohort)?;
        let pseudonymiser = self.cached_pseudonymiser()?;
        let mut out = text.to_string();
        for word in words {
            let pseudonym = pseudonymiser.pseudonym(word);
            if people.by_pseudonym.contains_key(pseudonym.as_str()) {
                out = out.replace(word, pseudonym.as_str());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_vocabulary_costs_no_pseudonym() {
        let typical = "/g_variants referenceName=22&start=17000016&referenceBases=C&alternateBases=A \
                       filters=HP:0000707 requestedGranularity=count";
        assert!(typical.split(separator).all(|w| !candidate(w)), "{typical}");
        assert!(candidate("070248-4770") && candidate("0702484770") && candidate("196803021234"));
    }
}
