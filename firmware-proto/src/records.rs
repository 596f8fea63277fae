//! Byte layouts of the parameter and state records carried in payloads
//! (docs/protocol.md §4). All multi-byte fields are little-endian; all codecs
//! here are alloc-free.

use crate::params::{CoreShape, NeuronParams, NeuronState, StdpParams};

/// Offsets of a neuron-parameter record (12 bytes, docs/protocol.md §4.1).
pub mod neuron_params {
    pub const LEN: usize = 12;
    /// i16
    pub const V_TH: usize = 0;
    /// i16
    pub const V_RESET: usize = 2;
    /// i16
    pub const V_REST: usize = 4;
    /// u16, Q1.15 <= 32768
    pub const ALPHA_V: usize = 6;
    /// u16, Q1.15 <= 32768
    pub const ALPHA_I: usize = 8;
    /// u8
    pub const T_REF: usize = 10;
    /// u8, W + w_shift <= 16
    pub const W_SHIFT: usize = 11;
}

/// Offsets of the STDP record (14 bytes, docs/protocol.md §4.2).
pub mod stdp_params {
    pub const LEN: usize = 14;
    /// u8: bit0 = enabled, bits 1..7 reserved (0).
    pub const FLAGS: usize = 0;
    pub const ETA_PLUS: usize = 1;
    pub const ETA_MINUS: usize = 2;
    pub const INC_PRE: usize = 3;
    pub const INC_POST: usize = 4;
    /// u8, must be 0.
    pub const RESERVED: usize = 5;
    /// i16
    pub const W_MIN: usize = 6;
    /// i16
    pub const W_MAX: usize = 8;
    /// u16, Q1.15 <= 32768
    pub const ALPHA_PRE: usize = 10;
    /// u16, Q1.15 <= 32768
    pub const ALPHA_POST: usize = 12;
    /// Bit of FLAGS: learning enabled.
    pub const FLAG_ENABLED: u8 = 0x01;
}

/// Offsets of a neuron-state record (6 bytes, docs/protocol.md §4.3).
pub mod neuron_state {
    pub const LEN: usize = 6;
    /// i16
    pub const V: usize = 0;
    /// i16
    pub const I: usize = 2;
    /// u8
    pub const REFRACTORY: usize = 4;
    /// u8
    pub const POST_TRACE: usize = 5;
}

/// Offsets of the IDENTITY payload (28 bytes, docs/protocol.md §3.1).
pub mod identity {
    pub const LEN: usize = 28;
    /// 4 bytes, [`MAGIC`](super::MAGIC)
    pub const MAGIC: usize = 0;
    pub const PROTOCOL_VERSION: usize = 4;
    pub const NEURONS: usize = 5;
    pub const INPUTS: usize = 7;
    pub const WEIGHT_BITS: usize = 9;
    pub const LANES: usize = 10;
    pub const CLOCK_HZ: usize = 11;
    pub const BAUD: usize = 15;
    pub const MAX_PAYLOAD: usize = 19;
    pub const STEP_WINDOW: usize = 21;
    pub const REPLAY_DEPTH: usize = 22;
    pub const FEATURES: usize = 23;
    pub const CORE_ID: usize = 24;
}

pub const NEURON_PARAMS_LEN: usize = neuron_params::LEN;
pub const STDP_PARAMS_LEN: usize = stdp_params::LEN;
pub const NEURON_STATE_LEN: usize = neuron_state::LEN;
pub const IDENTITY_LEN: usize = identity::LEN;

/// First four bytes of IDENTITY.
pub const MAGIC: [u8; 4] = *b"NFAB";
/// The protocol version this crate implements.
pub const PROTOCOL_VERSION: u8 = 1;
/// IDENTITY `features` bit: the core implements STDP.
pub const FEATURE_STDP: u8 = 0x01;
/// IDENTITY `features` bit: READ_STATE / READ_PRE_TRACES are implemented.
pub const FEATURE_STATE_READOUT: u8 = 0x02;

#[inline]
fn rd_u16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
#[inline]
fn rd_i16(b: &[u8], o: usize) -> i16 {
    i16::from_le_bytes([b[o], b[o + 1]])
}
#[inline]
fn rd_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
#[inline]
fn wr(b: &mut [u8], o: usize, v: &[u8]) {
    b[o..o + v.len()].copy_from_slice(v);
}

/// Writes a neuron-parameter record.
pub fn encode_neuron_params(p: &NeuronParams, out: &mut [u8; NEURON_PARAMS_LEN]) {
    use neuron_params::*;
    wr(out, V_TH, &p.v_th.to_le_bytes());
    wr(out, V_RESET, &p.v_reset.to_le_bytes());
    wr(out, V_REST, &p.v_rest.to_le_bytes());
    wr(out, ALPHA_V, &p.alpha_v.to_le_bytes());
    wr(out, ALPHA_I, &p.alpha_i.to_le_bytes());
    out[T_REF] = p.t_ref;
    out[W_SHIFT] = p.w_shift;
}

/// Reads a neuron-parameter record (no validation: see `NeuronParams::validate`).
pub fn decode_neuron_params(b: &[u8; NEURON_PARAMS_LEN]) -> NeuronParams {
    use neuron_params::*;
    NeuronParams {
        v_th: rd_i16(b, V_TH),
        v_reset: rd_i16(b, V_RESET),
        v_rest: rd_i16(b, V_REST),
        alpha_v: rd_u16(b, ALPHA_V),
        alpha_i: rd_u16(b, ALPHA_I),
        t_ref: b[T_REF],
        w_shift: b[W_SHIFT],
    }
}

/// Payload offset of the field a [`crate::ParamError`] of a neuron-parameter
/// record refers to, relative to the record start.
pub fn neuron_params_error_offset(e: &crate::ParamError) -> (usize, &'static str) {
    match e {
        crate::ParamError::Alpha("alpha_i", _) => (neuron_params::ALPHA_I, "alpha_i"),
        crate::ParamError::Alpha(_, _) => (neuron_params::ALPHA_V, "alpha_v"),
        crate::ParamError::WeightShift { .. } => (neuron_params::W_SHIFT, "w_shift"),
        _ => (0, "record"),
    }
}

/// Writes the STDP record (reserved bits and byte written as 0).
pub fn encode_stdp_params(p: &StdpParams, out: &mut [u8; STDP_PARAMS_LEN]) {
    use stdp_params::*;
    out[FLAGS] = if p.enabled { FLAG_ENABLED } else { 0 };
    out[ETA_PLUS] = p.eta_plus;
    out[ETA_MINUS] = p.eta_minus;
    out[INC_PRE] = p.inc_pre;
    out[INC_POST] = p.inc_post;
    out[RESERVED] = 0;
    wr(out, W_MIN, &p.w_min.to_le_bytes());
    wr(out, W_MAX, &p.w_max.to_le_bytes());
    wr(out, ALPHA_PRE, &p.alpha_pre.to_le_bytes());
    wr(out, ALPHA_POST, &p.alpha_post.to_le_bytes());
}

/// A reserved bit or byte of a record was not zero: `(offset, field)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedNonZero {
    pub offset: usize,
    pub field: &'static str,
}

/// Reads the STDP record. Reserved flag bits and the reserved byte must be 0.
pub fn decode_stdp_params(b: &[u8; STDP_PARAMS_LEN]) -> Result<StdpParams, ReservedNonZero> {
    use stdp_params::*;
    if b[FLAGS] & !FLAG_ENABLED != 0 {
        return Err(ReservedNonZero {
            offset: FLAGS,
            field: "flags",
        });
    }
    if b[RESERVED] != 0 {
        return Err(ReservedNonZero {
            offset: RESERVED,
            field: "reserved",
        });
    }
    Ok(StdpParams {
        enabled: b[FLAGS] & FLAG_ENABLED != 0,
        eta_plus: b[ETA_PLUS],
        eta_minus: b[ETA_MINUS],
        inc_pre: b[INC_PRE],
        inc_post: b[INC_POST],
        w_min: rd_i16(b, W_MIN),
        w_max: rd_i16(b, W_MAX),
        alpha_pre: rd_u16(b, ALPHA_PRE),
        alpha_post: rd_u16(b, ALPHA_POST),
    })
}

/// Offset (within the STDP record) and name of the field a `ParamError` from
/// `StdpParams::validate` refers to.
pub fn stdp_params_error_offset(
    p: &StdpParams,
    shape: &CoreShape,
    e: &crate::ParamError,
) -> (usize, &'static str) {
    match e {
        crate::ParamError::Alpha("alpha_pre", _) => (stdp_params::ALPHA_PRE, "alpha_pre"),
        crate::ParamError::Alpha(_, _) => (stdp_params::ALPHA_POST, "alpha_post"),
        crate::ParamError::WeightBounds { .. } => {
            if p.w_min < shape.weight_min() || p.w_min > shape.weight_max() || p.w_min > p.w_max {
                (stdp_params::W_MIN, "w_min")
            } else {
                (stdp_params::W_MAX, "w_max")
            }
        }
        _ => (0, "record"),
    }
}

/// Writes a neuron-state record.
pub fn encode_neuron_state(s: &NeuronState, out: &mut [u8; NEURON_STATE_LEN]) {
    use neuron_state::*;
    wr(out, V, &s.v.to_le_bytes());
    wr(out, I, &s.i.to_le_bytes());
    out[REFRACTORY] = s.refractory;
    out[POST_TRACE] = s.post_trace;
}

/// Reads a neuron-state record.
pub fn decode_neuron_state(b: &[u8; NEURON_STATE_LEN]) -> NeuronState {
    use neuron_state::*;
    NeuronState {
        v: rd_i16(b, V),
        i: rd_i16(b, I),
        refractory: b[REFRACTORY],
        post_trace: b[POST_TRACE],
    }
}

/// Bytes per weight on the wire: `ceil(W / 8)` (1 for W <= 8, 2 for W <= 16).
pub const fn weight_bytes(weight_bits: u8) -> usize {
    (weight_bits as usize).div_ceil(8)
}

/// A weight outside the signed W-bit range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightOutOfRange {
    pub value: i16,
    pub weight_bits: u8,
}

fn weight_in_range(w: i16, weight_bits: u8) -> bool {
    let half = 1i32 << (weight_bits.clamp(1, 16) - 1);
    (-half..half).contains(&(w as i32))
}

/// Writes one weight as `weight_bytes(W)` bytes, little-endian two's complement.
/// `out.len()` must be `weight_bytes(weight_bits)`.
pub fn encode_weight(w: i16, weight_bits: u8, out: &mut [u8]) -> Result<(), WeightOutOfRange> {
    if !weight_in_range(w, weight_bits) {
        return Err(WeightOutOfRange {
            value: w,
            weight_bits,
        });
    }
    let le = w.to_le_bytes();
    out.copy_from_slice(&le[..weight_bytes(weight_bits)]);
    Ok(())
}

/// Reads one weight (`b.len() == weight_bytes(weight_bits)`), sign-extending and
/// checking that it lies in the signed W-bit range.
pub fn decode_weight(b: &[u8], weight_bits: u8) -> Result<i16, WeightOutOfRange> {
    let w = if b.len() == 1 {
        b[0] as i8 as i16
    } else {
        i16::from_le_bytes([b[0], b[1]])
    };
    if !weight_in_range(w, weight_bits) {
        return Err(WeightOutOfRange {
            value: w,
            weight_bits,
        });
    }
    Ok(w)
}

/// Bytes of a bit vector of `count` bits (mask, spike bitmap): `ceil(count / 8)`.
pub const fn bitmap_bytes(count: usize) -> usize {
    count.div_ceil(8)
}

/// The device's description of itself, carried by IDENTITY (docs/protocol.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// Always [`PROTOCOL_VERSION`] for this crate's codec.
    pub protocol_version: u8,
    /// N, M, W.
    pub shape: CoreShape,
    /// Parallel neuron-update lanes of the implementation (informational).
    pub lanes: u8,
    /// Core clock in Hz.
    pub clock_hz: u32,
    /// UART baud rate in use.
    pub baud: u32,
    /// Largest payload the device accepts (<= MAX_PAYLOAD).
    pub max_payload: u16,
    /// STEP frames the host may have in flight (>= 1).
    pub step_window: u8,
    /// STEP_DONE frames the device keeps for retransmissions.
    pub replay_depth: u8,
    /// [`FEATURE_STDP`] | [`FEATURE_STATE_READOUT`].
    pub features: u8,
    /// Core identifier / build hash.
    pub core_id: u32,
}

impl Capabilities {
    pub fn has_stdp(&self) -> bool {
        self.features & FEATURE_STDP != 0
    }
    pub fn has_state_readout(&self) -> bool {
        self.features & FEATURE_STATE_READOUT != 0
    }
}

/// Why an IDENTITY payload was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    /// Payload is not `IDENTITY_LEN` bytes.
    Length(usize),
    /// First four bytes are not `MAGIC`.
    BadMagic([u8; 4]),
    /// A protocol version this codec does not implement.
    UnsupportedVersion(u8),
}

/// Writes the IDENTITY payload.
pub fn encode_identity(c: &Capabilities, out: &mut [u8; IDENTITY_LEN]) {
    use identity::*;
    wr(out, MAGIC, &super::records::MAGIC);
    out[PROTOCOL_VERSION] = c.protocol_version;
    wr(out, NEURONS, &c.shape.neurons.to_le_bytes());
    wr(out, INPUTS, &c.shape.inputs.to_le_bytes());
    out[WEIGHT_BITS] = c.shape.weight_bits;
    out[LANES] = c.lanes;
    wr(out, CLOCK_HZ, &c.clock_hz.to_le_bytes());
    wr(out, BAUD, &c.baud.to_le_bytes());
    wr(out, MAX_PAYLOAD, &c.max_payload.to_le_bytes());
    out[STEP_WINDOW] = c.step_window;
    out[REPLAY_DEPTH] = c.replay_depth;
    out[FEATURES] = c.features;
    wr(out, CORE_ID, &c.core_id.to_le_bytes());
}

/// Reads the IDENTITY payload; checks length, magic and version.
pub fn decode_identity(b: &[u8]) -> Result<Capabilities, IdentityError> {
    use identity::*;
    if b.len() < PROTOCOL_VERSION + 1 {
        return Err(IdentityError::Length(b.len()));
    }
    let magic = [b[0], b[1], b[2], b[3]];
    if magic != super::records::MAGIC {
        return Err(IdentityError::BadMagic(magic));
    }
    if b[PROTOCOL_VERSION] != super::records::PROTOCOL_VERSION {
        return Err(IdentityError::UnsupportedVersion(b[PROTOCOL_VERSION]));
    }
    if b.len() != LEN {
        return Err(IdentityError::Length(b.len()));
    }
    Ok(Capabilities {
        protocol_version: b[PROTOCOL_VERSION],
        shape: CoreShape {
            neurons: rd_u16(b, NEURONS),
            inputs: rd_u16(b, INPUTS),
            weight_bits: b[WEIGHT_BITS],
        },
        lanes: b[LANES],
        clock_hz: rd_u32(b, CLOCK_HZ),
        baud: rd_u32(b, BAUD),
        max_payload: rd_u16(b, MAX_PAYLOAD),
        step_window: b[STEP_WINDOW],
        replay_depth: b[REPLAY_DEPTH],
        features: b[FEATURES],
        core_id: rd_u32(b, CORE_ID),
    })
}
