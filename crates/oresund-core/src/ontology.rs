//! An is-a ontology (HPO, or any OBO 1.4 file): term ids, names, parents, and the closures that
//! ontology filters need ("HP:0000707 covers HP:0001250", Beacon v2 `includeDescendantTerms`).
//!
//! Held compactly — one text buffer, spans into it, parents as offset arrays — so that it is cheap
//! to build, and can be saved as a binary image ([`image`]) that loads without parsing (issue #19:
//! a command filtering by phenotype must not parse HPO's 10 MB of OBO on every start).

mod image;
mod obo;

pub use image::ImageError;
pub use obo::OboError;

/// Index of a term inside one [`Ontology`].
pub type TermIndex = u32;

/// A byte range of [`Ontology::text`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// Edges of a graph over term indices: the targets of term `t` are `list[start[t]..start[t + 1]]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Edges {
    start: Vec<u32>,
    list: Vec<TermIndex>,
}

impl Edges {
    /// Edges from `(from, to)` pairs over `n` terms, in the order given for each term.
    fn from_pairs(n: usize, pairs: &[(TermIndex, TermIndex)]) -> Self {
        let mut start = vec![0u32; n + 1];
        for &(from, _) in pairs {
            start[from as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut list = vec![0; start[n] as usize];
        for &(from, to) in pairs {
            list[next[from as usize] as usize] = to;
            next[from as usize] += 1;
        }
        Edges { start, list }
    }

    fn of(&self, term: TermIndex) -> &[TermIndex] {
        let t = term as usize;
        &self.list[self.start[t] as usize..self.start[t + 1] as usize]
    }
}

/// A term index that is none (`replaced_by` of a term not replaced).
const NONE: TermIndex = TermIndex::MAX;

/// A parsed ontology. Obsolete terms are kept so that old data can be resolved through `replaced_by`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ontology {
    version: Option<String>,
    /// Every id, alternative id and name, back to back.
    text: String,
    ids: Vec<Span>,
    names: Vec<Span>,
    parents: Edges,
    obsolete: Vec<bool>,
    replaced_by: Vec<TermIndex>,
    /// Primary ids and `alt_id`s with their term, sorted by id (a primary id first among equals).
    by_id: Vec<(Span, TermIndex)>,
}

impl Ontology {
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

    fn str(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    /// The term with this primary or alternative id, not following `replaced_by`.
    fn lookup(&self, id: &str) -> Option<TermIndex> {
        let found = self.by_id.binary_search_by(|(span, _)| self.str(*span).cmp(id)).ok()?;
        Some(self.by_id[found].1)
    }

    /// Finds a term by primary or alternative id; obsolete terms resolve to their `replaced_by`.
    pub fn resolve(&self, id: &str) -> Option<TermIndex> {
        let mut index = self.lookup(id.trim())?;
        // replaced_by chains are short; the bound guards against a cycle in a broken file.
        for _ in 0..8 {
            match (self.obsolete[index as usize], self.replaced_by[index as usize]) {
                (true, next) if next != NONE => index = next,
                _ => break,
            }
        }
        Some(index)
    }

    pub fn id(&self, term: TermIndex) -> &str {
        self.str(self.ids[term as usize])
    }

    pub fn name(&self, term: TermIndex) -> &str {
        self.str(self.names[term as usize])
    }

    pub fn is_obsolete(&self, term: TermIndex) -> bool {
        self.obsolete[term as usize]
    }

    /// The term's direct parents along `is_a`.
    pub fn parents(&self, term: TermIndex) -> &[TermIndex] {
        self.parents.of(term)
    }

    /// The term and all its ancestors along `is_a`.
    pub fn ancestors(&self, term: TermIndex) -> Vec<TermIndex> {
        self.closure(term, &self.parents)
    }

    fn closure(&self, start: TermIndex, edges: &Edges) -> Vec<TermIndex> {
        let mut seen = vec![false; self.ids.len()];
        let mut stack = vec![start];
        let mut out = Vec::new();
        while let Some(t) = stack.pop() {
            if std::mem::replace(&mut seen[t as usize], true) {
                continue;
            }
            out.push(t);
            stack.extend_from_slice(edges.of(t));
        }
        out
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
        assert!(o.ancestors(seizure).contains(&nervous));
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
    fn an_image_reads_back_the_same_ontology() {
        let o = Ontology::from_obo(MINI_HPO.as_bytes()).unwrap();
        let image = o.to_image();
        assert_eq!(Ontology::from_image(&image).unwrap(), o);
        // Damage anywhere is an error, never a panic: every truncation, and every byte flipped.
        for len in 0..image.len() {
            assert!(Ontology::from_image(&image[..len]).is_err(), "truncated at {len}");
        }
        for i in 0..image.len() {
            let mut damaged = image.clone();
            damaged[i] ^= 0xff;
            if let Ok(read) = Ontology::from_image(&damaged) {
                // Flipping a name's or the version's byte can leave valid UTF-8: still an ontology.
                assert_eq!(read.len(), o.len(), "byte {i}");
            }
        }
    }

    #[test]
    fn a_term_defined_twice_is_an_error() {
        let err = Ontology::from_obo("[Term]\nid: A:1\n\n[Term]\nid: A:1\n".as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "line 4: term A:1 is defined twice");
    }

    #[test]
    fn an_alt_id_never_hides_a_primary_id() {
        let o = Ontology::from_obo("[Term]\nid: A:2\nalt_id: A:1\n\n[Term]\nid: A:1\nis_a: A:2\n".as_bytes()).unwrap();
        let one = o.resolve("A:1").unwrap();
        assert_eq!(o.id(one), "A:1");
        assert_eq!(o.parents(one).iter().map(|&t| o.id(t)).collect::<Vec<_>>(), ["A:2"]);
    }

    #[test]
    fn stanza_without_id_is_an_error_with_its_line() {
        let err = Ontology::from_obo("[Term]\nname: x\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
