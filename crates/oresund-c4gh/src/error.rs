//! The crate's single error type.
//!
//! Every way a Crypt4GH file or key file can be malformed maps to a variant
//! here, and each variant's documentation names the rule it enforces. Section
//! numbers (§) refer to the GA4GH File Encryption Standard (Crypt4GH,
//! `crypt4gh.pdf` in samtools/hts-specs); the key-file variants refer to the
//! `c4gh-v1` key format defined by the reference Python implementation
//! (crypt4gh.readthedocs.io, "Keys").

use std::io;

/// Convenient alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading or writing Crypt4GH data.
///
/// Decoding never panics: malformed, truncated or tampered input always ends
/// in one of these variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),

    /// The operating system's random number generator failed (§5.2 requires a
    /// CSPRNG for keys and nonces, so we refuse to continue without one).
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),

    // ----- Header envelope (§3.2) -----
    /// §3.2: a header starts with the 8 ASCII bytes `crypt4gh`.
    #[error("not a Crypt4GH file: bad magic number (spec §3.2)")]
    BadMagic,

    /// §3.2: the only defined header version is 1.
    #[error("unsupported Crypt4GH version {0} (spec §3.2 defines version 1)")]
    UnsupportedVersion(u32),

    /// §3.2: the input ended before the magic, version, packet count and all
    /// `header_packet_count` packets could be read.
    #[error("truncated header: {0} (spec §3.2)")]
    TruncatedHeader(&'static str),

    /// §3.2.1: `packet_length` counts the whole packet including its own four
    /// bytes and the four-byte encryption method, so it is at least 8.
    #[error("header packet {index} has invalid length {length} (spec §3.2.1)")]
    InvalidPacketLength {
        /// Zero-based packet index in the header.
        index: u32,
        /// The length field as read.
        length: u32,
    },

    /// §3.2.1: a header packet is larger than this implementation accepts
    /// (a guard against memory exhaustion; real packets are tiny).
    #[error("header packet {index} is {length} bytes, above the {limit}-byte limit (spec §3.2.1)")]
    PacketTooLarge {
        /// Zero-based packet index in the header.
        index: u32,
        /// The length field as read.
        length: u32,
        /// The configured limit.
        limit: u32,
    },

    /// §3.2: bytes follow the last of the `header_packet_count` packets in a
    /// buffer that should hold exactly one header.
    #[error("{0} unexpected bytes after the last header packet (spec §3.2)")]
    TrailingHeaderBytes(usize),

    /// §3.2: the packets add up to more than this implementation buffers
    /// for one header (a corrupt `header_packet_count` would otherwise make
    /// it read the body as packets).
    #[error("header larger than the {limit}-byte limit (spec §3.2)")]
    HeaderTooLarge {
        /// The configured limit.
        limit: usize,
    },

    /// §3.2 / §3.3.3: a header must contain at least one packet.
    #[error("header contains no packets (spec §3.2)")]
    NoPackets,

    /// §3.3.3: none of the header packets could be decrypted with the
    /// reader's secret key (wrong key, or the file was not encrypted for it).
    #[error("no header packet could be decrypted with this secret key (spec §3.3.3)")]
    NoDecryptablePacket,

    /// §3.3.3: packets were decrypted but none was a
    /// `data_encryption_parameters` packet, so there is no data key.
    #[error("header has no data encryption parameters packet for this reader (spec §3.3.3)")]
    NoDataKey,

    /// §3.2.2: the decrypted packet is too short to hold its `packet_type`
    /// and the fields that type requires.
    #[error("decrypted header packet too short for its type: {0} (spec §3.2.2)")]
    ShortPacket(&'static str),

    /// §3.2.2: `packet_type` must be 0 (data encryption parameters) or
    /// 1 (data edit list).
    #[error("unknown header packet type {0} (spec §3.2.2)")]
    UnknownPacketType(u32),

    /// §3.2.3: only `chacha20_ietf_poly1305` (0) is supported for the data;
    /// method 1 (AEAD with sequence numbers) is not implemented.
    #[error("unsupported data encryption method {0} (spec §3.2.3)")]
    UnsupportedDataEncryptionMethod(u32),

    /// §3.2.4: more than one edit list packet; the file SHOULD be rejected.
    #[error("header has more than one edit list (spec §3.2.4)")]
    MultipleEditLists,

    /// §3.2.4 / §4.3: the edit list lengths overflow a 64-bit position.
    #[error("invalid edit list: {0} (spec §4.3)")]
    InvalidEditList(&'static str),

    /// §3.3.1: a recipient (or writer) public key is a low-order point, so
    /// the X25519 shared secret would be all zeros.
    #[error("public key is a low-order X25519 point (spec §3.3.1)")]
    WeakPublicKey,

    /// §2.4: a header must be encrypted for at least one reader.
    #[error("no recipients given (spec §2.4)")]
    NoRecipients,

    // ----- Body (§3.4, §4.1) -----
    /// §3.4.1: a segment is shorter than its 12-byte nonce plus 16-byte MAC,
    /// i.e. the body was truncated inside the segment's envelope.
    #[error("body segment {segment} is truncated: {len} bytes, less than nonce + MAC (spec §3.4.1)")]
    TruncatedSegment {
        /// Zero-based index of the segment within the body.
        segment: u64,
        /// The number of bytes found.
        len: usize,
    },

    /// §4.1: no data key authenticates this segment: the segment (or its
    /// nonce/MAC) was altered, truncated, or belongs to another file.
    #[error("body segment {segment} failed authentication (MAC mismatch, spec §4.1)")]
    SegmentAuthentication {
        /// Zero-based index of the segment within the body.
        segment: u64,
    },

    /// §4.3: the requested byte range is empty or inverted.
    #[error("invalid byte range {start}..{end} (start must be below end)")]
    InvalidRange {
        /// Requested start (inclusive).
        start: u64,
        /// Requested end (exclusive).
        end: u64,
    },

    /// §4.3: the requested range selects no byte of the data as currently
    /// edited (it lies entirely past the end of an existing edit list).
    #[error("the requested range selects no data (spec §4.3)")]
    EmptySelection,

    /// A worker thread of the parallel pipeline stopped unexpectedly.
    #[error("a worker thread stopped unexpectedly")]
    WorkerStopped,

    // ----- Key files (c4gh-v1 format, Python crypt4gh "Keys" document) -----
    /// Key file: not PEM, or the PEM label is not the expected
    /// `CRYPT4GH PUBLIC KEY` / `CRYPT4GH PRIVATE KEY`.
    #[error("not a Crypt4GH key file: {0}")]
    NotPem(String),

    /// Key file: the PEM body is not valid base64.
    #[error("key file body is not valid base64")]
    Base64,

    /// Key file: a raw X25519 key must be exactly 32 bytes.
    #[error("key has {0} bytes, expected 32")]
    KeyLength(usize),

    /// Key file: the `c4gh-v1` structure (magic, u16-BE-prefixed strings,
    /// KDF options) is malformed or truncated.
    #[error("malformed c4gh-v1 private key: {0}")]
    KeyFormat(&'static str),

    /// Key file: the key derivation function is not one of `scrypt`,
    /// `bcrypt`, `pbkdf2_hmac_sha256` or `none`.
    #[error("unsupported key derivation function {0:?}")]
    UnsupportedKdf(String),

    /// Key file: the private key cipher is not `chacha20_poly1305` or `none`.
    #[error("unsupported private key cipher {0:?}")]
    UnsupportedKeyCipher(String),

    /// Key file: the private key is encrypted and no passphrase was given.
    #[error("passphrase required: the private key is encrypted")]
    PassphraseRequired,

    /// Key file: the passphrase did not decrypt the private key (its MAC
    /// did not verify), so it is wrong or the key file was altered.
    #[error("wrong passphrase (or corrupted private key)")]
    WrongPassphrase,

    /// Key file: an empty passphrase was given for writing; the Python tool
    /// silently writes an unencrypted key in that case, we refuse instead.
    #[error("empty passphrase: pass None to write an unencrypted key")]
    EmptyPassphrase,
}

impl From<getrandom::Error> for Error {
    fn from(e: getrandom::Error) -> Self {
        Error::Random(e)
    }
}
