//! Test driver for `Engine<P>`: issues single operations through the op/op_start/busy
//! handshake (docs/rtl.md §4) in a `CycleSim` and decodes the results.
#![allow(dead_code)]

use neurofab_hdl::core::engine::op;
use neurofab_hdl::core::Engine;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_proto::records::{
    decode_neuron_params, decode_stdp_params, encode_neuron_params, encode_stdp_params,
    NEURON_PARAMS_LEN, STDP_PARAMS_LEN,
};
use neurofab_proto::{CoreConfig, CoreShape, NeuronParams, NeuronState, StdpParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn config(neurons: u16, inputs: u16, weight_bits: u8, lanes: u8, replay: u8) -> CoreConfig {
    let c = CoreConfig {
        lanes,
        replay_depth: replay,
        ..CoreConfig::with_shape(CoreShape {
            neurons,
            inputs,
            weight_bits,
        })
    };
    c.validate().unwrap();
    c
}

/// Little-endian bytes as an N-bit value.
pub fn bits_of<const N: usize>(bytes: &[u8]) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for (k, byte) in bytes.iter().enumerate() {
        for t in 0..8 {
            if 8 * k + t < N {
                b = b.replace_bit(8 * k + t, (byte >> t) & 1 == 1);
            }
        }
    }
    b
}

/// The low `len` bytes of an N-bit value, little-endian.
pub fn bytes_of<const N: usize>(b: Bits<N>, len: usize) -> Vec<u8> {
    (0..len)
        .map(|k| {
            (0..8).fold(0u8, |acc, t| {
                acc | ((8 * k + t < N && b.get_bit(8 * k + t)) as u8) << t
            })
        })
        .collect()
}

/// The engine in a cycle simulation, with the operation handshake.
pub struct Dut<const P: usize> {
    pub sim: CycleSim<Engine<P>>,
    pub cfg: CoreConfig,
    /// Cycles the power-on full reset kept `busy` high.
    pub power_on_cycles: u64,
}

impl<const P: usize> Dut<P> {
    pub fn new(cfg: CoreConfig) -> Self {
        let mut sim = CycleSim::new(Engine::<P>::new(&cfg), |e| &mut e.clock).unwrap();
        assert!(sim.uut.busy.val(), "busy at power-on");
        let mut cycles = 0;
        while sim.uut.busy.val() {
            sim.step();
            cycles += 1;
            assert!(cycles < 10_000_000, "power-on reset does not end");
        }
        Dut {
            sim,
            cfg,
            power_on_cycles: cycles,
        }
    }

    /// Runs one operation; returns the cycles from the edge that samples `op_start` to
    /// the edge after which `busy` is low (the busy cycles).
    pub fn op(
        &mut self,
        code: u64,
        src: u64,
        neuron: u64,
        slot: u64,
        byte_idx: u64,
        wdata: Bits<112>,
    ) -> u64 {
        let u = &mut self.sim.uut;
        assert!(!u.busy.val());
        u.op.next = code.to_bits();
        u.src.next = src.to_bits();
        u.neuron.next = neuron.to_bits();
        u.slot.next = slot.to_bits();
        u.byte_idx.next = byte_idx.to_bits();
        u.wdata.next = wdata;
        u.op_start.next = true;
        self.sim.step();
        self.sim.uut.op_start.next = false;
        // Garbage on the sampled operands while busy must not matter (`wdata` is held
        // until busy falls: docs/rtl.md §4).
        self.sim.uut.src.next = 0x2aaa_u64.to_bits();
        self.sim.uut.neuron.next = 0x1555_u64.to_bits();
        assert!(self.sim.uut.busy.val(), "busy rises after op_start");
        let mut cycles = 1;
        while self.sim.uut.busy.val() {
            self.sim.step();
            cycles += 1;
            assert!(cycles < 10_000_000, "op {code} does not end");
        }
        cycles
    }

    fn simple(&mut self, code: u64, src: u64, neuron: u64) -> u64 {
        self.op(code, src, neuron, 0, 0, Bits::default())
    }

    pub fn rdata(&self) -> Bits<96> {
        self.sim.uut.rdata.val()
    }

    pub fn write_weight(&mut self, s: usize, n: usize, w: i16) {
        let wd = bits_of::<112>(&w.to_le_bytes());
        self.op(op::WRITE_WEIGHT, s as u64, n as u64, 0, 0, wd);
    }

    pub fn read_weight(&mut self, s: usize, n: usize) -> i16 {
        self.simple(op::READ_WEIGHT, s as u64, n as u64);
        let b = bytes_of(self.rdata(), 12);
        assert!(b[2..6].iter().all(|&x| x == 0), "rdata above bit 15: {b:?}");
        i16::from_le_bytes([b[0], b[1]])
    }

    pub fn write_mask(&mut self, s: usize, n: usize, m: bool) {
        // Bits above bit 0 of wdata are ignored.
        let wd = bits_of::<112>(&[m as u8 | 0xfe, 0xff]);
        self.op(op::WRITE_MASK, s as u64, n as u64, 0, 0, wd);
    }

    pub fn read_mask(&mut self, s: usize, n: usize) -> bool {
        self.simple(op::READ_MASK, s as u64, n as u64);
        let b = bytes_of(self.rdata(), 12);
        assert!(b[0] <= 1 && b[1..6].iter().all(|&x| x == 0), "{b:?}");
        b[0] == 1
    }

    pub fn write_params(&mut self, n: usize, p: &NeuronParams) {
        let mut rec = [0u8; NEURON_PARAMS_LEN];
        encode_neuron_params(p, &mut rec);
        self.op(op::WRITE_PARAMS, 0, n as u64, 0, 0, bits_of::<112>(&rec));
    }

    pub fn read_params(&mut self, n: usize) -> NeuronParams {
        self.simple(op::READ_PARAMS, 0, n as u64);
        let b = bytes_of(self.rdata(), NEURON_PARAMS_LEN);
        decode_neuron_params(&b.try_into().unwrap())
    }

    pub fn read_state(&mut self, n: usize) -> NeuronState {
        self.simple(op::READ_STATE, 0, n as u64);
        let b = bytes_of(self.rdata(), 12);
        NeuronState {
            v: i16::from_le_bytes([b[0], b[1]]),
            i: i16::from_le_bytes([b[2], b[3]]),
            refractory: b[4],
            post_trace: b[5],
        }
    }

    pub fn read_trace(&mut self, s: usize) -> u8 {
        self.simple(op::READ_TRACE, s as u64, 0);
        let b = bytes_of(self.rdata(), 12);
        assert!(b[1..6].iter().all(|&x| x == 0), "{b:?}");
        b[0]
    }

    pub fn set_input(&mut self, s: usize) {
        self.simple(op::SET_INPUT, s as u64, 0);
    }

    pub fn write_stdp(&mut self, p: &StdpParams) {
        let mut rec = [0u8; STDP_PARAMS_LEN];
        encode_stdp_params(p, &mut rec);
        self.op(op::WRITE_STDP, 0, 0, 0, 0, bits_of::<112>(&rec));
    }

    /// The `stdp` port, decoded.
    pub fn stdp(&self) -> StdpParams {
        let b = bytes_of(self.sim.uut.stdp.val(), STDP_PARAMS_LEN);
        decode_stdp_params(&b.try_into().unwrap()).unwrap()
    }

    /// STEP into `slot`; returns (fired_count, busy cycles).
    pub fn step(&mut self, slot: usize) -> (usize, u64) {
        let cycles = self.op(op::STEP, 0, 0, slot as u64, 0, Bits::default());
        (self.sim.uut.fired_count.val().to_u64() as usize, cycles)
    }

    pub fn state_reset(&mut self) -> u64 {
        self.simple(op::STATE_RESET, 0, 0)
    }

    pub fn full_reset(&mut self) -> u64 {
        self.simple(op::FULL_RESET, 0, 0)
    }

    pub fn read_fired_byte(&mut self, slot: usize, byte: usize) -> u8 {
        self.op(
            op::READ_FIRED_BYTE,
            0,
            0,
            slot as u64,
            byte as u64,
            Bits::default(),
        );
        let b = bytes_of(self.rdata(), 12);
        assert!(b[1..6].iter().all(|&x| x == 0), "{b:?}");
        b[0]
    }

    pub fn read_fired_count(&mut self, slot: usize) -> usize {
        self.op(op::READ_FIRED_COUNT, 0, 0, slot as u64, 0, Bits::default());
        self.sim.uut.fired_count.val().to_u64() as usize
    }

    /// F of `slot` as a sorted neuron list (from READ_FIRED_BYTE).
    pub fn fired(&mut self, slot: usize) -> Vec<u16> {
        let n = self.cfg.neurons();
        let mut out = vec![];
        for byte in 0..n.div_ceil(8) {
            let b = self.read_fired_byte(slot, byte);
            for t in 0..8 {
                if b >> t & 1 == 1 {
                    assert!(8 * byte + t < n, "bit beyond N set: byte {byte} = {b:#x}");
                    out.push((8 * byte + t) as u16);
                }
            }
        }
        out
    }
}

use neurofab_sim::Core;
use rand::Rng;

/// The exact busy cycles of STEP (docs/hdl.md, "Engine").
pub fn step_cycles(cfg: &CoreConfig, sources_active: usize, fired: usize, learn: bool) -> u64 {
    let p = cfg.lanes as usize;
    let (n, s, g) = (cfg.neurons(), cfg.sources(), cfg.groups());
    let c = s.div_ceil(p);
    // SPRAM weights with learning on: a weight read every other cycle.
    let slow = learn && cfg.weight_memory == neurofab_proto::WeightMemory::Spram;
    let deliver = match (sources_active, slow) {
        (0, _) => g,
        (l, false) => g * (l + 5),
        (l, true) => g * (2 * l + 4),
    };
    let pot = match (learn, slow) {
        (false, _) => 0,
        (true, false) => fired * (c + 3) + 1,
        (true, true) => fired * (2 * c + 2) + 1,
    };
    (s + n + 9 + deliver + pot) as u64
}

/// A network: parameters, weights, masks and STDP parameters, written to both.
pub struct Net {
    pub params: Vec<NeuronParams>,
    pub stdp: StdpParams,
}

pub fn random_params(rng: &mut ChaCha8Rng, shape: &CoreShape) -> NeuronParams {
    let alpha = |rng: &mut ChaCha8Rng| match rng.random_range(0..6) {
        0 => 32768,
        1 => 0,
        _ => rng.random_range(16000..=32768),
    };
    let max_shift = 16 - shape.weight_bits;
    let p = NeuronParams {
        v_th: match rng.random_range(0..8) {
            0 => i16::MAX,
            1 => rng.random(),
            _ => rng.random_range(-50..250),
        },
        v_reset: rng.random_range(-300..100),
        v_rest: match rng.random_range(0..4) {
            0 => rng.random(),
            _ => rng.random_range(-100..100),
        },
        alpha_v: alpha(rng),
        alpha_i: alpha(rng),
        t_ref: match rng.random_range(0..4) {
            0 => rng.random(),
            _ => rng.random_range(0..4),
        },
        w_shift: match rng.random_range(0..4) {
            0 => max_shift,
            _ => rng.random_range(0..=max_shift.min(4)),
        },
    };
    p.validate(shape).unwrap();
    p
}

pub fn random_stdp(rng: &mut ChaCha8Rng, shape: &CoreShape) -> StdpParams {
    let (lo, hi) = (shape.weight_min(), shape.weight_max());
    let a: i16 = rng.random_range(lo..=hi);
    let b: i16 = rng.random_range(lo..=hi);
    let p = StdpParams {
        enabled: true,
        eta_plus: rng.random(),
        eta_minus: rng.random(),
        w_min: a.min(b),
        w_max: a.max(b),
        alpha_pre: rng.random_range(0..=32768),
        alpha_post: rng.random_range(0..=32768),
        inc_pre: rng.random(),
        inc_post: rng.random(),
    };
    p.validate(shape).unwrap();
    p
}

/// Writes a random network into both `dut` and `model` (then a state reset of both).
pub fn load_random<const P: usize>(
    dut: &mut Dut<P>,
    model: &mut Core,
    rng: &mut ChaCha8Rng,
    density: f64,
    plastic: f64,
    learn: bool,
) {
    let shape = dut.cfg.shape;
    for n in 0..shape.neurons as usize {
        let p = random_params(rng, &shape);
        dut.write_params(n, &p);
        model.set_neuron_params(n as u16, p).unwrap();
    }
    for s in 0..shape.sources() {
        for n in 0..shape.neurons as usize {
            if rng.random_bool(density) {
                let w = rng.random_range(shape.weight_min()..=shape.weight_max());
                dut.write_weight(s, n, w);
                model.set_weight(s as u16, n as u16, w).unwrap();
            }
            if rng.random_bool(plastic) {
                dut.write_mask(s, n, true);
                model.set_plastic(s as u16, n as u16, true).unwrap();
            }
        }
    }
    let mut stdp = random_stdp(rng, &shape);
    stdp.enabled = learn;
    dut.write_stdp(&stdp);
    model.set_stdp(stdp).unwrap();
    dut.state_reset();
    model.reset_state();
}

/// Every state, trace, weight, mask, parameter record and the STDP record agree.
pub fn compare_all<const P: usize>(dut: &mut Dut<P>, model: &Core, what: &str) {
    let shape = dut.cfg.shape;
    for n in 0..shape.neurons as usize {
        assert_eq!(
            dut.read_state(n),
            model.neuron_state(n as u16).unwrap(),
            "{what}: state of neuron {n}"
        );
        assert_eq!(
            dut.read_params(n),
            model.neuron_params(n as u16).unwrap(),
            "{what}: params of neuron {n}"
        );
    }
    for s in 0..shape.sources() {
        assert_eq!(
            dut.read_trace(s),
            model.pre_trace(s as u16).unwrap(),
            "{what}: trace x[{s}]"
        );
        for n in 0..shape.neurons as usize {
            assert_eq!(
                dut.read_weight(s, n),
                model.weight(s as u16, n as u16).unwrap(),
                "{what}: weight ({s}, {n})"
            );
            assert_eq!(
                dut.read_mask(s, n),
                model.plastic(s as u16, n as u16).unwrap(),
                "{what}: mask ({s}, {n})"
            );
        }
    }
    assert_eq!(dut.stdp(), model.stdp(), "{what}: stdp");
}

/// Runs `steps` steps with random inputs on both; compares F(t) (count and bitmap) and
/// the cycle count after every step, and everything every `checkpoint` steps.
pub fn run_random<const P: usize>(
    dut: &mut Dut<P>,
    model: &mut Core,
    rng: &mut ChaCha8Rng,
    steps: usize,
    input_rate: f64,
    checkpoint: usize,
) -> (usize, usize) {
    let cfg = dut.cfg;
    let r = cfg.replay_depth as usize;
    let m = cfg.inputs();
    let learn = model.stdp().enabled;
    let mut prev_fired = 0usize;
    let mut spikes = 0;
    let mut changes = 0;
    for t in 0..steps {
        let all = rng.random_range(0..20) == 0;
        let mut inputs: Vec<u16> = (0..m as u16)
            .filter(|_| all || rng.random_bool(input_rate))
            .collect();
        // Naming an input twice is naming it once.
        if !inputs.is_empty() && rng.random_bool(0.2) {
            inputs.push(inputs[0]);
        }
        for &u in &inputs {
            dut.set_input(u as usize);
        }
        let weights_before = model.weights().to_vec();
        let want: Vec<u16> = model.step(&inputs).unwrap().to_vec();
        changes += weights_before
            .iter()
            .zip(model.weights())
            .filter(|(a, b)| a != b)
            .count();
        let mut distinct = inputs.clone();
        distinct.sort();
        distinct.dedup();
        let slot = t % r;
        let (count, cycles) = dut.step(slot + r * (t % 2)); // slot is taken mod R
        assert_eq!(count, want.len(), "step {t}: |F|");
        assert_eq!(dut.fired(slot), want, "step {t}: F");
        assert_eq!(
            cycles,
            step_cycles(&cfg, distinct.len() + prev_fired, want.len(), learn),
            "step {t}: cycles"
        );
        prev_fired = want.len();
        spikes += want.len();
        if (t + 1) % checkpoint == 0 {
            compare_all(dut, model, &format!("after step {t}"));
        }
    }
    (spikes, changes)
}
