//! SplitMix64: a tiny, fully specified PRNG, so that the split, the spike
//! encoding and the presentation order are reproducible from the docs alone
//! (no dependence on the value stability of an external crate).

/// SplitMix64 (Steele, Lea & Flood 2014), the generator `java.util.SplittableRandom` uses.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by 128-bit multiply (bias < n / 2^64).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Fisher–Yates, from the last element down.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// The SplitMix64 output function (a strong 64-bit mixer).
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stateless hash of a few words (for per-sample, per-pixel randomness).
pub fn hash(words: &[u64]) -> u64 {
    words.iter().fold(0x6A09_E667_F3BC_C908, |h, &w| {
        mix(h ^ w.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    })
}
