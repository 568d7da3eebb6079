//! One gene, whatever it is called: an HGNC symbol (`KCNQ2`), an NCBI Gene id (`3785`,
//! `NCBIGene:3785`, `Entrez:3785`) or an Ensembl gene id (`ENSG00000075043`, a `.version` ignored)
//! all name the same gene, through the table shipped with the node (`data/hpo-genes.tsv.gz`).
//! The same table holds the HPO gene annotations that weigh phenotype terms ([`crate::phenotype`]).

use std::collections::HashMap;

/// A gene as the matcher compares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GeneKey {
    /// A gene in the table, by its NCBI Gene id.
    Ncbi(u32),
    /// An id the table does not know: it matches only the same text (upper-cased).
    Unknown(String),
}

/// Gene ids and the HPO gene annotations.
#[derive(Debug, Default, Clone)]
pub struct GeneTable {
    symbols: HashMap<u32, String>,
    by_symbol: HashMap<String, u32>,
    by_ensembl: HashMap<String, u32>,
    /// (HPO term id, NCBI Gene id), as in `genes_to_phenotype.txt`.
    annotations: Vec<(String, u32)>,
}

/// A line of the table that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gene table line {line}: {message}")]
pub struct GeneTableError {
    pub line: usize,
    pub message: String,
}

impl GeneTable {
    /// Reads the table: `A\tHPO_ID\tNCBI_ID` annotation lines and `G\tNCBI_ID\tSYMBOL\tENSG,…`
    /// gene lines; `#` starts a comment line. A symbol or Ensembl id on several genes (tRNA genes,
    /// renamed loci) names the first with HPO annotations, else the first listed.
    pub fn parse(text: &str) -> Result<Self, GeneTableError> {
        let mut table = GeneTable::default();
        let mut annotated = std::collections::HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let bad = |message: String| GeneTableError { line: n + 1, message };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let id = |s: &str| s.parse::<u32>().map_err(|_| bad(format!("{s:?} is not an NCBI Gene id")));
            match cols.as_slice() {
                ["A", term, gene] => {
                    let gene = id(gene)?;
                    annotated.insert(gene);
                    table.annotations.push((term.to_string(), gene));
                }
                ["G", gene, symbol, ensembl] => {
                    let gene = id(gene)?;
                    table.symbols.insert(gene, symbol.to_string());
                    let name = |map: &mut HashMap<String, u32>, key: &str| {
                        let held = map.entry(key.to_ascii_uppercase()).or_insert(gene);
                        if !annotated.contains(held) && annotated.contains(&gene) {
                            *held = gene;
                        }
                    };
                    name(&mut table.by_symbol, symbol);
                    for e in ensembl.split(',').filter(|e| !e.is_empty()) {
                        name(&mut table.by_ensembl, e);
                    }
                }
                _ => return Err(bad(format!("expected an A or G line, got {line:?}"))),
            }
        }
        Ok(table)
    }

    /// The gene an id names.
    pub fn resolve(&self, id: &str) -> GeneKey {
        let id = id.trim();
        let upper = id.to_ascii_uppercase();
        let numeric =
            ["NCBIGENE:", "ENTREZ:", "ENTREZGENE:"].iter().find_map(|p| upper.strip_prefix(p)).unwrap_or(&upper);
        if let Ok(n) = numeric.parse::<u32>()
            && self.symbols.contains_key(&n)
        {
            return GeneKey::Ncbi(n);
        }
        if upper.starts_with("ENSG") {
            let stable = upper.split('.').next().unwrap_or(&upper);
            if let Some(&n) = self.by_ensembl.get(stable) {
                return GeneKey::Ncbi(n);
            }
        }
        let symbol = upper.strip_prefix("HGNC:").unwrap_or(&upper);
        match self.by_symbol.get(symbol) {
            Some(&n) => GeneKey::Ncbi(n),
            None => GeneKey::Unknown(upper),
        }
    }

    /// The HGNC symbol of a known gene.
    pub fn symbol(&self, key: &GeneKey) -> Option<&str> {
        match key {
            GeneKey::Ncbi(n) => self.symbols.get(n).map(String::as_str),
            GeneKey::Unknown(_) => None,
        }
    }

    /// (HPO term id, NCBI Gene id) pairs: which genes each term is annotated with.
    pub fn annotations(&self) -> &[(String, u32)] {
        &self.annotations
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const TABLE: &str = "# test\n\
A\tHP:0001250\t3785\n\
A\tHP:0012638\t6323\n\
G\t1000\tSCN1A\tENSG00000999999\n\
G\t3785\tKCNQ2\tENSG00000075043\n\
G\t6323\tSCN1A\tENSG00000144285,ENSG00000999999\n";

    #[test]
    fn symbols_ncbi_and_ensembl_ids_name_one_gene() {
        let t = GeneTable::parse(TABLE).unwrap();
        for id in ["KCNQ2", "kcnq2", "3785", "NCBIGene:3785", "Entrez:3785", "ENSG00000075043.12", "HGNC:KCNQ2"] {
            assert_eq!(t.resolve(id), GeneKey::Ncbi(3785), "{id}");
        }
        assert_eq!(t.resolve("ENSG00000999999"), GeneKey::Ncbi(6323), "the annotated gene of two");
        assert_eq!(t.resolve("SCN1A"), GeneKey::Ncbi(6323), "the annotated gene of two");
        assert_eq!(t.resolve("1000"), GeneKey::Ncbi(1000));
        assert_eq!(t.resolve("FOO1"), GeneKey::Unknown("FOO1".into()));
        assert_eq!(t.resolve("99999"), GeneKey::Unknown("99999".into()));
        assert_eq!(t.symbol(&GeneKey::Ncbi(6323)), Some("SCN1A"));
        assert_eq!(t.annotations().len(), 2);
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = GeneTable::parse("G\tx\tKCNQ2\t\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(GeneTable::parse("Z\t1\n").is_err());
    }
}
