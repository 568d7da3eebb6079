//! GA4GH Passports as `Authorization: Bearer` on a real `oresund serve`, with passports and visas
//! minted by an independent implementation (Python joserfc, `oracles/passports.py`) and the
//! issuers' key sets served over HTTP from the test. Every attack is refused with 401/403 and
//! leaves an audit entry naming the reason; registered passports get counts, grants get records,
//! visa conditions are honoured, and the data access committee's visas work until revoked.

use std::io::Write;
use std::sync::OnceLock;

use crate::common::passports::*;
use crate::common::*;
use serde_json::{Value, json};

pub(super) struct Fixture {
    pub(super) node: TestNode,
    pub(super) server: Server,
    pub(super) issuers: Issuers,
}

/// DK-1 (default policy: anonymous boolean, registered count, granted record) and SE-1 (granted
/// callers only). The broker is trusted for passports and registered access, the IdP also grants
/// DK-1 (an external committee), nothing else is trusted.
pub(super) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let node = TestNode::copy_for_run(dk_se_template());
        let issuers = Issuers::new(&node.tmp.path().join("issuers"));
        let mut config = std::fs::OpenOptions::new().append(true).open(node.dir.join("oresund.toml")).unwrap();
        writeln!(
            config,
            "\n[beacon.datasets.SE-1]\npublic = \"none\"\nregistered = \"none\"\n\n\
             [access]\ndac_members = [\"{BROKER}#dac-member\"]\njwks_failure_ttl_s = 1\n\
             audiences = [\"{NETWORK_AUDIENCE}\"]\n\n\
             [[access.issuers]]\niss = \"{BROKER}\"\njku = [\"{}\"]\n\n\
             [[access.issuers]]\niss = \"{IDP}\"\njku = [\"{}\"]\ngrants = [\"DK-1\"]\n\n\
             [[access.issuers]]\niss = \"{ROTATING}\"\njku = [\"{}\"]\n",
            issuers.jku("broker"),
            issuers.jku("idp"),
            issuers.jku("rotating"),
        )
        .unwrap();
        let server = Server::start(&node.dir, &[]);
        Fixture { node, server, issuers }
    })
}

/// A broker that rotates its key during the tests.
const ROTATING: &str = "https://rotating.test";

const TRUTH: &str = "referenceName=22&start=17000016&referenceBases=C&alternateBases=A";

fn ask(token: &str, dataset: &str) -> (u16, Value) {
    fixture().server.get(&format!("/g_variants?{TRUTH}&requestedGranularity=record&datasets={dataset}"), Some(token))
}

pub(super) fn message(body: &Value) -> String {
    body["error"]["errorMessage"].as_str().unwrap_or_default().to_string()
}

/// Replaces the payload of a compact JWS, keeping header and signature.
fn with_payload(token: &str, edit: impl Fn(&mut Value)) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2])
}

#[test]
fn attacks_are_refused_and_audited() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "attacked";
    let visas = i.registered_visas(sub);
    let good = i.passport_job(sub, &visas, json!({}));
    let job = |alg: &str, key: &str, header: Value, claims: Value| {
        let mut job = good.clone();
        job["alg"] = json!(alg);
        job["key"] = json!(key);
        for (k, v) in header.as_object().unwrap() {
            job["header"][k] = v.clone();
        }
        for (k, v) in claims.as_object().unwrap() {
            job["claims"][k] = v.clone();
        }
        job
    };
    let valid = i.mint_one(good.clone());
    // A grant of DK-1 from the IdP (allowed to grant DK-1), for the "another dataset" case.
    let dk_grant = i.mint_one(i.visa(
        "idp",
        IDP,
        sub,
        "ControlledAccessGrants",
        &format!("http://{}/datasets/DK-1", f.server.address),
        json!({"jti": "idp-1", "visa": {"by": "dac"}}),
    ));
    let mut granted = visas.clone();
    granted.push(dk_grant);
    let oversized = i.passport_job(sub, &visas, json!({"padding": "x".repeat(70_000)}));
    let junk_visas: Vec<String> = (0..201).map(|n| format!("a.b.{n}")).collect();
    let minted = i.mint(&[
        job("none", "broker", json!({}), json!({})),
        job("HS256-public-key", "broker", json!({}), json!({})),
        job("RS256", "evil", json!({}), json!({})),
        job("RS256", "evil", json!({"jku": i.jku("evil")}), json!({})),
        job("ES256", "idp", json!({"jku": i.jku("idp")}), json!({})),
        job("RS256", "broker", json!({}), json!({"exp": now() - 3600, "iat": now() - 7200})),
        job("RS256", "broker", json!({}), json!({"nbf": now() + 3600})),
        i.passport_job(sub, &granted, json!({})),
        oversized,
        i.passport_job(sub, &junk_visas, json!({})),
        job("RS256", "evil", json!({"jku": i.jku("evil")}), json!({"iss": "https://evil.test"})),
        // Replays: a passport a researcher showed another service, and one naming no audience.
        job("RS256", "broker", json!({}), json!({"aud": ["https://other-node.test", "urn:oresund:other-network"]})),
        job("RS256", "broker", json!({}), json!({"aud": null})),
    ]);
    let tampered = with_payload(&valid, |claims| claims["sub"] = json!("someone-else"));
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        ("alg none", minted[0].clone(), "DK-1", 401, "algorithm \"none\" is not allowed"),
        ("HS256 with the public key", minted[1].clone(), "DK-1", 401, "algorithm \"HS256\" is not allowed"),
        ("wrong key", minted[2].clone(), "DK-1", 401, "the signature does not verify"),
        ("untrusted jku", minted[3].clone(), "DK-1", 401, "is not a trusted key set of issuer"),
        ("jku of another issuer", minted[4].clone(), "DK-1", 401, "is not a trusted key set of issuer"),
        ("expired", minted[5].clone(), "DK-1", 401, "passport: expired"),
        ("not yet valid", minted[6].clone(), "DK-1", 401, "not yet valid (nbf)"),
        ("tampered payload", tampered, "DK-1", 401, "the signature does not verify"),
        ("visa for another dataset", minted[7].clone(), "SE-1", 403, "dataset \"SE-1\" needs CONTROLLED access"),
        ("oversized", minted[8].clone(), "DK-1", 401, "larger than 65536 bytes"),
        ("more than 200 visas", minted[9].clone(), "DK-1", 401, "holds 201 visas"),
        ("untrusted issuer", minted[10].clone(), "DK-1", 401, "is not trusted by this node"),
        ("minted for another service", minted[11].clone(), "DK-1", 401, "names neither this node"),
        ("no audience", minted[12].clone(), "DK-1", 401, "aud is missing"),
    ];
    for (name, token, dataset, status, reason) in &cases {
        let (got, body) = ask(token, dataset);
        assert_eq!(got, *status, "{name}: {body}");
        assert!(message(&body).contains(reason), "{name}: {}", message(&body));
    }
    // The same grant does open the dataset it names.
    assert_eq!(ask(&minted[7], "DK-1").1["meta"]["returnedGranularity"], "record");
    // Trust came before any fetch: the untrusted key set was never asked for.
    assert!(!f.issuers.fetched.lock().unwrap().iter().any(|p| p.contains("evil")), "an untrusted jku was fetched");
    // Every refusal is in the audit log with its reason.
    for (name, _, _, _, reason) in &cases {
        let entry = wait_for_audit(&f.node.dir, &[], |e| {
            e["record"]["decision"] == "denied" && e["record"]["detail"].as_str().unwrap_or("").contains(reason)
        });
        let actor = entry["record"]["actor"].as_str().unwrap();
        assert!(actor == "unauthenticated" || actor == format!("{BROKER}#{sub}"), "{name}: {entry}");
    }
    let verify = run(&["audit", "verify", f.node.path()]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn registered_passports_get_counts_and_grants_get_records() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "researcher-counts";
    let registered = i.passport(sub, &i.registered_visas(sub));
    let (status, body) = ask(&registered, "DK-1");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"]["returnedGranularity"], "count");
    let row = &body["response"]["resultSets"][0]["info"]["variants"][0];
    assert_eq!((row["alleleCount"].as_u64(), row["countPrecision"].as_str()), (Some(5), Some("imprecise")));
    // Only one of the two bona fide visas: no registered tier.
    let half = i.passport(sub, &i.registered_visas(sub)[..1]);
    let (_, body) = ask(&half, "DK-1");
    assert_eq!(body["meta"]["returnedGranularity"], "boolean");
    // An external committee's grant of DK-1 for epilepsy research (every DK-1 consent allows it)
    // gives exact records.
    let grant = i.mint_one(i.visa(
        "idp",
        IDP,
        sub,
        "ControlledAccessGrants",
        &format!("http://{}/datasets/DK-1", f.server.address),
        json!({"visa": {"by": "dac"}, "oresund_purpose": {"purpose": "DS", "disease": "MONDO:0005027"}}),
    ));
    let mut visas = i.registered_visas(sub);
    visas.push(grant);
    let (_, body) = ask(&i.passport(sub, &visas), "DK-1");
    assert_eq!(body["meta"]["returnedGranularity"], "record");
    let frequency = &body["response"]["resultSets"][0]["results"][0]["frequencyInPopulations"][0]["frequencies"][0];
    assert_eq!(frequency["alleleCount"].as_u64(), Some(2));
    // The broker is trusted for identity, not to grant datasets.
    let brokered = i.mint_one(i.visa(
        "broker",
        BROKER,
        sub,
        "ControlledAccessGrants",
        &format!("http://{}/datasets/DK-1", f.server.address),
        json!({"visa": {"by": "dac"}}),
    ));
    let (_, body) = ask(&i.passport(sub, &[brokered]), "DK-1");
    assert_eq!(body["meta"]["returnedGranularity"], "boolean");
    let entry = wait_for_audit(&f.node.dir, &["--user", &format!("{BROKER}#{sub}")], |e| {
        e["record"]["granularity"] == "record"
    });
    assert_eq!(entry["record"]["datasets"], json!(["DK-1"]));
}

#[test]
fn visa_conditions_are_honoured() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "researcher-conditions";
    let url = format!("http://{}/datasets/DK-1", f.server.address);
    let conditions = json!([[{"type": "AffiliationAndRole", "value": "pattern:*@ku.dk", "by": "const:so"}]]);
    let conditional = i.mint_one(i.visa(
        "idp",
        IDP,
        sub,
        "ControlledAccessGrants",
        &url,
        json!({"visa": {"by": "dac", "conditions": conditions}}),
    ));
    let mut visas = i.registered_visas(sub);
    visas.push(conditional);
    // Without the affiliation the grant is not valid: the passport still gives counts.
    let (status, body) = ask(&i.passport(sub, &visas), "DK-1");
    assert_eq!((status, body["meta"]["returnedGranularity"].as_str()), (200, Some("count")), "{body}");
    let elsewhere = i.mint_one(i.visa("broker", BROKER, sub, "AffiliationAndRole", "faculty@uu.se", json!({})));
    let mut with_other = visas.clone();
    with_other.push(elsewhere);
    assert_eq!(ask(&i.passport(sub, &with_other), "DK-1").1["meta"]["returnedGranularity"], "count");
    let affiliation = i.mint_one(i.visa("broker", BROKER, sub, "AffiliationAndRole", "faculty@ku.dk", json!({})));
    visas.push(affiliation);
    assert_eq!(ask(&i.passport(sub, &visas), "DK-1").1["meta"]["returnedGranularity"], "record");
}

pub(super) fn dac(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    http(
        &fixture().server.address,
        method,
        path,
        token,
        body.as_deref().or(if method == "POST" { Some("") } else { None }),
    )
}

#[test]
fn the_committee_issues_visas_that_stop_working_when_revoked() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "researcher-dac";
    let researcher = i.passport(sub, &i.registered_visas(sub));
    let base_url = format!("http://{}", f.server.address);
    let member = i.passport_for_node("dac-member", &i.registered_visas("dac-member"), &base_url);
    // The same member with a passport minted for the network: fine for queries, not for the committee.
    let member_via_network = i.passport("dac-member", &i.registered_visas("dac-member"));
    // The node publishes the key its visas verify with.
    let (status, jwks) = f.server.get("/.well-known/jwks.json", None);
    assert_eq!((status, jwks["keys"][0]["kty"].as_str()), (200, Some("EC")));
    assert!(jwks["keys"][0].get("d").is_none(), "the private key is never published");

    let purpose = |p: Value| json!({"dataset": "DK-1", "purpose": p});
    // Anonymous and unregistered callers cannot file; bad purposes are refused with what to fix.
    assert_eq!(dac("POST", "/dac/requests", None, Some(purpose(json!({"purpose": "HMB"})))).0, 401);
    let (status, body) = dac("POST", "/dac/requests", Some(&researcher), Some(purpose(json!({"purpose": "fun"}))));
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("GRU, HMB, DS or POA"), "{body}");
    let (status, _) = dac(
        "POST",
        "/dac/requests",
        Some(&researcher),
        Some(json!({"dataset": "NOPE", "purpose": {"purpose": "HMB"}})),
    );
    assert_eq!(status, 404);
    // HMB: the DS(epilepsy) consents exclude it, the rest allow it: the committee must look.
    let (status, hmb) = dac("POST", "/dac/requests", Some(&researcher), Some(purpose(json!({"purpose": "HMB"}))));
    assert_eq!(status, 201, "{hmb}");
    assert_eq!(hmb["automatic"]["decision"], "needs_review");
    // Epilepsy research (MONDO:0005027) fits every consent in DK-1: approve.
    let (_, ds) = dac(
        "POST",
        "/dac/requests",
        Some(&researcher),
        Some(purpose(json!({"purpose": "DS", "disease": "MONDO:0005027"}))),
    );
    assert_eq!(ds["automatic"]["decision"], "approve", "{ds}");
    assert!(ds["automatic"]["reasons"][0].as_str().unwrap().starts_with("500 individuals: 500 approve"), "{ds}");
    // Commercial use: the NPU consents forbid it.
    let (_, commercial) = dac(
        "POST",
        "/dac/requests",
        Some(&researcher),
        Some(purpose(json!({"purpose": "DS", "disease": "MONDO:0005027", "commercial": true}))),
    );
    assert_eq!(commercial["automatic"]["decision"], "needs_review", "{commercial}");
    // SE-1 shows registered researchers nothing: its match says none / some / all, never how many.
    let (status, se) = dac(
        "POST",
        "/dac/requests",
        Some(&researcher),
        Some(json!({"dataset": "SE-1", "purpose": {"purpose": "HMB"}})),
    );
    assert_eq!(status, 201, "{se}");
    let first = se["automatic"]["reasons"][0].as_str().unwrap();
    let parts = first.strip_prefix("the dataset's individuals: ").unwrap_or_else(|| panic!("{se}"));
    for (part, outcome) in parts.split(", ").zip(["approve", "deny", "need review"]) {
        let (amount, what) = part.split_once(' ').unwrap();
        assert!(["none", "some", "all"].contains(&amount) && what == outcome, "{se}");
    }
    let listed = se["automatic"]["reasons"][1].as_str().unwrap_or("reasons: ");
    assert!(listed.starts_with("reasons: ") && !listed.contains("fewer than") && !listed.contains("or more"), "{se}");
    let (_, mine) = dac("GET", "/dac/requests", Some(&researcher), None);
    assert!(mine["requests"].as_array().unwrap().iter().all(|r| r["user"] == format!("{BROKER}#{sub}")));

    let id = ds["id"].as_u64().unwrap();
    let (status, body) = dac("POST", &format!("/dac/requests/{id}/approve"), Some(&researcher), None);
    assert_eq!(status, 403, "only committee members approve: {body}");
    let (status, body) = dac("POST", &format!("/dac/requests/{id}/approve"), Some(&member_via_network), None);
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body).contains(&format!("a passport minted for this node: its aud must name {base_url:?}")),
        "{body}"
    );
    let (status, body) = dac("POST", &format!("/dac/requests/{id}/approve"), Some(&member), None);
    assert_eq!((status, message(&body).starts_with("an approval needs the member's note")), (400, true), "{body}");
    let note = || Some(json!({"note": "fits every consent"}));
    let (status, grant) = dac("POST", &format!("/dac/requests/{id}/approve"), Some(&member), note());
    assert_eq!(status, 200, "{grant}");
    assert_eq!(dac("POST", &format!("/dac/requests/{id}/approve"), Some(&member), note()).0, 409, "decided once");
    let (status, rejected) =
        dac("POST", &format!("/dac/requests/{}/reject", hmb["id"]), Some(&member), Some(json!({"note": "too broad"})));
    assert_eq!((status, rejected["status"].as_str()), (200, Some("rejected")));

    // The researcher fetches the visa and puts it in a passport: records.
    let (_, grants) = dac("GET", "/dac/grants", Some(&researcher), None);
    let visa = grants["grants"][0]["visa"].as_str().unwrap().to_string();
    let jti = grants["grants"][0]["jti"].as_str().unwrap().to_string();
    let mut visas = i.registered_visas(sub);
    visas.push(visa.clone());
    let passport = i.passport(sub, &visas);
    let (status, body) = ask(&passport, "DK-1");
    assert_eq!((status, body["meta"]["returnedGranularity"].as_str()), (200, Some("record")), "{body}");
    // Someone else's passport cannot use it (same sub at another broker is refused at the sub check).
    let stolen = i.passport("mallory", &[i.registered_visas("mallory"), vec![visa.clone()]].concat());
    assert_eq!(ask(&stolen, "DK-1").0, 401);

    // A revocation needs a reason.
    let (status, body) = dac("POST", &format!("/dac/grants/{jti}/revoke"), Some(&member), Some(json!({"reason": " "})));
    assert_eq!((status, message(&body).as_str()), (400, "a revocation needs a reason"), "{body}");
    // Revoked: the grant stops working at once, long before the visa's exp; the researcher keeps
    // registered access and is told why.
    let (status, _) =
        dac("POST", &format!("/dac/grants/{jti}/revoke"), Some(&member), Some(json!({"reason": "consent withdrawn"})));
    assert_eq!(status, 200);
    let (status, body) = ask(&passport, "DK-1");
    assert_eq!((status, body["meta"]["returnedGranularity"].as_str()), (200, Some("count")), "{body}");
    let warnings = body["info"]["warnings"].to_string();
    assert!(warnings.contains("visa 2 of the passport is ignored: the data access committee revoked"), "{body}");
    for action in ["dac.request", "dac.approve", "dac.reject", "dac.revoke"] {
        wait_for_audit(&f.node.dir, &[], |e| e["record"]["action"] == action && e["record"]["decision"] == "allowed");
    }
    // The use of the revoked visa is filed under the researcher and the dataset.
    let holder = format!("{BROKER}#{sub}");
    wait_for_audit(&f.node.dir, &["--user", &holder, "--dataset", "DK-1"], |e| {
        e["record"]["decision"] == "denied"
            && e["record"]["detail"].as_str().unwrap_or("").contains("revoked this grant")
    });
}

#[test]
fn the_cli_committee_acts_on_the_store_and_signing_keys_rotate() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "researcher-cli";
    let researcher = i.passport(sub, &i.registered_visas(sub));
    let file =
        |p: Value| dac("POST", "/dac/requests", Some(&researcher), Some(json!({"dataset": "DK-1", "purpose": p}))).1;
    let first = file(json!({"purpose": "DS", "disease": "MONDO:0005027"}));
    let second = file(json!({"purpose": "HMB"}));
    let listed = ok(&["dac", "list", f.node.path(), "--member", "Ada Member", "--status", "pending"]);
    assert!(listed.contains(&format!("{}\tpending\tDK-1\t{BROKER}#{sub}\tapprove", first["id"])), "{listed}");
    let path = f.node.path();
    ok(&["dac", "reject", path, &second["id"].to_string(), "--member", "Ada Member", "--note", "purpose too broad"]);
    let base_url = format!("http://{}", f.server.address);
    let first_id = first["id"].to_string();
    let approve =
        ["dac", "approve", path, &first_id, "--member", "Ada Member", "--note", "fits", "--base-url", &base_url];
    let visa = ok(&approve).trim().to_string();
    let mut visas = i.registered_visas(sub);
    visas.push(visa);
    let passport = i.passport(sub, &visas);
    assert_eq!(ask(&passport, "DK-1").1["meta"]["returnedGranularity"], "record");

    // A new signing key: the old one stays published while its visas live, so this visa still works.
    let secrets = f.node.dir.join("secrets");
    let mode = |p: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777
    };
    assert_eq!((mode(&secrets), mode(&secrets.join("signing.jwk"))), (0o700, 0o600));
    let before = f.server.get("/.well-known/jwks.json", None).1["keys"].as_array().unwrap().len();
    ok(&["keys", "rotate", "--signing", f.node.path()]);
    std::thread::sleep(std::time::Duration::from_secs(6)); // the server re-reads its keys every 5 s
    let keys = f.server.get("/.well-known/jwks.json", None).1["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), before + 1, "old and new key published: {keys:?}");
    assert_eq!(ask(&passport, "DK-1").1["meta"]["returnedGranularity"], "record", "a visa of the old key");

    let grants = ok(&["dac", "list", f.node.path(), "--member", "Ada Member"]);
    let jti = grants.lines().find(|l| l.contains(&format!("{BROKER}#{sub}")) && l.split('\t').count() == 5).unwrap();
    let jti = jti.split('\t').next().unwrap();
    ok(&["dac", "revoke", f.node.path(), jti, "--member", "Ada Member", "--reason", "audit finding"]);
    let (status, body) = ask(&passport, "DK-1");
    assert_eq!(
        (status, body["meta"]["returnedGranularity"].as_str()),
        (200, Some("count")),
        "revoked from the CLI, set aside by the running server at once: {body}"
    );
    let operator = audit_entries(&f.node.dir, &["--user", "Ada Member"]);
    let actions: Vec<&str> = operator.iter().filter_map(|e| e["record"]["action"].as_str()).collect();
    for action in ["dac.list", "dac.grants", "dac.reject", "dac.approve", "dac.revoke"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}

#[test]
fn an_issuers_new_key_is_fetched_when_a_token_names_it() {
    let f = fixture();
    let i = &f.issuers;
    let sub = "rotated";
    let visas = i.registered_visas(sub);
    let passport = || {
        let mut job = i.passport_job(sub, &visas, json!({"iss": ROTATING}));
        job["key"] = json!("rotating");
        job["header"]["jku"] = json!(i.jku("rotating"));
        i.mint_one(job)
    };
    let count = |token: &str| f.server.get(&format!("/g_variants?{TRUTH}&requestedGranularity=count"), Some(token));
    let (status, body) = count(&passport());
    assert_eq!((status, body["meta"]["returnedGranularity"].as_str()), (200, Some("count")), "{body}");
    // The issuer rotates; the node still holds the old key set (for jwks_ttl_s = 300 s), but a
    // token naming a kid it does not know makes it fetch again (at most once per failure TTL, 1 s).
    i.rotate("rotating");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (status, body) = count(&passport());
    assert_eq!(status, 200, "the rotated key was not fetched: {body}");
}
