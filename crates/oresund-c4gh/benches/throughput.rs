//! Throughput of body encryption/decryption over 64 MiB in memory:
//! a bare in-place loop of the segment cipher (`SegmentCipher`) over 64 KiB segments (the ceiling)
//! vs. our streaming `encrypt_body`/`decrypt_body` on 1 and N threads.
//!
//! `cargo bench -p oresund-c4gh --bench throughput`

use std::hint::black_box;
use std::io;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oresund_c4gh::body::{CIPHER_SEGMENT_SIZE, decrypt_body_with};
use oresund_c4gh::{DataKey, SEGMENT_SIZE, SegmentCipher, encrypt_body};

const SIZE: usize = 64 << 20;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn bench(c: &mut Criterion) {
    let key = DataKey::from_bytes([7; 32]);
    let cipher = SegmentCipher::new(&key).unwrap();
    let plain: Vec<u8> = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let mut body = Vec::with_capacity(SIZE + SIZE / 1000);
    encrypt_body(&plain[..], &mut body, &key, 1).unwrap();
    let n = threads();

    let mut g = c.benchmark_group("encrypt");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    // Encrypts the same buffer over and over in place: pure AEAD cost.
    let mut scratch = plain.clone();
    g.bench_function("bare_segment_cipher_64KiB", |b| {
        b.iter(|| {
            for (i, seg) in scratch.chunks_mut(SEGMENT_SIZE).enumerate() {
                let mut nonce = [0u8; 12];
                nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let tag = cipher.seal(nonce, seg).unwrap();
                black_box(tag);
            }
        })
    });
    g.bench_function("encrypt_body_1_thread", |b| b.iter(|| encrypt_body(&plain[..], io::sink(), &key, 1).unwrap()));
    g.bench_function(format!("encrypt_body_{n}_threads"), |b| {
        b.iter(|| encrypt_body(&plain[..], io::sink(), &key, n).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("decrypt");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    // Decrypting in place destroys the input, so the bare loop copies each
    // segment into a reused 64 KiB buffer first (as any reader must).
    let mut scratch = vec![0u8; CIPHER_SEGMENT_SIZE];
    g.bench_function("bare_segment_cipher_64KiB", |b| {
        b.iter(|| {
            for seg in body.chunks(CIPHER_SEGMENT_SIZE) {
                let buf = &mut scratch[..seg.len()];
                buf.copy_from_slice(seg);
                let (nonce, sealed) = buf.split_at_mut(12);
                let nonce = <[u8; 12]>::try_from(&*nonce).unwrap();
                black_box(cipher.open(nonce, sealed).unwrap());
            }
        })
    });
    let keys = std::slice::from_ref(&key);
    g.bench_function("decrypt_body_1_thread", |b| {
        b.iter(|| decrypt_body_with(&body[..], io::sink(), keys, None, 1).unwrap())
    });
    g.bench_function(format!("decrypt_body_{n}_threads"), |b| {
        b.iter(|| decrypt_body_with(&body[..], io::sink(), keys, None, n).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
