//! Runs the cargo-fuzz target's body (`neurofab_proto::fuzzing::decoder_body`)
//! on stable over a few hundred thousand random and mutated inputs.

use neurofab_proto::fuzzing::decoder_body;
use neurofab_proto::*;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let s = CoreShape {
        neurons: 13,
        inputs: 5,
        weight_bits: 12,
    };
    let d = CoreShape::DEFAULT;
    let mut v = vec![
        Command::Identify.to_frame(1, &d).unwrap(),
        Command::Step {
            step: 126,
            inputs: SpikeSet::from_indices([56]),
        }
        .to_frame(0x7E, &d)
        .unwrap(),
        Command::WriteWeights {
            row: 3,
            col: 2,
            weights: vec![-2048, 2047, 5],
        }
        .to_frame(2, &s)
        .unwrap(),
        Command::WriteMask {
            row: 3,
            col: 2,
            bits: vec![true; 9],
        }
        .to_frame(3, &s)
        .unwrap(),
        Command::WriteNeuronParams {
            first: 0,
            params: vec![NeuronParams::RESET; 2],
        }
        .to_frame(4, &d)
        .unwrap(),
        Command::WriteStdp(StdpParams::reset(&d))
            .to_frame(5, &d)
            .unwrap(),
        Command::ReadState { first: 1, count: 3 }
            .to_frame(6, &d)
            .unwrap(),
        Reply::StepDone {
            step: 9,
            fired: SpikeSet::from_indices(0..13),
        }
        .to_frame(7, &s)
        .unwrap(),
        Reply::Nack {
            cmd: 0x10,
            error: ErrorCode::StepGap,
            detail: 4,
        }
        .to_frame(8, &d)
        .unwrap(),
        Reply::State {
            first: 0,
            states: vec![NeuronState::default(); 2],
        }
        .to_frame(9, &d)
        .unwrap(),
    ];
    let all: Vec<u8> = v.concat();
    v.push(all);
    v
}

#[test]
fn fuzz_body_random_and_mutated() {
    let seeds = seeds();
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let mut frames_ok = 0usize;
    let iterations = 300_000;
    for it in 0..iterations {
        let data: Vec<u8> = if it % 4 == 0 {
            // Pure random, biased towards FLAG/ESC.
            let n = rng.below(64);
            (0..n)
                .map(|_| match rng.below(8) {
                    0 => FLAG,
                    1 => ESC,
                    _ => rng.next() as u8,
                })
                .collect()
        } else {
            let mut d = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(4) {
                if d.is_empty() {
                    break;
                }
                let i = rng.below(d.len());
                match rng.below(6) {
                    0 => d[i] ^= 1 << rng.below(8),
                    1 => d[i] = rng.next() as u8,
                    2 => d.insert(i, rng.next() as u8),
                    3 => {
                        d.remove(i);
                    }
                    4 => {
                        let j = rng.below(d.len());
                        d.swap(i, j)
                    }
                    _ => {} // unmodified (exercises the payload decoders on valid frames)
                }
            }
            d
        };
        frames_ok += decoder_body(&data);
    }
    assert!(
        frames_ok > 10_000,
        "mutations should leave many frames intact: {frames_ok}"
    );
}
