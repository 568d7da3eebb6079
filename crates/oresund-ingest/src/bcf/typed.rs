//! BCF typed values (VCF v4.3 §6.3.3): a type byte — count in the high nibble (15: the count
//! follows as a typed integer), type in the low one — then the values, little-endian, with
//! reserved bit patterns for "missing" and "end of vector". Printed as htslib prints them
//! (`bcf_fmt_array`, `bcf_format_gt` in htslib's `vcf.c`).

use super::float::push_float;

/// The value types of §6.3.3 (64-bit integers are reserved and refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    Int8,
    Int16,
    Int32,
    Float,
    Char,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            0 => Kind::Missing,
            1 => Kind::Int8,
            2 => Kind::Int16,
            3 => Kind::Int32,
            5 => Kind::Float,
            7 => Kind::Char,
            _ => return None,
        })
    }

    /// Bytes per value.
    pub fn width(self) -> usize {
        match self {
            Kind::Missing => 0,
            Kind::Int8 | Kind::Char => 1,
            Kind::Int16 => 2,
            Kind::Int32 | Kind::Float => 4,
        }
    }
}

/// One integer or float of a vector, as stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Int(i32),
    Float(f32),
    Missing,
    EndOfVector,
}

const FLOAT_MISSING: u32 = 0x7F80_0001;
const FLOAT_END: u32 = 0x7F80_0002;

/// Reads `kind` at the start of `bytes` (which holds at least `kind.width()` bytes).
fn value(kind: Kind, bytes: &[u8]) -> Value {
    match kind {
        Kind::Int8 => match bytes[0] as i8 {
            i8::MIN => Value::Missing,
            -127 => Value::EndOfVector,
            v => Value::Int(v.into()),
        },
        Kind::Int16 => match i16::from_le_bytes([bytes[0], bytes[1]]) {
            i16::MIN => Value::Missing,
            -32767 => Value::EndOfVector,
            v => Value::Int(v.into()),
        },
        Kind::Int32 => match i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) {
            i32::MIN => Value::Missing,
            -2147483647 => Value::EndOfVector,
            v => Value::Int(v),
        },
        Kind::Float => match u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) {
            FLOAT_MISSING => Value::Missing,
            FLOAT_END => Value::EndOfVector,
            bits => Value::Float(f32::from_bits(bits)),
        },
        Kind::Missing | Kind::Char => Value::Missing,
    }
}

/// Appends `value` in decimal (without `fmt`: a genotype column is millions of small numbers).
pub fn push_int(out: &mut Vec<u8>, value: i64) {
    if (0..10).contains(&value) {
        out.push(b'0' + value as u8);
        return;
    }
    if value < 0 {
        out.push(b'-');
    }
    let mut magnitude = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A position in a record's bytes; every read is bounds-checked.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// A typed vector read from a record: its kind, count and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Typed<'a> {
    pub kind: Kind,
    pub count: usize,
    pub bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end =
            self.at.checked_add(n).filter(|&end| end <= self.bytes.len()).ok_or_else(|| {
                format!("the record ends {} bytes early", n.saturating_sub(self.bytes.len() - self.at))
            })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    pub fn i32(&mut self) -> Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A type byte: the kind and the count.
    pub fn descriptor(&mut self) -> Result<(Kind, usize), String> {
        let byte = self.take(1)?[0];
        let kind = Kind::from_code(byte & 0x0f).ok_or_else(|| format!("unknown value type {}", byte & 0x0f))?;
        let count = match byte >> 4 {
            15 => {
                let count = self.integer()?;
                usize::try_from(count).map_err(|_| format!("a vector of {count} values"))?
            }
            n => n as usize,
        };
        Ok((kind, count))
    }

    /// A typed vector.
    pub fn typed(&mut self) -> Result<Typed<'a>, String> {
        let (kind, count) = self.descriptor()?;
        let length = count.checked_mul(kind.width()).ok_or("a vector too long to hold")?;
        Ok(Typed { kind, count, bytes: self.take(length)? })
    }

    /// A single typed integer (a dictionary key, a count).
    pub fn integer(&mut self) -> Result<i64, String> {
        let typed = self.typed()?;
        match (typed.kind, typed.count) {
            (Kind::Int8 | Kind::Int16 | Kind::Int32, 1) => match value(typed.kind, typed.bytes) {
                Value::Int(v) => Ok(v.into()),
                _ => Err("a missing value where an integer is required".into()),
            },
            (kind, count) => Err(format!("expected one integer, found {count} values of type {kind:?}")),
        }
    }
}

impl<'a> Typed<'a> {
    /// The integers of the vector (missing and end-of-vector entries left out), for FILTER.
    pub fn integers(&self) -> Result<Vec<i64>, String> {
        if !matches!(self.kind, Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Missing) {
            return Err(format!("expected integers, found type {:?}", self.kind));
        }
        Ok(self
            .bytes
            .chunks_exact(self.kind.width().max(1))
            .filter_map(|b| match value(self.kind, b) {
                Value::Int(v) => Some(v.into()),
                _ => None,
            })
            .collect())
    }

    /// A string value (ID, an allele): the bytes up to the first NUL.
    pub fn string(&self) -> Result<&'a [u8], String> {
        match self.kind {
            Kind::Char | Kind::Missing => Ok(self.bytes.split(|&b| b == 0).next().unwrap_or_default()),
            kind => Err(format!("expected a string, found type {kind:?}")),
        }
    }

    /// An INFO value after `KEY`: nothing for a flag, else `=` and the values.
    pub fn push_info(&self, out: &mut Vec<u8>) {
        if self.count == 0 || self.kind == Kind::Missing {
            return;
        }
        out.push(b'=');
        if self.count == 1 && self.kind != Kind::Char {
            match value(self.kind, self.bytes) {
                Value::Int(v) => push_int(out, v.into()),
                Value::Float(f) => push_float(out, f.into()),
                // A single end-of-vector is printed as its number by htslib; it cannot be written
                // by a VCF, so "missing" is as good.
                Value::Missing | Value::EndOfVector => out.push(b'.'),
            }
        } else if self.count == 1 {
            out.push(self.bytes[0]);
        } else {
            push_array(out, self.kind, self.count, self.bytes);
        }
    }
}

/// `count` values of `kind` in `bytes`, comma-separated (htslib's `bcf_fmt_array`).
pub fn push_array(out: &mut Vec<u8>, kind: Kind, count: usize, bytes: &[u8]) {
    if count == 0 {
        out.push(b'.');
        return;
    }
    if kind == Kind::Char {
        for &byte in bytes.iter().take(count).take_while(|&&b| b != 0) {
            out.push(if byte == 0x07 { b'.' } else { byte });
        }
        return;
    }
    for (j, raw) in bytes.chunks_exact(kind.width().max(1)).take(count).enumerate() {
        let v = value(kind, raw);
        if v == Value::EndOfVector {
            break;
        }
        if j > 0 {
            out.push(b',');
        }
        match v {
            Value::Int(v) => push_int(out, v.into()),
            Value::Float(f) => push_float(out, f.into()),
            Value::Missing | Value::EndOfVector => out.push(b'.'),
        }
    }
}

/// One sample's GT (htslib's `bcf_format_gt`): each allele stored as `(index + 1) << 1 | phased`,
/// 0 for a missing allele; the separator before an allele is `|` when its phased bit is set.
pub fn push_genotype(out: &mut Vec<u8>, kind: Kind, count: usize, bytes: &[u8]) {
    let mut written = 0;
    for raw in bytes.chunks_exact(kind.width().max(1)).take(count) {
        if value(kind, raw) == Value::EndOfVector {
            break;
        }
        // A "missing" integer here prints as htslib prints it: a negative allele.
        let stored = match kind {
            Kind::Int8 => i32::from(raw[0] as i8),
            Kind::Int16 => i32::from(i16::from_le_bytes([raw[0], raw[1]])),
            Kind::Int32 => i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            Kind::Missing | Kind::Float | Kind::Char => 0,
        };
        push_allele(out, stored, written > 0);
        written += 1;
    }
    if written == 0 {
        out.push(b'.');
    }
}

/// Every sample's diploid GT of one-byte alleles, each after a tab; two alleles of 0-9 or
/// missing (the usual) are written in one go.
pub fn push_diploid_column(out: &mut Vec<u8>, values: &[u8]) {
    out.reserve(values.len() * 2);
    // An allele stored as 0 (missing) to 21 (allele 9) is one character.
    let short = |stored: u8| stored < 22;
    let text = |stored: u8| if stored >> 1 == 0 { b'.' } else { b'0' + (stored >> 1) - 1 };
    for pair in values.chunks_exact(2) {
        let (first, second) = (pair[0], pair[1]);
        if short(first) && short(second) {
            let separator = if second & 1 == 1 { b'|' } else { b'/' };
            out.extend_from_slice(&[b'\t', text(first), separator, text(second)]);
        } else {
            out.push(b'\t');
            push_genotype(out, Kind::Int8, 2, pair);
        }
    }
}

/// One stored allele, after its separator unless it is the first.
fn push_allele(out: &mut Vec<u8>, stored: i32, separated: bool) {
    if separated {
        out.push(if stored & 1 == 1 { b'|' } else { b'/' });
    }
    match stored >> 1 {
        0 => out.push(b'.'),
        allele => push_int(out, i64::from(allele) - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(bytes: &[u8]) -> String {
        let mut cursor = Cursor::new(bytes);
        let typed = cursor.typed().unwrap();
        assert!(cursor.take(1).is_err(), "every byte read");
        let mut out = Vec::new();
        typed.push_info(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn info_values_print_like_bcftools() {
        assert_eq!(info(&[0x00]), "", "a flag");
        assert_eq!(info(&[0x11, 7]), "=7");
        assert_eq!(info(&[0x11, 0x80]), "=.");
        assert_eq!(info(&[0x32, 0x2c, 0x01, 0xff, 0xff, 0x00, 0x80]), "=300,-1,.");
        assert_eq!(info(&[0x21, 3, 0x81]), "=3", "end of vector stops the list");
        assert_eq!(info(&[0x15, 0, 0, 0xc0, 0x3f]), "=1.5");
        assert_eq!(info(&[0x37, b'a', b'b', b'c']), "=abc");
        assert_eq!(info(&[0x17, b'x']), "=x");
    }

    #[test]
    fn long_vectors_carry_their_count() {
        let mut bytes = vec![0xf1, 0x11, 20];
        bytes.extend(0..20u8);
        let mut cursor = Cursor::new(&bytes);
        let typed = cursor.typed().unwrap();
        assert_eq!((typed.kind, typed.count), (Kind::Int8, 20));
    }

    #[test]
    fn integers() {
        for value in [0i64, 7, 10, -1, -128, 300, 2147483647, -2147483648] {
            let mut out = Vec::new();
            push_int(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
    }

    #[test]
    fn genotypes() {
        let gt = |bytes: &[u8]| {
            let mut out = Vec::new();
            push_genotype(&mut out, Kind::Int8, bytes.len(), bytes);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(gt(&[2, 4]), "0/1");
        assert_eq!(gt(&[2, 5]), "0|1");
        assert_eq!(gt(&[0, 0]), "./.");
        assert_eq!(gt(&[6, 0x81]), "2", "haploid in a diploid vector");
        assert_eq!(gt(&[0x81, 0x81]), ".");
        assert_eq!(gt(&[24, 23]), "11|10");
        let mut column = Vec::new();
        push_diploid_column(&mut column, &[2, 4, 3, 5, 0, 0, 6, 0x81, 22, 3, 21, 20]);
        assert_eq!(String::from_utf8(column).unwrap(), "\t0/1\t0|1\t./.\t2\t10|0\t9/9");
        let mut wide = Vec::new();
        push_genotype(&mut wide, Kind::Int16, 2, &[2, 0, 0x01, 0x80]);
        assert_eq!(wide, b"0");
        wide.clear();
        push_genotype(&mut wide, Kind::Int16, 2, &[0x2c, 0x01, 3, 0]);
        assert_eq!(wide, b"149|0");
    }

    #[test]
    fn truncated_and_unknown_values_are_errors() {
        assert_eq!(Cursor::new(&[0x31, 1]).typed().unwrap_err(), "the record ends 2 bytes early");
        assert_eq!(Cursor::new(&[0x14]).typed().unwrap_err(), "unknown value type 4");
        assert!(Cursor::new(&[0x21, 1, 2]).integer().is_err());
    }
}
