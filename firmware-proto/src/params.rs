//! Core sizes and parameter records, exactly as docs/core-spec.md §1–§4 define them.
//!
//! These types are shared by the reference model (`neurofab-sim`), the host, the
//! HDL generator and the wire encoding, so that a field is defined once.

/// Width of the membrane potential `v` and synaptic current `i` (spec §2.1): signed 16-bit.
pub const STATE_BITS: u32 = 16;
/// Width of the STDP traces (spec §4.1): unsigned 8-bit.
pub const TRACE_BITS: u32 = 8;
/// Fraction bits of the decay factors `alpha_*` (spec §2.2): Q1.15.
pub const ALPHA_FRAC_BITS: u32 = 15;
/// `alpha = ALPHA_ONE` means "factor 1.0": no decay at all.
pub const ALPHA_ONE: u16 = 1 << ALPHA_FRAC_BITS;
/// STDP amplitudes are applied as `(trace * eta) >> ETA_SHIFT` (spec §4.2).
pub const ETA_SHIFT: u32 = 8;

/// Largest supported number of neurons N and of external inputs M (spec §1).
pub const MAX_NEURONS: u16 = 4096;
pub const MAX_INPUTS: u16 = 4096;
/// Supported weight widths W (spec §1).
pub const MIN_WEIGHT_BITS: u8 = 2;
pub const MAX_WEIGHT_BITS: u8 = 16;

/// The sizes of a core: N neurons, M external inputs, W-bit signed weights (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoreShape {
    /// N: LIF neurons (postsynaptic columns of the weight matrix).
    pub neurons: u16,
    /// M: external inputs (the first M presynaptic rows).
    pub inputs: u16,
    /// W: bits of a signed synaptic weight.
    pub weight_bits: u8,
}

/// Why a [`CoreShape`] or a parameter record is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamError {
    /// N outside 1..=MAX_NEURONS.
    Neurons(u16),
    /// M outside 0..=MAX_INPUTS.
    Inputs(u16),
    /// W outside MIN_WEIGHT_BITS..=MAX_WEIGHT_BITS.
    WeightBits(u8),
    /// A decay factor above ALPHA_ONE (the name of the field).
    Alpha(&'static str, u16),
    /// `w_shift + W > 16`: a shifted weight would not fit the 16-bit state.
    WeightShift { w_shift: u8, weight_bits: u8 },
    /// w_min > w_max, or either outside the W-bit range.
    WeightBounds { w_min: i16, w_max: i16 },
}

impl core::fmt::Display for ParamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ParamError::Neurons(n) => write!(f, "neurons = {n}: must be 1..={MAX_NEURONS}"),
            ParamError::Inputs(m) => write!(f, "inputs = {m}: must be 0..={MAX_INPUTS}"),
            ParamError::WeightBits(w) => write!(
                f,
                "weight_bits = {w}: must be {MIN_WEIGHT_BITS}..={MAX_WEIGHT_BITS}"
            ),
            ParamError::Alpha(name, a) => {
                write!(f, "{name} = {a}: a Q1.15 decay factor must be 0..={ALPHA_ONE}")
            }
            ParamError::WeightShift { w_shift, weight_bits } => write!(
                f,
                "w_shift = {w_shift}: with {weight_bits}-bit weights it must be at most {}",
                STATE_BITS - weight_bits as u32
            ),
            ParamError::WeightBounds { w_min, w_max } => write!(
                f,
                "w_min = {w_min}, w_max = {w_max}: need w_min <= w_max, both within the weight width"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParamError {}

impl CoreShape {
    /// The default core (spec §1): fits an iCE40 UP5K with weights in SPRAM.
    pub const DEFAULT: CoreShape = CoreShape {
        neurons: 256,
        inputs: 64,
        weight_bits: 8,
    };

    /// Checks the sizes against spec §1.
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.neurons == 0 || self.neurons > MAX_NEURONS {
            return Err(ParamError::Neurons(self.neurons));
        }
        if self.inputs > MAX_INPUTS {
            return Err(ParamError::Inputs(self.inputs));
        }
        if !(MIN_WEIGHT_BITS..=MAX_WEIGHT_BITS).contains(&self.weight_bits) {
            return Err(ParamError::WeightBits(self.weight_bits));
        }
        Ok(())
    }

    /// Presynaptic sources: M inputs then N neurons (rows of the weight matrix).
    pub fn sources(&self) -> usize {
        self.inputs as usize + self.neurons as usize
    }

    /// Number of synapses, (M+N) × N.
    pub fn synapses(&self) -> usize {
        self.sources() * self.neurons as usize
    }

    /// W limited to the supported range, so the helpers below never overflow
    /// even on a shape that has not been validated yet.
    fn bits(&self) -> u32 {
        self.weight_bits.clamp(MIN_WEIGHT_BITS, MAX_WEIGHT_BITS) as u32
    }

    /// Smallest representable weight, −2^(W−1).
    pub fn weight_min(&self) -> i16 {
        (-(1i32 << (self.bits() - 1))) as i16
    }

    /// Largest representable weight, 2^(W−1) − 1.
    pub fn weight_max(&self) -> i16 {
        ((1i32 << (self.bits() - 1)) - 1) as i16
    }

    /// The row index of neuron `n` when it acts as a presynaptic source
    /// (`M + n`; saturates instead of overflowing on an unvalidated shape).
    pub fn neuron_source(&self, n: u16) -> u16 {
        self.inputs.saturating_add(n)
    }
}

impl Default for CoreShape {
    fn default() -> Self {
        CoreShape::DEFAULT
    }
}

/// Per-neuron parameters (spec §2.3). All potentials are in LSB of the 16-bit state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeuronParams {
    /// Firing threshold: the neuron fires when `v >= v_th`.
    pub v_th: i16,
    /// Value `v` is set to on a spike and held at while refractory.
    pub v_reset: i16,
    /// Level `v` leaks toward.
    pub v_rest: i16,
    /// Membrane decay factor per step, Q1.15 (0..=32768): `exp(-dt/tau_mem)`.
    pub alpha_v: u16,
    /// Synaptic-current decay factor per step, Q1.15 (0..=32768): `exp(-dt/tau_syn)`.
    pub alpha_i: u16,
    /// Refractory period in steps after a spike.
    pub t_ref: u8,
    /// Synaptic gain: a weight `w` adds `w << w_shift` to the synaptic input.
    /// Needs `W + w_shift <= 16` (spec §2.4).
    pub w_shift: u8,
}

impl NeuronParams {
    /// Parameters after a full reset (spec §5): silent, non-leaky, no synaptic memory.
    pub const RESET: NeuronParams = NeuronParams {
        v_th: i16::MAX,
        v_reset: 0,
        v_rest: 0,
        alpha_v: ALPHA_ONE,
        alpha_i: 0,
        t_ref: 0,
        w_shift: 0,
    };

    pub fn validate(&self, shape: &CoreShape) -> Result<(), ParamError> {
        if self.w_shift as u32 + shape.weight_bits as u32 > STATE_BITS {
            return Err(ParamError::WeightShift {
                w_shift: self.w_shift,
                weight_bits: shape.weight_bits,
            });
        }
        if self.alpha_v > ALPHA_ONE {
            return Err(ParamError::Alpha("alpha_v", self.alpha_v));
        }
        if self.alpha_i > ALPHA_ONE {
            return Err(ParamError::Alpha("alpha_i", self.alpha_i));
        }
        Ok(())
    }
}

impl Default for NeuronParams {
    fn default() -> Self {
        NeuronParams::RESET
    }
}

/// Global STDP parameters (spec §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StdpParams {
    /// Learning on/off. Traces are maintained either way.
    pub enabled: bool,
    /// Potentiation amplitude: on a post spike, `Δw = (x_pre * eta_plus) >> 8`.
    pub eta_plus: u8,
    /// Depression amplitude: on a pre spike, `Δw = (y_post * eta_minus) >> 8`.
    pub eta_minus: u8,
    /// Lower weight bound for plastic synapses (within the W-bit range).
    pub w_min: i16,
    /// Upper weight bound for plastic synapses (within the W-bit range).
    pub w_max: i16,
    /// Pre-trace decay factor per step, Q1.15.
    pub alpha_pre: u16,
    /// Post-trace decay factor per step, Q1.15.
    pub alpha_post: u16,
    /// Added (saturating at 255) to a source's pre-trace when it is delivered.
    pub inc_pre: u8,
    /// Added (saturating at 255) to a neuron's post-trace when it fires.
    pub inc_post: u8,
}

impl StdpParams {
    /// STDP parameters after a full reset (spec §5): learning off, full weight range.
    pub fn reset(shape: &CoreShape) -> StdpParams {
        StdpParams {
            enabled: false,
            eta_plus: 0,
            eta_minus: 0,
            w_min: shape.weight_min(),
            w_max: shape.weight_max(),
            alpha_pre: 0,
            alpha_post: 0,
            inc_pre: 0,
            inc_post: 0,
        }
    }

    pub fn validate(&self, shape: &CoreShape) -> Result<(), ParamError> {
        if self.alpha_pre > ALPHA_ONE {
            return Err(ParamError::Alpha("alpha_pre", self.alpha_pre));
        }
        if self.alpha_post > ALPHA_ONE {
            return Err(ParamError::Alpha("alpha_post", self.alpha_post));
        }
        if self.w_min > self.w_max
            || self.w_min < shape.weight_min()
            || self.w_max > shape.weight_max()
        {
            return Err(ParamError::WeightBounds {
                w_min: self.w_min,
                w_max: self.w_max,
            });
        }
        Ok(())
    }
}

/// The per-neuron dynamic state readable over the protocol (spec §2.1, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NeuronState {
    /// Membrane potential.
    pub v: i16,
    /// Synaptic current.
    pub i: i16,
    /// Refractory steps left.
    pub refractory: u8,
    /// Post-synaptic STDP trace.
    pub post_trace: u8,
}
