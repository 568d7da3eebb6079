//! What kind of ALT allele a VCF record names (VCF 4.3 §1.6.1 item 5): bases, which are
//! normalised and indexed; or a symbolic allele, a breakend or the spanning deletion `*`, which are
//! not. An allele that looks like one of the latter but breaks its grammar is malformed: it is
//! skipped like them, but the operator hears about it with the line.

/// The kinds of ALT allele.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternate<'a> {
    /// Bases (checked against A, C, G, T, N when normalised).
    Bases(&'a [u8]),
    /// `<ID>` (§1.4.5, e.g. `<DEL>`, `<INS:ME:ALU>`, `<*>`).
    Symbolic,
    /// A breakend replacement: `t[p[`, `t]p]`, `]p]t`, `[p[t` (§5.4), or a single breakend `t.` / `.t`
    /// (§5.4.9).
    Breakend,
    /// `*`: the allele is missing because of an upstream deletion (§1.6.1).
    SpanningDeletion,
    /// Looks symbolic or like a breakend but is not one; the reason says which rule it breaks.
    Malformed(&'static str),
}

impl<'a> Alternate<'a> {
    pub fn of(allele: &'a [u8]) -> Self {
        if allele == b"*" {
            return Alternate::SpanningDeletion;
        }
        if allele.first() == Some(&b'<') {
            return symbolic(allele);
        }
        if allele.iter().any(|b| matches!(b, b'[' | b']')) {
            return breakend(allele);
        }
        let single_breakend = allele.len() > 1
            && (allele.strip_prefix(b".").is_some_and(is_bases) || allele.strip_suffix(b".").is_some_and(is_bases));
        if single_breakend {
            return Alternate::Breakend;
        }
        if allele.contains(&b'>') {
            return Alternate::Malformed("a '>' outside a symbolic allele <ID>");
        }
        Alternate::Bases(allele)
    }
}

fn is_bases(bases: &[u8]) -> bool {
    !bases.is_empty() && bases.iter().all(|b| matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'N'))
}

/// `<ID>`: one pair of angle brackets around a non-empty ID without spaces or brackets.
fn symbolic(allele: &[u8]) -> Alternate<'_> {
    let Some(id) = allele.strip_prefix(b"<").and_then(|a| a.strip_suffix(b">")) else {
        return Alternate::Malformed("a symbolic allele must end with '>' (<ID>)");
    };
    if id.is_empty() {
        return Alternate::Malformed("a symbolic allele needs an ID between '<' and '>'");
    }
    if id.iter().any(|b| matches!(b, b'<' | b'>') || b.is_ascii_whitespace()) {
        return Alternate::Malformed("a symbolic allele's ID may not hold '<', '>' or spaces (<ID>)");
    }
    Alternate::Symbolic
}

/// `t[p[`, `t]p]`, `]p]t` or `[p[t`: bases `t` on one side, the mate position `p` = `chrom:pos`
/// between two equal brackets on the other (§5.4, where `chrom` may be `<contig>`).
fn breakend(allele: &[u8]) -> Alternate<'_> {
    const MALFORMED: Alternate<'static> =
        Alternate::Malformed("a breakend must read t[p[, t]p], ]p]t or [p[t with bases t and position p = chrom:pos");
    let brackets: Vec<usize> =
        allele.iter().enumerate().filter(|(_, b)| matches!(b, b'[' | b']')).map(|(i, _)| i).collect();
    let [open, close] = brackets[..] else { return MALFORMED };
    if allele[open] != allele[close] {
        return MALFORMED;
    }
    let (before, mate, after) = (&allele[..open], &allele[open + 1..close], &allele[close + 1..]);
    let bases_on_one_side = (is_bases(before) && after.is_empty()) || (before.is_empty() && is_bases(after));
    let position = mate.iter().rposition(|b| *b == b':').is_some_and(|colon| {
        let (chrom, pos) = (&mate[..colon], &mate[colon + 1..]);
        !chrom.is_empty() && !pos.is_empty() && pos.iter().all(u8::is_ascii_digit)
    });
    if bases_on_one_side && position { Alternate::Breakend } else { MALFORMED }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vcf_specs_examples_are_recognised() {
        for symbolic in ["<DEL>", "<INS:ME:ALU>", "<*>", "<NON_REF>", "<DUP:TANDEM>"] {
            assert_eq!(Alternate::of(symbolic.as_bytes()), Alternate::Symbolic, "{symbolic}");
        }
        // VCF 4.3 §5.4 table: the four breakend forms, and §5.4.9 single breakends.
        for bnd in ["G]17:198982]", "]13:123456]T", "C[2:321682[", "[17:198983[A", "A[<ctg1>:7[", ".A", "G."] {
            assert_eq!(Alternate::of(bnd.as_bytes()), Alternate::Breakend, "{bnd}");
        }
        assert_eq!(Alternate::of(b"*"), Alternate::SpanningDeletion);
        assert_eq!(Alternate::of(b"ACGT"), Alternate::Bases(b"ACGT"));
        assert_eq!(Alternate::of(b"AXG"), Alternate::Bases(b"AXG"), "bad bases are the normaliser's error");
    }

    #[test]
    fn broken_symbolic_and_breakend_alleles_are_malformed() {
        for malformed in [
            "<INS>BLAH>",
            "<DEL",
            "<>",
            "<IN S>",
            "[1:100[",
            "G]17:198982[",
            "G]17198982]",
            "G]17:x]",
            "G]:5]",
            "]1:5]",
            "A]1:5]T",
            "A>",
        ] {
            assert!(matches!(Alternate::of(malformed.as_bytes()), Alternate::Malformed(_)), "{malformed}");
        }
    }
}
