//! Co-simulation harness: the same host byte stream goes to the Verilator-simulated core
//! (through its UART pins) and to the reference device (`ModelServer`, the model behind
//! the protocol); every reply byte must be identical.
//!
//! Because the reference device is itself checked against `neurofab_sim::Core` (its own
//! tests), identical replies mean: the same spikes at every step, and the same membrane
//! values, currents, traces, weights, masks and parameters wherever they are read back.

#![allow(dead_code)]

use neurofab_proto::{
    encode_frame_vec, max_weights_per_frame, Command, CoreConfig, Decoder, NeuronParams, Reply,
    SpikeSet, StdpParams, CMD_STEP, MAX_PRE_TRACES_PER_FRAME, MAX_STATES_PER_FRAME, SPIKES_BITMAP,
};
pub use neurofab_sim::rtl::{EngineMeter, RtlWire};
pub use neurofab_sim::ModelServer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Cycle budget of one exchange (a RUN of 16 steps with readback fits easily).
pub const MAX_CYCLES: u64 = 50_000_000;

/// Number of frames in `bytes` (complete ones, good or bad).
pub fn count_frames(bytes: &[u8]) -> usize {
    let mut d = Decoder::new();
    bytes.iter().filter(|&&b| d.push(b).is_some()).count()
}

/// Statistics of a co-simulation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub frames: u64,
    pub reply_bytes: u64,
    pub steps: u64,
    pub spikes: u64,
    pub readback_values: u64,
    pub nacks: u64,
    pub cycles: u64,
}

/// The RTL core and the reference device, fed the same bytes.
pub struct Pair {
    pub rtl: RtlWire,
    pub model: ModelServer,
    pub cfg: CoreConfig,
    seq: u8,
    pub stats: Stats,
    /// Steps executed so far (the host's view of next_step).
    pub next_step: u32,
    /// When set, exchanges run cycle by cycle and record the engine's busy stretches.
    pub meter: Option<EngineMeter>,
}

impl Pair {
    pub fn new(model_name: &str) -> Pair {
        let rtl = RtlWire::open(model_name).expect("RTL model (run scripts/install-tools.sh)");
        let cfg = rtl_config(model_name);
        let model = ModelServer::new(cfg).unwrap();
        Pair {
            rtl,
            model,
            cfg,
            seq: 0,
            stats: Stats::default(),
            next_step: 0,
            meter: None,
        }
    }

    fn next_seq(&mut self) -> u8 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Feeds raw bytes to both; `replies` = frames the reference device answers with
    /// (counted from its output when `None`). Returns the (identical) reply bytes.
    pub fn raw(&mut self, bytes: &[u8], what: &str) -> Vec<u8> {
        let want = self.model.feed(bytes);
        let n = count_frames(&want);
        let got = match self.meter.as_mut() {
            Some(m) => self.rtl.exchange_metered(bytes, n, MAX_CYCLES, m),
            None => self.rtl.exchange(bytes, n, MAX_CYCLES),
        }
        .unwrap_or_else(|e| panic!("RTL ({what}): {e}"));
        self.stats.frames += n as u64;
        self.stats.reply_bytes += got.len() as u64;
        if got != want {
            panic!(
                "RTL and reference replies differ ({what}):\n  sent  {bytes:02X?}\n  rtl   {got:02X?}\n  model {want:02X?}"
            );
        }
        for r in decode_replies(&got, &self.cfg) {
            match r {
                // Replays (retransmissions) re-send an old step; count executions only.
                Reply::StepDone { step, fired } if step == self.next_step => {
                    self.stats.steps += 1;
                    self.stats.spikes += fired.len() as u64;
                    self.next_step += 1;
                }
                Reply::Nack { .. } => self.stats.nacks += 1,
                Reply::State { states, .. } => {
                    self.stats.readback_values += 4 * states.len() as u64
                }
                Reply::PreTraces { traces, .. } => {
                    self.stats.readback_values += traces.len() as u64
                }
                Reply::Weights { weights, .. } => {
                    self.stats.readback_values += weights.len() as u64
                }
                Reply::Mask { bits, .. } => self.stats.readback_values += bits.len() as u64,
                _ => {}
            }
        }
        self.stats.cycles = self.rtl.cycles();
        got
    }

    /// One command, stop-and-wait; returns the decoded reply (identical on both sides).
    pub fn cmd(&mut self, c: &Command) -> Reply {
        let seq = self.next_seq();
        let f = c.to_frame(seq, &self.cfg.shape).expect("encodable command");
        let bytes = self.raw(&f, &format!("{c:?}"));
        let mut replies = decode_replies(&bytes, &self.cfg);
        replies.pop().expect("a reply")
    }

    /// Asserts that a command was ACKed.
    pub fn ok(&mut self, c: &Command) {
        match self.cmd(c) {
            Reply::Ack { .. } => {}
            other => panic!("{c:?} answered {other:?}"),
        }
    }

    /// A window of STEP frames sent back to back (pipelined): inputs for steps
    /// next_step, next_step+1, …; each as a list or a bitmap as `bitmap[k]` says.
    /// Returns F(t) of each step.
    pub fn steps(&mut self, inputs: &[Vec<u16>], bitmap: &[bool]) -> Vec<Vec<u16>> {
        let mut bytes = Vec::new();
        for (k, inp) in inputs.iter().enumerate() {
            let step = self.next_step + k as u32;
            let seq = self.next_seq();
            if bitmap[k] {
                bytes.extend(step_bitmap_frame(step, seq, inp, self.cfg.shape.inputs));
            } else {
                let c = Command::Step {
                    step,
                    inputs: SpikeSet::from_indices(inp.iter().copied()),
                };
                bytes.extend(c.to_frame(seq, &self.cfg.shape).unwrap());
            }
        }
        let got = self.raw(&bytes, "pipelined STEPs");
        decode_replies(&got, &self.cfg)
            .into_iter()
            .map(|r| match r {
                Reply::StepDone { fired, .. } => fired.into_vec(),
                other => panic!("STEP answered {other:?}"),
            })
            .collect()
    }

    /// Reads back everything: parameters, STDP, every state, trace, weight and mask
    /// (all compared byte for byte by [`Pair::raw`]).
    pub fn read_all(&mut self) {
        let n = self.cfg.shape.neurons;
        let s = self.cfg.sources() as u16;
        let mut first = 0;
        while first < n {
            let count = (n - first).min(MAX_STATES_PER_FRAME as u16) as u8;
            self.cmd(&Command::ReadState { first, count });
            first += count as u16;
        }
        let mut first = 0;
        while first < n {
            let count = (n - first).min(85) as u8;
            self.cmd(&Command::ReadNeuronParams { first, count });
            first += count as u16;
        }
        self.cmd(&Command::ReadStdp);
        let per_frame = max_weights_per_frame(self.cfg.shape.weight_bits) as u16;
        let mut first = 0;
        while first < s {
            let count = (s - first).min(MAX_PRE_TRACES_PER_FRAME as u16);
            self.cmd(&Command::ReadPreTraces { first, count });
            first += count;
        }
        for row in 0..s {
            let mut col = 0;
            while col < n {
                let count = (n - col).min(per_frame);
                self.cmd(&Command::ReadWeights { row, col, count });
                col += count;
            }
            self.cmd(&Command::ReadMask {
                row,
                col: 0,
                count: n,
            });
        }
    }
}

/// STEP with a bitmap spike set (the host encoder always picks the canonical form).
pub fn step_bitmap_frame(step: u32, seq: u8, inputs: &[u16], m: u16) -> Vec<u8> {
    let mut p = step.to_le_bytes().to_vec();
    p.push(SPIKES_BITMAP);
    let mut bm = vec![0u8; (m as usize).div_ceil(8)];
    for &i in inputs {
        bm[i as usize / 8] |= 1 << (i % 8);
    }
    p.extend(bm);
    encode_frame_vec(CMD_STEP, seq, &p).unwrap()
}

pub fn decode_replies(bytes: &[u8], cfg: &CoreConfig) -> Vec<Reply> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for &b in bytes {
        if let Some(f) = d.push(b) {
            let f = f.expect("well-formed reply frame");
            out.push(Reply::from_frame(&f, &cfg.shape).expect("decodable reply"));
        }
    }
    out
}

/// The configuration an RTL model was generated from.
pub fn rtl_config(model: &str) -> CoreConfig {
    neurofab_hdl::sim_core_configs()
        .into_iter()
        .find(|(name, _)| *name == model)
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no core model {model}"))
}

/// A random network inside the core: the first `n` neurons and `m` inputs are used.
pub struct RandomNet {
    pub n: u16,
    pub m: u16,
    pub params: Vec<NeuronParams>,
    pub stdp: StdpParams,
    /// rows (M + N sources of the core) × n columns used.
    pub weights: Vec<Vec<i16>>,
    pub mask: Vec<Vec<bool>>,
    pub input_rate: f64,
}

pub fn random_net(cfg: &CoreConfig, rng: &mut ChaCha8Rng) -> RandomNet {
    let shape = cfg.shape;
    let w = shape.weight_bits;
    let n = rng.random_range(1..=shape.neurons);
    let m = rng.random_range(0..=shape.inputs);
    let wmin = shape.weight_min();
    let wmax = shape.weight_max();
    let params = (0..n)
        .map(|_| {
            let w_shift = rng.random_range(0..=(16 - w).min(6));
            NeuronParams {
                v_th: rng.random_range(50..4000),
                v_reset: rng.random_range(-300..100),
                v_rest: rng.random_range(-200..200),
                alpha_v: if rng.random_bool(0.2) {
                    32768
                } else {
                    rng.random_range(20000..=32768)
                },
                alpha_i: if rng.random_bool(0.2) {
                    0
                } else {
                    rng.random_range(0..=32768)
                },
                t_ref: rng.random_range(0..6),
                w_shift,
            }
        })
        .collect();
    let a = rng.random_range(wmin..=wmax);
    let b = rng.random_range(wmin..=wmax);
    let stdp = StdpParams {
        enabled: rng.random_bool(0.85),
        eta_plus: rng.random(),
        eta_minus: rng.random(),
        w_min: a.min(b),
        w_max: a.max(b),
        alpha_pre: rng.random_range(0..=32768),
        alpha_post: rng.random_range(0..=32768),
        inc_pre: rng.random(),
        inc_post: rng.random(),
    };
    let sources = shape.sources();
    let used_row = |r: usize| {
        r < m as usize || (r >= shape.inputs as usize && r - (shape.inputs as usize) < n as usize)
    };
    let density: f64 = rng.random_range(0.2..0.9);
    let weights = (0..sources)
        .map(|r| {
            (0..n)
                .map(|_| {
                    if used_row(r) && rng.random_bool(density) {
                        rng.random_range(wmin..=wmax)
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let plastic_p: f64 = rng.random_range(0.0..1.0);
    let mask = (0..sources)
        .map(|r| {
            (0..n)
                .map(|_| used_row(r) && rng.random_bool(plastic_p))
                .collect()
        })
        .collect();
    RandomNet {
        n,
        m,
        params,
        stdp,
        weights,
        mask,
        input_rate: rng.random_range(0.02..0.4),
    }
}

impl Pair {
    /// Uploads a network (parameters, STDP, weights, masks), then resets the state.
    pub fn upload(&mut self, net: &RandomNet) {
        for (k, chunk) in net.params.chunks(85).enumerate() {
            self.ok(&Command::WriteNeuronParams {
                first: (k * 85) as u16,
                params: chunk.to_vec(),
            });
        }
        self.ok(&Command::WriteStdp(net.stdp));
        let per_frame = max_weights_per_frame(self.cfg.shape.weight_bits);
        for (row, (w, p)) in net.weights.iter().zip(&net.mask).enumerate() {
            for (k, chunk) in w.chunks(per_frame).enumerate() {
                if chunk.iter().any(|&x| x != 0) {
                    self.ok(&Command::WriteWeights {
                        row: row as u16,
                        col: (k * per_frame) as u16,
                        weights: chunk.to_vec(),
                    });
                }
            }
            if p.iter().any(|&x| x) {
                self.ok(&Command::WriteMask {
                    row: row as u16,
                    col: 0,
                    bits: p.clone(),
                });
            }
        }
        self.ok(&Command::Reset {
            state: true,
            full: false,
        });
        self.next_step = 0;
    }

    /// Runs `steps` steps with random inputs of `net` (windows of up to `step_window`
    /// pipelined STEPs, random spike-set formats, now and then a RUN); reads everything
    /// back at `checkpoints` random moments and at the end.
    pub fn run_random(
        &mut self,
        net: &RandomNet,
        steps: u32,
        checkpoints: usize,
        rng: &mut ChaCha8Rng,
    ) {
        let window = self.cfg.step_window as usize;
        let check_at: Vec<u32> = (0..checkpoints)
            .map(|_| rng.random_range(1..steps))
            .collect();
        let start = self.next_step;
        while self.next_step - start < steps {
            let left = (steps - (self.next_step - start)) as usize;
            if rng.random_bool(0.05) {
                let k = rng.random_range(1..=left.min(16)) as u32;
                let before = self.next_step;
                let reply = self.cmd(&Command::Run { k });
                assert!(matches!(reply, Reply::Ack { .. }), "RUN answered {reply:?}");
                assert_eq!(self.next_step, before + k);
            } else {
                let batch = rng.random_range(1..=window).min(left);
                let inputs: Vec<Vec<u16>> = (0..batch)
                    .map(|_| {
                        (0..net.m)
                            .filter(|_| rng.random_bool(net.input_rate))
                            .collect()
                    })
                    .collect();
                let bitmap: Vec<bool> = (0..batch).map(|_| rng.random_bool(0.3)).collect();
                self.steps(&inputs, &bitmap);
            }
            let done = self.next_step - start;
            if check_at
                .iter()
                .any(|&c| c <= done && c + (window as u32) + 16 > done)
                && rng.random_bool(0.3)
            {
                self.read_all();
            }
        }
        self.read_all();
    }
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A network whose firing fraction per step is controlled by its inputs: input i drives
/// the neurons n ≡ i (mod m) with weight 1 and threshold 1 (no leak memory, no current
/// memory), so with every input spiking with probability `p`, about `p·N` neurons fire
/// each step and about `p·(M + N)` sources are active. Neuron rows are 0 and not
/// plastic; with `learning`, the present input synapses are plastic but clamped at
/// w_min = w_max = 1, so STDP visits every column of a fired neuron (the full phase-5
/// cost: the hardware walks whole columns) and changes nothing.
pub fn rate_net(cfg: &CoreConfig, p: f64, learning: bool) -> RandomNet {
    let shape = cfg.shape;
    let (n, m) = (shape.neurons, shape.inputs);
    let params = vec![
        NeuronParams {
            v_th: 1,
            v_reset: 0,
            v_rest: 0,
            alpha_v: 0,
            alpha_i: 0,
            t_ref: 0,
            w_shift: 0,
        };
        n as usize
    ];
    let stdp = StdpParams {
        enabled: learning,
        eta_plus: 100,
        eta_minus: 100,
        w_min: 1,
        w_max: 1,
        alpha_pre: 16384,
        alpha_post: 16384,
        inc_pre: 50,
        inc_post: 50,
    };
    let sources = shape.sources();
    let weights: Vec<Vec<i16>> = (0..sources)
        .map(|r| {
            (0..n)
                .map(|c| i16::from(r < m as usize && c % m == r as u16))
                .collect()
        })
        .collect();
    // Only the present synapses are plastic: an absent (0) plastic synapse would be
    // clamped up to w_min = 1 by its first STDP visit and change the network.
    let mask = weights
        .iter()
        .map(|row| row.iter().map(|&w| w != 0).collect())
        .collect();
    RandomNet {
        n,
        m,
        params,
        stdp,
        weights,
        mask,
        input_rate: p,
    }
}
