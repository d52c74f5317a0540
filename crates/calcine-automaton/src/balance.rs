//! Exact balancing of reactions: the integer molar coefficients that conserve every
//! element, found as the null space of the composition matrix in rational arithmetic.

/// An exact fraction with `i128` parts, always reduced and with a positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frac {
    num: i128,
    den: i128,
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Frac {
    fn new(num: i128, den: i128) -> Frac {
        assert!(den != 0);
        let g = gcd(num, den).max(1);
        let s = if den < 0 { -1 } else { 1 };
        Frac { num: s * num / g, den: s * den / g }
    }
    fn int(n: i128) -> Frac {
        Frac { num: n, den: 1 }
    }
    fn is_zero(self) -> bool {
        self.num == 0
    }
    fn sub(self, o: Frac) -> Frac {
        Frac::new(self.num * o.den - o.num * self.den, self.den * o.den)
    }
    fn mul(self, o: Frac) -> Frac {
        Frac::new(self.num * o.num, self.den * o.den)
    }
    fn div(self, o: Frac) -> Frac {
        Frac::new(self.num * o.den, self.den * o.num)
    }
}

/// The null space of `matrix` (rows × columns of small integers), as primitive integer
/// vectors (one per free column, from reduced row echelon form).
pub fn integer_null_space(matrix: &[Vec<i64>], n_cols: usize) -> Vec<Vec<i64>> {
    let mut m: Vec<Vec<Frac>> = matrix.iter().map(|r| r.iter().map(|&x| Frac::int(x as i128)).collect()).collect();
    let mut pivots = Vec::new();
    let mut row = 0;
    for col in 0..n_cols {
        let Some(p) = (row..m.len()).find(|&r| !m[r][col].is_zero()) else { continue };
        m.swap(row, p);
        let pv = m[row][col];
        for c in 0..n_cols {
            m[row][c] = m[row][c].div(pv);
        }
        for r in 0..m.len() {
            if r != row && !m[r][col].is_zero() {
                let f = m[r][col];
                for c in 0..n_cols {
                    m[r][c] = m[r][c].sub(f.mul(m[row][c]));
                }
            }
        }
        pivots.push(col);
        row += 1;
        if row == m.len() {
            break;
        }
    }
    let free: Vec<usize> = (0..n_cols).filter(|c| !pivots.contains(c)).collect();
    let mut basis = Vec::new();
    for &f in &free {
        let mut v = vec![Frac::int(0); n_cols];
        v[f] = Frac::int(1);
        for (r, &pc) in pivots.iter().enumerate() {
            v[pc] = Frac::int(0).sub(m[r][f]);
        }
        let lcm = v.iter().fold(1i128, |acc, x| acc / gcd(acc, x.den) * x.den);
        let ints: Vec<i128> = v.iter().map(|x| x.num * (lcm / x.den)).collect();
        let g = ints.iter().fold(0i128, |acc, &x| gcd(acc, x)).max(1);
        basis.push(ints.iter().map(|&x| (x / g) as i64).collect());
    }
    basis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_ba4ti13o30() {
        // Columns: BaO, TiO2, Ba4Ti13O30 (products positive, reactants negative); rows Ba, Ti, O.
        let m = vec![vec![-1, 0, 4], vec![0, -1, 13], vec![-1, -2, 30]];
        let ns = integer_null_space(&m, 3);
        assert_eq!(ns.len(), 1);
        let v = &ns[0];
        let s = v[2].signum();
        assert_eq!([v[0] * s, v[1] * s, v[2] * s], [4, 13, 1]);
    }
}
