//! The segment cipher, ChaCha20-Poly1305 (RFC 8439, AWS-LC's through [`SegmentCipher`]), against
//! answers from an independent implementation: OpenSSL through Python `cryptography` 48.0.0,
//! which printed each row with
//!
//! ```python
//! from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
//! import hashlib
//! out = ChaCha20Poly1305(bytes(range(32))).encrypt(bytes(range(100, 112)), plain(n), b"")
//! print(n, hashlib.sha256(out[:-16]).hexdigest(), out[-16:].hex())
//! ```
//!
//! AWS-LC picks its x86-64 code at run time by the CPU's features, and each variant processes a
//! different number of 64-byte blocks at a time, so the lengths sit on both sides of 1, 4, 8 and 16
//! blocks and of a whole segment.

use oresund_c4gh::{DataKey, SegmentCipher, Unauthentic};
use sha2::{Digest, Sha256};

/// (plaintext length, SHA-256 of the ciphertext, Poly1305 tag), all from OpenSSL.
const ANSWERS: [(usize, &str, &str); 20] = [
    (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "a33126986fcb1312c2476c125059ffe4"),
    (1, "4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce", "acfe3b5982d646f3fe90b186cca36236"),
    (63, "f9fa1a528a710ce3f08d660e57b09483c346ffae269221fb95164c9e9ae26097", "f3c6987e76569137167200c8d30e21ea"),
    (64, "fd571e3b25ca270b2b059fe714faae020b932f9eb8efa5dc97f9c780ee999e3f", "1434a85904c11055162eb54240bbd49c"),
    (65, "6b032993fe1dbddb099c079558c1760db721942b9267d697e371acfa768da50f", "57eedc48c68460854a5b504d525a5792"),
    (255, "3f185126d692d38ad9fc01b54a2b7f4bf00c8d261173ec15cdbc4a5ce5b45384", "ae1e59749c824c72402c0d8fcd885308"),
    (256, "2f3d6826695050626815ec28bde4a4a493345d6cbea8c7a4f16eed3122b3ef0e", "c260fb394c1c8490d95c34e0795f3b27"),
    (257, "70dec9e217914d1fbe9e83fde673c99f0cb026fce0135b43ac231bbfe290ae34", "1c46338b736d629d94fb44ee63e048ab"),
    (511, "6d996204674e83e452ceddc604a7d169fe68522685f7ee15eda55b02e2cb987b", "3ae41fb9b0dcc2968fec788b35ba8a39"),
    (512, "94b2ee38f5c01b6a55f5decd8fb3197166d2f2ff5689b1cd85d1cb316f6166d3", "ab2851ff945ba9b09261f1d5629339cf"),
    (513, "e839ed22854742349196ec39c7c588de574554c32a8b873edc73c67ee224d448", "ee964d1e6a51ffb129b8e4236e6ffd2c"),
    (1023, "cd392363ea158ba8696c1e7f2de5c8fb00857b39840e0e9a6a7205538e812496", "b741e84f5c3dd4f2b15867bd3c0947fa"),
    (1024, "37ab58b8fc62a32eaaff8d33121f61f9fb001a5079f05c9aaf5eb02ae6d7e7e0", "48b080de3cfe2274be3db3cd29b70bc1"),
    (1025, "593b2f4fb7f79db9ad1fb4f35e68d6edde3a6254a762baa1a1fbc133c999f18c", "9f1d0347293c03ae600801e1d8728b67"),
    (2047, "42cd31adb13fbd4a057a6b58184ef8f17f1a4d504e16021dcf52fad4e489b1d0", "5af6aa125560627c654122e0de0fe3ca"),
    (2048, "78d06d5dd8cfd3e23a57ddd11469f44e83f76e6237ffd755fa0216c8b4bdfc23", "ab1965358d65ef71e9b52db4dbc7593b"),
    (2049, "11df8eac7128602748aa3db1f7ee7d00d0a5d3f71e9b59a070fc3d04311fe5f6", "22ffcdf13d3d59466b2ad12641efa665"),
    (4293, "284e9869bc8f6f520b925c1dd807c75f41aa2dd9b4e5baa46dce844925b77828", "a5eca89392129c43b955de20bd3c5232"),
    (65535, "39c0a62468bd83d0eddf41d383a4bf3a8b2ad116fa22f9343a42d23bb01c91f9", "77dfee5ab33dbc969d714591e3f86cb7"),
    (65536, "704344e08d76ff29ee95744837724f93bad5290c7734eb1aeaf4b4c6e90026cc", "8cec2d1953afbddae78bbe054045f5d3"),
];

fn plain(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sealing_and_opening_agree_with_openssl() {
    let cipher = SegmentCipher::new(&DataKey::from_bytes(std::array::from_fn(|i| i as u8))).unwrap();
    let nonce: [u8; 12] = std::array::from_fn(|i| 100 + i as u8);
    #[cfg(target_arch = "x86_64")]
    eprintln!(
        "this CPU: AVX-512F {}, AVX2 {}",
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("avx2")
    );
    for (n, ciphertext_sha256, tag) in ANSWERS {
        let want = plain(n);
        let mut data = want.clone();
        let sealed = cipher.seal(nonce, &mut data).unwrap();
        assert_eq!(hex(&Sha256::digest(&data)), ciphertext_sha256, "ciphertext of {n} bytes");
        assert_eq!(hex(&sealed), tag, "tag of {n} bytes");
        data.extend_from_slice(&sealed);
        let mut damaged = data.clone();
        assert_eq!(cipher.open(nonce, &mut data).unwrap(), &want[..], "opened {n} bytes");
        // One flipped bit of the ciphertext or of the MAC must fail it.
        damaged[n / 2] ^= 1;
        assert_eq!(cipher.open(nonce, &mut damaged).map(|_| ()), Err(Unauthentic), "{n} bytes, a bit flipped");
    }
}
