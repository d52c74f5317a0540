//! Ornstein–Uhlenbeck velocities: ⟨v(t)·v(0)⟩ = d·(k_BT/m)·e^(−γt), so Green–Kubo gives
//! D = k_BT/(m·γ) exactly (transport.md §5.6).

use calcine_core::units::{BOLTZ, MVV2E};
use calcine_core::{SimBox, Vec3};

use super::estimators::{analyse, spec_of};
use super::walks::{frame_of, normal3, table, Generated, Layout};

#[test]
fn ornstein_uhlenbeck_velocities_give_kt_over_m_gamma() {
    let (n, frames, dt) = (200usize, 4000usize, 0.01);
    let (mass, temperature, gamma) = (10.0, 300.0, 10.0);
    let v2 = BOLTZ * temperature / (mass * MVV2E);
    let exact = v2 / gamma;
    let decay = (-gamma * dt).exp();
    let kick = (v2 * (1.0 - decay * decay)).sqrt();
    // Exact OU update for velocities; positions integrate them.
    let mut v: Vec<[f64; 3]> = (0..n).map(|i| normal3(91, i as u64, 0).map(|g| g * v2.sqrt())).collect();
    let mut x = vec![[0.0; 3]; n];
    let mut paths = vec![Vec::with_capacity(frames); n];
    let mut vels = vec![Vec::with_capacity(frames); n];
    for k in 0..frames {
        for i in 0..n {
            paths[i].push(x[i]);
            vels[i].push(v[i]);
            let g = normal3(92, i as u64, k as u64);
            for c in 0..3 {
                x[i][c] += v[i][c] * dt;
                v[i][c] = v[i][c] * decay + kick * g[c];
            }
        }
    }
    let species = vec![0u32; n];
    let tab = table(&[("Ar", mass)]);
    let simbox = SimBox::cubic(60.0).unwrap();
    let mut reader = Generated::new(|k| {
        (k < frames).then(|| {
            let mut f = frame_of(&paths, &species, &tab, &simbox, k, dt, Layout::Images);
            f.velocities = Some(vels.iter().map(|p| Vec3::from(p[k])).collect());
            f
        })
    });
    let r = analyse(&mut reader, &spec_of(&[("Ar", 0.0)], temperature));
    let gk = r.green_kubo.as_ref().expect("velocities give Green-Kubo");
    assert!((gk.diffusion[0] - exact).abs() < 0.03 * exact, "GK D = {}, exact k_BT/(mγ) = {exact}", gk.diffusion[0]);
    let d = r.diffusion[0];
    assert!((d.value - exact).abs() < 3.0 * d.std_error + 0.02 * exact, "Einstein D = {d:?}, exact {exact}");
    // Collective: independent particles, so L_GK = N·D/(V k_B T) as the self term.
    let l_self = r.onsager_self[0][0].value;
    assert!((gk.onsager[0][0] - l_self).abs() < 0.3 * l_self, "GK L {} vs self {l_self}", gk.onsager[0][0]);
}
