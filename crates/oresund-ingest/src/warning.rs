//! Something accepted but worth telling the operator, with its line: an unknown HPO or DUO term or
//! an ignored column of the individuals file, a malformed symbolic ALT allele of a VCF.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line of the file the warning is about.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}
