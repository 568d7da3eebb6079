//! What a query's audit entry says about how it was answered, at the start of its `detail`: the
//! tier the caller was answered at (`tier=registered`) and, when it happened, `small counts
//! raised` (a count from 1 to threshold − 1 was shown as the threshold). Written by the server,
//! read by `oresund report`; both use this one encoding. The note comes first because what
//! follows it (a peer's name, a refusal quoting the caller's words) is not the node's own text.

/// The segment separator inside `detail`.
const SEPARATOR: &str = "; ";
const TIER: &str = "tier=";
const RAISED: &str = "small counts raised";

/// How one query was answered, as its entry records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryNote<'a> {
    /// `public`, `registered` or `controlled`; `None` for entries written before notes existed.
    pub tier: Option<&'a str>,
    pub raised: bool,
}

impl<'a> QueryNote<'a> {
    /// The note, followed by `rest` (the peer, the refusal) when there is any.
    pub fn render(tier: &str, raised: bool, rest: &str) -> String {
        let mut text = format!("{TIER}{tier}");
        if raised {
            text.push_str(SEPARATOR);
            text.push_str(RAISED);
        }
        if !rest.is_empty() {
            text.push_str(SEPARATOR);
            text.push_str(rest);
        }
        text
    }

    /// The note at the start of `detail` (an empty note when there is none).
    pub fn parse(detail: &'a str) -> Self {
        let Some(after) = detail.strip_prefix(TIER) else { return Self::default() };
        let (tier, rest) = after.split_once(SEPARATOR).unwrap_or((after, ""));
        let raised = rest == RAISED || rest.starts_with(&format!("{RAISED}{SEPARATOR}"));
        QueryNote { tier: Some(tier), raised }
    }
}

#[cfg(test)]
mod tests {
    use super::QueryNote;

    #[test]
    fn a_note_reads_back() {
        let text = QueryNote::render("registered", true, "network query from peer SE; tier=controlled");
        assert_eq!(text, "tier=registered; small counts raised; network query from peer SE; tier=controlled");
        assert_eq!(QueryNote::parse(&text), QueryNote { tier: Some("registered"), raised: true });
        assert_eq!(QueryNote::parse("tier=public"), QueryNote { tier: Some("public"), raised: false });
        let caller_words = QueryNote::render("public", false, "HTTP 400: small counts raised");
        assert_eq!(QueryNote::parse(&caller_words), QueryNote { tier: Some("public"), raised: false });
        // Entries written before notes existed.
        assert_eq!(QueryNote::parse("HTTP 403: no"), QueryNote::default());
        assert_eq!(QueryNote::parse(""), QueryNote::default());
    }
}
