//! The Crypt4GH header (spec §3.2 "Header", §3.3 "Header packet encryption").
//!
//! ```text
//! Header        = "crypt4gh" ‖ u32le version=1 ‖ u32le packet_count ‖ packet*   (§3.2)
//! packet        = u32le packet_length (whole packet, this field included)
//!                 ‖ u32le method=0 (X25519_chacha20_ietf_poly1305)
//!                 ‖ writer_pk[32] ‖ nonce[12] ‖ ChaCha20-Poly1305(payload) ‖ MAC[16]  (§3.2.1)
//! payload       = u32le packet_type ‖ ...                                         (§3.2.2)
//!   type 0      = u32le data_encryption_method=0 ‖ data_key[32]                   (§3.2.3)
//!   type 1      = u32le n ‖ u64le lengths[n]                                      (§3.2.4)
//! ```
//!
//! The archive stores headers apart from bodies, so the header is handled
//! on its own: [`Header::encrypt`] / [`Header::decrypt`] work on serialized
//! header bytes, [`read_header_bytes`] splits a header off a stream,
//! [`reencrypt_header`] re-addresses a header to new readers without
//! touching the body, and [`rearrange_header`] adds an edit list for a byte
//! range. Packets a reader cannot decrypt are skipped (they belong to other
//! readers, §2.4); padding after a payload is allowed and ignored (§3.2.1).

use std::io::Read;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use crate::edit_list::{ByteRange, EditList, RangePlan, plan_range};
use crate::error::{Error, Result};
use crate::keys::{DataKey, KEY_LEN, PublicKey, SecretKey};
use crate::kx;

/// The 8-byte magic string that starts every Crypt4GH file (§3.2).
pub const MAGIC: &[u8; 8] = b"crypt4gh";
/// The header version this crate reads and writes (§3.2).
pub const VERSION: u32 = 1;
/// Largest header packet accepted (16 MiB): a guard against memory
/// exhaustion from a corrupt length; an edit list of two million entries fits.
pub const MAX_PACKET_LEN: u32 = 16 << 20;
/// Largest whole header accepted (64 MiB), so a corrupt packet count cannot
/// make us buffer a whole body as "packets".
pub const MAX_HEADER_LEN: usize = 64 << 20;

const PREAMBLE_LEN: usize = 16;
const METHOD_X25519_CHACHA20: u32 = 0;
const PACKET_DATA_ENC: u32 = 0;
const PACKET_EDIT_LIST: u32 = 1;
const DATA_METHOD_CHACHA20: u32 = 0;
const NONCE_LEN: usize = 12;
const MAC_LEN: usize = 16;
/// method + writer key + nonce + MAC around a packet payload.
const PACKET_OVERHEAD: usize = 4 + KEY_LEN + NONCE_LEN + MAC_LEN;

/// A decrypted packet payload, wiped on drop.
type Payload = Zeroizing<Vec<u8>>;

/// The packets of a header split by whether a reader could decrypt them.
struct Opened<'a> {
    payloads: Vec<Payload>,
    others: Vec<&'a [u8]>,
}

/// A parsed but still encrypted header: the raw packets in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Each packet without its length field: `method ‖ method-specific data`.
    packets: Vec<Vec<u8>>,
}

impl Header {
    /// Reads exactly one header from `input`, leaving it at the first body byte.
    pub fn read_from(input: &mut impl Read) -> Result<Self> {
        let mut preamble = [0u8; PREAMBLE_LEN];
        read_exact_or(input, &mut preamble, "magic, version and packet count")?;
        if &preamble[..8] != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = le_u32(&preamble[8..12]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let count = le_u32(&preamble[12..16]);
        if count == 0 {
            return Err(Error::NoPackets);
        }
        // The count comes from the file: grow as packets actually arrive.
        let mut packets = Vec::with_capacity(count.min(64) as usize);
        let mut total = PREAMBLE_LEN;
        for index in 0..count {
            let mut len = [0u8; 4];
            read_exact_or(input, &mut len, "packet length")?;
            let length = u32::from_le_bytes(len);
            if length < 8 {
                return Err(Error::InvalidPacketLength { index, length });
            }
            if length > MAX_PACKET_LEN {
                return Err(Error::PacketTooLarge { index, length, limit: MAX_PACKET_LEN });
            }
            total += length as usize;
            if total > MAX_HEADER_LEN {
                return Err(Error::HeaderTooLarge { limit: MAX_HEADER_LEN });
            }
            let body_len = (length - 4) as usize;
            let mut packet = Vec::with_capacity(body_len.min(1 << 16));
            input.take(body_len as u64).read_to_end(&mut packet)?;
            if packet.len() != body_len {
                return Err(Error::TruncatedHeader("packet data"));
            }
            packets.push(packet);
        }
        Ok(Header { packets })
    }

    /// Parses a serialized header; `bytes` must hold exactly one header.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut rest = bytes;
        let header = Self::read_from(&mut rest)?;
        if !rest.is_empty() {
            return Err(Error::TrailingHeaderBytes(rest.len()));
        }
        Ok(header)
    }

    /// Serializes the header (§3.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let size = PREAMBLE_LEN + self.packets.iter().map(|p| 4 + p.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        // Packets are built by this crate or were read with u32 lengths and
        // a u32 count, so these conversions cannot fail.
        out.extend_from_slice(&(self.packets.len() as u32).to_le_bytes());
        for p in &self.packets {
            out.extend_from_slice(&((p.len() + 4) as u32).to_le_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    /// Number of header packets (for all readers).
    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }

    /// Encrypts `content` for every recipient and returns the serialized
    /// header: one packet per data key and per edit list, for each recipient.
    ///
    /// ```
    /// use oresund_c4gh::{DataKey, DecryptedHeader, Header, KeyPair};
    /// let (alice, bob, writer) = (KeyPair::generate()?, KeyPair::generate()?, KeyPair::generate()?);
    /// let content = DecryptedHeader::new(DataKey::generate()?);
    /// let bytes = Header::encrypt(&content, &writer.secret, &[alice.public, bob.public])?;
    /// assert_eq!(Header::decrypt(&bytes, &bob.secret)?.data_keys(), content.data_keys());
    /// # Ok::<(), oresund_c4gh::Error>(())
    /// ```
    pub fn encrypt(content: &DecryptedHeader, sender: &SecretKey, recipients: &[PublicKey]) -> Result<Vec<u8>> {
        let plaintexts = content.encode()?;
        let packets = encrypt_packets(&plaintexts, sender, recipients)?;
        Ok(Header { packets }.to_bytes())
    }

    /// Decrypts the packets of a serialized header meant for `reader`.
    ///
    /// Packets for other readers are skipped; it is an error if none can be
    /// decrypted ([`Error::NoDecryptablePacket`]) or none carries a data key.
    pub fn decrypt(bytes: &[u8], reader: &SecretKey) -> Result<DecryptedHeader> {
        Self::parse(bytes)?.decrypt_for(reader)
    }

    /// Like [`Header::decrypt`], on an already parsed header.
    pub fn decrypt_for(&self, reader: &SecretKey) -> Result<DecryptedHeader> {
        DecryptedHeader::decode(&self.open_packets(reader)?.payloads)
    }

    /// Splits the packets into decrypted payloads and undecryptable packets.
    fn open_packets(&self, reader: &SecretKey) -> Result<Opened<'_>> {
        let mut opened = Opened { payloads: Vec::new(), others: Vec::new() };
        for packet in &self.packets {
            match open_packet(packet, reader) {
                Some(plain) => opened.payloads.push(plain),
                None => opened.others.push(packet),
            }
        }
        if opened.payloads.is_empty() {
            return Err(Error::NoDecryptablePacket);
        }
        Ok(opened)
    }
}

/// Reads the serialized header at the start of `input` and returns its
/// bytes, leaving `input` positioned at the body (to store them apart).
pub fn read_header_bytes(input: &mut impl Read) -> Result<Vec<u8>> {
    Ok(Header::read_from(input)?.to_bytes())
}

/// The decrypted content of a header for one reader: the data keys
/// (§3.2.3) and the optional edit list (§3.2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptedHeader {
    data_keys: Vec<DataKey>,
    edit_list: Option<EditList>,
}

impl DecryptedHeader {
    /// A header content with one data key and no edit list.
    pub fn new(data_key: DataKey) -> Self {
        DecryptedHeader { data_keys: vec![data_key], edit_list: None }
    }

    /// A header content with several data keys (§2.1.2: parts of the body
    /// may use different keys). Fails with [`Error::NoDataKey`] if empty.
    pub fn with_data_keys(data_keys: Vec<DataKey>, edit_list: Option<EditList>) -> Result<Self> {
        if data_keys.is_empty() {
            return Err(Error::NoDataKey);
        }
        Ok(DecryptedHeader { data_keys, edit_list })
    }

    /// Replaces the edit list.
    pub fn with_edit_list(mut self, edit_list: Option<EditList>) -> Self {
        self.edit_list = edit_list;
        self
    }

    /// The data keys, in header order (never empty).
    pub fn data_keys(&self) -> &[DataKey] {
        &self.data_keys
    }

    /// The edit list, if the header has one.
    pub fn edit_list(&self) -> Option<&EditList> {
        self.edit_list.as_ref()
    }

    /// Same as [`Header::encrypt`]`(self, ...)`.
    pub fn encrypt(&self, sender: &SecretKey, recipients: &[PublicKey]) -> Result<Vec<u8>> {
        Header::encrypt(self, sender, recipients)
    }

    /// Packet payloads (plaintext) for this content.
    fn encode(&self) -> Result<Vec<Payload>> {
        let mut out = Vec::with_capacity(self.data_keys.len() + 1);
        for key in &self.data_keys {
            let mut p = Zeroizing::new(Vec::with_capacity(8 + KEY_LEN));
            p.extend_from_slice(&PACKET_DATA_ENC.to_le_bytes());
            p.extend_from_slice(&DATA_METHOD_CHACHA20.to_le_bytes());
            p.extend_from_slice(key.as_bytes());
            out.push(p);
        }
        if let Some(edits) = &self.edit_list {
            let lengths = edits.lengths();
            let count = u32::try_from(lengths.len()).map_err(|_| Error::InvalidEditList("more than 2^32-1 lengths"))?;
            let mut p = Zeroizing::new(Vec::with_capacity(8 + 8 * lengths.len()));
            p.extend_from_slice(&PACKET_EDIT_LIST.to_le_bytes());
            p.extend_from_slice(&count.to_le_bytes());
            for len in lengths {
                p.extend_from_slice(&len.to_le_bytes());
            }
            out.push(p);
        }
        Ok(out)
    }

    /// Interprets decrypted packet payloads (§3.2.2–§3.2.4, §3.3.3).
    fn decode(payloads: &[Payload]) -> Result<Self> {
        let mut data_keys = Vec::new();
        let mut edit_list = None;
        for p in payloads {
            let packet_type = le_u32(p.get(..4).ok_or(Error::ShortPacket("packet type"))?);
            match packet_type {
                PACKET_DATA_ENC => {
                    let method = le_u32(p.get(4..8).ok_or(Error::ShortPacket("data encryption method"))?);
                    if method != DATA_METHOD_CHACHA20 {
                        return Err(Error::UnsupportedDataEncryptionMethod(method));
                    }
                    let key = p.get(8..8 + KEY_LEN).ok_or(Error::ShortPacket("data key"))?;
                    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
                    bytes.copy_from_slice(key);
                    data_keys.push(DataKey::from_bytes(*bytes));
                }
                PACKET_EDIT_LIST => {
                    if edit_list.is_some() {
                        return Err(Error::MultipleEditLists);
                    }
                    let count = le_u32(p.get(4..8).ok_or(Error::ShortPacket("edit list count"))?) as usize;
                    let body =
                        p.get(8..).filter(|b| b.len() / 8 >= count).ok_or(Error::ShortPacket("edit list lengths"))?;
                    let lengths = body
                        .chunks_exact(8)
                        .take(count)
                        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                        .collect();
                    edit_list = Some(EditList::new(lengths));
                }
                other => return Err(Error::UnknownPacketType(other)),
            }
        }
        if data_keys.is_empty() {
            return Err(Error::NoDataKey);
        }
        Ok(DecryptedHeader { data_keys, edit_list })
    }
}

/// Re-addresses a header to `recipients` without touching the body
/// (like the Python tool's `reencrypt`).
///
/// Every packet `reader` can decrypt is re-encrypted by `sender` for each
/// recipient, payloads unchanged. With `trim == false`, packets `reader`
/// cannot decrypt (other readers') are kept as they are, like the Python
/// default; with `trim == true` they are dropped (its `--trim`).
pub fn reencrypt_header(
    header_bytes: &[u8],
    reader: &SecretKey,
    recipients: &[PublicKey],
    sender: &SecretKey,
    trim: bool,
) -> Result<Vec<u8>> {
    let header = Header::parse(header_bytes)?;
    let opened = header.open_packets(reader)?;
    // Refuse to re-address a header we could not fully make sense of.
    DecryptedHeader::decode(&opened.payloads)?;
    let mut packets = encrypt_packets(&opened.payloads, sender, recipients)?;
    if !trim {
        packets.extend(opened.others.into_iter().map(<[u8]>::to_vec));
    }
    Ok(Header { packets }.to_bytes())
}

/// Builds a header that makes a reader see only `range` of the data, plus
/// the plan of which body segments to keep (like the Python tool's
/// `rearrange`, but also composing with an existing edit list).
///
/// `range` is in the coordinates of the data as `reader` currently sees it.
/// The returned header carries `reader`'s data keys and the new edit list,
/// encrypted by `sender` for `recipients`; the new body must consist of the
/// segments in [`RangePlan::segments`], in order.
pub fn rearrange_header(
    header_bytes: &[u8],
    reader: &SecretKey,
    range: ByteRange,
    sender: &SecretKey,
    recipients: &[PublicKey],
) -> Result<(Vec<u8>, RangePlan)> {
    let content = Header::decrypt(header_bytes, reader)?;
    let plan = plan_range(range, content.edit_list())?;
    let content = content.with_edit_list(Some(plan.edit_list().clone()));
    Ok((Header::encrypt(&content, sender, recipients)?, plan))
}

/// Encrypts each payload for each recipient (§3.3.1).
fn encrypt_packets(payloads: &[Payload], sender: &SecretKey, recipients: &[PublicKey]) -> Result<Vec<Vec<u8>>> {
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }
    let writer_pk = sender.public_key();
    let mut packets = Vec::with_capacity(payloads.len() * recipients.len());
    for recipient in recipients {
        let shared = kx::writer_shared_key(sender, recipient)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(*shared));
        for payload in payloads {
            let length = PACKET_OVERHEAD + 4 + payload.len();
            if length > MAX_PACKET_LEN as usize {
                return Err(Error::PacketTooLarge {
                    index: packets.len() as u32,
                    length: u32::try_from(length).unwrap_or(u32::MAX),
                    limit: MAX_PACKET_LEN,
                });
            }
            let mut nonce = [0u8; NONCE_LEN];
            getrandom::fill(&mut nonce)?;
            let mut packet = Vec::with_capacity(length - 4);
            packet.extend_from_slice(&METHOD_X25519_CHACHA20.to_le_bytes());
            packet.extend_from_slice(writer_pk.as_bytes());
            packet.extend_from_slice(&nonce);
            let start = packet.len();
            packet.extend_from_slice(payload);
            let tag = cipher
                .encrypt_inout_detached(&Nonce::from(nonce), &[], (&mut packet[start..]).into())
                .map_err(|_| Error::Io(std::io::Error::other("header packet encryption failed")))?;
            packet.extend_from_slice(&tag);
            packets.push(packet);
        }
    }
    Ok(packets)
}

/// Decrypts one packet (without its length field) for `reader`, or `None`
/// if it is not for this reader (§3.3.2: not an error).
fn open_packet(packet: &[u8], reader: &SecretKey) -> Option<Payload> {
    if packet.len() < PACKET_OVERHEAD || le_u32(&packet[..4]) != METHOD_X25519_CHACHA20 {
        return None;
    }
    let mut writer = [0u8; KEY_LEN];
    writer.copy_from_slice(&packet[4..4 + KEY_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&packet[4 + KEY_LEN..4 + KEY_LEN + NONCE_LEN]);
    let body = &packet[4 + KEY_LEN + NONCE_LEN..];
    let (ciphertext, tag) = body.split_at(body.len() - MAC_LEN);
    let mut tag_bytes = [0u8; MAC_LEN];
    tag_bytes.copy_from_slice(tag);

    let shared = kx::reader_shared_key(reader, &PublicKey::from_bytes(writer)).ok()?;
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    ChaCha20Poly1305::new(&Key::from(*shared))
        .decrypt_inout_detached(&Nonce::from(nonce), &[], plain.as_mut_slice().into(), &Tag::from(tag_bytes))
        .ok()?;
    Some(plain)
}

fn read_exact_or(input: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<()> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::TruncatedHeader(what),
        _ => Error::Io(e),
    })
}

/// `bytes` is always a 4-byte slice here.
fn le_u32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    fn keys() -> (KeyPair, KeyPair, KeyPair) {
        (KeyPair::generate().unwrap(), KeyPair::generate().unwrap(), KeyPair::generate().unwrap())
    }

    #[test]
    fn layout_matches_spec() {
        let (w, r, _) = keys();
        let content = DecryptedHeader::new(DataKey::from_bytes([3; 32]));
        let bytes = Header::encrypt(&content, &w.secret, &[r.public]).unwrap();
        // 16 preamble + (4 len + 4 method + 32 pk + 12 nonce + 40 payload + 16 MAC)
        assert_eq!(bytes.len(), 16 + 108);
        assert_eq!(&bytes[..8], b"crypt4gh");
        assert_eq!(bytes[8..16], [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(bytes[16..24], [108, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[24..56], w.public.as_bytes());
    }

    #[test]
    fn multi_recipient_and_edit_list_round_trip() {
        let (w, a, b) = keys();
        let content = DecryptedHeader::with_data_keys(
            vec![DataKey::generate().unwrap(), DataKey::generate().unwrap()],
            Some(EditList::new(vec![1, 2, 3])),
        )
        .unwrap();
        let bytes = content.encrypt(&w.secret, &[a.public, b.public]).unwrap();
        assert_eq!(Header::parse(&bytes).unwrap().packet_count(), 6);
        assert_eq!(Header::decrypt(&bytes, &a.secret).unwrap(), content);
        assert_eq!(Header::decrypt(&bytes, &b.secret).unwrap(), content);
        assert!(matches!(Header::decrypt(&bytes, &w.secret), Err(Error::NoDecryptablePacket)));
    }

    #[test]
    fn reencrypt_keeps_or_trims_other_packets() {
        let (w, a, b) = keys();
        let c = KeyPair::generate().unwrap();
        let content = DecryptedHeader::new(DataKey::generate().unwrap());
        let bytes = content.encrypt(&w.secret, &[a.public, b.public]).unwrap();
        let kept = reencrypt_header(&bytes, &a.secret, &[c.public], &a.secret, false).unwrap();
        assert_eq!(Header::parse(&kept).unwrap().packet_count(), 2); // c's + b's
        assert_eq!(Header::decrypt(&kept, &c.secret).unwrap(), content);
        assert_eq!(Header::decrypt(&kept, &b.secret).unwrap(), content);
        assert!(Header::decrypt(&kept, &a.secret).is_err());
        let trimmed = reencrypt_header(&bytes, &a.secret, &[c.public], &w.secret, true).unwrap();
        assert_eq!(Header::parse(&trimmed).unwrap().packet_count(), 1);
        assert!(Header::decrypt(&trimmed, &b.secret).is_err());
        assert!(matches!(
            reencrypt_header(&bytes, &c.secret, &[a.public], &w.secret, true),
            Err(Error::NoDecryptablePacket)
        ));
        assert!(matches!(reencrypt_header(&bytes, &a.secret, &[], &w.secret, true), Err(Error::NoRecipients)));
    }

    #[test]
    fn rearrange_composes_edit_lists() {
        let (w, a, _) = keys();
        let content =
            DecryptedHeader::new(DataKey::generate().unwrap()).with_edit_list(Some(EditList::new(vec![100, 1000])));
        let bytes = content.encrypt(&w.secret, &[a.public]).unwrap();
        let (new, plan) = rearrange_header(&bytes, &a.secret, ByteRange::new(10, 20), &a.secret, &[a.public]).unwrap();
        let got = Header::decrypt(&new, &a.secret).unwrap();
        assert_eq!(got.edit_list().unwrap().lengths(), &[110, 10]);
        assert_eq!(got.data_keys(), content.data_keys());
        assert!(plan.contains_segment(0) && !plan.contains_segment(1));
    }

    fn encrypt_raw(payload: &[u8], w: &KeyPair, r: &KeyPair) -> Vec<u8> {
        let packets = encrypt_packets(&[Zeroizing::new(payload.to_vec())], &w.secret, &[r.public]).unwrap();
        Header { packets }.to_bytes()
    }

    #[test]
    fn payload_rules_are_enforced() {
        let (w, r, _) = keys();
        let dec = |payload: &[u8]| Header::decrypt(&encrypt_raw(payload, &w, &r), &r.secret);
        let mut data = vec![0u8; 40];
        assert!(dec(&data).is_ok());
        data.extend_from_slice(&[0; 24]); // padding is allowed (§3.2.1)
        assert!(dec(&data).is_ok());
        assert!(matches!(dec(&data[..39]), Err(Error::ShortPacket(_))));
        assert!(matches!(dec(&[0, 0]), Err(Error::ShortPacket(_))));
        assert!(matches!(dec(&[0, 0, 0, 0, 0, 0, 0, 0]), Err(Error::ShortPacket(_))));
        let mut aead = vec![0u8; 48];
        aead[4] = 1;
        assert!(matches!(dec(&aead), Err(Error::UnsupportedDataEncryptionMethod(1))));
        assert!(matches!(dec(&[7, 0, 0, 0]), Err(Error::UnknownPacketType(7))));
        assert!(matches!(dec(&[1, 0, 0, 0, 0, 0, 0, 0]), Err(Error::NoDataKey)));
        assert!(matches!(dec(&[1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), Err(Error::ShortPacket(_))));

        // Two edit lists: rejected (§3.2.4).
        let payloads = [
            Zeroizing::new(data.clone()),
            Zeroizing::new(vec![1, 0, 0, 0, 0, 0, 0, 0]),
            Zeroizing::new(vec![1, 0, 0, 0, 0, 0, 0, 0]),
        ];
        let packets = encrypt_packets(&payloads, &w.secret, &[r.public]).unwrap();
        let bytes = Header { packets }.to_bytes();
        assert!(matches!(Header::decrypt(&bytes, &r.secret), Err(Error::MultipleEditLists)));
    }

    #[test]
    fn envelope_rules_are_enforced() {
        let (w, r, _) = keys();
        let good = DecryptedHeader::new(DataKey::generate().unwrap()).encrypt(&w.secret, &[r.public]).unwrap();
        let mut bad = good.clone();
        bad[0] = b'C';
        assert!(matches!(Header::parse(&bad), Err(Error::BadMagic)));
        let mut bad = good.clone();
        bad[8] = 2;
        assert!(matches!(Header::parse(&bad), Err(Error::UnsupportedVersion(2))));
        let mut bad = good.clone();
        bad[12] = 0;
        assert!(matches!(Header::parse(&bad), Err(Error::NoPackets)));
        let mut bad = good.clone();
        bad[16] = 7;
        assert!(matches!(Header::parse(&bad), Err(Error::InvalidPacketLength { index: 0, length: 7 })));
        let mut bad = good.clone();
        bad[19] = 0xff;
        assert!(matches!(Header::parse(&bad), Err(Error::PacketTooLarge { .. })));
        let mut bad = good.clone();
        bad.push(0);
        assert!(matches!(Header::parse(&bad), Err(Error::TrailingHeaderBytes(1))));
        for cut in 0..good.len() {
            assert!(matches!(Header::parse(&good[..cut]), Err(Error::TruncatedHeader(_))), "cut {cut}");
        }
        // A packet with another method or a broken MAC is just "not for us".
        let mut other = good.clone();
        other[20] = 1;
        assert!(matches!(Header::decrypt(&other, &r.secret), Err(Error::NoDecryptablePacket)));
        let mut other = good.clone();
        let last = other.len() - 1;
        other[last] ^= 1;
        assert!(matches!(Header::decrypt(&other, &r.secret), Err(Error::NoDecryptablePacket)));
    }

    #[test]
    fn oversized_headers_are_refused() {
        // Five maximal packets exceed the 64 MiB header limit; the fifth
        // packet's data is never buffered.
        let mut bytes = b"crypt4gh\x01\x00\x00\x00\x05\x00\x00\x00".to_vec();
        for _ in 0..5 {
            bytes.extend_from_slice(&MAX_PACKET_LEN.to_le_bytes());
            bytes.resize(bytes.len() + MAX_PACKET_LEN as usize - 4, 0);
        }
        assert!(matches!(Header::parse(&bytes), Err(Error::HeaderTooLarge { .. })));
    }

    #[test]
    fn read_header_bytes_stops_at_body() {
        let (w, r, _) = keys();
        let header = DecryptedHeader::new(DataKey::generate().unwrap()).encrypt(&w.secret, &[r.public]).unwrap();
        let mut file = header.clone();
        file.extend_from_slice(b"BODY");
        let mut input = &file[..];
        assert_eq!(read_header_bytes(&mut input).unwrap(), header);
        assert_eq!(input, b"BODY");
    }
}
