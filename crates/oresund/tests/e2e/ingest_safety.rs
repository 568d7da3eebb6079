//! Bad input is refused with file and line and changes nothing; a killed ingest leaves the node as
//! it was; the same file twice counts once; no local id ever reaches the node's files, the audit
//! log and access records included.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::common::*;

fn write_gz(path: &Path, text: &str) {
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
}

/// The first `records` data lines of the DK cohort, with `edit` applied to the text.
fn dk_excerpt(records: usize, edit: impl Fn(String) -> String) -> String {
    let reader =
        std::io::BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(cohort("DK.vcf.gz")).unwrap()));
    let mut text = String::new();
    let mut data_lines = 0;
    for line in std::io::BufRead::lines(reader) {
        let line = line.unwrap();
        data_lines += usize::from(!line.starts_with('#'));
        if data_lines > records {
            break;
        }
        text.push_str(&line);
        text.push('\n');
    }
    edit(text)
}

/// The first record again, right after itself, with one genotype changed.
fn duplicate_first_record_with_other_genotypes(text: String) -> String {
    let first = text.lines().find(|l| !l.starts_with('#')).unwrap().to_string();
    let changed = first.replacen("GT\t0/0", "GT\t0/1", 1);
    text.replacen(&format!("{first}\n"), &format!("{first}\n{changed}\n"), 1)
}

fn ingest_args<'a>(node: &'a TestNode, vcf: &'a str, individuals: &'a str) -> Vec<&'a str> {
    vec!["ingest", node.path(), "--dataset", "BAD", "--individuals", individuals, vcf]
}

#[test]
fn invalid_files_are_refused_with_file_line_and_reason_and_change_nothing() {
    let node = TestNode::copy_of(dk_template());
    let before = node.dump(&[]);
    let individuals = cohort("DK.individuals.tsv");
    let individuals = individuals.to_str().unwrap();
    // Line 7 is the first record (6 header lines): `22 16000317 . G A`.
    type Edit = Box<dyn Fn(String) -> String>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "ref.vcf",
            Box::new(|t: String| t.replacen("16000317\t.\tG\tA", "16000317\t.\tT\tA", 1)),
            "ref.vcf:7: REF \"T\" does not match the reference, which has \"G\" at 22:16000317",
        ),
        (
            "contig.vcf",
            Box::new(|t: String| t.replacen("\n22\t16000317", "\n21\t16000317", 1)),
            "contig.vcf:7: contig \"21\" is not in the node's reference",
        ),
        (
            "length.vcf",
            Box::new(|t: String| t.replace("ID=22,length=17999999", "ID=22,length=5000")),
            "length.vcf:3: contig \"22\" has length 5000 here but 17999999",
        ),
        (
            "gt.vcf",
            Box::new(|t: String| t.replacen("GT\t0/0", "GT\t0/x", 1)),
            "gt.vcf:7: sample column 1: GT \"0/x\" is not a genotype",
        ),
        (
            "allele.vcf",
            Box::new(|t: String| t.replacen("GT\t0/0", "GT\t0/3", 1)),
            "allele.vcf:7: sample column 1: GT refers to allele 3",
        ),
        (
            "pos.vcf",
            Box::new(|t: String| t.replacen("16000317", "16OOO317", 1)),
            "pos.vcf:7: POS \"16OOO317\" is not a positive integer",
        ),
        (
            "sample.vcf",
            Box::new(|t: String| t.replacen("070248-4770", "999999-0000", 1)),
            "sample.vcf:6: sample column 1 is not described in",
        ),
        (
            "dup.vcf",
            Box::new(|t: String| t.replacen("231259-3086", "070248-4770", 1)),
            "dup.vcf:6: sample column 2 has the same name as sample column 1",
        ),
        (
            "format.vcf",
            Box::new(|t: String| t.replacen("\tGT\t0/0", "\tDP\t0/0", 1)),
            "format.vcf:7: FORMAT \"DP\" does not start with GT",
        ),
        (
            "twice.vcf",
            Box::new(duplicate_first_record_with_other_genotypes),
            "twice.vcf:8: an earlier record of this file normalises to the same variant",
        ),
        (
            "meta.vcf",
            Box::new(|t: String| t.replacen('\n', &format!("\n##comment={}\n", "x".repeat(2 << 20)), 1)),
            "meta.vcf:2: the header line is longer than 1 MiB",
        ),
        (
            // 500 samples: a record may take 4 MiB + 500 KiB.
            "info.vcf",
            Box::new(|t: String| {
                t.replacen(
                    "16000317\t.\tG\tA\t.\tPASS\t.",
                    &format!("16000317\t.\tG\tA\t.\tPASS\tX={}", "x".repeat(5 << 20)),
                    1,
                )
            }),
            "info.vcf:7: the line is longer than 4706304 bytes, the most a record with 500 samples may take",
        ),
    ];
    for (name, edit, expected) in cases {
        let vcf = node.tmp.path().join(format!("{name}.gz"));
        write_gz(&vcf, &dk_excerpt(20, &edit));
        let shown = vcf.file_name().unwrap().to_string_lossy().replace(".gz", "");
        let out = run(&ingest_args(&node, vcf.to_str().unwrap(), individuals));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        let expected = expected.replace(name, &format!("{shown}.gz"));
        assert!(stderr.contains(&expected), "{name}: expected {expected:?} in:\n{stderr}");
        assert!(!stderr.contains("070248-4770") && !stderr.contains("999999-0000"), "a local id leaked: {stderr}");
    }
    let bad_tsv = node.tmp.path().join("bad.tsv");
    std::fs::write(&bad_tsv, "local_id\tsex\n070248-4770\tfemale\n070248-4770\tmale\n").unwrap();
    let vcf = cohort("DK.vcf.gz");
    let out = run(&ingest_args(&node, vcf.to_str().unwrap(), bad_tsv.to_str().unwrap()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("bad.tsv:3: the same local_id as line 2"), "{stderr}");
    assert_eq!(node.dump(&[]), before, "a refused ingest changed the node");
    let out = run(&["query", node.path(), "--region", "22:16000000-16000400", "--dataset", "BAD"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dataset \"BAD\""), "no dataset BAD may exist");
}

/// Adds `extra` as one more ALT allele to the `k`-th data line (0-based).
fn with_extra_alternate(text: &str, k: usize, extra: &str) -> String {
    let mut data = 0;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else {
            let mut fields: Vec<String> = line.split('\t').map(String::from).collect();
            if data == k {
                fields[4] = format!("{},{extra}", fields[4]);
            }
            data += 1;
            out.push_str(&fields.join("\t"));
        }
        out.push('\n');
    }
    out
}

#[test]
fn malformed_symbolic_alleles_are_skipped_with_a_warning_naming_the_line() {
    let plain = TestNode::new("DK-NGC", "DK");
    let odd = TestNode::new("DK-NGC", "DK");
    let individuals = cohort("DK.individuals.tsv");
    let excerpt = dk_excerpt(30, |t| t);
    let mut edited = excerpt.clone();
    // Lines 7, 9, 11, 13: two malformed alleles, a valid single breakend and a valid symbolic one.
    for (k, extra) in [(0, "<INS>BLAH>"), (2, "[1:100["), (4, "G."), (6, "<DEL>")] {
        edited = with_extra_alternate(&edited, k, extra);
    }
    let ingest = |node: &TestNode, text: &str| {
        let vcf = node.tmp.path().join("mal.vcf.gz");
        write_gz(&vcf, text);
        let out = run(&ingest_args(node, vcf.to_str().unwrap(), individuals.to_str().unwrap()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    ingest(&plain, &excerpt);
    let stderr = ingest(&odd, &edited);
    let warnings: Vec<&str> =
        stderr.lines().filter(|l| l.starts_with("warning: ") && l.contains("mal.vcf.gz")).collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(warnings[0].contains("mal.vcf.gz:7: ALT \"<INS>BLAH>\" is malformed (a symbolic allele's ID"), "{stderr}");
    assert!(warnings[1].contains("mal.vcf.gz:9: ALT \"[1:100[\" is malformed (a breakend must read"), "{stderr}");
    assert!(stderr.contains("rejected (no ALT, symbolic, *) 4"), "all four extra alleles skipped: {stderr}");
    assert_eq!(odd.dump(&[]), plain.dump(&[]), "the skipped alleles change no count");
}

#[test]
fn the_same_file_twice_counts_once() {
    let node = TestNode::copy_of(dk_template());
    let first = node.dump(&[]);
    let again = node.ingest("DK-1", "DK");
    assert!(again.contains("already in dataset DK-1 as DK-NGC-F000001"), "{again}");
    assert_eq!(node.dump(&[]), first);
}

/// Issue #17: files are not trusted to hold different people. The same people again — a
/// re-compressed copy in the same dataset, or in another dataset — count once per variant, and a
/// copy that disagrees on one genotype is refused with both files named.
#[test]
fn the_same_people_in_two_files_count_once_and_must_agree() {
    let node = TestNode::copy_of(dk_template());
    let first = node.dump(&[]);
    let excerpt_rows = |rows: &[String]| rows.iter().take(50).cloned().collect::<Vec<_>>();
    let excerpt = node.tmp.path().join("excerpt.vcf.gz");
    write_gz(&excerpt, &dk_excerpt(50, |t| t));
    let individuals = cohort("DK.individuals.tsv");
    let into = |dataset: &str, vcf: &Path| {
        let args = ["ingest", node.path(), "--dataset", dataset, "--individuals", individuals.to_str().unwrap()];
        run(&[&args[..], &[vcf.to_str().unwrap()]].concat())
    };
    // A gzip copy of the first 50 records (another SHA-256) into the same dataset and another one.
    for (dataset, accession) in [("DK-1", "DK-NGC-F000002"), ("DK-2", "DK-NGC-F000003")] {
        let out = into(dataset, &excerpt);
        let note = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{note}");
        assert!(note.contains("each person is counted once"), "{note}");
        assert_eq!(node.dump(&[]), first, "after {accession}: every count as with one file");
        assert_eq!(node.dump(&["--dataset", "DK-1"]), first, "DK-1 after {accession}");
    }
    let in_dk2 = node.dump(&["--dataset", "DK-2"]);
    assert_eq!(in_dk2.len(), 50);
    assert_eq!(in_dk2, excerpt_rows(&first), "DK-2 counts its own people, like DK-1 for these variants");
    // The pooled beacon-style answer for one variant agrees: AN is twice the 500 people.
    let row = ok(&["query", node.path(), "--variant", "22-16000317-G-A"]);
    assert!(row.contains("\"allele_number\": 1000"), "{row}");

    // One genotype changed (record 20, first sample): refused with the line and both files named.
    let conflicting = node.tmp.path().join("conflicting.vcf.gz");
    write_gz(
        &conflicting,
        &dk_excerpt(50, |t| {
            let lines: Vec<String> = t.lines().map(str::to_string).collect();
            let at = lines.iter().position(|l| !l.starts_with('#')).unwrap() + 19;
            let mut fields: Vec<String> = lines[at].split('\t').map(str::to_string).collect();
            let gt = fields[9].split(':').next().unwrap().to_string();
            fields[9] = fields[9].replacen(&gt, if gt == "0/0" { "0/1" } else { "0/0" }, 1);
            let mut lines = lines;
            lines[at] = fields.join("\t");
            lines.join("\n") + "\n"
        }),
    );
    for dataset in ["DK-1", "DK-3"] {
        let out = into(dataset, &conflicting);
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(error.contains("conflicting.vcf.gz:26: "), "line of the record: {error}");
        assert!(
            error.contains("the genotype in sample column 1 differs from DK-NGC-F000001 (sample column 1)"),
            "{error}"
        );
        let ids = std::fs::read_to_string(&individuals).unwrap();
        let leaked = ids.lines().skip(1).filter_map(|l| l.split('\t').next()).find(|id| error.contains(id));
        assert_eq!(leaked, None, "no local id in the message: {error}");
    }
    assert_eq!(node.dump(&[]), first, "a refused file changes nothing");
    let out = run(&["query", node.path(), "--region", "22:1-17999999", "--dataset", "DK-3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dataset"), "no dataset DK-3 may exist");
}

/// A BGZF file cut on a block boundary decompresses cleanly to half a cohort; htslib only warns.
/// Ingest refuses it before reading a record, and the whole file goes in afterwards.
#[test]
fn a_bgzf_file_without_its_end_of_file_block_is_refused() {
    let node = TestNode::new("DK-NGC", "DK");
    let bytes = std::fs::read(cohort("DK.vcf.gz")).unwrap();
    let mut blocks = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        blocks.push(offset);
        offset += usize::from(u16::from_le_bytes([bytes[offset + 16], bytes[offset + 17]])) + 1;
    }
    assert_eq!(offset, bytes.len(), "whole BGZF blocks");
    let truncated = node.tmp.path().join("truncated.vcf.gz");
    std::fs::write(&truncated, &bytes[..blocks[blocks.len() / 2]]).unwrap();
    let individuals = cohort("DK.individuals.tsv");
    let args = ["ingest", node.path(), "--dataset", "DK-1", "--individuals", individuals.to_str().unwrap()];
    let out = run(&[&args[..], &[truncated.to_str().unwrap()]].concat());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(error.contains("truncated.vcf.gz: truncated: no BGZF end-of-file block"), "{error}");
    assert!(node.dump(&[]).is_empty(), "nothing ingested");
    node.ingest("DK-1", "DK");
    // A template is copied, never queried: a query's WAL files would race another test's copy.
    assert_eq!(node.dump(&[]), TestNode::copy_of(dk_template()).dump(&[]));
}

#[test]
fn a_killed_ingest_leaves_the_node_as_it_was() {
    let node = TestNode::copy_of(dk_template());
    let before = node.dump(&[]);
    let (vcf, individuals) = (cohort("SE.vcf.gz"), cohort("SE.individuals.tsv"));
    // Kill at moments spread over the whole ingest (it takes a few hundred ms here): some land
    // while reading, some inside the store transaction.
    let mut killed_mid_way = 0;
    for delay in (0..16).map(|i| 5 + i * 25) {
        let mut child = oresund()
            .args(["ingest", node.path(), "--dataset", "SE-1", "--individuals"])
            .arg(&individuals)
            .arg(&vcf)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let now = node.dump(&[]);
        if finished || now != before {
            // The kill came after the commit: then the whole file must be there, not part of it.
            assert!(node.dump(&["--dataset", "DK-1"]) == before, "DK changed");
            assert!(node.dump(&["--dataset", "SE-1"]).len() > 10_000, "a partial SE ingest is visible");
            break;
        }
        killed_mid_way += 1;
    }
    assert!(killed_mid_way >= 3, "only {killed_mid_way} kills landed before the ingest finished");
    // The node is not wedged: the same ingest now completes (or says it already has the file).
    node.ingest("SE-1", "SE");
    assert!(node.dump(&["--dataset", "SE-1"]).len() > 10_000);
}

#[test]
fn no_local_id_reaches_any_file_the_node_wrote() {
    let node = TestNode::copy_of(dk_se_template());
    ok(&["query", node.path(), "--variant", "22-17000017-C-A", "--phenotype", "HP:0001250"]);
    assert_no_local_id(&node);
}

#[test]
fn no_local_id_reaches_the_audit_log_or_any_file_after_serving_queries() {
    let node = TestNode::copy_of(dk_se_template());
    let registered = token(&node.dir, &["--user", "reg@example.org", "--registered"]);
    let controlled = token(&node.dir, &["--user", "dac@example.org", "--registered", "--controlled", "DK-1"]);
    let server = Server::start(&node.dir, &[]);
    let (_, records) =
        server.get("/individuals?filters=HP:0001250&requestedGranularity=record&datasets=DK-1", Some(&controlled));
    let pseudonym = records["response"]["resultSets"][0]["results"][0]["id"].as_str().unwrap().to_string();
    for (path, token) in [
        (format!("/individuals/{pseudonym}?requestedGranularity=record&datasets=DK-1"), Some(&controlled)),
        ("/g_variants/22-17000017-C-A/individuals?requestedGranularity=record&datasets=DK-1".into(), Some(&controlled)),
        (
            "/g_variants?referenceName=22&start=17000016&referenceBases=C&alternateBases=A&requestedGranularity=count"
                .into(),
            Some(&registered),
        ),
        (
            "/g_variants?referenceName=22&start=16000000&end=16010000&requestedGranularity=count".into(),
            Some(&registered),
        ),
        ("/individuals?filters=HP:0000707,NCIT:C16576&requestedGranularity=count".into(), None),
        ("/cohorts".into(), Some(&registered)),
    ] {
        assert_eq!(server.get(&path, token.map(String::as_str)).0, 200, "{path}");
    }
    let request = r#"{"dataset": "DK-1", "purpose": {"purpose": "DS", "disease": "MONDO:0005027"}}"#;
    assert_eq!(server.post("/dac/requests", Some(&registered), request).0, 201);
    assert!(server.stop().success());
    let logged = ok(&["audit", "show", node.path()]);
    assert!(logged.lines().count() >= 8 && logged.contains(&pseudonym), "the log holds the query, pseudonyms included");
    assert_no_local_id(&node);
}

/// Scans every byte of every file in the node directory for the cohorts' local ids.
fn assert_no_local_id(node: &TestNode) {
    let mut ids = Vec::new();
    for population in ["DK", "SE"] {
        let text = std::fs::read_to_string(cohort(&format!("{population}.individuals.tsv"))).unwrap();
        ids.extend(text.lines().skip(1).map(|l| l.split('\t').next().unwrap().to_string()));
    }
    assert_eq!(ids.len(), 1000);
    // Also look for the ids without their dash (a different rendering of the same number).
    let needles: Vec<Vec<u8>> =
        ids.iter().flat_map(|id| [id.clone().into_bytes(), id.replace('-', "").into_bytes()]).collect();
    let lengths: std::collections::BTreeSet<usize> = needles.iter().map(Vec::len).collect();
    let set: std::collections::HashSet<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    let mut files = 0;
    let mut stack = vec![node.dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            for &len in &lengths {
                if let Some(hit) = bytes.windows(len).find(|w| set.contains(w)) {
                    panic!("{} contains the local id {}", path.display(), String::from_utf8_lossy(hit));
                }
            }
        }
    }
    assert!(files >= 4, "the scan must cover the database, reference, keys and config");
}

/// Issue #17: inputs mixed up or damaged in the usual ways get an error that says what happened,
/// and change nothing; a byte-order mark in the individuals file is simply read past.
#[test]
fn mixed_up_and_damaged_inputs_say_what_happened() {
    let node = TestNode::new("DK-NGC", "DK");
    let dir = node.tmp.path();
    let individuals = cohort("DK.individuals.tsv");
    let vcf = cohort("DK.vcf.gz");
    let ingest = |vcf: &Path, individuals: &Path| {
        let out = run(&[
            "ingest",
            node.path(),
            "--dataset",
            "DK-1",
            "--individuals",
            individuals.to_str().unwrap(),
            vcf.to_str().unwrap(),
        ]);
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, error) = ingest(&individuals, &vcf);
    assert!(!ok && error.contains("this is a VCF, not an individuals file") && error.contains("swapped"), "{error}");
    let (ok, error) = ingest(&individuals, &individuals);
    assert!(!ok && error.contains("this is an individuals file") && error.contains("swapped"), "{error}");
    let bcf = dir.join("cohort.bcf");
    // BCF is read (`external::bcf_input` against bcftools); one whose header length is garbage is
    // refused before anything is allocated for it.
    write_gz(&bcf, "BCF\u{2}\u{2}\u{0}\u{0}binary records follow");
    let (ok, error) = ingest(&bcf, &individuals);
    assert!(!ok && error.contains("cohort.bcf: header: 1768030208 bytes of header text, more than"), "{error}");
    // A gzip file cut in the middle of its compressed data: the line where reading stopped.
    let whole = dir.join("whole.vcf.gz");
    write_gz(&whole, &dk_excerpt(400, |t| t));
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.join("cut.vcf.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (ok, error) = ingest(&cut, &individuals);
    assert!(!ok, "a truncated file is refused");
    assert!(error.contains("cut.vcf.gz:") && error.contains("the file is truncated"), "{error}");
    assert!(node.dump(&[]).is_empty(), "nothing was ingested");
    // A UTF-8 byte-order mark before the header, as spreadsheets write it.
    let with_bom = dir.join("bom.tsv");
    std::fs::write(&with_bom, format!("\u{feff}{}", std::fs::read_to_string(&individuals).unwrap())).unwrap();
    let (ok, error) = ingest(&whole, &with_bom);
    assert!(ok, "{error}");
    let dumped = node.dump(&[]);
    assert!(dumped.len() >= 400, "every record of the excerpt: {}", dumped.len());
    let full: std::collections::HashSet<String> = TestNode::copy_of(dk_template()).dump(&[]).into_iter().collect();
    assert!(dumped.iter().all(|row| full.contains(row)), "counted as in the whole cohort");
}
