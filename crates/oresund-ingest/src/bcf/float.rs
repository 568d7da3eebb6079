//! Floats printed as htslib prints them in VCF text (`kputd` in htslib's `kstring.c`): six
//! significant digits, trailing zeros dropped — `%g` in effect, but between 0.0001 and 999999 the
//! digits come from rounding `d × 10^k` to an integer (ties to even), not from the exact decimal
//! expansion, so the two differ at a few halfway points. Copying the rule keeps a BCF read here
//! byte-identical to `bcftools view` of it.

use std::io::Write;

/// Appends `value` as htslib's `kputd` would.
pub fn push_float(out: &mut Vec<u8>, value: f64) {
    if value == 0.0 {
        out.extend_from_slice(if value.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    if value.is_nan() {
        out.extend_from_slice(if value.is_sign_negative() { b"-nan" } else { b"nan" });
        return;
    }
    let magnitude = value.abs();
    if value < 0.0 {
        out.push(b'-');
    }
    if !(0.0001..=999999.0).contains(&magnitude) {
        push_printf_g(out, magnitude);
        return;
    }
    // The power of ten that leaves six digits before the point.
    let scale: u32 = match magnitude {
        d if d < 0.001 => 9,
        d if d < 0.01 => 8,
        d if d < 0.1 => 7,
        d if d < 1.0 => 6,
        d if d < 10.0 => 5,
        d if d < 100.0 => 4,
        d if d < 1000.0 => 3,
        d if d < 10000.0 => 2,
        d if d < 100000.0 => 1,
        _ => 0,
    };
    let digits = (magnitude * 10f64.powi(scale as i32)).round_ties_even() as u64;
    let unit = 10u64.pow(scale);
    let (whole, fraction) = (digits / unit, digits % unit);
    let _ = write!(out, "{whole}");
    if fraction != 0 {
        let text = format!("{fraction:0width$}", width = scale as usize);
        out.push(b'.');
        out.extend_from_slice(text.trim_end_matches('0').as_bytes());
    }
}

/// C's `printf("%g", value)` for a positive finite or infinite value (precision 6).
fn push_printf_g(out: &mut Vec<u8>, value: f64) {
    if value.is_infinite() {
        out.extend_from_slice(b"inf");
        return;
    }
    let scientific = format!("{value:.5e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let mantissa = strip_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.abs());
    } else {
        let fixed = format!("{value:.*}", (5 - exponent) as usize);
        out.extend_from_slice(strip_zeros(&fixed).as_bytes());
    }
}

/// `1.50000` → `1.5`, `2.00000` → `2`.
fn strip_zeros(number: &str) -> &str {
    if number.contains('.') { number.trim_end_matches('0').trim_end_matches('.') } else { number }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: f64) -> String {
        let mut out = Vec::new();
        push_float(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn prints_like_htslib() {
        // Values and their text from `bcftools view` (htslib 1.16) of a BCF holding them as floats.
        for (value, expected) in [
            (0.0, "0"),
            (1.0, "1"),
            (0.5, "0.5"),
            (29.5, "29.5"),
            (123456.0, "123456"),
            (999999.0, "999999"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (-2.25, "-2.25"),
            (f64::from(0.1f32), "0.1"),
            (f64::from(3.3f32), "3.3"),
            (f64::INFINITY, "inf"),
            (1e-300, "1e-300"),
        ] {
            assert_eq!(text(value), expected, "{value}");
        }
    }

    #[test]
    fn rounds_to_six_significant_digits() {
        assert_eq!(text(1.0000004), "1");
        assert_eq!(text(1.2345678), "1.23457");
        assert_eq!(text(0.0099999999), "0.01");
        assert_eq!(text(999999.4), "999999");
    }
}
