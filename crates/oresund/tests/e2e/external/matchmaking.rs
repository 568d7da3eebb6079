//! The matchmaking phenotype score equals PyPI `pyhpo` 4.0.0 (`oracles/hpo_similarity.py`) on the
//! node's HPO release and gene annotations, on 300 random pairs of HPO sets to 1e-9, and a query
//! ranks 60 cases in pyhpo's order; every MME request and response of a real exchange validates
//! against the Matchmaker Exchange JSON schema (`oresund-match/data/mme-schema.json`).

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use oresund_core::ontology::{Ontology, TermIndex};
use oresund_match::{Case, CaseIndex, GeneTable, PhenotypeModel, Weights};
use serde_json::{Value, json};

use crate::common::*;

const GENES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../oresund-match/data/hpo-genes.tsv.gz");
const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../oresund-match/data/mme-schema.json");

fn gunzip(path: &std::path::Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}

/// splitmix64, seeded: the same pairs on every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

fn pyhpo(pairs: &[(Vec<String>, Vec<String>)]) -> (u64, Vec<f64>) {
    let probe = Command::new("python3").args(["-c", "import pyhpo"]).output();
    assert!(probe.is_ok_and(|o| o.status.success()), "pyhpo is required: pip install 'pyhpo==4.0.0' (./test does)");
    let request = json!({"obo": hpo(), "genes": GENES, "pairs": pairs});
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/hpo_similarity.py");
    let mut child =
        Command::new("python3").arg(oracle).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python3 runs");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the pyhpo oracle failed");
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let scores = answer["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    (answer["genes"].as_u64().unwrap(), scores)
}

#[test]
fn phenotype_similarity_equals_pyhpo_and_ranks_cases_in_its_order() {
    let ontology = Ontology::from_obo(gunzip(&hpo()).as_bytes()).unwrap();
    let genes = GeneTable::parse(&gunzip(std::path::Path::new(GENES))).unwrap();
    let annotations: Vec<(TermIndex, u32)> =
        genes.annotations().iter().filter_map(|(t, g)| Some((ontology.resolve(t)?, *g))).collect();
    let model = PhenotypeModel::new(&ontology, annotations.iter().copied());
    // Terms drawn from the annotated ones (most of a case's features) and from all current terms
    // (some with no gene at all: information content 0).
    let mut annotated: Vec<TermIndex> = annotations.iter().map(|&(t, _)| t).collect();
    annotated.sort_unstable();
    annotated.dedup();
    let current: Vec<TermIndex> = (0..ontology.len() as TermIndex)
        .filter(|&t| !ontology.is_obsolete(t) && ontology.id(t).starts_with("HP:"))
        .collect();
    let mut rng = Rng(13);
    let mut draw = |n: usize| {
        let mut set: Vec<TermIndex> = (0..n)
            .map(|_| {
                if rng.below(5) == 0 {
                    current[rng.below(current.len())]
                } else {
                    annotated[rng.below(annotated.len())]
                }
            })
            .collect();
        set.sort_unstable();
        set.dedup();
        set
    };
    let sets: Vec<(Vec<TermIndex>, Vec<TermIndex>)> =
        (0..300).map(|i| (draw(1 + i % 10), draw(1 + (i * 7) % 12))).collect();
    // The ranking: one query against 60 cases, phenotype only (then the score is the similarity).
    let query = draw(10);
    let cases: Vec<Vec<TermIndex>> = (0..60).map(|i| draw(2 + i % 9)).collect();
    let ids = |set: &[TermIndex]| set.iter().map(|&t| ontology.id(t).to_string()).collect::<Vec<_>>();
    let mut pairs: Vec<(Vec<String>, Vec<String>)> = sets.iter().map(|(a, b)| (ids(a), ids(b))).collect();
    pairs.extend(cases.iter().map(|c| (ids(&query), ids(c))));
    let (their_genes, theirs) = pyhpo(&pairs);
    assert_eq!(their_genes as usize, model.genes(), "the same genes count in the information content");

    let mut worst = 0.0f64;
    for (i, (a, b)) in sets.iter().enumerate() {
        let ours = model.similarity(a, b);
        worst = worst.max((ours - theirs[i]).abs());
        assert!(
            (ours - theirs[i]).abs() < 1e-9,
            "pair {i}: {:?} vs {:?}: ours {ours}, pyhpo {}",
            pairs[i].0,
            pairs[i].1,
            theirs[i]
        );
    }
    assert!(theirs[..300].iter().filter(|&&s| s > 0.0 && s < 1.0).count() > 200, "most pairs are neither 0 nor 1");
    eprintln!("largest difference from pyhpo over 300 pairs: {worst:e}");

    let index = CaseIndex::new(
        cases
            .iter()
            .enumerate()
            .map(|(i, terms)| Case { key: format!("case-{i:02}"), terms: terms.clone(), ..Case::default() })
            .collect(),
    );
    let query_case = Case { key: "query".into(), terms: query.clone(), ..Case::default() };
    let ranked = index.best(&model, &query_case, Weights::default(), 0.0, 60, |_| true);
    let ours: Vec<String> = ranked.iter().map(|r| index.case(r.index).key.clone()).collect();
    let mut by_pyhpo: Vec<(f64, String)> = theirs[300..]
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .map(|(i, s)| (*s, format!("case-{i:02}")))
        .collect();
    by_pyhpo.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let theirs_order: Vec<String> = by_pyhpo.into_iter().map(|(_, k)| k).collect();
    assert_eq!(ours, theirs_order, "the ranking follows pyhpo's scores");
    for r in &ranked {
        let i: usize = index.case(r.index).key[5..].parse().unwrap();
        assert!((r.score.patient - theirs[300 + i]).abs() < 1e-9);
    }
}

/// Errors of a request against the MME schema (python-jsonschema, draft 4), `None` when valid.
fn mme_schema_errors(document: &Value) -> Option<String> {
    mme_schema_errors_as(document, "request")
}

/// Errors of a document against one definition of the MME schema.
fn mme_schema_errors_as(document: &Value, definition: &str) -> Option<String> {
    let script = r##"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(sys.stdin)
target = {"$ref": "#/definitions/" + sys.argv[2], "definitions": schema["definitions"]}
errors = [e.message for e in jsonschema.Draft4Validator(target).iter_errors(doc)]
print("\n".join(errors))
"##;
    let mut child = Command::new("python3")
        .args(["-c", script, SCHEMA, definition])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(document.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "jsonschema failed to run");
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[test]
fn requests_and_responses_of_a_real_exchange_validate_against_the_mme_schema() {
    use crate::matchmaking::{DK_TO_SE, add_partner, partner_post, patient};
    let node = TestNode::new("GMS", "SE");
    let clinician = token(&node.dir, &["--user", "dr.svensson@ki.se", "--clinician"]);
    add_partner(&node.dir, "DK-NGC", None, None, Some(DK_TO_SE));
    let mut case = patient("SE-1", "Dr Svensson", &["HP:0001250", "HP:0001263"], &["KCNQ2"]);
    case["sex"] = json!("FEMALE");
    case["species"] = json!("NCBITaxon:9606");
    case["disorders"] = json!([{"id": "MIM:613720"}]);
    case["genomicFeatures"][0]["zygosity"] = json!(1);
    case["genomicFeatures"][0]["type"] = json!({"id": "SO:0001583", "label": "missense_variant"});
    case["genomicFeatures"][0]["variant"] = json!({"assembly": "GRCh38", "referenceName": "22", "start": 17000016, "end": 17000017, "referenceBases": "C", "alternateBases": "A"});
    let server = Server::start(&node.dir, &[]);
    let submit = json!({"patient": case, "crossBorder": true});
    assert_eq!(mme_schema_errors(&submit), None, "the submission is an MME request");
    let auth = format!("Bearer {clinician}");
    let headers = [("Content-Type", "application/vnd.ga4gh.matchmaker.v1.0+json"), ("Authorization", auth.as_str())];
    let (status, _, body) =
        crate::matchmaking::mme_post(&server.address, "/mme/patients", &headers, &submit.to_string());
    assert_eq!(status, 200, "{body}");
    let query = json!({"patient": patient("DK-9", "Dr Hansen", &["HP:0001250"], &["ENSG00000075043"])});
    assert_eq!(mme_schema_errors(&query), None);
    let (status, _, answer) = partner_post(&server.address, DK_TO_SE, &query);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"].as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(mme_response_errors(&answer), None, "{answer:#}");
    // And what a clinician gets back, with the node labels.
    let (status, _, answer) = crate::matchmaking::mme_post(&server.address, "/mme/match", &headers, &query.to_string());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(mme_response_errors(&answer), None, "{answer:#}");
}

fn mme_response_errors(document: &Value) -> Option<String> {
    mme_schema_errors_as(document, "response")
}
