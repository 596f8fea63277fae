//! The neurofab core (docs/core-spec.md): state, parameters and the step of §3.
//!
//! * [`neuron`]: the decay primitive (§2.2), `sat16` and the LIF update (§2.4).
//! * [`stdp`]: traces, amplitudes and clamped weight updates (§4).
//!
//! The step is event driven (§8): only the rows of the sources in S(t) are read
//! (phase 2) and only the columns of the neurons in F(t) are potentiated
//! (phase 5). All buffers are allocated in [`Core::new`]; a step never allocates.

pub mod neuron;
pub mod stdp;

use neurofab_proto::{CoreShape, NeuronParams, NeuronState, ParamError, StdpParams};
use neuron::Lif;

/// Why a [`Core`] call was refused. A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("neuron {n} out of range: the core has {neurons} neurons")]
    Neuron { n: u32, neurons: u16 },
    #[error("source {s} out of range: the core has {sources} sources")]
    Source { s: u32, sources: u32 },
    #[error("input {input} out of range: the core has {inputs} inputs")]
    Input { input: u32, inputs: u16 },
    #[error("weight {w} does not fit {bits}-bit weights")]
    Weight { w: i32, bits: u8 },
}

/// Work counters, cumulative since [`Core::new`] or the last [`Core::full_reset`]
/// (a state reset keeps them). Synaptic events are counted as in spec §8.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounters {
    /// Steps run.
    pub steps: u64,
    /// Spikes emitted (Σ |F(t)|).
    pub spikes: u64,
    /// Phase-2 synapse visits (Σ |S(t)| · N).
    pub delivered: u64,
    /// Phase-5 synapse visits (Σ |F(t)| · (M+N) while learning is enabled).
    pub potentiation: u64,
}

/// One neurofab core: the bit-exact reference model of docs/core-spec.md.
#[derive(Debug, Clone)]
pub struct Core {
    shape: CoreShape,
    /// N, cached as usize (row length of the weight matrix).
    n: usize,
    /// M + N.
    sources: usize,

    // Parameters, weights and masks (kept by a state reset, §5).
    params: Vec<NeuronParams>,
    stdp: StdpParams,
    /// Wt, row-major: (M+N) rows (sources) × N columns (neurons).
    weights: Vec<i16>,
    /// P, same layout as `weights`, one byte (0/1) per synapse so that the
    /// row depression stays branch-free and vectorises.
    plastic: Vec<u8>,
    /// Number of plastic synapses per row and per column, and in total, to
    /// skip non-plastic rows and columns and to drop the mask lookups when
    /// every synapse is plastic.
    row_plastic: Vec<u32>,
    col_plastic: Vec<u32>,
    plastic_total: usize,

    // Dynamic state (§2.1, cleared by a state reset).
    lif: Vec<Lif>,
    /// Post-traces y[n].
    y: Vec<u8>,
    /// Pre-traces x[s].
    x: Vec<u8>,
    /// F(t) after a step; the model's copy of F(t−1) at the start of the next.
    fired: Vec<u16>,
    /// Scratch for F(t) while a step builds it.
    fired_next: Vec<u16>,
    t: u32,
    counters: EventCounters,

    // Per-step scratch, preallocated.
    /// S(t) as a list of source indices.
    src_list: Vec<u16>,
    /// S(t) as a membership mask (only to dedupe inputs; cleared after each step).
    src_mark: Vec<bool>,
    /// Σ_{s∈S(t)} Wt[s][n], before the per-neuron gain 2^w_shift[n].
    acc: Vec<i32>,
    /// Depression amplitudes (y[n] · eta_minus) >> 8 for this step.
    dy: Vec<i16>,
    /// Potentiation amplitudes (x[s] · eta_plus) >> 8 for this step.
    dx: Vec<i16>,
}

impl Core {
    /// A core of the given shape in the full-reset (power-on) state (spec §5).
    pub fn new(shape: CoreShape) -> Result<Core, ModelError> {
        shape.validate()?;
        let n = shape.neurons as usize;
        let sources = shape.sources();
        let mut core = Core {
            shape,
            n,
            sources,
            params: vec![NeuronParams::RESET; n],
            stdp: StdpParams::reset(&shape),
            weights: vec![0; sources * n],
            plastic: vec![0; sources * n],
            row_plastic: vec![0; sources],
            col_plastic: vec![0; n],
            plastic_total: 0,
            lif: vec![Lif::default(); n],
            y: vec![0; n],
            x: vec![0; sources],
            fired: Vec::with_capacity(n),
            fired_next: Vec::with_capacity(n),
            t: 0,
            counters: EventCounters::default(),
            src_list: Vec::with_capacity(sources),
            src_mark: vec![false; sources],
            acc: vec![0; n],
            dy: vec![0; n],
            dx: vec![0; sources],
        };
        core.full_reset();
        Ok(core)
    }

    pub fn shape(&self) -> CoreShape {
        self.shape
    }

    /// Full reset = power-on (spec §5): weights 0, masks 0, parameters to their
    /// "after full reset" values, then a state reset. Also clears the counters.
    pub fn full_reset(&mut self) {
        self.params.fill(NeuronParams::RESET);
        self.stdp = StdpParams::reset(&self.shape);
        self.weights.fill(0);
        self.plastic.fill(0);
        self.row_plastic.fill(0);
        self.col_plastic.fill(0);
        self.plastic_total = 0;
        self.counters = EventCounters::default();
        self.reset_state();
    }

    /// State reset (spec §5): v = v_rest, i = r = y = x = 0, F(t−1) = ∅, t = 0.
    /// Parameters, weights, masks and counters are kept.
    pub fn reset_state(&mut self) {
        for (st, p) in self.lif.iter_mut().zip(&self.params) {
            *st = Lif {
                v: p.v_rest,
                i: 0,
                r: 0,
            };
        }
        self.y.fill(0);
        self.x.fill(0);
        self.fired.clear();
        self.fired_next.clear();
        self.t = 0;
    }

    fn check_neuron(&self, n: u16) -> Result<usize, ModelError> {
        if (n as usize) < self.n {
            Ok(n as usize)
        } else {
            Err(ModelError::Neuron {
                n: n as u32,
                neurons: self.shape.neurons,
            })
        }
    }

    fn check_source(&self, s: u16) -> Result<usize, ModelError> {
        if (s as usize) < self.sources {
            Ok(s as usize)
        } else {
            Err(ModelError::Source {
                s: s as u32,
                sources: self.sources as u32,
            })
        }
    }

    /// Index of synapse (s, n) in the row-major matrices.
    fn synapse(&self, s: u16, n: u16) -> Result<usize, ModelError> {
        let s = self.check_source(s)?;
        let n = self.check_neuron(n)?;
        Ok(s * self.n + n)
    }

    /// Writes neuron `n`'s parameters (spec §2.3) after validating them; the
    /// dynamic state is untouched (§5), e.g. `v` moves to a new `v_rest` only
    /// at the next state reset.
    pub fn set_neuron_params(&mut self, n: u16, p: NeuronParams) -> Result<(), ModelError> {
        let n = self.check_neuron(n)?;
        p.validate(&self.shape)?;
        self.params[n] = p;
        Ok(())
    }

    pub fn neuron_params(&self, n: u16) -> Result<NeuronParams, ModelError> {
        Ok(self.params[self.check_neuron(n)?])
    }

    /// Writes the global STDP parameters (spec §4.2) after validating them.
    /// Weights are not clamped here: only an STDP visit clamps (§4.3).
    pub fn set_stdp(&mut self, p: StdpParams) -> Result<(), ModelError> {
        p.validate(&self.shape)?;
        self.stdp = p;
        Ok(())
    }

    pub fn stdp(&self) -> StdpParams {
        self.stdp
    }

    /// Writes `Wt[s][n]`; `w` must fit the W-bit range (it may lie outside
    /// [w_min, w_max], §4.3).
    pub fn set_weight(&mut self, s: u16, n: u16, w: i16) -> Result<(), ModelError> {
        let idx = self.synapse(s, n)?;
        if w < self.shape.weight_min() || w > self.shape.weight_max() {
            return Err(ModelError::Weight {
                w: w as i32,
                bits: self.shape.weight_bits,
            });
        }
        self.weights[idx] = w;
        Ok(())
    }

    pub fn weight(&self, s: u16, n: u16) -> Result<i16, ModelError> {
        Ok(self.weights[self.synapse(s, n)?])
    }

    /// The whole weight matrix, row-major: (M+N) rows (source) × N columns.
    pub fn weights(&self) -> &[i16] {
        &self.weights
    }

    pub fn set_plastic(&mut self, s: u16, n: u16, plastic: bool) -> Result<(), ModelError> {
        let idx = self.synapse(s, n)?;
        let old = self.plastic[idx] != 0;
        if old != plastic {
            self.plastic[idx] = plastic as u8;
            let (row, col) = (
                &mut self.row_plastic[s as usize],
                &mut self.col_plastic[n as usize],
            );
            if plastic {
                *row += 1;
                *col += 1;
                self.plastic_total += 1;
            } else {
                *row -= 1;
                *col -= 1;
                self.plastic_total -= 1;
            }
        }
        Ok(())
    }

    pub fn plastic(&self, s: u16, n: u16) -> Result<bool, ModelError> {
        Ok(self.plastic[self.synapse(s, n)?] != 0)
    }

    pub fn neuron_state(&self, n: u16) -> Result<NeuronState, ModelError> {
        let n = self.check_neuron(n)?;
        let st = self.lif[n];
        Ok(NeuronState {
            v: st.v,
            i: st.i,
            refractory: st.r,
            post_trace: self.y[n],
        })
    }

    pub fn pre_trace(&self, s: u16) -> Result<u8, ModelError> {
        Ok(self.x[self.check_source(s)?])
    }

    /// Runs step t (spec §3) with the external inputs I(t) (any order, duplicates = once).
    /// Returns F(t), ascending neuron indices, valid until the next call. An input >= M is an
    /// error and changes nothing.
    pub fn step(&mut self, inputs: &[u16]) -> Result<&[u16], ModelError> {
        let m = self.shape.inputs;
        if let Some(&bad) = inputs.iter().find(|&&u| u >= m) {
            return Err(ModelError::Input {
                input: bad as u32,
                inputs: m,
            });
        }
        let n = self.n;
        let learn = self.stdp.enabled;
        let StdpParams {
            eta_plus,
            eta_minus,
            w_min,
            w_max,
            ..
        } = self.stdp;

        // Phase 1: S(t) = I(t) ∪ { M+n : n ∈ F(t−1) }.
        self.src_list.clear();
        for &u in inputs {
            let mark = &mut self.src_mark[u as usize];
            if !*mark {
                *mark = true;
                self.src_list.push(u);
            }
        }
        for &f in &self.fired {
            // M+n < M+N <= 8192: fits u16; a neuron source is never an input.
            self.src_list.push(m + f);
        }
        for &u in &self.src_list[..] {
            self.src_mark[u as usize] = false;
        }

        // Phase 2: delivery (pre-depression weights) and depression (y from t−1).
        self.acc.fill(0);
        if learn {
            for (d, &y) in self.dy.iter_mut().zip(&self.y) {
                *d = stdp::amplitude(y, eta_minus);
            }
        }
        for &s in &self.src_list {
            let base = s as usize * n;
            let row = &mut self.weights[base..base + n];
            // Σ w is exact; the gain 2^w_shift[n] is applied once in phase 3
            // (Σ w·2^k = 2^k·Σ w), so this loop is a plain widening add.
            for (a, &w) in self.acc.iter_mut().zip(row.iter()) {
                *a += w as i32;
            }
            if learn && self.row_plastic[s as usize] != 0 {
                let p = &self.plastic[base..base + n];
                stdp::depress_row(row, p, &self.dy, w_min, w_max);
            }
        }

        // Phase 3: neuron update, F(t) in ascending order.
        self.fired_next.clear();
        for (k, ((st, p), &a)) in self
            .lif
            .iter_mut()
            .zip(&self.params)
            .zip(&self.acc)
            .enumerate()
        {
            // |Σw| <= 8192 · 2^(W−1) and W + w_shift <= 16: |acc| <= 2^28.
            let acc = a << p.w_shift;
            if neuron::update(p, st, acc) {
                self.fired_next.push(k as u16);
            }
        }
        std::mem::swap(&mut self.fired, &mut self.fired_next);

        // Phase 4: pre-traces, all sources decay, then those in S(t) jump.
        let alpha_pre = self.stdp.alpha_pre;
        for x in self.x.iter_mut() {
            *x = stdp::trace_step(*x, alpha_pre, false, 0);
        }
        let inc_pre = self.stdp.inc_pre;
        for &s in &self.src_list {
            let x = &mut self.x[s as usize];
            *x = x.saturating_add(inc_pre);
        }

        // Phase 5: potentiation over the columns of F(t), with x from phase 4.
        if learn && !self.fired.is_empty() {
            for (d, &x) in self.dx.iter_mut().zip(&self.x) {
                *d = stdp::amplitude(x, eta_plus);
            }
            let all_plastic = self.plastic_total == self.weights.len();
            for &f in &self.fired {
                let f = f as usize;
                if self.col_plastic[f] == 0 {
                    continue;
                }
                // A column is a constant-stride walk, which the prefetcher follows.
                let col = self.weights[f..].iter_mut().step_by(n);
                if all_plastic {
                    stdp::potentiate_column(col, &self.dx, w_min, w_max);
                } else {
                    let mask = self.plastic[f..].iter().step_by(n);
                    stdp::potentiate_column_masked(col, mask, &self.dx, w_min, w_max);
                }
            }
        }

        // Phase 6: post-traces, all neurons decay, then those in F(t) jump.
        let alpha_post = self.stdp.alpha_post;
        for y in self.y.iter_mut() {
            *y = stdp::trace_step(*y, alpha_post, false, 0);
        }
        let inc_post = self.stdp.inc_post;
        for &f in &self.fired {
            let y = &mut self.y[f as usize];
            *y = y.saturating_add(inc_post);
        }

        // Phase 7: output F(t); t ← t + 1.
        // t has no width in the spec; it wraps at 2^32 like a hardware counter.
        self.t = self.t.wrapping_add(1);
        let c = &mut self.counters;
        c.steps += 1;
        c.spikes += self.fired.len() as u64;
        c.delivered += (self.src_list.len() * n) as u64;
        if learn {
            c.potentiation += (self.fired.len() * self.sources) as u64;
        }
        Ok(&self.fired)
    }

    /// t after the last step: the number of steps since the last state reset.
    pub fn steps_done(&self) -> u32 {
        self.t
    }

    pub fn counters(&self) -> EventCounters {
        self.counters
    }
}
