//! Atoms as a structure of arrays: owned atoms first, ghost copies after.

use crate::Vec3;

/// The global, decomposition-independent identity of an atom (LAMMPS's `tag`), from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AtomId(pub u64);

/// Index of a species in the run's [`SpeciesTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SpeciesId(pub u32);

impl SpeciesId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A chemical species of the run: its element-like name and its mass in g/mol.
#[derive(Debug, Clone, PartialEq)]
pub struct Species {
    pub name: String,
    pub mass: f64,
}

/// The species of a run, in the order their [`SpeciesId`]s count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeciesTable {
    species: Vec<Species>,
}

impl SpeciesTable {
    pub fn new(species: Vec<Species>) -> Self {
        Self { species }
    }
    pub fn len(&self) -> usize {
        self.species.len()
    }
    pub fn is_empty(&self) -> bool {
        self.species.is_empty()
    }
    pub fn get(&self, id: SpeciesId) -> &Species {
        &self.species[id.index()]
    }
    pub fn get_mut(&mut self, id: SpeciesId) -> &mut Species {
        &mut self.species[id.index()]
    }
    pub fn iter(&self) -> impl Iterator<Item = (SpeciesId, &Species)> {
        self.species.iter().enumerate().map(|(i, s)| (SpeciesId(i as u32), s))
    }
    /// The id of the species called `name`, if any.
    pub fn find(&self, name: &str) -> Option<SpeciesId> {
        self.species.iter().position(|s| s.name == name).map(|i| SpeciesId(i as u32))
    }
    /// The id of `name`, adding it (with the given mass) if it is new.
    pub fn find_or_add(&mut self, name: &str, mass: f64) -> SpeciesId {
        match self.find(name) {
            Some(id) => id,
            None => {
                self.species.push(Species { name: name.to_string(), mass });
                SpeciesId(self.species.len() as u32 - 1)
            }
        }
    }
    pub fn names(&self) -> Vec<String> {
        self.species.iter().map(|s| s.name.clone()).collect()
    }
    pub fn masses(&self) -> Vec<f64> {
        self.species.iter().map(|s| s.mass).collect()
    }
}

/// Per-atom arrays of one rank.
///
/// Indices `[0, n_owned)` are the atoms this rank owns and integrates; the rest are ghost
/// copies (periodic images or other ranks' atoms) built by `calcine-domain`. `ids`,
/// `species` and `positions` cover owned and ghost atoms; `velocities` and `images`
/// cover owned atoms only. An `atom_idx` is a position in these arrays and changes when
/// atoms are sorted or migrate; an [`AtomId`] never changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Atoms {
    pub ids: Vec<AtomId>,
    pub species: Vec<SpeciesId>,
    pub positions: Vec<Vec3>,
    pub velocities: Vec<Vec3>,
    /// Periodic image counts of owned atoms: unwrapped = wrapped + Σ image[k]·edge(k).
    pub images: Vec<[i32; 3]>,
    n_owned: usize,
}

impl Atoms {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            species: Vec::with_capacity(n),
            positions: Vec::with_capacity(n),
            velocities: Vec::with_capacity(n),
            images: Vec::with_capacity(n),
            n_owned: 0,
        }
    }

    #[inline]
    pub fn n_owned(&self) -> usize {
        self.n_owned
    }
    #[inline]
    pub fn n_ghost(&self) -> usize {
        self.positions.len() - self.n_owned
    }
    #[inline]
    pub fn n_total(&self) -> usize {
        self.positions.len()
    }

    /// Appends an owned atom. All ghosts must have been cleared first.
    pub fn push_owned(&mut self, id: AtomId, species: SpeciesId, position: Vec3, velocity: Vec3, image: [i32; 3]) {
        assert_eq!(self.n_ghost(), 0, "owned atoms go before ghosts: clear ghosts first");
        self.ids.push(id);
        self.species.push(species);
        self.positions.push(position);
        self.velocities.push(velocity);
        self.images.push(image);
        self.n_owned += 1;
    }

    /// Appends a ghost copy of an atom.
    #[inline]
    pub fn push_ghost(&mut self, id: AtomId, species: SpeciesId, position: Vec3) {
        self.ids.push(id);
        self.species.push(species);
        self.positions.push(position);
    }

    /// Drops every ghost, keeping the owned atoms.
    pub fn clear_ghosts(&mut self) {
        self.ids.truncate(self.n_owned);
        self.species.truncate(self.n_owned);
        self.positions.truncate(self.n_owned);
    }

    /// Appends an owned atom from its record. All ghosts must have been cleared first.
    pub fn push_record(&mut self, r: &AtomRecord) {
        self.push_owned(r.id, r.species, r.position, r.velocity, r.image);
    }

    /// The record of owned atom `atom_idx`.
    pub fn record(&self, atom_idx: usize) -> AtomRecord {
        debug_assert!(atom_idx < self.n_owned);
        AtomRecord {
            id: self.ids[atom_idx],
            species: self.species[atom_idx],
            position: self.positions[atom_idx],
            velocity: self.velocities[atom_idx],
            image: self.images[atom_idx],
        }
    }

    /// Removes the owned atom at `atom_idx` by swapping the last owned atom into its place,
    /// and returns its record. Ghosts must have been cleared.
    pub fn swap_remove_owned(&mut self, atom_idx: usize) -> AtomRecord {
        assert_eq!(self.n_ghost(), 0, "clear ghosts before removing owned atoms");
        self.n_owned -= 1;
        AtomRecord {
            id: self.ids.swap_remove(atom_idx),
            species: self.species.swap_remove(atom_idx),
            position: self.positions.swap_remove(atom_idx),
            velocity: self.velocities.swap_remove(atom_idx),
            image: self.images.swap_remove(atom_idx),
        }
    }

    /// Bytes held by the per-atom arrays (their capacity, owned and ghost).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        self.ids.capacity() * size_of::<AtomId>()
            + self.species.capacity() * size_of::<SpeciesId>()
            + self.positions.capacity() * size_of::<Vec3>()
            + self.velocities.capacity() * size_of::<Vec3>()
            + self.images.capacity() * size_of::<[i32; 3]>()
    }

    /// Reorders the owned atoms: new index `k` takes the atom at old index `order[k]`.
    /// Ghosts must have been cleared.
    pub fn permute_owned(&mut self, order: &[usize]) {
        assert_eq!(self.n_ghost(), 0, "clear ghosts before sorting owned atoms");
        assert_eq!(order.len(), self.n_owned);
        fn apply<T: Copy>(v: &mut Vec<T>, order: &[usize]) {
            let permuted: Vec<T> = order.iter().map(|&i| v[i]).collect();
            *v = permuted;
        }
        apply(&mut self.ids, order);
        apply(&mut self.species, order);
        apply(&mut self.positions, order);
        apply(&mut self.velocities, order);
        apply(&mut self.images, order);
    }

    /// Unwrapped position of owned atom `atom_idx` given the box edges.
    pub fn unwrapped_position(&self, atom_idx: usize, simbox: &crate::SimBox) -> Vec3 {
        let im = self.images[atom_idx];
        self.positions[atom_idx]
            + simbox.edge(0) * im[0] as f64
            + simbox.edge(1) * im[1] as f64
            + simbox.edge(2) * im[2] as f64
    }
}

/// One owned atom as it travels between ranks (migration, ghosts, frame gathering) and
/// into checkpoints: identity, species, position, velocity and periodic image counts.
///
/// Its wire form is a fixed number of `u64` words holding the exact bits of every field
/// (floats by `to_bits`), so a record read back is bit-identical to the one written. A
/// ghost travels as a shorter prefix of the same layout: id, species and position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtomRecord {
    pub id: AtomId,
    pub species: SpeciesId,
    pub position: Vec3,
    pub velocity: Vec3,
    pub image: [i32; 3],
}

impl AtomRecord {
    /// Words of a whole record: id, species, position (3), velocity (3), image (3).
    pub const WORDS: usize = 11;
    /// Words of a ghost: id, species, position (3).
    pub const GHOST_WORDS: usize = 5;

    /// Appends the record's [`AtomRecord::WORDS`] words to `out`.
    #[inline]
    pub fn encode(&self, out: &mut Vec<u64>) {
        Self::encode_ghost(self.id, self.species, &self.position, out);
        out.extend(self.velocity.iter().map(|c| c.to_bits()));
        out.extend(self.image.iter().map(|&k| k as i64 as u64));
    }

    /// Reads a record from the first [`AtomRecord::WORDS`] words of `w`.
    #[inline]
    pub fn decode(w: &[u64]) -> Self {
        let (id, species, position) = Self::decode_ghost(w);
        AtomRecord {
            id,
            species,
            position,
            velocity: Vec3::new(f64::from_bits(w[5]), f64::from_bits(w[6]), f64::from_bits(w[7])),
            image: [w[8] as i64 as i32, w[9] as i64 as i32, w[10] as i64 as i32],
        }
    }

    /// Appends a ghost's [`AtomRecord::GHOST_WORDS`] words to `out`.
    #[inline]
    pub fn encode_ghost(id: AtomId, species: SpeciesId, position: &Vec3, out: &mut Vec<u64>) {
        out.extend_from_slice(&[
            id.0,
            species.0 as u64,
            position.x.to_bits(),
            position.y.to_bits(),
            position.z.to_bits(),
        ]);
    }

    /// Reads a ghost from the first [`AtomRecord::GHOST_WORDS`] words of `w`.
    #[inline]
    pub fn decode_ghost(w: &[u64]) -> (AtomId, SpeciesId, Vec3) {
        (
            AtomId(w[0]),
            SpeciesId(w[1] as u32),
            Vec3::new(f64::from_bits(w[2]), f64::from_bits(w[3]), f64::from_bits(w[4])),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_bit_for_bit() {
        let r = AtomRecord {
            id: AtomId(u64::MAX - 3),
            species: SpeciesId(7),
            position: Vec3::new(-0.0, 1e-310, f64::MAX),
            velocity: Vec3::new(f64::MIN_POSITIVE, -3.25, 0.1),
            image: [i32::MIN, -1, i32::MAX],
        };
        let mut words = Vec::new();
        r.encode(&mut words);
        assert_eq!(words.len(), AtomRecord::WORDS);
        let back = AtomRecord::decode(&words);
        assert_eq!(back.position.x.to_bits(), (-0.0f64).to_bits());
        assert_eq!(back, r);
        assert_eq!(AtomRecord::decode_ghost(&words[..AtomRecord::GHOST_WORDS]), (r.id, r.species, r.position));

        let mut atoms = Atoms::new();
        atoms.push_record(&r);
        assert_eq!(atoms.record(0), r);
        assert_eq!(atoms.swap_remove_owned(0), r);
        assert_eq!(atoms.n_owned(), 0);
    }
}
