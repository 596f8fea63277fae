//! The network compiler (docs/core-spec.md §6): maps a checked [`Config`] in
//! physical units onto the core's integers, and reports what quantisation cost.
//!
//! * populations get consecutive neuron indices, input groups consecutive input
//!   indices, in file order;
//! * potentials: `round(mV / lsb_mv)`, refused outside i16;
//! * decay factors: `α = round(2^15 · exp(−dt/τ))` (τ = 0 → 0, τ = ∞ → 32768);
//! * refractory: `round(t_ref_ms / dt)`, refused above 255;
//! * weights: per population the smallest `w_shift` such that every incoming
//!   weight fits W bits as `round(w_mV / (lsb_mv · 2^w_shift))`, with
//!   `W + w_shift <= 16`. Populations that receive plastic projections share one
//!   `w_shift` (the largest they need, covering the STDP bounds too), because the
//!   STDP parameters are global;
//! * STDP: trace decays from τ, `eta` from a physical amplitude if given.
//!
//! Everything random (connectivity, weights, input spikes) is drawn from
//! ChaCha8 streams derived from `[simulation] seed`: same file, same seed, same bits.

use std::fmt;
use std::ops::Range;

use neurofab_proto::{CoreShape, NeuronParams, StdpParams, ALPHA_ONE};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::config::{Amplitude, Config, Endpoint, InputKind, Projection, WeightDist};
use crate::error::{ConfigError, Error};
use crate::inputs::{derive_seed, read_spike_csv, InputSchedule, InputSource};

const TAG_PROJECTION: u64 = 1;
const TAG_INPUT: u64 = 2;
const TAG_PATTERN_MEMBERS: u64 = 3;

/// Where a named group landed in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLayout {
    pub name: String,
    /// First index (neuron index for populations, input index for input groups).
    pub first: u16,
    pub size: u16,
}

impl GroupLayout {
    /// The indices of the group.
    pub fn range(&self) -> Range<u16> {
        self.first..self.first + self.size
    }
}

/// A network ready to be loaded onto a core.
#[derive(Debug, Clone)]
pub struct CompiledNetwork {
    pub shape: CoreShape,
    pub dt_ms: f64,
    pub lsb_mv: f64,
    /// Default run length (`[simulation] steps`).
    pub steps: u32,
    pub seed: u64,
    /// One record per core neuron (unused neurons keep the reset record: they never fire).
    pub neuron_params: Vec<NeuronParams>,
    pub stdp: StdpParams,
    /// Row-major `(M+N) × N`, like the model: `weights[s * N + n]`.
    pub weights: Vec<i16>,
    /// Plasticity mask, same layout as `weights`.
    pub plastic: Vec<bool>,
    pub inputs: InputSchedule,
    /// Populations in file order with their neuron index ranges.
    pub populations: Vec<GroupLayout>,
    /// Input groups in file order with their input index ranges.
    pub input_groups: Vec<GroupLayout>,
    /// For pattern input groups: the global indices of the pattern members (else empty).
    pub pattern_members: Vec<Vec<u16>>,
    pub report: QuantReport,
}

impl CompiledNetwork {
    pub fn population(&self, name: &str) -> Option<&GroupLayout> {
        self.populations.iter().find(|g| g.name == name)
    }

    pub fn input_group(&self, name: &str) -> Option<&GroupLayout> {
        self.input_groups.iter().find(|g| g.name == name)
    }

    /// Index into `populations` of the population holding neuron `n`.
    pub fn population_of(&self, n: u16) -> Option<usize> {
        self.populations.iter().position(|g| g.range().contains(&n))
    }

    /// Weight of synapse `s → n` in core units.
    pub fn weight(&self, s: u16, n: u16) -> i16 {
        self.weights[s as usize * self.shape.neurons as usize + n as usize]
    }

    /// mV per weight unit for synapses onto neuron `n` (`lsb_mv · 2^w_shift`).
    pub fn weight_lsb_mv(&self, n: u16) -> f64 {
        self.lsb_mv * f64::from(1u32 << self.neuron_params[n as usize].w_shift)
    }

    /// A readable name for source row `s`: `group[i]`, or `input#s` / `neuron#n` outside any group.
    pub fn source_name(&self, s: u16) -> String {
        let m = self.shape.inputs;
        let (groups, idx, kind) = if s < m {
            (&self.input_groups, s, "input")
        } else {
            (&self.populations, s - m, "neuron")
        };
        match groups.iter().find(|g| g.range().contains(&idx)) {
            Some(g) => format!("{}[{}]", g.name, idx - g.first),
            None => format!("{kind}#{idx}"),
        }
    }

    /// The input spikes of the configured inputs for `steps` steps.
    pub fn input_train(&self, steps: u32) -> crate::inputs::SpikeTrain {
        self.inputs.generate(steps)
    }
}

/// One line of the quantisation report.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantRow {
    /// What was quantised (`tau_mem`, `v_th`, `weight`, …).
    pub quantity: String,
    /// Which population / projection / rule.
    pub item: String,
    pub unit: &'static str,
    /// Requested value (or range) as text.
    pub requested: String,
    /// Effective value (or range) as text.
    pub effective: String,
    /// Worst absolute error in `unit`.
    pub abs_err: f64,
    /// Worst relative error (fraction; 0 when exact).
    pub rel_err: f64,
    /// Extra information (core value, synapses lost, …).
    pub note: String,
}

/// What quantisation did to every quantity of the network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuantReport {
    pub rows: Vec<QuantRow>,
}

impl QuantReport {
    /// Worst (absolute, relative) error of a quantity over all items.
    pub fn worst(&self, quantity: &str) -> Option<(f64, f64)> {
        let mut it = self
            .rows
            .iter()
            .filter(|r| r.quantity == quantity)
            .peekable();
        it.peek()?;
        Some(it.fold((0.0f64, 0.0f64), |(a, r), row| {
            (a.max(row.abs_err), r.max(row.rel_err))
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        quantity: &str,
        item: &str,
        unit: &'static str,
        requested: f64,
        effective: f64,
        note: String,
    ) {
        let (abs_err, rel_err) = errors(requested, effective);
        self.rows.push(QuantRow {
            quantity: quantity.into(),
            item: item.into(),
            unit,
            requested: fmt_num(requested),
            effective: fmt_num(effective),
            abs_err,
            rel_err,
            note,
        });
    }
}

fn errors(requested: f64, effective: f64) -> (f64, f64) {
    if requested == effective {
        return (0.0, 0.0);
    }
    let abs = (effective - requested).abs();
    let rel = if requested == 0.0 {
        f64::INFINITY
    } else {
        abs / requested.abs()
    };
    (abs, rel)
}

fn fmt_num(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let short = format!("{x}");
    if short.len() <= 10 {
        return short;
    }
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

impl fmt::Display for QuantReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "quantity",
            "item",
            "unit",
            "requested",
            "effective",
            "abs err",
            "rel err",
            "note",
        ];
        let rows: Vec<[String; 8]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.quantity.clone(),
                    r.item.clone(),
                    r.unit.to_string(),
                    r.requested.clone(),
                    r.effective.clone(),
                    fmt_num(r.abs_err),
                    if r.rel_err.is_infinite() {
                        "inf".into()
                    } else {
                        format!("{:.3}%", r.rel_err * 100.0)
                    },
                    r.note.clone(),
                ]
            })
            .collect();
        let mut width = header.map(str::len);
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(width[i] - c.chars().count()));
                }
            }
            writeln!(f, "{}", s.trim_end())
        };
        line(f, &header.map(String::from))?;
        line(f, &width.map(|w| "-".repeat(w)))?;
        for r in &rows {
            line(f, r)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Quantisation primitives
// ---------------------------------------------------------------------------

/// `α = round(2^15 · exp(−dt/τ))`; τ = 0 → 0, τ = ∞ → 32768.
pub fn alpha(dt_ms: f64, tau_ms: f64) -> u16 {
    if tau_ms.is_infinite() {
        ALPHA_ONE
    } else if tau_ms <= 0.0 {
        0
    } else {
        (f64::from(ALPHA_ONE) * (-dt_ms / tau_ms).exp())
            .round()
            .clamp(0.0, f64::from(ALPHA_ONE)) as u16
    }
}

/// The time constant a factor `α` really implements: `−dt / ln(α / 2^15)`.
pub fn effective_tau(dt_ms: f64, alpha: u16) -> f64 {
    if alpha >= ALPHA_ONE {
        f64::INFINITY
    } else if alpha == 0 {
        0.0
    } else {
        -dt_ms / (f64::from(alpha) / f64::from(ALPHA_ONE)).ln()
    }
}

/// `round(mV / lsb)` if it fits i16.
pub fn potential(mv: f64, lsb_mv: f64) -> Option<i16> {
    let q = (mv / lsb_mv).round();
    (q >= f64::from(i16::MIN) && q <= f64::from(i16::MAX)).then_some(q as i16)
}

/// `round(w_mV / (lsb · 2^shift))`.
pub fn quantise_weight(w_mv: f64, lsb_mv: f64, shift: u8) -> f64 {
    (w_mv / (lsb_mv * f64::from(1u32 << shift))).round()
}

/// Smallest `w_shift` (with `W + w_shift <= 16`) at which every weight in
/// `[lo_mv, hi_mv]` quantises into the W-bit range; `None` if there is none.
pub fn choose_shift(lo_mv: f64, hi_mv: f64, lsb_mv: f64, shape: &CoreShape) -> Option<u8> {
    let (wmin, wmax) = (f64::from(shape.weight_min()), f64::from(shape.weight_max()));
    (0..=16 - shape.weight_bits).find(|&s| {
        quantise_weight(hi_mv, lsb_mv, s) <= wmax
            && quantise_weight(lo_mv, lsb_mv, s) >= wmin
            && quantise_weight(lo_mv, lsb_mv, s) <= wmax
            && quantise_weight(hi_mv, lsb_mv, s) >= wmin
    })
}

// ---------------------------------------------------------------------------
// The compiler
// ---------------------------------------------------------------------------

/// Calls `f(source_row, neuron, w_mv)` for every synapse a projection creates,
/// in a fixed order with a fixed random stream.
fn for_each_synapse(
    pr: &Projection,
    index: usize,
    seed: u64,
    shape: &CoreShape,
    inputs: &[GroupLayout],
    pops: &[GroupLayout],
    mut f: impl FnMut(u16, u16, f64),
) {
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, TAG_PROJECTION, index as u64));
    let (src_rows, self_pop) = match pr.from {
        Endpoint::Input(g) => (inputs[g].range(), None),
        Endpoint::Population(p) => {
            let r = pops[p].range();
            (r.start + shape.inputs..r.end + shape.inputs, Some(p))
        }
    };
    let normal = match pr.weight {
        WeightDist::Normal { mean, std, .. } => Normal::new(mean, std).ok(),
        _ => None,
    };
    for n in pops[pr.to].range() {
        for s in src_rows.clone() {
            if self_pop == Some(pr.to) && !pr.allow_self && s - shape.inputs == n {
                continue;
            }
            if pr.probability < 1.0 && rng.random::<f64>() >= pr.probability {
                continue;
            }
            let w = match pr.weight {
                WeightDist::Constant(w) => w,
                WeightDist::Uniform { lo, hi } => {
                    if hi > lo {
                        rng.random_range(lo..=hi)
                    } else {
                        lo
                    }
                }
                WeightDist::Normal { mean, min, max, .. } => {
                    let x = normal.map_or(mean, |d| d.sample(&mut rng));
                    x.clamp(
                        min.unwrap_or(f64::NEG_INFINITY),
                        max.unwrap_or(f64::INFINITY),
                    )
                }
            };
            if w != 0.0 {
                f(s, n, w);
            }
        }
    }
}

/// Compiles a checked configuration. Spike files are read here.
pub fn compile(cfg: &Config) -> Result<CompiledNetwork, Error> {
    let shape = cfg.shape;
    let (dt, lsb) = (cfg.dt_ms, cfg.lsb_mv);
    let n_neurons = shape.neurons as usize;
    let mut report = QuantReport::default();

    // ---- layout
    let mut next = 0u16;
    let input_groups: Vec<GroupLayout> = cfg
        .inputs
        .iter()
        .map(|g| {
            let l = GroupLayout {
                name: g.name.clone(),
                first: next,
                size: g.size as u16,
            };
            next += g.size as u16;
            l
        })
        .collect();
    next = 0;
    let populations: Vec<GroupLayout> = cfg
        .populations
        .iter()
        .map(|p| {
            let l = GroupLayout {
                name: p.name.clone(),
                first: next,
                size: p.size as u16,
            };
            next += p.size as u16;
            l
        })
        .collect();

    // ---- weights, pass 1: the range of incoming weights per population
    let np = cfg.populations.len();
    let mut lo = vec![0.0f64; np];
    let mut hi = vec![0.0f64; np];
    // The projection responsible for each population's extreme weight.
    let mut culprit: Vec<Option<usize>> = vec![None; np];
    for (k, pr) in cfg.projections.iter().enumerate() {
        let t = pr.to;
        for_each_synapse(
            pr,
            k,
            cfg.seed,
            &shape,
            &input_groups,
            &populations,
            |_, _, w| {
                if w < lo[t] || w > hi[t] {
                    lo[t] = lo[t].min(w);
                    hi[t] = hi[t].max(w);
                    culprit[t] = Some(k);
                }
            },
        );
    }
    let plastic_target: Vec<bool> = (0..np)
        .map(|p| cfg.projections.iter().any(|pr| pr.plastic && pr.to == p))
        .collect();
    let stdp_bounds = cfg.stdp.as_ref().map(|s| (s.w_min_mv, s.w_max_mv));

    let shift_error = |span: Range<usize>, what: String, lo_mv: f64, hi_mv: f64| -> ConfigError {
        let top = f64::from(1u32 << (16 - shape.weight_bits)) * lsb;
        cfg.error_at(
            span,
            format!(
                "{what}: weights from {} to {} mV cannot be represented with {}-bit weights at lsb_mv = {}: \
                 the representable range is {} to {} mV (W + w_shift <= 16); reduce the weights or raise lsb_mv",
                fmt_num(lo_mv),
                fmt_num(hi_mv),
                shape.weight_bits,
                fmt_num(lsb),
                fmt_num(f64::from(shape.weight_min()) * top),
                fmt_num(f64::from(shape.weight_max()) * top),
            ),
        )
    };

    let mut shifts = vec![0u8; np];
    for p in 0..np {
        let (mut l, mut h) = (lo[p], hi[p]);
        let mut from_stdp = false;
        if plastic_target[p] {
            if let Some((a, b)) = stdp_bounds {
                if a < l || b > h {
                    from_stdp = true;
                }
                l = l.min(a);
                h = h.max(b);
            }
        }
        match choose_shift(l, h, lsb, &shape) {
            Some(s) => shifts[p] = s,
            None => {
                // Blame the projection if its own weights do not fit, else the STDP bounds.
                let own_fits = choose_shift(lo[p], hi[p], lsb, &shape).is_some();
                let err = match (own_fits, from_stdp, culprit[p], cfg.stdp.as_ref()) {
                    (true, true, _, Some(s)) => shift_error(
                        s.w_max_span.clone(),
                        "[stdp] w_min_mv/w_max_mv".into(),
                        l,
                        h,
                    ),
                    (_, _, Some(k), _) => {
                        let pr = &cfg.projections[k];
                        shift_error(
                            pr.weight_span.clone(),
                            format!("{}: weight_mv", pr.label),
                            lo[p],
                            hi[p],
                        )
                    }
                    _ => cfg.source.error(format!(
                        "population \"{}\": weights do not fit",
                        cfg.populations[p].name
                    )),
                };
                return Err(err.into());
            }
        }
    }
    // Plastic targets share one shift: STDP's eta and bounds are global.
    let plastic_shift = (0..np)
        .filter(|&p| plastic_target[p])
        .map(|p| shifts[p])
        .max();
    if let Some(s) = plastic_shift {
        for p in 0..np {
            if plastic_target[p] {
                shifts[p] = s;
            }
        }
    }

    // ---- neuron parameters
    let mut neuron_params = vec![NeuronParams::RESET; n_neurons];
    for (p, pop) in cfg.populations.iter().enumerate() {
        let name = &pop.name;
        let q = |mv: f64, span: &Range<usize>, field: &str| -> Result<i16, ConfigError> {
            potential(mv, lsb).ok_or_else(|| {
                cfg.error_at(
                    span.clone(),
                    format!(
                        "population \"{name}\": {field} = {mv} mV is outside the 16-bit state range \
                         ({} to {} mV at lsb_mv = {})",
                        fmt_num(f64::from(i16::MIN) * lsb),
                        fmt_num(f64::from(i16::MAX) * lsb),
                        fmt_num(lsb)
                    ),
                )
            })
        };
        let sp = &pop.spans;
        let v_th = q(pop.v_th_mv, &sp.v_th, "v_th_mv")?;
        let v_rest = q(pop.v_rest_mv, &sp.v_rest, "v_rest_mv")?;
        let v_reset = q(pop.v_reset_mv, &sp.v_reset, "v_reset_mv")?;
        let t_ref_steps = (pop.t_ref_ms / dt).round();
        if t_ref_steps > 255.0 {
            return Err(cfg
                .error_at(
                    sp.t_ref.clone(),
                    format!(
                        "population \"{name}\": t_ref_ms = {} is {t_ref_steps} steps of {dt} ms; at most 255 steps fit",
                        pop.t_ref_ms
                    ),
                )
                .into());
        }
        let params = NeuronParams {
            v_th,
            v_reset,
            v_rest,
            alpha_v: alpha(dt, pop.tau_mem_ms),
            alpha_i: alpha(dt, pop.tau_syn_ms),
            t_ref: t_ref_steps as u8,
            w_shift: shifts[p],
        };
        for n in populations[p].range() {
            neuron_params[n as usize] = params;
        }
        report.push(
            "tau_mem",
            name,
            "ms",
            pop.tau_mem_ms,
            effective_tau(dt, params.alpha_v),
            format!("alpha_v = {}", params.alpha_v),
        );
        report.push(
            "tau_syn",
            name,
            "ms",
            pop.tau_syn_ms,
            effective_tau(dt, params.alpha_i),
            format!("alpha_i = {}", params.alpha_i),
        );
        for (qty, mv, v) in [
            ("v_th", pop.v_th_mv, v_th),
            ("v_rest", pop.v_rest_mv, v_rest),
            ("v_reset", pop.v_reset_mv, v_reset),
        ] {
            report.push(qty, name, "mV", mv, f64::from(v) * lsb, format!("{v} LSB"));
        }
        report.push(
            "t_ref",
            name,
            "ms",
            pop.t_ref_ms,
            f64::from(params.t_ref) * dt,
            format!("{} steps", params.t_ref),
        );
        report.push(
            "weight_lsb",
            name,
            "mV",
            lsb * f64::from(1u32 << shifts[p]),
            lsb * f64::from(1u32 << shifts[p]),
            format!(
                "w_shift = {}{}",
                shifts[p],
                if plastic_target[p] {
                    " (shared by plastic targets)"
                } else {
                    ""
                }
            ),
        );
    }

    // ---- weights, pass 2: quantise
    let mut weights = vec![0i16; shape.synapses()];
    let mut plastic = vec![false; shape.synapses()];
    for (k, pr) in cfg.projections.iter().enumerate() {
        let shift = shifts[pr.to];
        let wl = lsb * f64::from(1u32 << shift);
        let (mut worst_abs, mut worst_rel, mut zeroed, mut count) =
            (0.0f64, 0.0f64, 0usize, 0usize);
        let (mut qlo, mut qhi) = (f64::INFINITY, f64::NEG_INFINITY);
        for_each_synapse(
            pr,
            k,
            cfg.seed,
            &shape,
            &input_groups,
            &populations,
            |s, n, w| {
                let q = quantise_weight(w, lsb, shift);
                let idx = s as usize * n_neurons + n as usize;
                weights[idx] = q as i16;
                plastic[idx] = pr.plastic;
                let (a, r) = errors(w, q * wl);
                worst_abs = worst_abs.max(a);
                worst_rel = worst_rel.max(r);
                zeroed += (q == 0.0) as usize;
                count += 1;
                qlo = qlo.min(q * wl);
                qhi = qhi.max(q * wl);
            },
        );
        let (blo, bhi) = pr.weight.bounds();
        let requested = match pr.weight {
            WeightDist::Constant(w) => fmt_num(w),
            _ => format!("{}..{}", fmt_num(blo), fmt_num(bhi)),
        };
        let effective = if count == 0 {
            "-".into()
        } else if qlo == qhi {
            fmt_num(qlo)
        } else {
            format!("{}..{}", fmt_num(qlo), fmt_num(qhi))
        };
        let mut note = format!("{count} synapses");
        if zeroed > 0 {
            note.push_str(&format!(", {zeroed} rounded to 0"));
        }
        if pr.plastic {
            note.push_str(", plastic");
        }
        report.rows.push(QuantRow {
            quantity: "weight".into(),
            item: pr.label.clone(),
            unit: "mV",
            requested,
            effective,
            abs_err: worst_abs,
            rel_err: worst_rel,
            note,
        });
    }

    // ---- STDP
    let stdp = match &cfg.stdp {
        None => StdpParams::reset(&shape),
        Some(s) => {
            let shift = plastic_shift.unwrap_or(0);
            let wl = lsb * f64::from(1u32 << shift);
            let bound = |mv: f64| {
                quantise_weight(mv, lsb, shift)
                    .clamp(f64::from(shape.weight_min()), f64::from(shape.weight_max()))
                    as i16
            };
            let w_min = bound(s.w_min_mv);
            let w_max = bound(s.w_max_mv);
            let amp = |a: Amplitude,
                       inc: u8,
                       span: &Range<usize>,
                       name: &str,
                       inc_name: &str|
             -> Result<u8, ConfigError> {
                match a {
                    Amplitude::Eta(e) => Ok(e),
                    Amplitude::Millivolts(mv) => {
                        let target = mv / wl;
                        let eff = |e: u32| f64::from((u32::from(inc) * e) >> 8);
                        let best = (0..=254u32)
                            .min_by(|&a, &b| {
                                (eff(a) - target).abs().total_cmp(&(eff(b) - target).abs())
                            })
                            .unwrap_or(0);
                        let max = eff(254);
                        if target > max + 0.5 {
                            return Err(cfg.error_at(
                                span.clone(),
                                format!(
                                    "[stdp] {name} = {mv} mV is {} weight units of {} mV; with {inc_name} = {inc} \
                                     at most {max} units ({} mV) fit; raise {inc_name}",
                                    fmt_num(target),
                                    fmt_num(wl),
                                    fmt_num(max * wl)
                                ),
                            ));
                        }
                        if mv > 0.0 && eff(best) == 0.0 {
                            return Err(cfg.error_at(
                                span.clone(),
                                format!(
                                    "[stdp] {name} = {mv} mV is below the smallest weight step {} mV \
                                     (weight unit of the plastic synapses); it would round to no learning",
                                    fmt_num(wl)
                                ),
                            ));
                        }
                        Ok(best as u8)
                    }
                }
            };
            let eta_plus = amp(s.plus, s.inc_pre, &s.plus_span, "a_plus_mv", "inc_pre")?;
            let eta_minus = amp(s.minus, s.inc_post, &s.minus_span, "a_minus_mv", "inc_post")?;
            let p = StdpParams {
                enabled: s.enabled,
                eta_plus,
                eta_minus,
                w_min: w_min.min(w_max),
                w_max,
                alpha_pre: alpha(dt, s.tau_pre_ms),
                alpha_post: alpha(dt, s.tau_post_ms),
                inc_pre: s.inc_pre,
                inc_post: s.inc_post,
            };
            report.push(
                "tau_pre",
                "stdp",
                "ms",
                s.tau_pre_ms,
                effective_tau(dt, p.alpha_pre),
                format!("alpha_pre = {}", p.alpha_pre),
            );
            report.push(
                "tau_post",
                "stdp",
                "ms",
                s.tau_post_ms,
                effective_tau(dt, p.alpha_post),
                format!("alpha_post = {}", p.alpha_post),
            );
            let pair = |inc: u8, eta: u8| f64::from((u32::from(inc) * u32::from(eta)) >> 8) * wl;
            let req = |a: Amplitude, inc: u8| match a {
                Amplitude::Millivolts(mv) => mv,
                Amplitude::Eta(e) => pair(inc, e),
            };
            report.push(
                "a_plus",
                "stdp",
                "mV",
                req(s.plus, s.inc_pre),
                pair(s.inc_pre, eta_plus),
                format!("eta_plus = {eta_plus}, inc_pre = {}", s.inc_pre),
            );
            report.push(
                "a_minus",
                "stdp",
                "mV",
                req(s.minus, s.inc_post),
                pair(s.inc_post, eta_minus),
                format!("eta_minus = {eta_minus}, inc_post = {}", s.inc_post),
            );
            report.push(
                "w_min",
                "stdp",
                "mV",
                s.w_min_mv,
                f64::from(p.w_min) * wl,
                format!("{} units", p.w_min),
            );
            report.push(
                "w_max",
                "stdp",
                "mV",
                s.w_max_mv,
                f64::from(p.w_max) * wl,
                format!("{} units", p.w_max),
            );
            p
        }
    };
    stdp.validate(&shape).map_err(|e| {
        cfg.source
            .error(format!("[stdp]: internal parameter check failed: {e}"))
    })?;

    // ---- inputs
    let mut sources = Vec::new();
    let mut pattern_members = Vec::new();
    for (g, (grp, lay)) in cfg.inputs.iter().zip(&input_groups).enumerate() {
        let seed = derive_seed(cfg.seed, TAG_INPUT, g as u64);
        let mut members_out = Vec::new();
        let src = match &grp.kind {
            InputKind::Poisson { rate_hz } => InputSource::Poisson {
                first: lay.first,
                size: lay.size,
                p: rate_hz * dt / 1000.0,
            },
            InputKind::SpikeFile { path, span } => {
                let (line, col) = cfg.source.line_col(span.start);
                let what = format!(
                    "{}:{line}:{col}: input \"{}\": cannot read spike_file",
                    cfg.source.name, grp.name
                );
                let events = match read_spike_csv(path, grp.size, "index", lay.first as usize) {
                    Err(Error::Io { path, source, .. }) => {
                        return Err(Error::Io { what, path, source })
                    }
                    other => other?,
                };
                InputSource::Events { events }
            }
            InputKind::Pattern {
                members,
                period_ms,
                first_ms,
                jitter_ms,
                background_hz,
            } => {
                let mut rng =
                    ChaCha8Rng::seed_from_u64(derive_seed(cfg.seed, TAG_PATTERN_MEMBERS, g as u64));
                let mut all: Vec<u16> = lay.range().collect();
                // Partial Fisher–Yates: the first `members` entries are a uniform random subset.
                for i in 0..*members {
                    let j = rng.random_range(i..all.len());
                    all.swap(i, j);
                }
                let mut m: Vec<u16> = all[..*members].to_vec();
                m.sort_unstable();
                members_out = m.clone();
                InputSource::Pattern {
                    first: lay.first,
                    size: lay.size,
                    members: m,
                    first_step: first_ms / dt,
                    period_steps: period_ms / dt,
                    jitter: (jitter_ms / dt).round() as u32,
                    p_bg: background_hz * dt / 1000.0,
                }
            }
        };
        pattern_members.push(members_out);
        sources.push((seed, src));
    }

    let net = CompiledNetwork {
        shape,
        dt_ms: dt,
        lsb_mv: lsb,
        steps: cfg.steps as u32,
        seed: cfg.seed,
        neuron_params,
        stdp,
        weights,
        plastic,
        inputs: InputSchedule { sources },
        populations,
        input_groups,
        pattern_members,
        report,
    };
    for p in &net.neuron_params {
        p.validate(&shape).map_err(|e| {
            cfg.source
                .error(format!("internal parameter check failed: {e}"))
        })?;
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn net(text: &str) -> Result<CompiledNetwork, Error> {
        compile(&Config::parse(text, "net.toml", Path::new("."))?)
    }

    const NET: &str = r#"
[simulation]
seed = 5

[[input]]
name = "in"
size = 20
poisson = { rate_hz = 10 }

[[population]]
name = "a"
size = 30
tau_mem_ms = 20
tau_syn_ms = 5
v_th_mv = 10

[[population]]
name = "b"
size = 10

[[projection]]
from = "in"
to = "a"
weight_mv = { normal = { mean = 0.5, std = 0.2 } }
probability = 0.3

[[projection]]
from = "a"
to = "b"
weight_mv = { uniform = [-2.0, 3.0] }
probability = 0.5
"#;

    #[test]
    fn alpha_values() {
        // 32768 · e^−0.05 = 31169.92…
        assert_eq!(alpha(1.0, 20.0), 31170);
        // 32768 · e^−0.2 = 26828.37… → 26828
        assert_eq!(alpha(1.0, 5.0), 26828);
        assert_eq!(alpha(1.0, 0.0), 0);
        assert_eq!(alpha(1.0, f64::INFINITY), 32768);
        assert_eq!(alpha(0.1, 1e9), 32768);
        assert!((effective_tau(1.0, 31170) - 20.0).abs() < 0.01);
        assert_eq!(effective_tau(1.0, 32768), f64::INFINITY);
    }

    #[test]
    fn shift_choice_and_weight_rounding() {
        let s = CoreShape::DEFAULT; // 8-bit weights: −128..=127
        let lsb = 1.0 / 256.0;
        // 0.4 mV = 102.4 LSB fits at shift 0.
        assert_eq!(choose_shift(0.0, 0.4, lsb, &s), Some(0));
        // 0.5 mV = 128 LSB does not fit (max 127) → shift 1 (64).
        assert_eq!(choose_shift(0.0, 0.5, lsb, &s), Some(1));
        // −0.5 mV = −128 fits at shift 0.
        assert_eq!(choose_shift(-0.5, 0.0, lsb, &s), Some(0));
        // 127.4 mV → 127.4 at shift 8 rounds to 127: fits; 127.6 does not.
        assert_eq!(choose_shift(0.0, 127.4, lsb, &s), Some(8));
        assert_eq!(choose_shift(0.0, 127.6, lsb, &s), None);
        assert_eq!(quantise_weight(0.3, lsb, 1), 38.0); // 0.3·128 = 38.4
        assert_eq!(quantise_weight(-0.3, lsb, 1), -38.0);
        assert_eq!(quantise_weight(0.0117, lsb, 0), 3.0); // 2.995
        assert_eq!(potential(-65.0, lsb), Some(-16640));
        assert_eq!(potential(200.0, lsb), None);
    }

    #[test]
    fn compiles_layout_and_params() {
        let n = net(NET).unwrap();
        assert_eq!(n.population("a").unwrap().range(), 0..30);
        assert_eq!(n.population("b").unwrap().range(), 30..40);
        assert_eq!(n.input_group("in").unwrap().range(), 0..20);
        let pa = n.neuron_params[0];
        assert_eq!(
            (pa.alpha_v, pa.alpha_i, pa.v_th, pa.t_ref),
            (31170, 26828, 2560, 2)
        );
        // b receives −2..3 mV: 3 mV = 768 LSB → shift 3 (96 units).
        assert_eq!(n.neuron_params[30].w_shift, 3);
        assert_eq!(n.neuron_params[45], NeuronParams::RESET);
        // every weight onto b is within the W-bit range and about right.
        for s in 64..94u16 {
            for t in 30..40u16 {
                let w = n.weight(s, t);
                assert!((-64..=96).contains(&w), "{w}");
            }
        }
        let (abs, _) = n.report.worst("weight").unwrap();
        assert!(abs <= 0.5 * 8.0 / 256.0 + 1e-12, "{abs}");
        let text = n.report.to_string();
        assert!(
            text.contains("tau_mem") && text.contains("projection \"a\" -> \"b\""),
            "{text}"
        );
    }

    #[test]
    fn deterministic_given_seed() {
        let a = net(NET).unwrap();
        let b = net(NET).unwrap();
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.input_train(500), b.input_train(500));
        let c = net(&NET.replace("seed = 5", "seed = 6")).unwrap();
        assert_ne!(a.weights, c.weights);
        assert_ne!(a.input_train(500), c.input_train(500));
    }

    #[test]
    fn weight_too_large_points_at_projection() {
        let e = net(&NET.replace("[-2.0, 3.0]", "[-2.0, 300.0]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("net.toml:30:13: projection \"a\" -> \"b\": weight_mv"),
            "{e}"
        );
    }

    #[test]
    fn potential_out_of_range() {
        let e = net(&NET.replace("v_th_mv = 10", "v_th_mv = 200"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("net.toml:15:11: population \"a\": v_th_mv = 200 mV"),
            "{e}"
        );
    }

    #[test]
    fn t_ref_too_long() {
        let e = net(&NET.replace("v_th_mv = 10", "t_ref_ms = 300"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("net.toml:15:12: population \"a\": t_ref_ms"),
            "{e}"
        );
    }

    #[test]
    fn stdp_amplitudes_and_shared_shift() {
        let text = format!(
            "{NET}\n[[projection]]\nfrom = \"in\"\nto = \"b\"\nweight_mv = 0.1\nplastic = true\n\n\
             [stdp]\ntau_pre_ms = 20\ntau_post_ms = 20\na_plus_mv = 0.125\neta_minus = 10\nw_max_mv = 1.0\n"
        );
        let n = net(&text).unwrap();
        // b needs shift 3 for its −2..3 mV weights; the bounds 0..1 mV fit there too.
        assert_eq!(n.neuron_params[30].w_shift, 3);
        // 0.125 mV = 4 units of 1/32 mV; inc_pre = 128 → eta_plus = 8.
        assert_eq!(n.stdp.eta_plus, 8);
        assert_eq!((n.stdp.w_min, n.stdp.w_max), (0, 32));
        assert_eq!(n.stdp.alpha_pre, 31170);
        assert!(n.plastic[30]); // input 0 -> neuron 30
        assert!(!n.plastic[0]);
    }
}
