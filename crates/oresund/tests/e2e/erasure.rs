//! Withdrawal in the in-process tier: `kill -9` at spread moments of a withdrawal leaves the
//! node's answers wholly before or wholly after it — never a person half-removed — and running it
//! again completes it, with one audit entry and no old file key left. (Counts against bcftools,
//! Python crypt4gh on the archived versions and PostgreSQL + S3: `external::withdrawal`.)

use std::process::Stdio;

use crate::common::*;

/// The first DK participant's local id (the first row of the individuals file).
fn first_participant() -> String {
    let text = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    text.lines().nth(1).unwrap().split('\t').next().unwrap().to_string()
}

fn withdraw(node: &TestNode, id: &str) -> std::process::Command {
    let mut command = oresund();
    command.args(["withdraw", node.path(), "--individual", id, "--reason", "consent withdrawn"]);
    command
}

#[test]
fn a_withdrawal_killed_at_any_moment_leaves_the_old_state_or_the_new_one() {
    let template = TestNode::copy_of(dk_template());
    let id = first_participant();
    let before = template.dump(&[]);
    let finished = TestNode::copy_of(&template);
    let started = std::time::Instant::now();
    assert!(withdraw(&finished, &id).output().unwrap().status.success());
    let took = started.elapsed();
    let after = finished.dump(&[]);
    assert_eq!(before.len(), after.len(), "every variant stays indexed");
    assert_ne!(before, after, "the withdrawal changes the counts");
    let (mut old, mut new) = (0, 0);
    // Kills spread over twice the time a withdrawal took alone (under a loaded test run it is
    // slower, so early kills land before the commit and late ones after it, or after the end).
    for delay in (1..=12).map(|i| took * i / 6) {
        let node = TestNode::copy_of(&template);
        let mut child = withdraw(&node, &id).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let state = node.dump(&[]);
        assert!(state == before || state == after, "a kill at {delay:?} left a person half-removed");
        if state == before {
            old += 1
        } else {
            new += 1
        }
        // Running it again completes it; gc removes what the kill left.
        assert!(withdraw(&node, &id).output().unwrap().status.success(), "rerun after a kill at {delay:?}");
        ok(&["archive", "gc", node.path()]);
        assert_eq!(node.dump(&[]), after, "after a kill at {delay:?} and a rerun");
        ok(&["archive", "verify", node.path()]);
        let keys = sh(&format!("ls {}", node.dir.join("secrets/file-keys").display()));
        assert_eq!(keys.lines().count(), 1, "only the new version's file key is left: {keys}");
        let log = ok(&["audit", "show", node.path(), "--format", "json"]);
        assert_eq!(log.matches("\"withdraw\"").count(), 1, "one audit entry after a kill at {delay:?}");
        ok(&["audit", "verify", node.path()]);
    }
    assert!(old >= 2, "only {old} kills landed before the withdrawal committed");
    assert!(new >= 1, "no kill landed after the commit (or after the end)");
}

#[test]
fn after_a_withdrawal_deliveries_hold_no_trace_of_the_person_and_a_removed_file_answers_404() {
    use crate::delivery::{bearer, fixture, follow, gunzip, original_text, ticket};
    let f = fixture();
    let node = TestNode::copy_of(&f.node);
    let id = first_participant();
    assert!(withdraw(&node, &id).output().unwrap().status.success());
    ok(&["file", "remove", node.path(), &f.unaligned, "--reason", "ingested twice"]);
    let server = Server::start(&node.dir, &[]);
    // The whole new version: every record, one sample column fewer, the person's column gone.
    let (status, t) = ticket(&server, &format!("/variants/{}", f.aligned), &bearer(&f.controlled), None);
    assert_eq!(status, 200, "{t}");
    let whole = gunzip(&follow(&server, &t));
    let text = original_text();
    let chrom = |t: &str| t.lines().find(|l| l.starts_with("#CHROM")).unwrap().split('\t').count();
    assert_eq!(chrom(&whole), chrom(&text) - 1);
    let records = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(records(&whole), records(&text));
    // The first participant was the first sample column: each record lost its 10th field.
    let first_record =
        |t: &str| t.lines().find(|l| !l.starts_with('#')).unwrap().split('\t').map(str::to_string).collect::<Vec<_>>();
    let (old, new) = (first_record(&text), first_record(&whole));
    assert_eq!(new[..9], old[..9]);
    assert_eq!(new[9..], old[10..]);
    // A region of it (the new version is line-aligned BGZF).
    let path = format!("/variants/{}?referenceName=22&start=16000000&end=16050000", f.aligned);
    let (status, t) = ticket(&server, &path, &bearer(&f.controlled), None);
    assert_eq!(status, 200, "{t}");
    assert!(records(&gunzip(&follow(&server, &t))) > 10);
    // The removed file is gone from htsget and DRS.
    let (status, _) = ticket(&server, &format!("/variants/{}", f.unaligned), &bearer(&f.controlled), None);
    assert_eq!(status, 404);
    let (status, answer) = server.get(&format!("/ga4gh/drs/v1/objects/{}", f.unaligned), Some(&f.controlled));
    assert_eq!(status, 404, "{answer}");
}

#[test]
fn a_person_alone_in_a_file_takes_the_file_with_them() {
    let node = TestNode::copy_of(dk_template());
    let id = first_participant();
    // A single-sample VCF of that person (the first sample column), as a clinical exome comes.
    let text = crate::delivery::original_text();
    let solo: Vec<String> = text
        .lines()
        .map(
            |l| if l.starts_with("##") { l.to_string() } else { l.split('\t').take(10).collect::<Vec<_>>().join("\t") },
        )
        .collect();
    let path = node.tmp.path().join("solo.vcf");
    std::fs::write(&path, solo.join("\n") + "\n").unwrap();
    let individuals = cohort("DK.individuals.tsv");
    node.ingest_files("SOLO", &path, &individuals);
    let solo_counts =
        || ok(&["query", node.path(), "--region", "22:16000000-16100000", "--dataset", "SOLO", "--format", "tsv"]);
    let counted = solo_counts();
    assert!(counted.lines().count() > 10);
    // Someone only listed in that file's individuals file: its new version is the same VCF (the
    // lines copied, as line-aligned BGZF) and an individuals file without them; counts unchanged.
    let text_of = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let second = text_of.lines().nth(2).unwrap().split('\t').next().unwrap().to_string();
    let out = ok(&["withdraw", node.path(), "--individual", &second, "--reason", "consent withdrawn"]);
    assert_eq!(out.lines().filter(|l| l.ends_with("shredded")).count(), 5, "DK-1's three, SOLO's two: {out}");
    assert_eq!(solo_counts(), counted);
    let objects = crate::archive::objects(&node);
    let solo_vcf = objects.iter().find(|o| o["accession"] == "DK-NGC-F000002").unwrap();
    assert_eq!(solo_vcf["version"], 2);
    let plain = std::fs::metadata(&path).unwrap().len();
    assert!(solo_vcf["plaintext_size"].as_u64().unwrap() < plain, "now BGZF, the same lines");
    // The local id from standard input (it stays out of the process list).
    let mut child = oresund()
        .args(["withdraw", node.path(), "--individual", "-", "--reason", "consent withdrawn"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{id}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    // DK-1's three objects replaced; the single-sample file's three (its rewrite added a block
    // index) gone.
    assert_eq!(stdout.lines().filter(|l| l.ends_with("shredded")).count(), 6, "{stdout}");
    let gone = run(&["query", node.path(), "--variant", "22-17000017-C-A", "--dataset", "SOLO"]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("unknown dataset"), "the dataset left with its only file");
    let listed = ok(&["archive", "list", node.path()]);
    assert!(listed.lines().all(|l| !l.starts_with("DK-NGC-F000002")), "{listed}");
    let log = ok(&["audit", "show", node.path(), "--format", "json"]);
    assert!(log.contains("files removed: DK-NGC-F000002") && !log.contains(&id), "{log}");
}
