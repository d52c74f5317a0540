/// Which algorithm evaluates a potential: every family ships a fast kernel and a plain
/// reference written the way the equations read, which the kernel is tested against (the
/// OpenMM reference-platform idea). Both give the same numbers to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evaluator {
    /// The fast kernel (the default).
    #[default]
    Kernel,
    /// The plain reference (for EAM, LAMMPS's half-list algorithm; for SNAP, whole complex
    /// matrices as the equations are written).
    Reference,
}

impl Evaluator {
    /// The name used in input files: `kernel` or `reference`.
    pub fn name(self) -> &'static str {
        match self {
            Evaluator::Kernel => "kernel",
            Evaluator::Reference => "reference",
        }
    }
}

impl std::str::FromStr for Evaluator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "kernel" => Ok(Evaluator::Kernel),
            "reference" => Ok(Evaluator::Reference),
            _ => Err(format!("unknown evaluator '{s}': expected 'kernel' or 'reference'")),
        }
    }
}
