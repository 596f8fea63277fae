//! The UCI "Optical Recognition of Handwritten Digits" 8×8 set (1,797 samples,
//! pixels 0..=16, CC BY 4.0, Alpaydin & Kaynak), shipped in
//! `data/digits/digits.bin` and embedded into the library, plus the fixed
//! train/test split. See `data/digits/README.md` for the file format and credit.

use super::rng::SplitMix64;
use super::DigitsError;

/// Pixels per sample (8 × 8).
pub const PIXELS: usize = 64;
/// Classes (digits 0..=9).
pub const CLASSES: usize = 10;
/// Samples in the set.
pub const SAMPLES: usize = 1797;
/// Seed of the fixed train/test split.
pub const SPLIT_SEED: u64 = 6;
/// Size of the test split (the last 450 of the seeded permutation, 25 %).
pub const TEST_SIZE: usize = 450;
/// Size of the training split.
pub const TRAIN_SIZE: usize = SAMPLES - TEST_SIZE;

const MAGIC: &[u8; 8] = b"NFDIGIT1";

/// The packed data set: `NFDIGIT1`, u16 LE count, then per sample one label
/// byte and 64 pixel bytes (row-major, 0..=16).
pub static PACKED: &[u8] = include_bytes!("../../../data/digits/digits.bin");

/// One 8×8 image and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub label: u8,
    /// Row-major, 0..=16.
    pub pixels: [u8; PIXELS],
}

/// Parses a packed data set (the format of [`PACKED`]).
pub fn parse(bytes: &[u8]) -> Result<Vec<Sample>, DigitsError> {
    let bad = |m: String| DigitsError::Data(m);
    if bytes.len() < 10 || &bytes[..8] != MAGIC {
        return Err(bad("not a packed digits file (bad magic)".into()));
    }
    let count = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let body = &bytes[10..];
    if body.len() != count * (1 + PIXELS) {
        return Err(bad(format!(
            "{count} samples need {} bytes, the file has {}",
            count * (1 + PIXELS),
            body.len()
        )));
    }
    body.chunks_exact(1 + PIXELS)
        .enumerate()
        .map(|(k, c)| {
            let label = c[0];
            if label as usize >= CLASSES {
                return Err(bad(format!("sample {k}: label {label} is not a digit")));
            }
            if let Some(p) = c[1..].iter().find(|&&p| p > 16) {
                return Err(bad(format!("sample {k}: pixel {p} above 16")));
            }
            let mut pixels = [0u8; PIXELS];
            pixels.copy_from_slice(&c[1..]);
            Ok(Sample { label, pixels })
        })
        .collect()
}

/// The whole set, in the order of scikit-learn's `load_digits()`.
pub fn load() -> Vec<Sample> {
    parse(PACKED).expect("the embedded digits set is valid")
}

/// Indices into [`load`] of the fixed split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// The fixed split: a Fisher–Yates shuffle of 0..1797 driven by SplitMix64
/// seeded with [`SPLIT_SEED`]; the first [`TRAIN_SIZE`] indices train, the
/// last [`TEST_SIZE`] test (each list kept in permutation order).
pub fn split() -> Split {
    let mut idx: Vec<usize> = (0..SAMPLES).collect();
    SplitMix64::new(SPLIT_SEED).shuffle(&mut idx);
    let test = idx.split_off(TRAIN_SIZE);
    Split { train: idx, test }
}
