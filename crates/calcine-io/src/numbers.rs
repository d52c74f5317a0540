//! Number formatting that reads back bit for bit, and number parsing fast enough for
//! trajectories of gigabytes.
//!
//! Both written forms print enough digits that `strtod`, Python's `float` and Rust's
//! `parse` recover the very same `f64`, so a file written by calcine and read by ASE,
//! LAMMPS or calcine gives back identical positions and velocities.
//!
//! [`parse_f64`] gives exactly what `str::parse::<f64>` gives, for every input: the plain
//! decimals that fill trajectories (at most 19 digits, a power of ten within 10^±22) take
//! Clinger's fast path, where the digits as an integer m ≤ 2^53 and 10^e are both exact
//! doubles, so the one IEEE multiplication or division m·10^e, m/10^−e is the correctly
//! rounded result, the same double the standard library's correctly rounded parser
//! returns; anything else (more digits, large exponents, `inf`, `nan`, malformed text) goes
//! to the standard library.

use std::fmt::Write;

/// Appends the shortest decimal that parses back to `value` exactly.
///
/// Rust's `Display` for `f64` is shortest-round-trip but never uses an exponent, which
/// would print 1e-300 with 300 zeros; outside `[1e-5, 1e16)` the `{:e}` form (also
/// shortest-round-trip) is used instead.
pub(crate) fn push_shortest(out: &mut String, value: f64) {
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) || !value.is_finite() {
        write!(out, "{value}").expect("writing to a String cannot fail");
    } else {
        write!(out, "{value:e}").expect("writing to a String cannot fail");
    }
}

/// Appends `value` as C's `%.16e` prints it (`7.0000000000000000e+00`), the form LAMMPS
/// uses for box bounds; 17 significant digits always round-trip.
pub(crate) fn push_c_exp16(out: &mut String, value: f64) {
    if !value.is_finite() {
        write!(out, "{value}").expect("writing to a String cannot fail");
        return;
    }
    let rust = format!("{value:.16e}");
    let (mantissa, exponent) = rust.split_once('e').expect("{:e} output always has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    write!(out, "{mantissa}e{sign}{:02}", exponent.abs()).expect("writing to a String cannot fail");
}

/// Exact powers of ten, 10^0 ..= 10^22 (the largest exact in a double).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// `token` parsed as `str::parse::<f64>` parses it (bit for bit), `None` where that fails.
#[inline]
pub(crate) fn parse_f64(token: &[u8]) -> Option<f64> {
    match parse_f64_fast(token) {
        Some(x) => Some(x),
        None => std::str::from_utf8(token).ok()?.parse::<f64>().ok(),
    }
}

/// Clinger's fast path (see the module docs); `None` for what it does not cover.
#[inline]
fn parse_f64_fast(s: &[u8]) -> Option<f64> {
    match parse_f64_prefix(s) {
        Some((value, used)) if used == s.len() => Some(value),
        _ => None,
    }
}

/// Clinger's fast path on the longest prefix of `s` shaped like a decimal number: the
/// value and the bytes it took, or `None` where the fast path does not apply. The value
/// is `str::parse`'s for that prefix taken as a token on its own, so a caller that finds
/// a separator right after it has parsed the token exactly.
#[inline(always)]
pub(crate) fn parse_f64_prefix(s: &[u8]) -> Option<(f64, usize)> {
    // The sign without a branch (signs in a trajectory are a coin toss to a predictor).
    let first = *s.first()?;
    let negative = first == b'-';
    let mut i = usize::from(negative || first == b'+');
    let mut mantissa: u64 = 0;
    let int_start = i;
    while let Some(d) = s.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(d) = s.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    let digits = int_digits + frac_digits;
    // 19 digits cannot overflow a u64 (wrapping above is then exact).
    if digits == 0 || digits > 19 {
        return None;
    }
    let mut exponent = -(frac_digits as i64);
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_exponent = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_start = i;
        let mut e: i64 = 0;
        while let Some(d) = s.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            if i - exp_start >= 6 {
                return None;
            }
            e = 10 * e + i64::from(d);
            i += 1;
        }
        if i == exp_start {
            return None;
        }
        exponent += if negative_exponent { -e } else { e };
    }
    if mantissa > 1 << 53 || !(-22..=22).contains(&exponent) {
        return None;
    }
    let m = mantissa as f64;
    let value = if exponent >= 0 { m * POW10[exponent as usize] } else { m / POW10[(-exponent) as usize] };
    // value ≥ 0, so setting the sign bit is negation (−0 included).
    Some((f64::from_bits(value.to_bits() | u64::from(negative) << 63), i))
}

/// `token` parsed as `str::parse::<u64>` parses it, `None` where that fails.
#[inline]
pub(crate) fn parse_u64(token: &[u8]) -> Option<u64> {
    if !token.is_empty() && token.len() <= 19 && token.iter().all(u8::is_ascii_digit) {
        return Some(token.iter().fold(0u64, |acc, &c| 10 * acc + u64::from(c - b'0')));
    }
    std::str::from_utf8(token).ok()?.parse::<u64>().ok()
}

/// `token` parsed as `str::parse::<i64>` parses it, `None` where that fails.
#[inline]
pub(crate) fn parse_i64(token: &[u8]) -> Option<i64> {
    let (negative, digits) = match token.first() {
        Some(b'-') => (true, &token[1..]),
        _ => (false, token),
    };
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        let magnitude = digits.iter().fold(0i64, |acc, &c| 10 * acc + i64::from(c - b'0'));
        return Some(if negative { -magnitude } else { magnitude });
    }
    std::str::from_utf8(token).ok()?.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decimal strings of many shapes, from a fixed-seed generator.
    fn number_strings() -> Vec<String> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut out = Vec::new();
        for _ in 0..200_000 {
            let r = next();
            let bits = next();
            let x = f64::from_bits(bits);
            let s = match r % 12 {
                0 => format!("{x}"),
                1 => format!("{x:e}"),
                2 => format!("{:.5}", (bits % 10_000_000) as f64 / 1000.0 - 5000.0),
                3 => format!("{:.*}", (r >> 8) as usize % 20, (bits as i64 as f64) * 1e-12),
                4 => format!("{}e{}", bits % 100_000_000_000, (r >> 8) as i64 % 60 - 30),
                5 => format!("{}.{:0>w$}", bits % 1000, (r >> 20) % 1_000_000_000_000_000, w = (r >> 8) as usize % 20),
                6 => format!("-{}.{}E+{}", bits % 97, r % 10_000, (r >> 30) % 25),
                7 => format!("{:.16e}", x),
                8 => format!("{}", (bits >> 11) as f64),
                9 => format!("{}", (bits % (1 << 54)) as f64 / 3.0),
                10 => format!("{:.3}", (bits % 100_000) as f64 * 0.001),
                _ => format!("{}{}", ["", "-", "+"][r as usize % 3], bits >> (r % 64)),
            };
            out.push(s);
        }
        for s in [
            "0",
            "-0",
            "+0",
            "0.0",
            "-0.0",
            ".5",
            "5.",
            ".",
            "",
            "-",
            "+",
            "e5",
            "1e",
            "1e+",
            "1.5e-5",
            "1E22",
            "1e23",
            "9007199254740993",
            "9007199254740992",
            "9007199254740993.0",
            "1e-22",
            "1e-23",
            "0.1",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "infinity",
            "1e400",
            "-1e400",
            "1e-400",
            "0x1",
            "1_0",
            "1.2.3",
            "--1",
            "1e0000007",
            "12345678901234567890",
            "1234567890123456789",
            "0.0000000000000000000001",
            "4.9e-324",
            "2.2250738585072014e-308",
            " 1",
            "1 ",
            "1,5",
            "１",
        ] {
            out.push(s.to_string());
        }
        out
    }

    #[test]
    fn parse_f64_is_std_parse_bit_for_bit() {
        let mut fast = 0;
        for s in number_strings() {
            let ours = parse_f64(s.as_bytes()).map(f64::to_bits);
            let std = s.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(ours, std, "'{s}'");
            fast += usize::from(parse_f64_fast(s.as_bytes()).is_some());
        }
        // The fast path must actually carry the usual trajectory numbers.
        assert!(fast > 50_000, "only {fast} strings took the fast path");
        for s in ["25.12345", "-3.45678", "0.5", "1e-9", "6.925180602620905", "-0"] {
            assert!(parse_f64_fast(s.as_bytes()).is_some(), "{s}");
        }
    }

    #[test]
    fn parse_integers_is_std_parse() {
        for s in number_strings() {
            assert_eq!(parse_u64(s.as_bytes()), s.parse::<u64>().ok(), "'{s}'");
            assert_eq!(parse_i64(s.as_bytes()), s.parse::<i64>().ok(), "'{s}'");
        }
        for s in [
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "9223372036854775807",
            "+7",
            "-",
            "007",
        ] {
            assert_eq!(parse_u64(s.as_bytes()), s.parse::<u64>().ok(), "'{s}'");
            assert_eq!(parse_i64(s.as_bytes()), s.parse::<i64>().ok(), "'{s}'");
        }
    }

    fn shortest(value: f64) -> String {
        let mut s = String::new();
        push_shortest(&mut s, value);
        s
    }

    fn c_exp16(value: f64) -> String {
        let mut s = String::new();
        push_c_exp16(&mut s, value);
        s
    }

    #[test]
    fn c_style_exponent_matches_printf() {
        assert_eq!(c_exp16(7.0), "7.0000000000000000e+00");
        assert_eq!(c_exp16(0.0), "0.0000000000000000e+00");
        assert_eq!(c_exp16(-1.5e-7), "-1.4999999999999999e-07");
        assert_eq!(c_exp16(1.0e123), "9.9999999999999998e+122");
        assert_eq!(c_exp16(1.0e-300), "1.0000000000000000e-300");
    }

    #[test]
    fn every_form_round_trips() {
        let values = [
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            -2.5e-7,
            6.925180602620905,
            1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            123_456_789.123_456_79,
            1e16,
        ];
        for value in values {
            let a: f64 = shortest(value).parse().unwrap();
            let b: f64 = c_exp16(value).parse().unwrap();
            assert_eq!(a.to_bits(), value.to_bits(), "{value:e} via {}", shortest(value));
            assert_eq!(b.to_bits(), value.to_bits(), "{value:e} via {}", c_exp16(value));
        }
        assert_eq!(shortest(1e-300), "1e-300");
        assert_eq!(shortest(0.25), "0.25");
    }
}
