//! `oresund demo`: two national nodes (Denmark, Sweden) and a network portal on this machine,
//! from the synthetic cohorts compiled into the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use oresund_access::Granularity;
use oresund_access::duo_match::ResearchPurpose;
use oresund_match::Patient;
use oresund_node::Node;
use oresund_node::config::{DatasetSettings, NetworkConfig, NodeConfig, PeerConfig, TokenConfig};
use oresund_node::init::{InitOptions, init};
use oresund_node::matchmaking::MmePartner;
use oresund_server::network::Network;

use crate::commands::portal::portal_settings;

/// Run the two-country demo: a Danish and a Swedish node and the network portal, in one process.
///
/// The first run creates both nodes in DIR from the synthetic cohorts built into the binary
/// (500 individuals each); later runs reuse them. Anonymous visitors see thresholded counts, as
/// in a public allele-frequency browser. Ctrl-C stops everything.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the nodes live (created on the first run, reused afterwards).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Port of the portal; the Danish node uses PORT+1 and the Swedish node PORT+2.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Also stop when standard input closes (for supervisors and tests).
    #[arg(long, hide = true)]
    pub until_stdin_closes: bool,
}

struct Country {
    node_id: &'static str,
    country: &'static str,
    dataset: &'static str,
    name: &'static str,
    vcf: &'static [u8],
    individuals: &'static [u8],
}

const COUNTRIES: [Country; 2] = [
    Country {
        node_id: "DK-NGC",
        country: "DK",
        dataset: "DK-COHORT-1",
        name: "Danish National Genome Center (demo)",
        vcf: include_bytes!("../../../../demo-data/DK.vcf.gz"),
        individuals: include_bytes!("../../../../demo-data/DK.individuals.tsv"),
    },
    Country {
        node_id: "GMS",
        country: "SE",
        dataset: "SE-COHORT-1",
        name: "Genomic Medicine Sweden (demo)",
        vcf: include_bytes!("../../../../demo-data/SE.vcf.gz"),
        individuals: include_bytes!("../../../../demo-data/SE.individuals.tsv"),
    },
];

const REFERENCE: &[u8] = include_bytes!("../../../../demo-data/reference.fa.gz");
/// Synthetic matchmaking cases of each node (by node id), submitted by its demo clinician.
const MME_CASES: &str = include_str!("../../../../demo-data/mme-cases.json");
const HPO: &[u8] = include_bytes!("../../../../demo-data/hp.obo.gz");
const PORTAL_ID: &str = "PORTAL";
/// The user of the demo's researcher token.
const DEMO_RESEARCHER: &str = "demo-researcher@example.org";

/// The demo clinician of a country.
fn demo_clinician(country: &Country) -> String {
    format!("demo-clinician@{}.example", country.country.to_ascii_lowercase())
}

/// Each node's MME partner is the other country's node, with a token per direction (this run).
fn mme_partners(port: u16, tokens: &[String; 2], i: usize) -> Vec<MmePartner> {
    let other = 1 - i;
    vec![MmePartner {
        id: COUNTRIES[other].node_id.into(),
        country: Some(COUNTRIES[other].country.into()),
        url: Some(format!("http://127.0.0.1:{}/mme/match", port + 1 + other as u16)),
        token: Some(tokens[i].clone()),
        accept_sha256: Some(oresund_access::authenticator::token_sha256(&tokens[other])),
    }]
}

/// Submits the country's demo cases (again on every run: a case replaces itself).
fn submit_demo_cases(dir: &Path, country: &Country) -> anyhow::Result<usize> {
    let all: serde_json::Value = serde_json::from_str(MME_CASES).context("demo-data/mme-cases.json")?;
    let node = Node::open(dir)?;
    let cases = all[country.node_id].as_array().cloned().unwrap_or_default();
    for case in &cases {
        let patient = Patient::from_value(case["patient"].clone())?;
        let cross_border = case["crossBorder"].as_bool().unwrap_or(false);
        node.mme_submit(&demo_clinician(country), patient, cross_border)?;
    }
    Ok(cases.len())
}

fn random_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(oresund_core::hex::encode(&bytes))
}

/// Creates one node from the embedded cohort; the input files live in a temporary directory only
/// while they are ingested (the individuals file holds local ids).
fn create(dir: &Path, country: &Country, quiet: bool) -> anyhow::Result<()> {
    let inputs = tempfile::tempdir().context("creating a temporary directory")?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<PathBuf> {
        let path = inputs.path().join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let reference = write("reference.fa.gz", REFERENCE)?;
    let hpo = write("hp.obo.gz", HPO)?;
    let vcf = write(&format!("{}.vcf.gz", country.country), country.vcf)?;
    let individuals = write(&format!("{}.individuals.tsv", country.country), country.individuals)?;
    if !quiet {
        eprintln!("creating node {} ({}) in {}", country.node_id, country.country, dir.display());
    }
    let options = InitOptions {
        node_id: country.node_id.into(),
        country: country.country.into(),
        assembly: "GRCh38".into(),
        reference,
        hpo: Some(hpo),
    };
    init(dir, &options, |_| {})?;
    let mut config = NodeConfig::load(dir)?;
    config.beacon.name = country.name.into();
    config.beacon.organization = country.name.into();
    // A public allele-frequency browser: anonymous visitors see counts, small ones thresholded.
    let mut settings =
        DatasetSettings { name: Some(format!("{} synthetic cohort", country.country)), ..Default::default() };
    settings.policy.public = Granularity::Count;
    config.beacon.datasets.insert(country.dataset.into(), settings);
    config.save(dir)?;
    Node::open(dir)?.ingest(country.dataset, &vcf, &individuals, |_| {})?;
    Ok(())
}

pub fn run(args: DemoArgs, quiet: bool) -> anyhow::Result<()> {
    // The demo prints its own guide: of the servers' log, warnings and node faults only.
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let mut portal_peers = Vec::new();
    // One researcher token for this run, CONTROLLED on both cohorts (synthetic data): what the
    // association page needs to show every table.
    let researcher_token = random_secret()?;
    // Each country's clinician and each direction of the matchmaking exchange: this run only.
    let clinician_tokens = [random_secret()?, random_secret()?];
    let mme_tokens = [random_secret()?, random_secret()?];
    for (i, country) in COUNTRIES.iter().enumerate() {
        let dir = args.dir.join(country.node_id);
        if !dir.join("oresund.toml").exists() {
            if dir.exists() {
                // A first run stopped half-way: start this node again from scratch.
                std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            }
            create(&dir, country, quiet)?;
        } else if !quiet {
            eprintln!("reusing node {} in {}", country.node_id, dir.display());
        }
        // The portal and each node share a secret; it survives runs, the URL follows the port.
        let mut config = NodeConfig::load(&dir)?;
        let secret = match config.network.peers.iter().find(|p| p.id == PORTAL_ID) {
            Some(peer) => peer.secret.clone(),
            None => random_secret()?,
        };
        config.network = NetworkConfig {
            peers: vec![PeerConfig { id: PORTAL_ID.into(), country: "EU".into(), url: None, secret: secret.clone() }],
            ..NetworkConfig::default()
        };
        config.beacon.tokens.retain(|t| t.user != DEMO_RESEARCHER);
        config.beacon.tokens.push(TokenConfig {
            sha256: oresund_access::authenticator::token_sha256(&researcher_token),
            user: DEMO_RESEARCHER.into(),
            registered: true,
            clinician: false,
            controlled: vec![country.dataset.into()],
            // Epilepsy research: every synthetic participant's consent allows it.
            purpose: Some(ResearchPurpose {
                purpose: "DUO:0000007".into(),
                disease: Some("MONDO:0005027".into()),
                commercial: false,
                methods: false,
            }),
        });
        let clinician = demo_clinician(country);
        config.beacon.tokens.retain(|t| t.user != clinician);
        config.beacon.tokens.push(TokenConfig {
            sha256: oresund_access::authenticator::token_sha256(&clinician_tokens[i]),
            user: clinician,
            registered: false,
            clinician: true,
            controlled: Vec::new(),
            purpose: None,
        });
        config.mme.partners = mme_partners(args.port, &mme_tokens, i);
        config.save(&dir)?;
        submit_demo_cases(&dir, country)?;
        let port = args.port + 1 + i as u16;
        portal_peers.push(PeerConfig {
            id: country.node_id.into(),
            country: country.country.into(),
            url: Some(format!("http://127.0.0.1:{port}")),
            secret,
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async move {
        let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut servers = Vec::new();
        let mut writers = Vec::new();
        let mut lines = Vec::new();
        for (i, country) in COUNTRIES.iter().enumerate() {
            let port = args.port + 1 + i as u16;
            let listener = bind(port).await?;
            let node = Node::open(&args.dir.join(country.node_id))?;
            let base_url = format!("http://127.0.0.1:{port}");
            let config = node.config.network.clone();
            let (state, audit) = oresund_server::state_for(node, base_url.clone()).map_err(|e| anyhow::anyhow!(e))?;
            writers.push(audit);
            let network = Network::new(&config, country.node_id.into(), country.country.into(), Some(state.clone()), state.beacon.clone())
                .map_err(|e| anyhow::anyhow!(e))?;
            let metrics = oresund_server::metrics_router(state.metrics.clone(), Some(state.node.clone()));
            let router = oresund_server::router(state, Some(Arc::new(network))).merge(metrics);
            lines.push(format!("  {} ({}) Beacon v2 node   {base_url}/", country.node_id, country.country));
            let mut stopped = stop.subscribe();
            servers.push(tokio::spawn(oresund_server::serve(router, listener, async move {
                let _ = stopped.recv().await;
            })));
        }
        let listener = bind(args.port).await?;
        let portal_url = format!("http://127.0.0.1:{}", args.port);
        let network_config = NetworkConfig { peers: portal_peers, ..NetworkConfig::default() };
        let beacon = Arc::new(portal_settings(PORTAL_ID, portal_url.clone()));
        let network = Network::new(&network_config, PORTAL_ID.into(), "EU".into(), None, beacon).map_err(|e| anyhow::anyhow!(e))?;
        let network = Arc::new(network);
        let metrics = oresund_server::metrics_router(network.metrics.clone(), None);
        let mut stopped = stop.subscribe();
        servers.push(tokio::spawn(oresund_server::serve(
            oresund_server::portal_router(network).merge(metrics),
            listener,
            async move {
                let _ = stopped.recv().await;
            },
        )));
        println!("Øresund demo: two national nodes and a network portal");
        println!("  portal (web page)           {portal_url}/");
        for line in lines {
            println!("{line}");
        }
        println!("\nTry:");
        println!("  curl '{portal_url}/network/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count'");
        println!("  curl '{portal_url}/network/g_variants?referenceName=22&start=16050000&end=16052000&requestedGranularity=count&filters=HP:0001250'");
        println!("  curl '{portal_url}/network/individuals?filters=HP:0000707,NCIT:C16576&requestedGranularity=count'");
        println!("\nA researcher token, CONTROLLED on both cohorts for epilepsy research (DUO DS MONDO:0005027, which every synthetic participant consented to; this run only; user {DEMO_RESEARCHER}):");
        println!("  researcher token: {researcher_token}");
        println!("  association across countries: {portal_url}/association.html (paste the token), or");
        println!("  curl -H 'Authorization: Bearer {researcher_token}' -d '{{\"cases\": {{\"filters\": [{{\"id\": \"HP:0001250\"}}]}}, \"variants\": [\"22-17000017-C-A\"]}}' {portal_url}/network/association");
        let dk = format!("http://127.0.0.1:{}", args.port + 1);
        println!("\nMatchmaking (Matchmaker Exchange): each country's demo clinician ({}, {}) has synthetic cases; this run's tokens:", demo_clinician(&COUNTRIES[0]), demo_clinician(&COUNTRIES[1]));
        println!("  DK clinician token: {}", clinician_tokens[0]);
        println!("  SE clinician token: {}", clinician_tokens[1]);
        println!("  the clinicians' page: {dk}/mme.html (paste the DK token), or find a KCNQ2 epilepsy case across the border:");
        println!("  curl -H 'Authorization: Bearer {}' -H 'Content-Type: application/vnd.ga4gh.matchmaker.v1.0+json' -d '{{\"patient\": {{\"id\": \"my-patient-1\", \"contact\": {{\"name\": \"Dr Hansen\", \"href\": \"mailto:hansen@example.dk\"}}, \"features\": [{{\"id\": \"HP:0001250\"}}, {{\"id\": \"HP:0012469\"}}], \"genomicFeatures\": [{{\"gene\": {{\"id\": \"KCNQ2\"}}}}]}}}}' {dk}/mme/match", clinician_tokens[0]);
        println!("\nCtrl-C stops everything.");
        use std::io::Write;
        std::io::stdout().flush()?;
        if args.until_stdin_closes {
            let (mut sink, mut stdin) = (Vec::new(), tokio::io::stdin());
            tokio::select! {
                _ = super::serve::stop_requested() => {}
                _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink) => {}
            }
        } else {
            super::serve::stop_requested().await;
        }
        let _ = stop.send(());
        for server in servers {
            server.await??;
        }
        for writer in writers {
            writer.finish().await;
        }
        if !quiet {
            eprintln!("demo stopped");
        }
        Ok(())
    });
    // Everything that matters (requests, audit records) finished inside; a blocking read of
    // standard input (`--until-stdin-closes`) must not keep a SIGTERM'd process alive.
    runtime.shutdown_background();
    result
}

async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("port {port} is in use; choose another with --port"))
}
