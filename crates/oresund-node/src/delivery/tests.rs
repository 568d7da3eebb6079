//! Deliveries of aligned and unaligned BGZF files, plain and Crypt4GH, against the lines a
//! region should hold.

use std::io::{self, BufRead, Read, Write};

use noodles_bgzf::io::MultithreadedReader;
use oresund_c4gh::{DataKey, KeyPair, decrypt, encrypt_body};
use oresund_core::region::Region;

use crate::archive::index::{BlockIndex, IndexingReader};
use crate::delivery::encrypted::{Piece, StoredBody, encrypted_pieces};
use crate::delivery::error::DeliveryError;
use crate::delivery::plan::{FileLayout, Part, Selection};

/// A VCF in BGZF: blocks cut every `cut` bytes (unaligned), or one per 3 lines (`cut == 0`).
fn bgzf(text: &str, cut: usize) -> Vec<u8> {
    let mut writer = noodles_bgzf::io::Writer::new(Vec::new());
    let chunks: Vec<Vec<u8>> = if cut == 0 {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines.chunks(3).map(|c| c.concat().into_bytes()).collect()
    } else {
        text.as_bytes().chunks(cut).map(<[u8]>::to_vec).collect()
    };
    for chunk in chunks {
        writer.write_all(&chunk).unwrap();
        writer.flush().unwrap();
    }
    writer.finish().unwrap()
}

fn vcf() -> String {
    let mut text = String::from("##fileformat=VCFv4.3\n##contig=<ID=22>\n##contig=<ID=X>\n##contig=<ID=Y>\n");
    text.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n");
    for pos in (100..20_000).step_by(100) {
        text.push_str(&format!("22\t{pos}\t.\tACGT\tA\t.\t.\t.\tGT\t0|1\t1|1\n"));
    }
    for pos in (100..5_000).step_by(50) {
        text.push_str(&format!("X\t{pos}\t.\tA\tC\t.\t.\tDP={pos}\tGT\t0|0\t0|1\n"));
    }
    text
}

/// The pseudonyms the delivered header names the two samples by.
fn samples() -> Vec<String> {
    vec!["P-one".into(), "P-two".into()]
}

/// `text` as delivered: its samples renamed.
fn renamed(text: &str) -> String {
    text.replace("\tS1\tS2\n", "\tP-one\tP-two\n")
}

fn index_of(file: &[u8]) -> BlockIndex {
    let (mut reader, pending) = IndexingReader::new(MultithreadedReader::new(io::Cursor::new(file.to_vec())));
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        line.clear();
    }
    drop(reader);
    pending.finish(file.len() as u64, &file[file.len() - 28..]).unwrap()
}

/// The bytes of the parts, concatenated.
fn assemble(file: &[u8], parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Inline(bytes) => out.extend_from_slice(bytes),
            Part::Stored(range) => out.extend_from_slice(&file[range.start as usize..range.end as usize]),
        }
    }
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    noodles_bgzf::io::Reader::new(bytes).read_to_string(&mut text).unwrap();
    text
}

/// What `bcftools view -r` gives for the region: the header and the overlapping records.
fn expected(text: &str, region: &Region) -> String {
    text.split_inclusive('\n')
        .filter(|line| {
            if line.starts_with('#') {
                return true;
            }
            let f: Vec<&str> = line.split('\t').collect();
            let pos: u64 = f[1].parse().unwrap();
            f[0] == region.chrom && pos <= region.end && pos + f[3].len() as u64 > region.start
        })
        .collect()
}

fn regions() -> Vec<Region> {
    let r = |c: &str, s, e| Region::new(c, s, e).unwrap();
    vec![
        r("22", 1, 100),         // the first record only
        r("22", 102, 103),       // overlapped by 100's REF
        r("22", 250, 1_234),     // across blocks
        r("22", 19_900, 30_000), // the last record of the contig
        r("22", 1, 1_000_000),   // the whole contig
        r("22", 20_000, 30_000), // nothing
        r("X", 4_950, 4_950),    // the last record of the file
        r("X", 1, 99),           // nothing, before the first
        r("Y", 1, 1_000),        // a contig of the header without records
        r("X", 1_000, 1_000),    // one record mid-file
    ]
}

#[test]
fn every_region_of_aligned_and_unaligned_files_is_exactly_its_lines() {
    let text = vcf();
    for cut in [0, 300, 1_000, 7_777] {
        let file = bgzf(&text, cut);
        let index = index_of(&file);
        let layout = FileLayout::read(&mut &file[..], index, &samples()).unwrap();
        for region in regions() {
            let parts = layout.plan(&mut &file[..], &Selection::Regions(vec![region.clone()])).unwrap();
            let out = assemble(&file, &parts);
            assert!(out.ends_with(&crate::delivery::bgzf::BGZF_EOF), "ends with the EOF block");
            assert_eq!(gunzip(&out), renamed(&expected(&text, &region)), "cut {cut}, region {region:?}");
            let stored: u64 = parts.iter().filter(|p| matches!(p, Part::Stored(_))).map(Part::len).sum();
            let inline: u64 = parts.iter().filter(|p| matches!(p, Part::Inline(_))).map(Part::len).sum();
            if cut <= 300 && expected(&text, &region).lines().filter(|l| !l.starts_with('#')).count() > 50 {
                assert!(stored > inline, "most bytes come as stored: {stored} vs {inline} (cut {cut})");
            }
        }
        // Several regions at once, overlapping, out of order: each line once, in file order.
        let two = [Region::new("X", 1_000, 2_000).unwrap(), Region::new("22", 500, 900).unwrap()];
        let both = vec![two[1].clone(), two[0].clone(), Region::new("22", 800, 1_000).unwrap()];
        let out = gunzip(&assemble(&file, &layout.plan(&mut &file[..], &Selection::Regions(both)).unwrap()));
        let want: String = text
            .split_inclusive('\n')
            .filter(|l| {
                l.starts_with('#')
                    || expected(&text, &two[0]).contains(*l) && !l.starts_with('#')
                    || expected(&text, &Region::new("22", 500, 1_000).unwrap()).contains(*l) && !l.starts_with('#')
            })
            .collect();
        assert_eq!(out, renamed(&want), "cut {cut}");
        // The header alone, and the whole file: the new header, then the stored blocks.
        let header = gunzip(&assemble(&file, &layout.plan(&mut &file[..], &Selection::Header).unwrap()));
        assert_eq!(header, renamed(&text.split_inclusive('\n').filter(|l| l.starts_with('#')).collect::<String>()));
        assert!(!header.contains("S1"), "no local id leaves the node");
        let whole = layout.plan(&mut &file[..], &Selection::Whole).unwrap();
        assert_eq!(gunzip(&assemble(&file, &whole)), renamed(&text));
        if cut == 0 {
            let stored: u64 = whole.iter().filter(|p| matches!(p, Part::Stored(_))).map(Part::len).sum();
            assert!(stored * 10 > file.len() as u64 * 9, "nearly all of an aligned file comes as stored");
        }
    }
}

#[test]
fn unknown_contigs_are_named() {
    let file = bgzf(&vcf(), 300);
    let layout = FileLayout::read(&mut &file[..], index_of(&file), &samples()).unwrap();
    let asked = Selection::Regions(vec![Region::new("chr22", 1, 100).unwrap()]);
    match layout.plan(&mut &file[..], &asked) {
        Err(DeliveryError::UnknownContig { name, known }) => {
            assert_eq!(name, "chr22");
            assert_eq!(known, ["22", "X", "Y"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_crypt4gh_stream_decrypts_to_the_plain_delivery_and_passes_stored_segments_through() {
    // Large enough for many 64 KiB segments.
    let mut text = vcf();
    for pos in (20_000..400_000).step_by(10) {
        text.push_str(&format!("22\t{pos}\t.\tG\tT\t.\t.\t.\tGT\t0|1\t0|0\n"));
    }
    // Re-sort: the extra 22 records must come before X.
    let (meta, records): (Vec<&str>, Vec<&str>) = text.split_inclusive('\n').partition(|l| l.starts_with('#'));
    let (mut c22, cx): (Vec<&str>, Vec<&str>) = records.into_iter().partition(|l| l.starts_with("22\t"));
    c22.sort_by_key(|l| l.split('\t').nth(1).unwrap().parse::<u64>().unwrap());
    let text: String = meta.into_iter().chain(c22).chain(cx).collect();
    let file = bgzf(&text, 5_000);
    let layout = FileLayout::read(&mut &file[..], index_of(&file), &samples()).unwrap();

    let data_key = DataKey::generate().unwrap();
    let mut body = Vec::new();
    encrypt_body(&file[..], &mut body, &data_key, 1).unwrap();
    let stored = StoredBody {
        keys: std::slice::from_ref(&data_key),
        plaintext_size: file.len() as u64,
        body_size: body.len() as u64,
    };
    let researcher = KeyPair::generate().unwrap();
    let selections = [
        Selection::Regions(vec![Region::new("22", 100_000, 300_000).unwrap()]),
        Selection::Regions(vec![Region::new("22", 150, 150).unwrap(), Region::new("X", 200, 4_000).unwrap()]),
        Selection::Header,
        Selection::Whole,
    ];
    for selection in selections {
        let parts = layout.plan(&mut &file[..], &selection).unwrap();
        let pieces = encrypted_pieces(&parts, &stored, &researcher.public, &mut &file[..]).unwrap();
        let mut stream = Vec::new();
        let mut passed_through = 0;
        for piece in &pieces {
            match piece {
                Piece::Bytes(bytes) => stream.extend_from_slice(bytes),
                Piece::Cipher(range) => {
                    stream.extend_from_slice(&body[range.start as usize..range.end as usize]);
                    passed_through += range.end - range.start;
                }
                Piece::Plain(_) => panic!("a Crypt4GH delivery serves no plaintext"),
            }
        }
        let mut plain = Vec::new();
        decrypt(&stream[..], &mut plain, &researcher.secret, 1).unwrap();
        assert!(plain == assemble(&file, &parts), "{selection:?}");
        if matches!(selection, Selection::Whole) {
            // All but the last segment, which the EOF block follows (and the header's first).
            let cseg = oresund_c4gh::body::CIPHER_SEGMENT_SIZE as u64;
            assert!(
                passed_through + 2 * cseg >= body.len() as u64,
                "the body as stored: {passed_through} of {}",
                body.len()
            );
        }
        // Another key cannot read it.
        let stranger = KeyPair::generate().unwrap();
        assert!(decrypt(&stream[..], &mut Vec::new(), &stranger.secret, 1).is_err());
    }
}

#[test]
fn a_body_shorter_than_the_catalog_says_is_damage_not_a_panic() {
    use crate::archive::store::ObjectArchive;
    use crate::delivery::source::{ArchivedPlaintext, PlainSource};
    let dir = tempfile::tempdir().unwrap();
    let objects = ObjectArchive::open_local(dir.path()).unwrap();
    let key = KeyPair::generate().unwrap();
    let plain: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let stored = crate::archive::store_encrypted(&objects, &plain[..], &key.public).unwrap();
    let header = oresund_c4gh::Header::decrypt(&objects.get(&stored.header_path).unwrap(), &key.secret).unwrap();
    let keys = header.data_keys().to_vec();
    let mut source = ArchivedPlaintext::new(
        &objects,
        stored.body_path.clone(),
        stored.body_size,
        stored.plaintext_size,
        keys.clone(),
    );
    assert!(source.read_range(100_000, 100_010).unwrap() == plain[100_000..100_010]);
    // The body loses its last 100 kB; the catalog still has the old sizes.
    let body = dir.path().join(&stored.body_path);
    let bytes = std::fs::read(&body).unwrap();
    std::fs::write(&body, &bytes[..bytes.len() - 100_000]).unwrap();
    let mut source = ArchivedPlaintext::new(&objects, stored.body_path, stored.body_size, stored.plaintext_size, keys);
    let error = source.read_range(250_000, 260_000).unwrap_err();
    assert!(matches!(error, DeliveryError::Damaged(_) | DeliveryError::Archive(_)), "{error:?}");
}
