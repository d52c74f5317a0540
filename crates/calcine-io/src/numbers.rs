//! Number formatting that reads back bit for bit.
//!
//! Both forms below print enough digits that `strtod`, Python's `float` and Rust's `parse`
//! recover the very same `f64`, so a file written by calcine and read by ASE, LAMMPS or
//! calcine gives back identical positions and velocities.

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

#[cfg(test)]
mod tests {
    use super::*;

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
