//! `oresund mme`: a node's matchmaking cases (Matchmaker Exchange) from the command line — the
//! same operations as `/mme/patients` and a local `/mme/match` — and its MME partners.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use oresund_match::Patient;
use oresund_node::Node;
use oresund_node::config::NodeConfig;
use oresund_node::matchmaking::{Asker, MmePartner};
use serde_json::{Value, json};

/// Matchmaking cases for clinicians (Matchmaker Exchange): submit, list, remove and match, and
/// the partners this node asks and answers. Cases are MME patient JSON files; the patient's `id`
/// is pseudonymised (the node keeps and sends a case id instead) and `label` is dropped.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
oresund mme add dk-node case.json --submitter dr.hansen@rh.dk --cross-border\n  \
oresund mme list dk-node --submitter dr.hansen@rh.dk\n  \
oresund mme match dk-node query.json --submitter dr.hansen@rh.dk\n  \
oresund mme remove dk-node P-0001 --submitter dr.hansen@rh.dk\n  \
oresund mme partner dk-node --id SE-GMS --country SE --url https://se.example/mme/match --token-stdin --accept-token-stdin\n\n\
A case file is {\"patient\": {...}} or the patient object itself (MME API 1.0: id, contact, features,\n\
genomicFeatures). Clinicians use the same operations over HTTP (POST /mme/patients, POST /mme/match)\n\
with a token from `oresund token add NODE --user U --clinician` or a passport with a clinician role.")]
pub struct MmeArgs {
    #[command(subcommand)]
    pub command: MmeCommand,
}

#[derive(Debug, Subcommand)]
pub enum MmeCommand {
    /// Submit (or replace) cases from an MME patient JSON file: one patient, `{"patient": …}`, or
    /// a JSON array of either (every case is checked before any is stored).
    Add {
        node_dir: PathBuf,
        file: PathBuf,
        /// The clinician submitting it (their user id): the case is theirs.
        #[arg(long)]
        submitter: String,
        /// The patient consented to matching with other countries' cases; without it the case is
        /// matched within this node only.
        #[arg(long)]
        cross_border: bool,
    },
    /// List cases (of one submitter, or all) as JSON.
    List {
        node_dir: PathBuf,
        #[arg(long)]
        submitter: Option<String>,
    },
    /// Remove a case, by case id or by the submitter's own patient id.
    Remove {
        node_dir: PathBuf,
        id: String,
        /// The clinician whose case it is; without it (an operator) the case id is needed.
        #[arg(long)]
        submitter: Option<String>,
        /// Why an operator removes it (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Rank this node's cases against a query file (partners are asked by `serve`, not here).
    Match {
        node_dir: PathBuf,
        file: PathBuf,
        #[arg(long)]
        submitter: String,
    },
    /// Add or replace an MME partner: the token we send it, and the token it must send us.
    Partner {
        node_dir: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        country: Option<String>,
        /// Its match endpoint (https://…/mme/match; plain http on loopback only).
        #[arg(long, requires = "token_stdin")]
        url: Option<String>,
        /// Read the X-Auth-Token we send it from the first line of standard input.
        #[arg(long)]
        token_stdin: bool,
        /// Read the X-Auth-Token it must send us from the next line of standard input (kept as SHA-256).
        #[arg(long)]
        accept_token_stdin: bool,
    },
}

fn read_json(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))
}

/// A patient from `{"patient": …}` or the patient object itself.
fn patient_of(value: Value, file: &Path, item: Option<usize>) -> anyhow::Result<Patient> {
    let patient = match value {
        Value::Object(mut object) if object.contains_key("patient") => object.remove("patient").unwrap_or_default(),
        other => other,
    };
    let at = item.map(|i| format!(" item {i}")).unwrap_or_default();
    Patient::from_value(patient).with_context(|| format!("{}{at}", file.display()))
}

fn read_patient(file: &Path) -> anyhow::Result<Patient> {
    patient_of(read_json(file)?, file, None)
}

fn read_patients(file: &Path) -> anyhow::Result<Vec<Patient>> {
    match read_json(file)? {
        Value::Array(items) => items.into_iter().enumerate().map(|(i, v)| patient_of(v, file, Some(i))).collect(),
        one => Ok(vec![patient_of(one, file, None)?]),
    }
}

/// Pretty JSON on stdout; a closed pipe (`| head`) ends the output quietly.
fn print(value: &Value) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", serde_json::to_string_pretty(value)?) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn run(args: MmeArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        MmeCommand::Add { node_dir, file, submitter, cross_border } => {
            let patients = read_patients(&file)?;
            let node = Node::open(&node_dir)?;
            let scope = if cross_border { "cross-border" } else { "national only" };
            let bar = crate::progress::items(patients.len() as u64, "cases", quiet || patients.len() < 100);
            let mut ids = Vec::with_capacity(patients.len());
            for patient in patients {
                let submitted = node.mme_submit(&submitter, patient, cross_border)?;
                for w in &submitted.warnings {
                    bar.suspend(|| eprintln!("warning: {w}"));
                }
                if !quiet && ids.len() < 20 {
                    let verb = if submitted.replaced { "replaced" } else { "added" };
                    bar.suspend(|| eprintln!("{verb} case {} ({scope})", submitted.case_id));
                }
                ids.push(submitted.case_id);
                bar.inc(1);
            }
            bar.finish_and_clear();
            if !quiet && ids.len() > 1 {
                eprintln!("{} cases submitted ({scope})", ids.len());
            }
            println!("{}", ids.join("\n"));
        }
        MmeCommand::List { node_dir, submitter } => {
            let node = Node::open(&node_dir)?;
            let cases = node.mme_cases(submitter.as_deref())?;
            let list: Vec<Value> = cases
                .iter()
                .map(|c| json!({"id": c.case_id, "submitter": c.submitter, "crossBorder": c.cross_border, "updated": c.updated, "patient": c.patient}))
                .collect();
            print(&json!({ "patients": list }))?;
        }
        MmeCommand::Remove { node_dir, id, submitter, reason } => {
            anyhow::ensure!(
                submitter.is_some() || reason.as_deref().is_some_and(|r| !r.trim().is_empty()),
                "give --submitter (the clinician's own case) or --reason (an operator's removal)"
            );
            let node = Node::open(&node_dir)?;
            let actor = match (&submitter, &reason) {
                (Some(s), _) => s.clone(),
                (None, Some(r)) => format!("operator ({})", r.trim()),
                (None, None) => unreachable!("checked above"),
            };
            let case_id = node.mme_remove(submitter.as_deref(), &actor, &id)?;
            if !quiet {
                eprintln!("removed case {case_id}");
            }
        }
        MmeCommand::Match { node_dir, file, submitter } => {
            let patient = read_patient(&file)?;
            let node = Node::open(&node_dir)?;
            let answer = node.mme_match(&patient, Asker::Clinician(&submitter))?;
            let results: Vec<Value> = answer.results.iter().map(|r| r.mme_json(None)).collect();
            print(&json!({"results": results, "_warnings": answer.warnings}))?;
        }
        MmeCommand::Partner { node_dir, id, country, url, token_stdin, accept_token_stdin } => {
            let mut lines = std::io::stdin().lines();
            let mut next = |what: &str| -> anyhow::Result<String> {
                let line = lines.next().transpose()?.unwrap_or_default();
                let token = line.trim().to_string();
                anyhow::ensure!(token.len() >= 32, "{what} must be at least 32 characters");
                Ok(token)
            };
            let token = if token_stdin { Some(next("the token we send")?) } else { None };
            let accept_sha256 = if accept_token_stdin {
                Some(oresund_access::authenticator::token_sha256(&next("the token it sends")?))
            } else {
                None
            };
            let mut config = NodeConfig::load(&node_dir)?;
            config.mme.partners.retain(|p| p.id != id);
            config.mme.partners.push(MmePartner { id: id.clone(), country, url, token, accept_sha256 });
            config.validate().map_err(|e| anyhow::anyhow!(e))?;
            config.save(&node_dir)?;
            if !quiet {
                eprintln!("partner {id} saved (a running `serve` picks it up on restart)");
            }
        }
    }
    Ok(())
}
