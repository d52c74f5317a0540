use std::collections::BTreeMap;
use std::path::Path;

/// The reference values of one LAMMPS force-style test file.
#[derive(Debug, Clone, Default)]
pub struct LammpsYaml {
    pub epsilon: f64,
    pub natoms: usize,
    pub init_vdwl: f64,
    pub init_stress: [f64; 6],
    pub init_forces: BTreeMap<u64, [f64; 3]>,
    pub run_vdwl: f64,
    pub run_stress: [f64; 6],
    pub run_forces: BTreeMap<u64, [f64; 3]>,
    /// Every top-level key with its raw text.
    pub raw: BTreeMap<String, String>,
}

impl LammpsYaml {
    /// Reads the subset of YAML these files use: `key: value` and block scalars
    /// (`key: ! |` followed by indented lines).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut raw = BTreeMap::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            if line.starts_with("---") || line.starts_with("...") {
                continue;
            }
            if line.starts_with(' ') || line.is_empty() {
                if let Some((_, v)) = &mut current {
                    v.push_str(line.trim());
                    v.push('\n');
                }
                continue;
            }
            if let Some((k, v)) = current.take() {
                raw.insert(k, v);
            }
            let Some((key, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            let block = value.starts_with('!') || value.starts_with('|');
            let inline = if block { String::new() } else { value.trim_matches('"').to_string() };
            let inline = if value.starts_with("! \"") { value[2..].trim_matches('"').to_string() } else { inline };
            current = Some((key.trim().to_string(), inline));
        }
        if let Some((k, v)) = current.take() {
            raw.insert(k, v);
        }
        let num = |k: &str| -> Result<f64, String> {
            raw.get(k)
                .ok_or(format!("{}: no key {k}", path.display()))?
                .trim()
                .parse::<f64>()
                .map_err(|e| format!("{}: {k}: {e}", path.display()))
        };
        let six = |k: &str| -> Result<[f64; 6], String> {
            let v: Vec<f64> = raw
                .get(k)
                .ok_or(format!("{}: no key {k}", path.display()))?
                .split_whitespace()
                .map(|t| t.parse::<f64>().map_err(|e| format!("{k}: {e}")))
                .collect::<Result<_, _>>()?;
            v.try_into().map_err(|_| format!("{}: {k} needs 6 numbers", path.display()))
        };
        let forces = |k: &str| -> Result<BTreeMap<u64, [f64; 3]>, String> {
            let mut out = BTreeMap::new();
            for line in raw.get(k).ok_or(format!("{}: no key {k}", path.display()))?.lines() {
                let t: Vec<&str> = line.split_whitespace().collect();
                if t.len() != 4 {
                    continue;
                }
                let id: u64 = t[0].parse().map_err(|e| format!("{k}: {e}"))?;
                let f = [t[1], t[2], t[3]].map(|s| s.parse::<f64>().unwrap_or(f64::NAN));
                out.insert(id, f);
            }
            Ok(out)
        };
        Ok(Self {
            epsilon: num("epsilon")?,
            natoms: num("natoms")? as usize,
            init_vdwl: num("init_vdwl")?,
            init_stress: six("init_stress")?,
            init_forces: forces("init_forces")?,
            run_vdwl: num("run_vdwl")?,
            run_stress: six("run_stress")?,
            run_forces: forces("run_forces")?,
            raw,
        })
    }
}
