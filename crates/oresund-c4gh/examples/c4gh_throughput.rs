//! Measures Crypt4GH body throughput on a real file, for `bench/c4gh/run.sh`.
//!
//! ```text
//! cargo build --release -p oresund-c4gh --example c4gh_throughput
//! target/release/examples/c4gh_throughput INPUT [THREADS] [WORKDIR]
//! ```
//!
//! Reports MB/s (10^6 bytes of plaintext per second, best of several runs)
//! for: a bare in-place loop of the segment cipher (`SegmentCipher`) over 64 KiB segments (the
//! ceiling), our `encrypt_body` / `decrypt_body` in memory on 1 and THREADS
//! threads, and whole-file `encrypt` / `decrypt` from INPUT to WORKDIR and
//! back to /dev/null (what the Python CLI is timed on). 1- and N-thread runs
//! alternate so that load from other processes affects both alike. Each
//! result is also printed as a `RESULT <name> <seconds> <MB/s>` line.

use std::fs::File;
use std::hint::black_box;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oresund_c4gh::body::{CIPHER_SEGMENT_SIZE, decrypt_body_with};
use oresund_c4gh::{DataKey, KeyPair, SEGMENT_SIZE, SegmentCipher, decrypt, encrypt, encrypt_body};

const RUNS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = PathBuf::from(args.next().ok_or("usage: c4gh_throughput INPUT [THREADS] [WORKDIR]")?);
    let threads: usize = match args.next() {
        Some(t) => t.parse()?,
        None => std::thread::available_parallelism().map_or(2, usize::from),
    };
    let workdir = PathBuf::from(args.next().unwrap_or_else(|| std::env::temp_dir().display().to_string()));

    let plain = std::fs::read(&input)?;
    let bytes = plain.len() as u64;
    println!("input: {} ({} bytes), {threads} threads", input.display(), bytes);

    let key = DataKey::generate()?;
    let cipher = SegmentCipher::new(&key)?;
    let report = |name: &str, secs: f64| {
        let mbps = bytes as f64 / 1e6 / secs;
        println!("{name:<28} {secs:>8.3} s {mbps:>9.1} MB/s");
        println!("RESULT {name} {secs:.6} {mbps:.1}");
    };

    // --- encryption ---
    let mut scratch = plain.clone();
    report(
        "bare_encrypt",
        best(|| {
            for (i, seg) in scratch.chunks_mut(SEGMENT_SIZE).enumerate() {
                let mut nonce = [0u8; 12];
                nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let tag = cipher.seal(nonce, seg).expect("encrypt");
                black_box(tag);
            }
        }),
    );
    drop(scratch);
    let (t1, tn) = best_pair(
        || {
            encrypt_body(&plain[..], io::sink(), &key, 1).expect("encrypt_body");
        },
        || {
            encrypt_body(&plain[..], io::sink(), &key, threads).expect("encrypt_body");
        },
    );
    report("ours_encrypt_1", t1);
    report("ours_encrypt_n", tn);

    // --- decryption ---
    let mut body = Vec::with_capacity(plain.len() + plain.len() / 2000 + CIPHER_SEGMENT_SIZE);
    encrypt_body(&plain[..], &mut body, &key, threads)?;
    let mut seg_buf = vec![0u8; CIPHER_SEGMENT_SIZE];
    report(
        "bare_decrypt",
        best(|| {
            // Copy into a reused buffer first: in-place decryption destroys input.
            for seg in body.chunks(CIPHER_SEGMENT_SIZE) {
                let buf = &mut seg_buf[..seg.len()];
                buf.copy_from_slice(seg);
                let (nonce, sealed) = buf.split_at_mut(12);
                let nonce = <[u8; 12]>::try_from(&*nonce).expect("nonce");
                black_box(cipher.open(nonce, sealed).expect("decrypt"));
            }
        }),
    );
    let keys = std::slice::from_ref(&key);
    let (t1, tn) = best_pair(
        || {
            decrypt_body_with(&body[..], io::sink(), keys, None, 1).expect("decrypt_body");
        },
        || {
            decrypt_body_with(&body[..], io::sink(), keys, None, threads).expect("decrypt_body");
        },
    );
    report("ours_decrypt_1", t1);
    report("ours_decrypt_n", tn);
    drop(body);
    drop(plain);

    // --- whole files, like the Python CLI: INPUT -> WORKDIR/*.c4gh -> /dev/null ---
    let (reader, writer) = (KeyPair::generate()?, KeyPair::generate()?);
    let encrypted = workdir.join("c4gh_throughput.c4gh");
    let encrypt_file = |t: usize| {
        // Start from no file, like the Python timing (unlink is cheap).
        let _ = std::fs::remove_file(&encrypted);
        let src = File::open(&input).expect("open input");
        let dst = File::create(&encrypted).expect("create output");
        encrypt(src, dst, &[reader.public], &writer.secret, None, t).expect("encrypt");
    };
    let (t1, tn) = best_pair(|| encrypt_file(1), || encrypt_file(threads));
    report("file_encrypt_1", t1);
    report("file_encrypt_n", tn);
    let decrypt_file = |t: usize| {
        let src = File::open(&encrypted).expect("open encrypted");
        let dst = File::create("/dev/null").expect("open /dev/null");
        decrypt(src, dst, &reader.secret, t).expect("decrypt");
    };
    let (t1, tn) = best_pair(|| decrypt_file(1), || decrypt_file(threads));
    report("file_decrypt_1", t1);
    report("file_decrypt_n", tn);
    std::fs::remove_file(&encrypted)?;
    Ok(())
}

/// Best wall-clock times of [`RUNS`] alternating runs of `a` and `b`, in
/// seconds. Alternating spreads bursts of load from other processes on a
/// shared machine over both measurements.
fn best_pair(mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let (mut ta, mut tb) = (f64::MAX, f64::MAX);
    for _ in 0..RUNS {
        ta = ta.min(time_once(&mut a));
        tb = tb.min(time_once(&mut b));
    }
    (ta, tb)
}

fn time_once(f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// Best wall-clock time of [`RUNS`] runs, in seconds.
fn best(mut f: impl FnMut()) -> f64 {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}
