//! The ontology as a binary image: its arrays written out as little-endian words, read back with
//! a check of every index and span, so a damaged image is an error, never a panic or a wrong
//! term. Loading it replaced parsing HPO's OBO text in a phenotype-filtered command, which went
//! from 58.7 to 25.2 ms (BENCHMARKS.md, issue #19).

use super::{Edges, NONE, Ontology, Span, TermIndex};

const MAGIC: &[u8] = b"oresund ontology image 2\n";

/// Why bytes are not an ontology image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not an ontology image of this version")]
    Magic,
    #[error("the image ends early")]
    Truncated,
    #[error("the image is damaged: {0}")]
    Damaged(&'static str),
}

impl Ontology {
    /// The binary image of this ontology ([`Ontology::from_image`] reads it).
    pub fn to_image(&self) -> Vec<u8> {
        let mut out = Writer(Vec::with_capacity(self.text.len() + 40 * self.ids.len()));
        out.0.extend_from_slice(MAGIC);
        match &self.version {
            Some(v) => {
                out.word(1);
                out.bytes(v.as_bytes());
            }
            None => out.word(0),
        }
        out.bytes(self.text.as_bytes());
        out.word(self.ids.len() as u32);
        for span in self.ids.iter().chain(&self.names) {
            out.word(span.start);
            out.word(span.end);
        }
        out.words(&self.parents.start);
        out.words(&self.parents.list);
        out.0.extend(self.obsolete.iter().map(|&o| o as u8));
        out.words(&self.replaced_by);
        out.word(self.by_id.len() as u32);
        for (span, term) in &self.by_id {
            out.word(span.start);
            out.word(span.end);
            out.word(*term);
        }
        out.0
    }

    /// Reads an image written by [`Ontology::to_image`].
    pub fn from_image(bytes: &[u8]) -> Result<Self, ImageError> {
        let mut r = Reader(bytes.strip_prefix(MAGIC).ok_or(ImageError::Magic)?);
        let version = match r.word()? {
            0 => None,
            _ => Some(String::from_utf8(r.bytes()?.to_vec()).map_err(|_| ImageError::Damaged("version"))?),
        };
        let text = String::from_utf8(r.bytes()?.to_vec()).map_err(|_| ImageError::Damaged("text"))?;
        let n = r.word()? as usize;
        let span = |r: &mut Reader| -> Result<Span, ImageError> {
            let (start, end) = (r.word()?, r.word()?);
            let ok = start <= end && text.get(start as usize..end as usize).is_some();
            ok.then_some(Span { start, end }).ok_or(ImageError::Damaged("span"))
        };
        let ids = (0..n).map(|_| span(&mut r)).collect::<Result<Vec<_>, _>>()?;
        let names = (0..n).map(|_| span(&mut r)).collect::<Result<Vec<_>, _>>()?;
        let parents = r.edges(n)?;
        let obsolete = r.take(n)?.iter().map(|&b| b != 0).collect();
        let replaced_by = r.words()?;
        if replaced_by.len() != n || replaced_by.iter().any(|&t| t != NONE && t as usize >= n) {
            return Err(ImageError::Damaged("replaced_by"));
        }
        let m = r.word()? as usize;
        let mut by_id = Vec::with_capacity(m.min(r.0.len() / 12));
        for _ in 0..m {
            let s = span(&mut r)?;
            let term = r.word()?;
            if term as usize >= n {
                return Err(ImageError::Damaged("id table"));
            }
            by_id.push((s, term));
        }
        if !r.0.is_empty() {
            return Err(ImageError::Damaged("bytes after the end"));
        }
        let ontology = Ontology { version, text, ids, names, parents, obsolete, replaced_by, by_id };
        // Lookups binary-search the id table: it must be strictly sorted.
        if ontology.by_id.windows(2).any(|w| ontology.str(w[0].0) >= ontology.str(w[1].0)) {
            return Err(ImageError::Damaged("id table order"));
        }
        Ok(ontology)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn word(&mut self, w: u32) {
        self.0.extend_from_slice(&w.to_le_bytes());
    }

    fn words(&mut self, ws: &[u32]) {
        self.word(ws.len() as u32);
        for &w in ws {
            self.word(w);
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u32);
        self.0.extend_from_slice(b);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], ImageError> {
        if self.0.len() < len {
            return Err(ImageError::Truncated);
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    fn word(&mut self) -> Result<u32, ImageError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self) -> Result<&'a [u8], ImageError> {
        let len = self.word()? as usize;
        self.take(len)
    }

    fn words(&mut self) -> Result<Vec<TermIndex>, ImageError> {
        let len = self.word()? as usize;
        let bytes = self.take(len.checked_mul(4).ok_or(ImageError::Truncated)?)?;
        Ok(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Edges over `n` terms: offsets that start at 0, never fall and end at the list's length,
    /// and targets that are terms.
    fn edges(&mut self, n: usize) -> Result<Edges, ImageError> {
        let (start, list) = (self.words()?, self.words()?);
        let ok = start.len() == n + 1
            && start.first() == Some(&0)
            && start.last().is_some_and(|&e| e as usize == list.len())
            && start.windows(2).all(|w| w[0] <= w[1])
            && list.iter().all(|&t| (t as usize) < n);
        ok.then_some(Edges { start, list }).ok_or(ImageError::Damaged("edges"))
    }
}
