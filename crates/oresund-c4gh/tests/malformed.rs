//! Malformed, truncated and tampered input never panics and always ends in
//! a typed error (property tests).

use std::sync::OnceLock;

use oresund_c4gh::body::CIPHER_SEGMENT_SIZE;
use oresund_c4gh::{ByteRange, Error, Header, KeyPair, SecretKey, decrypt, encrypt, keys, rearrange};
use proptest::prelude::*;

/// A single-recipient file: every header byte matters to its only reader.
struct Fixture {
    reader: KeyPair,
    plain: Vec<u8>,
    file: Vec<u8>,
    header_len: usize,
    /// The same data rearranged to a range covering every segment, so the
    /// header also carries an edit list.
    edited: Vec<u8>,
    edited_plain: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let reader = KeyPair::generate().unwrap();
        let writer = KeyPair::generate().unwrap();
        let plain: Vec<u8> = (0..3 * 65_536 + 5_000u32).map(|i| (i ^ (i >> 9)) as u8).collect();
        let mut file = Vec::new();
        encrypt(&plain[..], &mut file, &[reader.public], &writer.secret, None, 1).unwrap();
        let header_len = 16 + 108;
        let mut edited = Vec::new();
        rearrange(&file[..], &mut edited, &reader.secret, ByteRange::new(7, plain.len() as u64 - 3)).unwrap();
        let edited_plain = plain[7..plain.len() - 3].to_vec();
        Fixture { reader, plain, file, header_len, edited, edited_plain }
    })
}

fn try_decrypt(file: &[u8], sk: &SecretKey, threads: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    decrypt(file, &mut out, sk, threads)?;
    Ok(out)
}

#[test]
fn fixture_is_valid() {
    let f = fixture();
    assert_eq!(try_decrypt(&f.file, &f.reader.secret, 1).unwrap(), f.plain);
    assert_eq!(try_decrypt(&f.edited, &f.reader.secret, 2).unwrap(), f.edited_plain);
    assert_eq!(Header::read_from(&mut &f.file[..]).unwrap().to_bytes().len(), f.header_len);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any change to any byte(s) of a single-recipient file is detected.
    #[test]
    fn mutations_are_errors(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        threads in 1usize..3,
    ) {
        let f = fixture();
        let mut file = f.file.clone();
        let len = file.len();
        for (at, mask) in &edits {
            file[at.index(len)] ^= mask;
        }
        // Several edits may cancel out (same byte, same mask twice).
        prop_assume!(file != f.file);
        prop_assert!(try_decrypt(&file, &f.reader.secret, threads).is_err());
    }

    /// With an edit list, damage is detected too, with one exception the
    /// format allows (spec §5.4, "Message Forgery": header packets are not
    /// protected against removal): a damaged edit-list packet looks like a
    /// packet for another reader and is skipped, so the reader gets the
    /// unedited plaintext, never anything else.
    #[test]
    fn mutations_with_edit_list_are_errors_or_drop_the_edit_list(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        threads in 1usize..3,
    ) {
        let f = fixture();
        let edit_packet = f.header_len..f.header_len + 92;
        let mut file = f.edited.clone();
        let len = file.len();
        let mut positions = Vec::new();
        for (at, mask) in &edits {
            positions.push(at.index(len));
            file[at.index(len)] ^= mask;
        }
        prop_assume!(file != f.edited);
        if let Ok(out) = try_decrypt(&file, &f.reader.secret, threads) {
            prop_assert!(positions.iter().all(|p| edit_packet.contains(p)), "{:?}", positions);
            prop_assert!(out == f.plain, "a damaged edit list may only be dropped");
        }
    }

    /// A flipped body bit is reported as a MAC failure of that very segment.
    #[test]
    fn body_tampering_names_the_segment(at in any::<prop::sample::Index>(), bit in 0u8..8, threads in 1usize..3) {
        let f = fixture();
        let body_len = f.file.len() - f.header_len;
        let offset = at.index(body_len);
        let mut file = f.file.clone();
        file[f.header_len + offset] ^= 1 << bit;
        match try_decrypt(&file, &f.reader.secret, threads) {
            Err(Error::SegmentAuthentication { segment }) => {
                prop_assert_eq!(segment, (offset / CIPHER_SEGMENT_SIZE) as u64);
            }
            other => prop_assert!(false, "unexpected {:?}", other.map(|v| v.len())),
        }
    }

    /// Truncation is an error unless it falls exactly on a segment boundary,
    /// which Crypt4GH v1 cannot detect (spec §5.4: segments may be removed);
    /// then the output is an exact prefix of the plaintext.
    #[test]
    fn truncations_are_errors_or_segment_prefixes(at in any::<prop::sample::Index>(), threads in 1usize..3) {
        let f = fixture();
        let cut = at.index(f.file.len());
        let result = try_decrypt(&f.file[..cut], &f.reader.secret, threads);
        if cut < f.header_len {
            let typed = matches!(result, Err(Error::TruncatedHeader(_)));
            prop_assert!(typed, "cut {}: {:?}", cut, result.map(|v| v.len()));
        } else if (cut - f.header_len).is_multiple_of(CIPHER_SEGMENT_SIZE) {
            let segments = (cut - f.header_len) / CIPHER_SEGMENT_SIZE;
            prop_assert_eq!(result.unwrap(), &f.plain[..segments * 65_536]);
        } else {
            let typed = matches!(
                result,
                Err(Error::SegmentAuthentication { .. } | Error::TruncatedSegment { .. })
            );
            prop_assert!(typed, "cut {}: {:?}", cut, result.map(|v| v.len()));
        }
    }

    /// Random bytes, with or without a valid preamble, are rejected.
    #[test]
    fn garbage_is_rejected(
        garbage in prop::collection::vec(any::<u8>(), 0..600),
        preamble in any::<bool>(),
        count in 0u32..4,
    ) {
        let f = fixture();
        let mut input = Vec::new();
        if preamble {
            input.extend_from_slice(b"crypt4gh\x01\x00\x00\x00");
            input.extend_from_slice(&count.to_le_bytes());
        }
        input.extend_from_slice(&garbage);
        prop_assert!(try_decrypt(&input, &f.reader.secret, 1).is_err());
        prop_assert!(Header::decrypt(&input, &f.reader.secret).is_err());
    }

    /// Headers with plausible packet structure but random contents.
    #[test]
    fn random_packets_are_rejected(packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..5)) {
        let f = fixture();
        let mut header = b"crypt4gh\x01\x00\x00\x00".to_vec();
        header.extend_from_slice(&(packets.len() as u32).to_le_bytes());
        for p in &packets {
            header.extend_from_slice(&(p.len() as u32 + 4).to_le_bytes());
            header.extend_from_slice(p);
        }
        prop_assert!(Header::decrypt(&header, &f.reader.secret).is_err());
    }

    /// Mangled key files never panic; mangled public keys are either
    /// rejected or decode to some 32-byte key.
    #[test]
    fn key_files_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let f = fixture();
        let sk_pem = keys::write_secret_key_pem(&f.reader.secret, None, Some("c")).unwrap();
        let pk_pem = keys::write_public_key_pem(&f.reader.public);
        for pem in [sk_pem.as_bytes(), pk_pem.as_bytes()] {
            let mut bytes = pem.to_vec();
            let len = bytes.len();
            for (at, value) in &edits {
                bytes[at.index(len)] = *value;
            }
            bytes.truncate(cut.index(len + 1));
            let text = String::from_utf8_lossy(&bytes);
            let _ = keys::read_secret_key_pem(&text, Some(b"pw"));
            let _ = keys::read_public_key_pem(&text);
        }
    }
}

/// Encrypted key files: every single-byte change of the decoded blob is an
/// error (scrypt makes this slow, so it is a plain loop over a sample).
#[test]
fn tampered_encrypted_key_is_rejected() {
    use base64::Engine as _;
    let sk = SecretKey::generate().unwrap();
    let pem = keys::write_secret_key_pem(&sk, Some(b"pw"), None).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let blob = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    // Skip the magic/kdf/cipher names (format errors, covered elsewhere);
    // hit the salt, the nonce, the ciphertext and the MAC.
    for at in (25..blob.len()).step_by(7) {
        let mut bad = blob.clone();
        bad[at] ^= 0x20;
        let text = format!(
            "-----BEGIN CRYPT4GH PRIVATE KEY-----\n{}\n-----END CRYPT4GH PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&bad)
        );
        assert!(keys::read_secret_key_pem(&text, Some(b"pw")).is_err(), "byte {at}");
    }
}
