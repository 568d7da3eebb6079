//! An is-a ontology (HPO, or any OBO 1.4 file): term ids, names, parents, and the closures that
//! ontology filters need ("HP:0000707 covers HP:0001250", Beacon v2 `includeDescendantTerms`).

use std::collections::HashMap;
use std::io::BufRead;

/// Index of a term inside one [`Ontology`].
pub type TermIndex = u32;

/// A parsed ontology. Obsolete terms are kept so that old data can be resolved through `replaced_by`.
#[derive(Debug, Default, Clone)]
pub struct Ontology {
    version: Option<String>,
    ids: Vec<String>,
    names: Vec<String>,
    parents: Vec<Vec<TermIndex>>,
    children: Vec<Vec<TermIndex>>,
    obsolete: Vec<bool>,
    replaced_by: Vec<Option<TermIndex>>,
    /// Primary ids and `alt_id`s.
    by_id: HashMap<String, TermIndex>,
}

/// Why an OBO file could not be read (OBO 1.4 §"Stanzas": every `[Term]` needs an `id`).
#[derive(Debug, thiserror::Error)]
pub enum OboError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("reading the ontology: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Default)]
struct Stanza {
    line: usize,
    id: Option<String>,
    name: String,
    is_a: Vec<String>,
    alt_ids: Vec<String>,
    obsolete: bool,
    replaced_by: Option<String>,
}

impl Ontology {
    /// Parses an OBO 1.4 document (for example `hp.obo`). Only `[Term]` stanzas are read; the
    /// tags used are `id`, `name`, `is_a`, `alt_id`, `is_obsolete` and `replaced_by`.
    pub fn from_obo(reader: impl BufRead) -> Result<Self, OboError> {
        let mut stanzas = Vec::new();
        let mut current: Option<Stanza> = None;
        let mut version = None;
        for (n, line) in reader.lines().enumerate() {
            let line = line?;
            let line = line.trim_end();
            if line.starts_with('[') {
                stanzas.extend(current.take());
                if line == "[Term]" {
                    current = Some(Stanza { line: n + 1, ..Stanza::default() });
                }
                continue;
            }
            let Some((tag, value)) = line.split_once(": ") else {
                continue;
            };
            let value = strip_comment(value);
            match current.as_mut() {
                None if tag == "data-version" => version = Some(value.to_string()),
                None => {}
                Some(stanza) => match tag {
                    "id" => stanza.id = Some(value.to_string()),
                    "name" => stanza.name = value.to_string(),
                    "is_a" => stanza.is_a.push(value.to_string()),
                    "alt_id" => stanza.alt_ids.push(value.to_string()),
                    "is_obsolete" => stanza.obsolete = value == "true",
                    "replaced_by" => stanza.replaced_by = Some(value.to_string()),
                    _ => {}
                },
            }
        }
        stanzas.extend(current);
        Self::from_stanzas(stanzas, version)
    }

    fn from_stanzas(stanzas: Vec<Stanza>, version: Option<String>) -> Result<Self, OboError> {
        let mut ontology = Ontology { version, ..Ontology::default() };
        for stanza in &stanzas {
            let id = stanza
                .id
                .clone()
                .ok_or_else(|| OboError::Syntax { line: stanza.line, message: "[Term] stanza without an id".into() })?;
            let index = ontology.ids.len() as TermIndex;
            if ontology.by_id.insert(id.clone(), index).is_some() {
                return Err(OboError::Syntax { line: stanza.line, message: format!("term {id} is defined twice") });
            }
            ontology.ids.push(id);
            ontology.names.push(stanza.name.clone());
            ontology.obsolete.push(stanza.obsolete);
        }
        for (index, stanza) in stanzas.iter().enumerate() {
            for alt in &stanza.alt_ids {
                ontology.by_id.entry(alt.clone()).or_insert(index as TermIndex);
            }
        }
        let n = ontology.ids.len();
        ontology.parents = vec![Vec::new(); n];
        ontology.children = vec![Vec::new(); n];
        ontology.replaced_by = vec![None; n];
        for (index, stanza) in stanzas.iter().enumerate() {
            for parent in &stanza.is_a {
                // A parent outside this file (a cross-ontology link) is not an error; it has no closure here.
                if let Some(&p) = ontology.by_id.get(parent) {
                    ontology.parents[index].push(p);
                    ontology.children[p as usize].push(index as TermIndex);
                }
            }
            ontology.replaced_by[index] = stanza.replaced_by.as_ref().and_then(|r| ontology.by_id.get(r).copied());
        }
        Ok(ontology)
    }

    /// The release, from the header's `data-version` (HPO: `hp/releases/2025-01-16`).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Finds a term by primary or alternative id; obsolete terms resolve to their `replaced_by`.
    pub fn resolve(&self, id: &str) -> Option<TermIndex> {
        let mut index = *self.by_id.get(id.trim())?;
        // replaced_by chains are short; the bound guards against a cycle in a broken file.
        for _ in 0..8 {
            match (self.obsolete[index as usize], self.replaced_by[index as usize]) {
                (true, Some(next)) => index = next,
                _ => break,
            }
        }
        Some(index)
    }

    pub fn id(&self, term: TermIndex) -> &str {
        &self.ids[term as usize]
    }

    pub fn name(&self, term: TermIndex) -> &str {
        &self.names[term as usize]
    }

    pub fn is_obsolete(&self, term: TermIndex) -> bool {
        self.obsolete[term as usize]
    }

    /// The term's direct parents along `is_a`.
    pub fn parents(&self, term: TermIndex) -> &[TermIndex] {
        &self.parents[term as usize]
    }

    /// The term and all its ancestors along `is_a`.
    pub fn ancestors(&self, term: TermIndex) -> Vec<TermIndex> {
        self.closure(term, &self.parents)
    }

    /// The term and all its descendants along `is_a`.
    pub fn descendants(&self, term: TermIndex) -> Vec<TermIndex> {
        self.closure(term, &self.children)
    }

    fn closure(&self, start: TermIndex, edges: &[Vec<TermIndex>]) -> Vec<TermIndex> {
        let mut seen = vec![false; self.ids.len()];
        let mut stack = vec![start];
        let mut out = Vec::new();
        while let Some(t) = stack.pop() {
            if std::mem::replace(&mut seen[t as usize], true) {
                continue;
            }
            out.push(t);
            stack.extend(edges[t as usize].iter().copied());
        }
        out
    }
}

fn strip_comment(value: &str) -> &str {
    // `is_a: HP:0000118 ! Phenotypic abnormality`; quoted values (def, synonym) are not used here.
    match value.find(" ! ") {
        Some(i) => value[..i].trim(),
        None => value.trim(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MINI_HPO: &str = "format-version: 1.2
data-version: hp/releases/test

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0000707
name: Abnormality of the nervous system
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0012638
name: Abnormal nervous system physiology
is_a: HP:0000707

[Term]
id: HP:0001250
name: Seizure
alt_id: HP:0002279
is_a: HP:0012638

[Term]
id: HP:0009999
name: Old seizure term
is_obsolete: true
replaced_by: HP:0001250

[Typedef]
id: part_of
";

    #[test]
    fn closures_follow_is_a() {
        let o = Ontology::from_obo(MINI_HPO.as_bytes()).unwrap();
        assert_eq!(o.version(), Some("hp/releases/test"));
        let seizure = o.resolve("HP:0001250").unwrap();
        let nervous = o.resolve("HP:0000707").unwrap();
        assert!(o.descendants(nervous).contains(&seizure));
        let mut ancestors: Vec<&str> = o.ancestors(seizure).into_iter().map(|t| o.id(t)).collect();
        ancestors.sort();
        assert_eq!(ancestors, ["HP:0000001", "HP:0000118", "HP:0000707", "HP:0001250", "HP:0012638"]);
    }

    #[test]
    fn alt_ids_and_obsolete_terms_resolve() {
        let o = Ontology::from_obo(MINI_HPO.as_bytes()).unwrap();
        assert_eq!(o.id(o.resolve("HP:0002279").unwrap()), "HP:0001250");
        assert_eq!(o.id(o.resolve("HP:0009999").unwrap()), "HP:0001250");
        assert_eq!(o.resolve("HP:1234567"), None);
        assert_eq!(o.name(o.resolve("HP:0000707").unwrap()), "Abnormality of the nervous system");
    }

    #[test]
    fn stanza_without_id_is_an_error_with_its_line() {
        let err = Ontology::from_obo("[Term]\nname: x\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
