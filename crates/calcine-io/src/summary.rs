//! `run.json`: the machine-readable summary every run writes beside its outputs, so that
//! scripts, campaigns and benchmarks read numbers instead of scraping printed text.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::{IoError, Thermo};

/// Version of the `run.json` layout; raised when a field changes meaning or is removed.
pub const RUN_SUMMARY_SCHEMA: u32 = 1;

/// Everything a script needs to know about a finished (or failed) run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub schema: u32,
    /// "completed", "failed" or "interrupted" (by SIGINT or SIGTERM, with a checkpoint).
    pub status: String,
    /// The error that ended a failed run.
    pub error: Option<String>,
    pub calcine_version: String,
    /// The git commit calcine was built from (with `-dirty` for uncommitted changes), or
    /// "unknown".
    pub commit: String,
    pub input: String,
    /// SHA-256 of the input file and of every file it names (structure, potential), in
    /// the order they were read.
    pub inputs_sha256: String,
    pub ranks: usize,
    pub threads: usize,
    pub grid: [usize; 3],
    pub atoms: u64,
    pub steps: u64,
    /// The last step computed (a failed run stops before the planned last step).
    pub last_step: u64,
    /// Timestep in ps.
    pub timestep: f64,
    pub potential: String,
    /// Seconds: set-up (reading, decomposition, first forces), the step loop, the whole
    /// process up to writing this file.
    pub setup_s: f64,
    pub loop_s: f64,
    pub wall_s: f64,
    /// Loop time by section (LAMMPS's breakdown: Pair, Neigh, Comm, Output, Modify, Other).
    pub sections_s: BTreeMap<String, f64>,
    pub atom_steps_per_s: f64,
    pub us_per_atom_step: f64,
    pub neighbor_builds: u64,
    /// Builds the check triggered on the first step one was allowed (LAMMPS's "dangerous
    /// builds"; 0 when lists are checked every step, or nearly).
    pub dangerous_builds: u64,
    pub memory: MemorySummary,
    pub load: LoadSummary,
    pub machine: MachineSummary,
    /// The checkpoint step a resumed run continued from.
    pub resumed_from: Option<u64>,
    pub first_thermo: Option<ThermoSummary>,
    pub final_thermo: Option<ThermoSummary>,
}

/// Peak resident memory over all ranks and what the largest arrays hold.
#[derive(Debug, Clone, Serialize)]
pub struct MemorySummary {
    pub peak_rss_bytes: u64,
    pub bytes_per_atom: f64,
    pub atom_arrays_bytes_per_atom: f64,
    pub neighbor_list_bytes_per_atom: f64,
}

/// Atoms per rank.
#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub min_atoms_per_rank: f64,
    pub max_atoms_per_rank: f64,
    pub mean_atoms_per_rank: f64,
    /// max/mean.
    pub imbalance: f64,
}

/// Where the run ran.
#[derive(Debug, Clone, Serialize)]
pub struct MachineSummary {
    pub hostname: String,
    pub cpu_model: String,
    /// What `cpu_model` may leave out (a virtual machine's "AMD EPYC" is any of several
    /// generations): the vendor's family, model and stepping numbers and the widest x86
    /// vector extension, e.g. "family 25 model 17 stepping 1, AVX-512" (see [`cpu_identity`]).
    pub cpu_identity: String,
    pub logical_cpus: usize,
    /// 1-minute load average at the end of the run (0 where unknown).
    pub load_average: f64,
}

impl MachineSummary {
    /// This machine, read from the operating system (Linux `/proc`; "unknown" elsewhere).
    pub fn this_machine() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo_field(&cpuinfo, "model name").unwrap_or("unknown").to_string();
        let hostname = read("/proc/sys/kernel/hostname").trim().to_string();
        let load_average = read("/proc/loadavg").split_whitespace().next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
        Self {
            hostname: if hostname.is_empty() { "unknown".into() } else { hostname },
            cpu_model,
            cpu_identity: cpu_identity(&cpuinfo),
            logical_cpus: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            load_average,
        }
    }
}

/// The value of the first `key : value` line of a `/proc/cpuinfo` text with this key.
fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// The processor's family, model and stepping numbers and its widest x86 vector
/// extension ("AVX-512", "AVX2", "SSE2" or "none known") from a `/proc/cpuinfo` text, as
/// "family 25 model 17 stepping 1, AVX-512"; "unknown" without those fields (another
/// architecture, or no `/proc`). Timings of one "AMD EPYC" can differ by a third between
/// generations, so benchmark records carry this beside the model name.
pub fn cpu_identity(cpuinfo: &str) -> String {
    let (Some(family), Some(model)) = (cpuinfo_field(cpuinfo, "cpu family"), cpuinfo_field(cpuinfo, "model")) else {
        return "unknown".into();
    };
    let stepping = cpuinfo_field(cpuinfo, "stepping").map(|s| format!(" stepping {s}")).unwrap_or_default();
    let flags: Vec<&str> = cpuinfo_field(cpuinfo, "flags").unwrap_or("").split_whitespace().collect();
    let simd = [("avx512f", "AVX-512"), ("avx2", "AVX2"), ("sse2", "SSE2")]
        .into_iter()
        .find(|(flag, _)| flags.contains(flag))
        .map_or("none known", |(_, name)| name);
    format!("family {family} model {model}{stepping}, {simd}")
}

/// Thermo columns by name ([`Thermo::COLUMNS`]).
#[derive(Debug, Clone, Serialize)]
pub struct ThermoSummary(pub BTreeMap<String, f64>);

impl From<&Thermo> for ThermoSummary {
    fn from(t: &Thermo) -> Self {
        let mut columns: BTreeMap<String, f64> =
            Thermo::COLUMNS.iter().map(|c| c.to_string()).zip(t.values()).collect();
        if let Some((name, max)) = t.max_grade {
            columns.insert(format!("max_{name}"), max);
        }
        ThermoSummary(columns)
    }
}

impl RunSummary {
    /// Writes the summary as pretty JSON to `path`, through a temporary file renamed into
    /// place, so a reader never sees half a summary.
    pub fn write(&self, path: &Path) -> Result<(), IoError> {
        let mut text = serde_json::to_string_pretty(self).expect("a run summary serializes");
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| IoError::io(path, e))
    }
}

/// This process's peak resident memory (VmHWM) in bytes, or 0 where `/proc` is missing.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity is read from the fields, not from the model name, and the widest
    /// extension wins; missing fields give "unknown".
    #[test]
    fn cpu_identity_reads_family_model_and_vector_width() {
        let zen4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n\
                    model name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: fpu sse2 avx avx2 avx512f avx512vl\n\
                    processor\t: 1\ncpu family\t: 25\nmodel\t\t: 17\n";
        assert_eq!(cpu_identity(zen4), "family 25 model 17 stepping 1, AVX-512");
        assert_eq!(cpuinfo_field(zen4, "model name"), Some("AMD EPYC"));
        let zen3 = "cpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7763\nflags\t\t: sse2 avx2\n";
        assert_eq!(cpu_identity(zen3), "family 25 model 1, AVX2");
        assert_eq!(cpu_identity("cpu family : 6\nmodel : 85\nflags : fpu\n"), "family 6 model 85, none known");
        assert_eq!(cpu_identity("processor : 0\nBogoMIPS : 50.00\nCPU implementer : 0x41\n"), "unknown");
        assert_eq!(cpu_identity(""), "unknown");
    }
}
