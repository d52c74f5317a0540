//! ReactCA's reaction scores: the ΔG gate times a Tammann or Hüttig onset.
//!
//! With `x = T / Tm_min` (the lowest melting point among the solid reactants) and ΔG in
//! eV/atom (ReactCA `src/rxn_ca/reactions/scorers.py`, `TammanHuttigScoreErf`):
//!
//! - gate `g(ΔG) = ½[1 + erf(−35(ΔG + 0.03))]`,
//! - Tammann onset `f_T(x) = ln(1 + exp(14(x − 0.8)))` for reactions between solids,
//! - Hüttig onset `f_H(x) = 0.25 ln(1 + exp(30(x − 0.33)))` for one solid reactant,
//! - score `f·g`.
//!
//! The constants changed over ReactCA's history; [`ScoreParams::legacy_2023`] is the set
//! that reproduces the scores of ReactCA's shipped BaTiO3 test library (Tammann centre
//! 0.63, gate offset 0.05, Hüttig `ln(1 + exp(8(x − 0.33)))` whenever a gas is a reactant),
//! which `tests` check reaction by reaction.

use crate::library::{PhaseId, PhaseSet};

/// Which reactions take the Hüttig onset instead of Tammann's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HuttigWhen {
    /// Exactly one solid reactant (current ReactCA: decompositions, solid + gas).
    OneSolidReactant,
    /// Any gas among the reactants (ReactCA before March 2024).
    GasReactant,
}

/// The constants of the score (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreParams {
    pub tammann_center: f64,
    pub tammann_slope: f64,
    pub huttig_center: f64,
    pub huttig_slope: f64,
    pub huttig_prefactor: f64,
    pub gate_offset: f64,
    pub gate_slope: f64,
    pub huttig_when: HuttigWhen,
}

impl ScoreParams {
    /// ReactCA `TAMMAN_HUTTIG_SOFTPLUS_GIBBS_ERF` as of master `11fa2cd`.
    pub fn current() -> ScoreParams {
        ScoreParams {
            tammann_center: 0.8,
            tammann_slope: 14.0,
            huttig_center: 0.33,
            huttig_slope: 30.0,
            huttig_prefactor: 0.25,
            gate_offset: 0.03,
            gate_slope: 35.0,
            huttig_when: HuttigWhen::OneSolidReactant,
        }
    }

    /// The constants that scored ReactCA's shipped `batio3_library.json`.
    pub fn legacy_2023() -> ScoreParams {
        ScoreParams {
            tammann_center: 0.63,
            tammann_slope: 14.0,
            huttig_center: 0.33,
            huttig_slope: 8.0,
            huttig_prefactor: 1.0,
            gate_offset: 0.05,
            gate_slope: 35.0,
            huttig_when: HuttigWhen::GasReactant,
        }
    }

    /// The ΔG gate `½[1 + erf(−slope(ΔG + offset))]`.
    pub fn gate(&self, delta_g: f64) -> f64 {
        0.5 * erfc(self.gate_slope * (delta_g + self.gate_offset))
    }

    pub fn tammann(&self, x: f64) -> f64 {
        softplus(self.tammann_slope * (x - self.tammann_center))
    }

    pub fn huttig(&self, x: f64) -> f64 {
        self.huttig_prefactor * softplus(self.huttig_slope * (x - self.huttig_center))
    }

    /// The onset factor of a reaction with these reactants at `temperature`.
    pub fn onset(&self, phases: &PhaseSet, reactants: &[PhaseId], temperature: f64) -> f64 {
        let solids: Vec<PhaseId> = reactants.iter().copied().filter(|&p| !phases.get(p).is_gas).collect();
        let tm_min = solids.iter().map(|&p| phases.get(p).melting_point).fold(f64::INFINITY, f64::min);
        let x = temperature / tm_min;
        let huttig = match self.huttig_when {
            HuttigWhen::OneSolidReactant => solids.len() == 1,
            HuttigWhen::GasReactant => solids.len() < reactants.len(),
        };
        if huttig {
            self.huttig(x)
        } else {
            self.tammann(x)
        }
    }

    /// The score of a reaction with these reactants and ΔG (eV/atom) at `temperature`.
    pub fn score(&self, phases: &PhaseSet, reactants: &[PhaseId], delta_g: f64, temperature: f64) -> f64 {
        self.onset(phases, reactants, temperature) * self.gate(delta_g)
    }
}

/// `ln(1 + e^z)` without overflow.
pub fn softplus(z: f64) -> f64 {
    if z > 30.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// ReactCA's melt-swap probability `s(x) = (20x − 18.5) / (2√((20x − 18.5)² + 1)) + ½`
/// with `x = T / Tm` of the cell's phase (`LiquidSwapController.swap_chance`).
pub fn swap_chance(t_over_tm: f64) -> f64 {
    let a = 20.0 * t_over_tm - 18.5;
    a / (2.0 * (a * a + 1.0).sqrt()) + 0.5
}

/// The complementary error function, to about 1e-14 relative: the Taylor series of erf
/// below 1, Lentz's continued fraction above.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 1.0 {
        // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
    }
    if x > 27.0 {
        return 0.0;
    }
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by Lentz.
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..5000 {
        let a = k as f64 * 0.5;
        d = x + a * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = x + a / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        // Values from Abramowitz & Stegun table 7.1 and mpmath.
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028513),
            (2.0, 0.004677734981047266),
            (2.5, 0.000406952017444959),
            (3.0, 2.209049699858544e-05),
            (5.0, 1.537459794428035e-12),
            (-1.0, 1.8427007929497148),
        ] {
            let got = erfc(x);
            assert!((got - want).abs() <= 1e-13 * want.abs(), "erfc({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn gate_and_onsets_match_the_reference_numbers() {
        // The values quoted in ReactCA's documentation of its scorer.
        let p = ScoreParams::current();
        assert!((p.gate(0.0) - 0.069).abs() < 1e-3);
        assert!((p.gate(-0.03) - 0.5).abs() < 1e-12);
        assert!((p.gate(-0.05) - 0.84).abs() < 5e-3);
        let f = |t: f64| p.tammann(t / 2093.0);
        for (t, want) in [(800.0, 0.0029), (1000.0, 0.011), (1200.0, 0.041), (1400.0, 0.148), (1600.0, 0.475)] {
            assert!((f(t) - want).abs() < 0.02 * want + 2e-4, "f_T({t}) = {}", f(t));
        }
        assert!((p.huttig(1000.0 / 1600.0) - 2.2).abs() < 0.05);
        assert!((swap_chance(0.9) - 0.28).abs() < 0.01);
        assert!((swap_chance(0.925) - 0.5).abs() < 1e-12);
        assert!((swap_chance(1.0) - 0.92).abs() < 0.01);
    }
}
