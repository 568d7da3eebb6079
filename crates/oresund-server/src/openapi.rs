//! `/openapi.json`: the static document (`openapi.json`) made exact for one node. Requests must
//! name the node's assembly and one of its contigs; the static document cannot know them.

use serde_json::{Value, json};

use crate::genomic::assembly_names;

const DOCUMENT: &str = include_str!("openapi.json");

/// The document for a node of `assembly` with these contigs.
pub fn document<'a>(assembly: &str, contigs: impl Iterator<Item = &'a str>) -> Value {
    // The document is part of the build; a test parses it, so this cannot fail at run time.
    let mut document: Value = serde_json::from_str(DOCUMENT).unwrap_or(Value::Null);
    let names = assembly_names(assembly);
    let contigs: Vec<&str> = contigs.collect();
    let assembly_schema = json!({"type": "string", "enum": names});
    let contig_schema = json!({"type": "string", "enum": contigs, "example": contigs.first()});
    for (pointer, schema) in [
        ("/components/parameters/assemblyId/schema", &assembly_schema),
        ("/components/parameters/referenceName/schema", &contig_schema),
        ("/components/schemas/AssociationRequest/properties/assemblyId", &assembly_schema),
        ("/components/schemas/AssociationRequest/properties/referenceName", &contig_schema),
    ] {
        if let Some(slot) = document.pointer_mut(pointer) {
            *slot = schema.clone();
        }
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_and_names_the_nodes_assembly_and_contigs() {
        assert!(serde_json::from_str::<Value>(DOCUMENT).is_ok());
        let d = document("GRCh38", ["22", "X"].into_iter());
        assert_eq!(d["components"]["parameters"]["assemblyId"]["schema"]["enum"], json!(["GRCh38", "hg38"]));
        assert_eq!(d["components"]["parameters"]["referenceName"]["schema"]["enum"], json!(["22", "X"]));
        assert_eq!(
            d["components"]["schemas"]["AssociationRequest"]["properties"]["referenceName"]["enum"],
            json!(["22", "X"])
        );
        assert_eq!(
            document("hg19", [].into_iter())["components"]["parameters"]["assemblyId"]["schema"]["enum"],
            json!(["GRCh37", "hg19"])
        );
    }
}
