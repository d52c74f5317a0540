//! Chemical formulas: parsing (`Ba4Ti13O30`, `Ca(OH)2`) into integer element counts, and
//! standard atomic weights for masses.

use crate::error::{AutomatonError, Result};
use std::collections::BTreeMap;

/// Element symbols by atomic number minus one, with IUPAC standard atomic weights (g/mol,
/// abridged to five significant figures; conventional values for elements given as ranges).
const ELEMENTS: &[(&str, f64)] = &[
    ("H", 1.008),
    ("He", 4.0026),
    ("Li", 6.94),
    ("Be", 9.0122),
    ("B", 10.81),
    ("C", 12.011),
    ("N", 14.007),
    ("O", 15.999),
    ("F", 18.998),
    ("Ne", 20.180),
    ("Na", 22.990),
    ("Mg", 24.305),
    ("Al", 26.982),
    ("Si", 28.085),
    ("P", 30.974),
    ("S", 32.06),
    ("Cl", 35.45),
    ("Ar", 39.95),
    ("K", 39.098),
    ("Ca", 40.078),
    ("Sc", 44.956),
    ("Ti", 47.867),
    ("V", 50.942),
    ("Cr", 51.996),
    ("Mn", 54.938),
    ("Fe", 55.845),
    ("Co", 58.933),
    ("Ni", 58.693),
    ("Cu", 63.546),
    ("Zn", 65.38),
    ("Ga", 69.723),
    ("Ge", 72.630),
    ("As", 74.922),
    ("Se", 78.971),
    ("Br", 79.904),
    ("Kr", 83.798),
    ("Rb", 85.468),
    ("Sr", 87.62),
    ("Y", 88.906),
    ("Zr", 91.224),
    ("Nb", 92.906),
    ("Mo", 95.95),
    ("Tc", 97.0),
    ("Ru", 101.07),
    ("Rh", 102.91),
    ("Pd", 106.42),
    ("Ag", 107.87),
    ("Cd", 112.41),
    ("In", 114.82),
    ("Sn", 118.71),
    ("Sb", 121.76),
    ("Te", 127.60),
    ("I", 126.90),
    ("Xe", 131.29),
    ("Cs", 132.91),
    ("Ba", 137.33),
    ("La", 138.91),
    ("Ce", 140.12),
    ("Pr", 140.91),
    ("Nd", 144.24),
    ("Pm", 145.0),
    ("Sm", 150.36),
    ("Eu", 151.96),
    ("Gd", 157.25),
    ("Tb", 158.93),
    ("Dy", 162.50),
    ("Ho", 164.93),
    ("Er", 167.26),
    ("Tm", 168.93),
    ("Yb", 173.05),
    ("Lu", 174.97),
    ("Hf", 178.49),
    ("Ta", 180.95),
    ("W", 183.84),
    ("Re", 186.21),
    ("Os", 190.23),
    ("Ir", 192.22),
    ("Pt", 195.08),
    ("Au", 196.97),
    ("Hg", 200.59),
    ("Tl", 204.38),
    ("Pb", 207.2),
    ("Bi", 208.98),
    ("Po", 209.0),
    ("At", 210.0),
    ("Rn", 222.0),
    ("Fr", 223.0),
    ("Ra", 226.0),
    ("Ac", 227.0),
    ("Th", 232.04),
    ("Pa", 231.04),
    ("U", 238.03),
    ("Np", 237.0),
    ("Pu", 244.0),
];

/// The integer element counts of one formula unit, keyed by element symbol.
pub type Composition = BTreeMap<String, u32>;

/// Parses a formula with integer subscripts and parentheses, e.g. `Ba4Ti13O30`, `Ca(OH)2`.
pub fn parse_formula(formula: &str) -> Result<Composition> {
    let err = |reason: String| AutomatonError::Formula { formula: formula.to_string(), reason };
    let chars: Vec<char> = formula.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return Err(err("empty formula".into()));
    }
    let mut stack: Vec<Composition> = vec![Composition::new()];
    let mut i = 0;
    let read_count = |i: &mut usize| -> Result<u32> {
        let start = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i < chars.len() && chars[*i] == '.' {
            return Err(err("fractional subscripts are not supported (use an integer formula unit)".into()));
        }
        if start == *i {
            return Ok(1);
        }
        let s: String = chars[start..*i].iter().collect();
        s.parse::<u32>().map_err(|e| err(format!("subscript '{s}': {e}")))
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '(' || c == '[' {
            stack.push(Composition::new());
            i += 1;
        } else if c == ')' || c == ']' {
            i += 1;
            let n = read_count(&mut i)?;
            let group = stack.pop().filter(|_| !stack.is_empty()).ok_or_else(|| err("unmatched ')'".into()))?;
            let top = stack.last_mut().ok_or_else(|| err("unmatched ')'".into()))?;
            for (el, k) in group {
                *top.entry(el).or_insert(0) += k * n;
            }
        } else if c.is_ascii_uppercase() {
            let mut sym = c.to_string();
            i += 1;
            while i < chars.len() && chars[i].is_ascii_lowercase() {
                sym.push(chars[i]);
                i += 1;
            }
            if atomic_weight(&sym).is_none() {
                return Err(err(format!("unknown element '{sym}'")));
            }
            let n = read_count(&mut i)?;
            if n == 0 {
                return Err(err(format!("zero subscript for {sym}")));
            }
            *stack.last_mut().expect("stack is never empty here").entry(sym).or_insert(0) += n;
        } else {
            return Err(err(format!("unexpected character '{c}'")));
        }
    }
    if stack.len() != 1 {
        return Err(err("unmatched '('".into()));
    }
    Ok(stack.pop().expect("one level left"))
}

/// Standard atomic weight (g/mol) of an element symbol.
pub fn atomic_weight(symbol: &str) -> Option<f64> {
    ELEMENTS.iter().find(|(s, _)| *s == symbol).map(|(_, w)| *w)
}

/// Mass of one formula unit (g/mol).
pub fn formula_mass(comp: &Composition) -> f64 {
    comp.iter().map(|(el, n)| atomic_weight(el).expect("parsed elements are known") * *n as f64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formulas() {
        let c = parse_formula("Ba4Ti13O30").unwrap();
        assert_eq!(c["Ba"], 4);
        assert_eq!(c["Ti"], 13);
        assert_eq!(c["O"], 30);
        let c = parse_formula("Ca(OH)2").unwrap();
        assert_eq!((c["Ca"], c["O"], c["H"]), (1, 2, 2));
        let c = parse_formula("H5NO").unwrap();
        assert_eq!((c["H"], c["N"], c["O"]), (5, 1, 1));
        assert!((formula_mass(&parse_formula("TiO2").unwrap()) - 79.865).abs() < 1e-3);
        for bad in ["", "Xx2", "Ba0.5O", "Ca(OH", "BaO)", "Free Space"] {
            assert!(parse_formula(bad).is_err(), "{bad}");
        }
    }
}
