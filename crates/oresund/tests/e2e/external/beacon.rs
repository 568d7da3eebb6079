//! The Beacon v2 API of a real `oresund serve` on the demo-data cohorts: every response shape
//! validates against the Beacon v2 schemas, beacon-verifier 0.3.3 finds every endpoint valid,
//! answers follow the caller's tier, no count below the threshold reaches a caller below
//! CONTROLLED, and bad requests get a 400 that says what to fix.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::common::*;
use serde_json::{Value, json};

struct Fixture {
    /// Kept so the node directory lives as long as its server.
    _node: TestNode,
    server: Server,
    registered: String,
    controlled: String,
}

/// DK-1 (default policy), SE-1 (anonymous callers see counts), HIDDEN (controlled only). These
/// tests read whole regions at the REGISTERED tier, which the re-identification budget would stop
/// after a few hundred rare variants (external/reidentification.rs): here it is charged but too large
/// to refuse.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let node = TestNode::copy_for_run(dk_se_template());
        node.ingest("HIDDEN", "DK");
        let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
        let controlled = token(&node.dir, &["--user", "dac@example.org", "--registered", "--controlled", "DK-1"]);
        let mut config = std::fs::OpenOptions::new().append(true).open(node.dir.join("oresund.toml")).unwrap();
        writeln!(
            config,
            "\n[beacon.datasets.SE-1]\npublic = \"count\"\n\n[beacon.datasets.DK-1]\nname = \"Danish cohort\"\n\
             description = \"Synthetic Danish cohort\"\n\n[beacon.datasets.HIDDEN]\npublic = \"none\"\nregistered = \"none\"\n\n\
             [access.budget]\nnats = 1000000.0\n"
        )
        .unwrap();
        let server = Server::start(&node.dir, &[]);
        Fixture { _node: node, server, registered, controlled }
    })
}

const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A";

fn valid(target: &[&str], document: &Value) {
    if let Some(errors) = beacon_schema_errors(target, document) {
        panic!("response does not validate against {target:?}:\n{errors}\n{document:#}");
    }
}

#[test]
fn framework_endpoints_validate_against_the_schemas() {
    let f = fixture();
    for (path, schema) in [
        ("/", "framework/responses/beaconInfoResponse.json"),
        ("/info", "framework/responses/beaconInfoResponse.json"),
        ("/service-info", "framework/responses/ga4gh-service-info-1-0-0-schema.json"),
        ("/configuration", "framework/responses/beaconConfigurationResponse.json"),
        ("/entry_types", "framework/responses/beaconEntryTypesResponse.json"),
        ("/map", "framework/responses/beaconMapResponse.json"),
        ("/filtering_terms", "framework/responses/beaconFilteringTermsResponse.json"),
    ] {
        let (status, body) = f.server.get(path, None);
        assert_eq!(status, 200, "{path}");
        valid(&[schema], &body);
    }
    let (_, terms) = f.server.get("/filtering_terms", None);
    let ids: Vec<&str> =
        terms["response"]["filteringTerms"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    for expected in ["HP:0001250", "HP:0000707", "ICD10:G40.9", "ICD10:G40", "NCIT:C16576"] {
        assert!(ids.contains(&expected), "{expected} missing from /filtering_terms");
    }
    let (status, openapi) = f.server.get("/openapi.json", None);
    assert_eq!(status, 200);
    assert!(openapi["paths"]["/g_variants"]["post"].is_object());
    // The document is valid OpenAPI 3 (openapi-spec-validator) and names what the node serves.
    let mut validator = Command::new("python3")
        .args(["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(sys.stdin))"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (pip install openapi-spec-validator)");
    validator.stdin.take().unwrap().write_all(openapi.to_string().as_bytes()).unwrap();
    let checked = validator.wait_with_output().unwrap();
    assert!(checked.status.success(), "invalid OpenAPI: {}", String::from_utf8_lossy(&checked.stderr));
    for path in [
        "/individuals/{id}",
        "/datasets/{id}/g_variants",
        "/dac/requests",
        "/dac/grants/{jti}/revoke",
        "/.well-known/jwks.json",
        "/variants/{id}",
        "/ga4gh/drs/v1/objects/{id}/access/{access_id}",
        "/ga4gh/data/{id}",
        "/association",
        "/network/association",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is not in /openapi.json");
    }
}

/// Issue #17: schemathesis against the node's own /openapi.json, as a registered caller
/// (`tests/oracles/schemathesis.toml` says which checks, and which operations have rules the
/// document cannot state): no 5xx, only documented status codes and content types, and no request
/// the document calls valid refused.
#[test]
fn schemathesis_finds_the_document_true() {
    let f = fixture();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/schemathesis.toml");
    let base = format!("http://{}", f.server.address);
    // Its crash cache (.schemathesis/) goes to a directory of its own, not the repository.
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::new("st")
        .current_dir(scratch.path())
        .args(["--no-color", "--config-file", config, "run", &format!("{base}/openapi.json"), "--url", &base])
        .args(["--max-examples", "25", "--seed", "17", "--workers", "2", "--phases", "examples,coverage,fuzzing"])
        .args(["--header", &format!("Authorization: Bearer {}", f.registered)])
        .output()
        .expect("st runs (pip install schemathesis; ./test installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.rfind("SUMMARY").map_or(&stdout[..], |at| &stdout[at..]);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(summary.contains("Tested: "), "schemathesis tested nothing: {summary}");
}

#[test]
fn answers_follow_the_callers_tier() {
    let f = fixture();
    let path = format!("/g_variants?{TRUTH}&requestedGranularity=record&datasets=DK-1");
    let (status, anonymous) = f.server.get(&path, None);
    assert_eq!(status, 200);
    assert_eq!(anonymous["meta"]["returnedGranularity"], "boolean");
    assert_eq!(anonymous["responseSummary"], json!({"exists": true}));
    valid(&["--entity", "g_variants"], &anonymous);

    let (_, registered) = f.server.get(&path, Some(&f.registered));
    assert_eq!(registered["meta"]["returnedGranularity"], "count");
    valid(&["--entity", "g_variants"], &registered);
    let row = &registered["response"]["resultSets"][0]["info"]["variants"][0];
    // AC is 2 (bcftools: AN=1000;AC=2 in DK): below the threshold, shown as 5, imprecise.
    assert_eq!((row["alleleCount"].as_u64(), row["alleleNumber"].as_u64()), (Some(5), Some(1000)));
    assert_eq!(row["countPrecision"], "imprecise");

    let (_, controlled) = f.server.get(&path, Some(&f.controlled));
    assert_eq!(controlled["meta"]["returnedGranularity"], "record");
    valid(&["--entity", "g_variants"], &controlled);
    let record = &controlled["response"]["resultSets"][0]["results"][0];
    assert_eq!(record["variantInternalId"], "22-17000017-C-A");
    assert_eq!(record["identifiers"]["variantAlternativeIds"][0]["id"], "ga4gh:VA.m47j2nzDKOpFlSNIH3QxemRUSKups_5G");
    let frequency = &record["frequencyInPopulations"][0]["frequencies"][0];
    assert_eq!((frequency["alleleCount"].as_u64(), frequency["alleleNumber"].as_u64()), (Some(2), Some(1000)));
    assert_eq!(frequency["alleleCountHeterozygous"].as_u64(), Some(2));

    // Individuals: counts for registered callers, pseudonymous records for controlled ones.
    let (_, count) =
        f.server.get("/individuals?filters=HP:0001250&requestedGranularity=count&datasets=DK-1", Some(&f.registered));
    valid(&["--entity", "individuals"], &count);
    let (_, records) =
        f.server.get("/individuals?filters=HP:0001250&requestedGranularity=record&datasets=DK-1", Some(&f.controlled));
    valid(&["--entity", "individuals"], &records);
    assert_eq!(records["meta"]["returnedGranularity"], "record");
    assert_eq!(count["responseSummary"]["numTotalResults"], records["responseSummary"]["numTotalResults"]);
    let id = records["response"]["resultSets"][0]["results"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "individuals are known by pseudonym");
    let (_, one) =
        f.server.get(&format!("/individuals/{id}?requestedGranularity=record&datasets=DK-1"), Some(&f.controlled));
    valid(&["--entity", "individuals"], &one);
    assert_eq!(one["response"]["resultSets"][0]["results"][0]["id"], id.as_str());
    // Whether a known pseudonym matches a filter is a fact about that person: records only.
    let (status, refused) = f.server.get(&format!("/individuals/{id}?filters=HP:0001250"), Some(&f.registered));
    assert_eq!(status, 403, "{refused}");
    let (status, _) = f.server.get(&format!("/individuals/{id}"), None);
    assert_eq!(status, 401);

    // Carriers of the truth variant: two heterozygous people.
    let (_, carriers) = f
        .server
        .get("/g_variants/22-17000017-C-A/individuals?requestedGranularity=record&datasets=DK-1", Some(&f.controlled));
    valid(&["--entity", "individuals"], &carriers);
    assert_eq!(carriers["responseSummary"]["numTotalResults"], 2);

    // A bad token is refused, not downgraded to anonymous.
    let (status, refused) = f.server.get(&path, Some("not-a-token"));
    assert_eq!(status, 401);
    valid(&["framework/responses/beaconErrorResponse.json"], &refused);
}

#[test]
fn collections_and_other_entries_validate() {
    let f = fixture();
    for (path, entity) in [
        ("/datasets", "datasets"),
        ("/datasets/DK-1", "datasets"),
        ("/cohorts", "cohorts"),
        ("/cohorts/SE-1", "cohorts"),
        ("/biosamples", "biosamples"),
        ("/analyses", "analyses"),
        ("/runs", "runs"),
        ("/g_variants", "g_variants"),
        ("/individuals", "individuals"),
        (
            "/datasets/SE-1/g_variants?referenceName=22&start=16000000&end=16050000&requestedGranularity=count",
            "g_variants",
        ),
        ("/datasets/DK-1/individuals", "individuals"),
        ("/cohorts/DK-1/individuals", "individuals"),
    ] {
        for token in [None, Some(f.registered.as_str()), Some(f.controlled.as_str())] {
            let (status, body) = f.server.get(path, token);
            assert_eq!(status, 200, "{path}: {body}");
            valid(&["--entity", entity], &body);
        }
    }
    let (_, datasets) = f.server.get("/datasets", None);
    let ids: Vec<&str> =
        datasets["response"]["collections"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["DK-1", "SE-1"], "HIDDEN is not listed to anonymous callers");
    // A cohort's size is a count of people: only for callers who may see counts of it.
    let size = |token: Option<&str>, id: &str| {
        let (_, cohorts) = f.server.get("/cohorts", token);
        let all = cohorts["response"]["collections"].as_array().unwrap().clone();
        all.into_iter().find(|c| c["id"] == id).unwrap()["cohortSize"].as_u64()
    };
    assert_eq!(size(None, "DK-1"), None, "DK-1 gives anonymous callers booleans only");
    assert!(size(None, "SE-1").is_some_and(|n| n >= 5), "SE-1 gives anonymous callers counts");
    assert!(size(Some(&f.registered), "DK-1").is_some());
    let (status, _) = f.server.get("/datasets/HIDDEN/g_variants", None);
    assert_eq!(status, 401);
    let (status, _) = f.server.get("/datasets/HIDDEN/g_variants", Some(&f.registered));
    assert_eq!(status, 403);
}

/// Every count of people or alleles in a document, with where it was found.
fn people_counts(value: &Value, path: &str, out: &mut Vec<(String, u64)>) {
    const COUNT_KEYS: [&str; 7] = [
        "alleleCount",
        "alleleNumber",
        "heterozygous",
        "homozygousAlt",
        "hemizygous",
        "cohortSize",
        "alleleCountHeterozygous",
    ];
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{path}/{key}");
                if let (true, Some(n)) = (COUNT_KEYS.contains(&key.as_str()), v.as_u64()) {
                    out.push((here.clone(), n));
                }
                people_counts(v, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                people_counts(v, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_count_below_the_threshold_reaches_a_caller_below_controlled() {
    let f = fixture();
    let region = "referenceName=22&start=16000000&end=16400000&requestedGranularity=count&limit=1000";
    let mut small_seen_by_controlled = 0;
    let queries = [
        format!("/g_variants?{region}"),
        format!("/g_variants?{region}&filters=HP:0001250"),
        format!("/g_variants?{region}&filters=NCIT:C20197,ICD10:G40"),
        format!("/g_variants?{TRUTH}&requestedGranularity=count&filters=HP:0000707"),
        "/individuals?requestedGranularity=count&filters=HP:0001250,NCIT:C16576,ICD10:G40.9".to_string(),
        "/individuals?requestedGranularity=count&filters=HP:0004322,HP:0000365,HP:0001627".to_string(),
        "/cohorts".to_string(),
    ];
    for query in &queries {
        for (who, token) in [("anonymous", None), ("registered", Some(f.registered.as_str()))] {
            let (status, body) = f.server.get(query, token);
            assert_eq!(status, 200, "{query}");
            let mut counts = Vec::new();
            people_counts(&body, "", &mut counts);
            // Individuals: numTotalResults and resultsCount are counts of people too.
            if query.starts_with("/individuals") {
                collect_totals(&body, &mut counts);
            }
            for (at, n) in counts {
                assert!(n == 0 || n >= 5, "{who} saw the count {n} at {at} for {query}");
                // Genotype counts next to AC would give the homozygous count away; AN counts people twice.
                assert!(!at.ends_with("/heterozygous") && !at.ends_with("/homozygousAlt"), "{who}: {at} in {query}");
                assert!(!at.ends_with("/alleleNumber") || n == 0 || n >= 10, "{who} saw AN {n} at {at}");
            }
            // A total built from a raised count is itself imprecise, or it would give that count away.
            let sets = body["response"]["resultSets"].as_array().cloned().unwrap_or_default();
            if sets.iter().any(|s| s["countPrecision"] == "imprecise") && query.starts_with("/individuals") {
                assert_eq!(body["responseSummary"]["countPrecision"], "imprecise", "{who}: {query}");
            }
        }
        let (_, body) = f.server.get(&format!("{query}&datasets=DK-1"), Some(&f.controlled));
        let mut counts = Vec::new();
        people_counts(&body, "", &mut counts);
        small_seen_by_controlled += counts.iter().filter(|(_, n)| (1..5).contains(n)).count();
    }
    assert!(small_seen_by_controlled > 0, "the queries must include small counts, or the test proves nothing");
}

fn collect_totals(body: &Value, out: &mut Vec<(String, u64)>) {
    if let Some(n) = body["responseSummary"]["numTotalResults"].as_u64() {
        out.push(("responseSummary/numTotalResults".into(), n));
    }
    for set in body["response"]["resultSets"].as_array().into_iter().flatten() {
        out.push((format!("resultSets/{}/resultsCount", set["id"]), set["resultsCount"].as_u64().unwrap_or(0)));
    }
}

#[test]
fn filters_expand_descendants_and_unknown_terms_are_reported() {
    let f = fixture();
    let count = |filters: &str| {
        let body = f.server.post(
            "/individuals",
            Some(&f.registered),
            &format!(r#"{{"meta":{{"apiVersion":"2.0"}},"query":{{"filters":{filters},"requestedGranularity":"count","requestParameters":{{"datasets":"DK-1"}}}}}}"#),
        );
        assert_eq!(body.0, 200, "{}", body.1);
        body.1
    };
    let with = count(r#"[{"id":"HP:0000707"}]"#);
    let without = count(r#"[{"id":"HP:0000707","includeDescendantTerms":false}]"#);
    let with_n = with["responseSummary"]["numTotalResults"].as_u64().unwrap();
    let without_n = without["responseSummary"]["numTotalResults"].as_u64().unwrap();
    assert!(with_n > without_n, "HP:0000707 with descendants covers the seizure patients ({with_n} vs {without_n})");
    let unknown = count(r#"[{"id":"HP:0000707"},{"id":"XYZ:123"}]"#);
    assert_eq!(unknown["responseSummary"]["exists"], false);
    let warning = unknown["info"]["warnings"][0].as_str().unwrap();
    assert!(warning.contains("XYZ:123"), "{warning}");
    valid(&["--entity", "individuals"], &unknown);
}

#[test]
fn get_and_post_agree() {
    let f = fixture();
    let (_, get) = f.server.get(
        "/g_variants?referenceName=22&start=16054641&referenceBases=TCTG&alternateBases=T&requestedGranularity=count&datasets=SE-1",
        Some(&f.registered),
    );
    let (status, post) = f.server.post(
        "/g_variants",
        Some(&f.registered),
        r#"{"meta":{"apiVersion":"2.0"},"query":{"requestParameters":{"referenceName":"22","start":[16054641],
           "referenceBases":"TCTG","alternateBases":"T","datasets":"SE-1"},"requestedGranularity":"count"}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(get["response"], post["response"]);
    assert_eq!(get["response"]["resultSets"][0]["info"]["variants"][0]["variantInternalId"], "22-16054642-TCTG-T");
    // The right-shifted spelling of the same deletion finds the same record.
    let (_, shifted) = f.server.get(
        "/g_variants?referenceName=22&start=16054677&referenceBases=GCTG&alternateBases=G&requestedGranularity=count&datasets=SE-1",
        Some(&f.registered),
    );
    assert_eq!(shifted["response"], get["response"]);
}

#[test]
fn bad_requests_get_400_with_the_error_envelope() {
    // What each 400 says is checked in process (oresund-server/tests/router.rs); here the real
    // server's error documents are validated against the Beacon schema, one of each kind.
    let f = fixture();
    for path in [
        "/g_variants?referenceName=22&strat=5",
        "/g_variants?referenceName=22&start=17000016&referenceBases=G&alternateBases=A",
        "/g_variants?geneId=BRCA2",
        "/individuals?skip=-1",
    ] {
        let (status, body) = f.server.get(path, Some(&f.registered));
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!body["error"]["errorMessage"].as_str().unwrap_or_default().is_empty(), "{path}: {body}");
        valid(&["framework/responses/beaconErrorResponse.json"], &body);
    }
    for body in ["{not json", r#"{"query":{"filters":"HP:1"}}"#] {
        let (status, response) = f.server.post("/g_variants", None, body);
        assert_eq!(status, 400, "{body}: {response}");
        valid(&["framework/responses/beaconErrorResponse.json"], &response);
    }
    let (status, body) = f.server.get("/no/such/thing", None);
    assert_eq!((status, body["error"]["errorCode"].as_u64()), (404, Some(404)));
    valid(&["framework/responses/beaconErrorResponse.json"], &body);
}

#[test]
fn random_requests_never_cause_a_500() {
    let f = fixture();
    let pieces = [
        "referenceName=22",
        "referenceName=X",
        "referenceName=",
        "start=0",
        "start=17000016",
        "start=-1",
        "start=1,2,3",
        "start=16000000",
        "end=16000100",
        "end=0",
        "end=18000000",
        "referenceBases=C",
        "referenceBases=ACGTN",
        "alternateBases=A",
        "alternateBases=%00",
        "alternateBases=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "variantType=DEL",
        "variantType=CNV",
        "filters=HP:0001250",
        "filters=,,,",
        "filters=%E2%9C%93",
        "requestedGranularity=record",
        "includeResultsetResponses=ALL",
        "includeResultsetResponses=MISS",
        "limit=0",
        "skip=99999999999999999999",
        "datasets=DK-1",
        "datasets=NOPE",
        "assemblyId=hg38",
        "%ZZ=1",
        "a=b=c",
        "&&&",
    ];
    let mut state = 12345u64;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    for round in 0..300 {
        let parts: Vec<&str> = (0..1 + next(6)).map(|_| pieces[next(pieces.len())]).collect();
        let root =
            ["/g_variants", "/individuals", "/datasets/DK-1/g_variants", "/cohorts", "/g_variants/22-17000017-C-A"]
                [next(5)];
        let path = format!("{root}?{}", parts.join("&"));
        let token = [None, Some(f.registered.as_str()), Some(f.controlled.as_str())][round % 3];
        let (status, text) = http_text(&f.server.address, "GET", &path, token, None);
        assert!(matches!(status, 200 | 400 | 401 | 403 | 404), "{path}: HTTP {status}: {text}");
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{path}: not JSON: {text}");
    }
}

#[test]
fn beacon_verifier_finds_every_endpoint_valid() {
    let f = fixture();
    require("beacon-verifier", "cargo install beacon-verifier --version 0.3.3 --locked");
    let oracles = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/beacon");
    let specs = beacon_specs();
    let url = format!("http://{}", f.server.address);
    // 1. The stock command: 0.3.3 cannot resolve the schemas' relative $refs (they have no $id),
    //    so every endpoint is reported invalid with a resolver error; anything else is a real failure.
    let stock = Command::new("beacon-verifier")
        .args(["-q", "-f", &format!("file://{}/framework", specs.display())])
        .args(["-m", &format!("file://{}/models/beacon-v2-default-model", specs.display()), &url])
        .output()
        .unwrap();
    check_verifier(&stock.stdout, &["--tolerate-unresolvable-refs"]);
    // 2. The same schemas with absolute $ids, so the verifier really validates every response.
    let patched = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(format!("{oracles}/patch_schemas_for_verifier.py"))
        .arg(patched.path())
        .arg(&specs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let strict = Command::new("beacon-verifier")
        .args(["-q", "-f", &format!("file://{}/framework", patched.path().display())])
        .args(["-m", &format!("file://{}/models/beacon-v2-default-model", patched.path().display()), &url])
        .output()
        .unwrap();
    check_verifier(&strict.stdout, &[]);
    let report: Value = serde_json::from_slice(&strict.stdout).unwrap();
    let entities = report["entities"].as_object().unwrap();
    for name in
        ["Info", "Configuration", "BeaconMap", "EntryTypes", "Genomic Variants", "Individual", "Dataset", "Cohort"]
    {
        let reports = entities[name].as_array().unwrap();
        assert!(reports.iter().all(|r| r["valid"] == true), "{name}: {reports:?}");
    }
}

fn check_verifier(stdout: &[u8], args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/beacon/check_verifier_output.py");
    let mut child =
        Command::new("python3").arg(script).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "beacon-verifier found problems:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(stdout)
    );
}

#[test]
fn filtering_terms_held_by_fewer_people_than_the_threshold_are_not_listed() {
    // The DK cohort with one person given an ICD-10 code nobody else has.
    let node = TestNode::new("DK-NGC", "DK");
    let tsv = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let mut lines: Vec<String> = tsv.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split('\t').map(str::to_string).collect();
    fields[4] = if fields[4].is_empty() { "Q87.4".into() } else { format!("{},Q87.4", fields[4]) };
    lines[1] = fields.join("\t");
    let individuals = node.tmp.path().join("rare.tsv");
    std::fs::write(&individuals, lines.join("\n") + "\n").unwrap();
    let vcf = cohort("DK.vcf.gz");
    node.ingest_files("DK-1", &vcf, &individuals);
    let server = Server::start(&node.dir, &[]);
    let (_, terms) = server.get("/filtering_terms", None);
    let ids: Vec<&str> =
        terms["response"]["filteringTerms"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"ICD10:G40.9"), "{ids:?}");
    assert!(!ids.contains(&"ICD10:Q87.4") && !ids.contains(&"ICD10:Q87"), "a term of one person is listed: {ids:?}");
    // It still works as a filter (answered under the small-count rule).
    let (status, body) = server.get("/individuals?filters=ICD10:Q87.4&requestedGranularity=boolean", None);
    assert_eq!((status, body["responseSummary"]["exists"].as_bool()), (200, Some(true)), "{body}");
}
