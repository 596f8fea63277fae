//! Commands (host → device) and replies (device → host): frame types, error codes,
//! payload layouts and codecs (docs/protocol.md §3, §5, §6).
//!
//! The constants, spike-set codec and flow-control helpers are alloc-free; the
//! typed [`Command`] / [`Reply`] enums use `Vec` and need the `std` feature.

use crate::frame::MAX_PAYLOAD;
use crate::params::ParamError;
use crate::records::{bitmap_bytes, weight_bytes, IdentityError};

// ---- frame types (docs/protocol.md §3) -------------------------------------------

pub const CMD_IDENTIFY: u8 = 0x01;
pub const CMD_RESET: u8 = 0x02;
pub const CMD_WRITE_NEURON_PARAMS: u8 = 0x03;
pub const CMD_READ_NEURON_PARAMS: u8 = 0x04;
pub const CMD_WRITE_STDP: u8 = 0x05;
pub const CMD_READ_STDP: u8 = 0x06;
pub const CMD_WRITE_WEIGHTS: u8 = 0x07;
pub const CMD_READ_WEIGHTS: u8 = 0x08;
pub const CMD_WRITE_MASK: u8 = 0x09;
pub const CMD_READ_MASK: u8 = 0x0A;
pub const CMD_READ_STATE: u8 = 0x0B;
pub const CMD_READ_PRE_TRACES: u8 = 0x0C;
pub const CMD_STEP: u8 = 0x10;
pub const CMD_RUN: u8 = 0x11;

/// A data reply's type is its command's type with this bit set.
pub const REPLY_BIT: u8 = 0x80;
pub const REPLY_IDENTITY: u8 = 0x81;
pub const REPLY_NEURON_PARAMS: u8 = 0x84;
pub const REPLY_STDP: u8 = 0x86;
pub const REPLY_WEIGHTS: u8 = 0x88;
pub const REPLY_MASK: u8 = 0x8A;
pub const REPLY_STATE: u8 = 0x8B;
pub const REPLY_PRE_TRACES: u8 = 0x8C;
pub const REPLY_STEP_DONE: u8 = 0x90;
pub const REPLY_ACK: u8 = 0xA0;
pub const REPLY_NACK: u8 = 0xA1;

/// All command types, ascending.
pub const COMMAND_TYPES: [u8; 14] = [
    CMD_IDENTIFY,
    CMD_RESET,
    CMD_WRITE_NEURON_PARAMS,
    CMD_READ_NEURON_PARAMS,
    CMD_WRITE_STDP,
    CMD_READ_STDP,
    CMD_WRITE_WEIGHTS,
    CMD_READ_WEIGHTS,
    CMD_WRITE_MASK,
    CMD_READ_MASK,
    CMD_READ_STATE,
    CMD_READ_PRE_TRACES,
    CMD_STEP,
    CMD_RUN,
];
/// All reply types, ascending.
pub const REPLY_TYPES: [u8; 10] = [
    REPLY_IDENTITY,
    REPLY_NEURON_PARAMS,
    REPLY_STDP,
    REPLY_WEIGHTS,
    REPLY_MASK,
    REPLY_STATE,
    REPLY_PRE_TRACES,
    REPLY_STEP_DONE,
    REPLY_ACK,
    REPLY_NACK,
];

// ---- NACK error codes (docs/protocol.md §5) --------------------------------------

pub const ERR_BAD_CRC: u8 = 0x01;
pub const ERR_UNKNOWN_COMMAND: u8 = 0x02;
pub const ERR_BAD_LENGTH: u8 = 0x03;
pub const ERR_OUT_OF_RANGE: u8 = 0x04;
pub const ERR_BAD_PARAM: u8 = 0x05;
pub const ERR_BUSY: u8 = 0x06;
pub const ERR_STEP_GAP: u8 = 0x07;
pub const ERR_OVERSIZED: u8 = 0x08;
pub const ERR_FRAMING: u8 = 0x09;

/// NACK error codes as an enum (`repr(u8)` = the wire value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    BadCrc = ERR_BAD_CRC,
    UnknownCommand = ERR_UNKNOWN_COMMAND,
    BadLength = ERR_BAD_LENGTH,
    OutOfRange = ERR_OUT_OF_RANGE,
    BadParam = ERR_BAD_PARAM,
    Busy = ERR_BUSY,
    StepGap = ERR_STEP_GAP,
    Oversized = ERR_OVERSIZED,
    Framing = ERR_FRAMING,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::BadCrc,
        ErrorCode::UnknownCommand,
        ErrorCode::BadLength,
        ErrorCode::OutOfRange,
        ErrorCode::BadParam,
        ErrorCode::Busy,
        ErrorCode::StepGap,
        ErrorCode::Oversized,
        ErrorCode::Framing,
    ];

    pub fn from_u8(v: u8) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|e| *e as u8 == v)
    }
}

// ---- payload field values and sizes (docs/protocol.md §3) ------------------------

/// RESET flags bit: state reset (spec §5).
pub const RESET_STATE: u8 = 0x01;
/// RESET flags bit: full reset (spec §5; implies a state reset).
pub const RESET_FULL: u8 = 0x02;

/// Spike-set format byte: list of u16 indices, strictly ascending.
pub const SPIKES_LIST: u8 = 0;
/// Spike-set format byte: bitmap, bit k (LSB-first) = index k.
pub const SPIKES_BITMAP: u8 = 1;

/// Fixed payload lengths.
pub const IDENTIFY_LEN: usize = 0;
pub const RESET_LEN: usize = 1;
pub const READ_STDP_LEN: usize = 0;
/// `first u16, count u8` (READ_NEURON_PARAMS, READ_STATE; prefix of their replies).
pub const NEURON_RANGE_LEN: usize = 3;
/// `row u16, col u16, count u16` (READ_WEIGHTS, READ_MASK; prefix of writes and replies).
pub const SYNAPSE_RANGE_LEN: usize = 6;
/// `first u16, count u16` (READ_PRE_TRACES; prefix of PRE_TRACES).
pub const TRACE_RANGE_LEN: usize = 4;
/// `step u32, format u8` (prefix of STEP and STEP_DONE).
pub const STEP_HEADER_LEN: usize = 5;
/// `count u16` in front of a spike list.
pub const SPIKE_LIST_COUNT_LEN: usize = 2;
pub const RUN_LEN: usize = 4;
pub const ACK_LEN: usize = 1;
pub const NACK_LEN: usize = 6;

/// Largest `count` of (READ_/WRITE_)NEURON_PARAMS: (1024 − 3) / 12 = 85.
pub const MAX_NEURON_PARAMS_PER_FRAME: usize =
    (MAX_PAYLOAD - NEURON_RANGE_LEN) / crate::records::NEURON_PARAMS_LEN;
/// Largest `count` of READ_STATE: (1024 − 3) / 6 = 170.
pub const MAX_STATES_PER_FRAME: usize =
    (MAX_PAYLOAD - NEURON_RANGE_LEN) / crate::records::NEURON_STATE_LEN;
/// Largest `count` of READ_PRE_TRACES: 1024 − 4 = 1020.
pub const MAX_PRE_TRACES_PER_FRAME: usize = MAX_PAYLOAD - TRACE_RANGE_LEN;
/// Largest `count` of READ_MASK / WRITE_MASK: (1024 − 6) · 8 = 8144 (never binding: N <= 4096).
pub const MAX_MASK_BITS_PER_FRAME: usize = (MAX_PAYLOAD - SYNAPSE_RANGE_LEN) * 8;
/// Largest spike list in a STEP / STEP_DONE: (1024 − 7) / 2 = 508.
pub const MAX_SPIKE_LIST: usize = (MAX_PAYLOAD - STEP_HEADER_LEN - SPIKE_LIST_COUNT_LEN) / 2;

/// Largest `count` of READ_WEIGHTS / WRITE_WEIGHTS: 1018 for W <= 8, 509 for W <= 16.
pub const fn max_weights_per_frame(weight_bits: u8) -> usize {
    match (MAX_PAYLOAD - SYNAPSE_RANGE_LEN).checked_div(weight_bytes(weight_bits)) {
        Some(n) => n,
        None => 0,
    }
}

/// Default UART baud rate (docs/protocol.md §1).
pub const DEFAULT_BAUD: u32 = 115_200;

// ---- spike sets --------------------------------------------------------------------

/// Encoding of a spike set (STEP inputs, STEP_DONE fired neurons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpikeFormat {
    List,
    Bitmap,
}

impl SpikeFormat {
    pub fn to_u8(self) -> u8 {
        match self {
            SpikeFormat::List => SPIKES_LIST,
            SpikeFormat::Bitmap => SPIKES_BITMAP,
        }
    }
}

/// Bytes after the format byte: `2 + 2·count` for a list, `ceil(universe/8)` for a bitmap.
pub const fn spike_data_len(format: SpikeFormat, count: usize, universe: u16) -> usize {
    match format {
        SpikeFormat::List => SPIKE_LIST_COUNT_LEN + 2 * count,
        SpikeFormat::Bitmap => bitmap_bytes(universe as usize),
    }
}

/// The canonical encoding of `count` spikes out of `universe` indices: the shorter
/// one, a list on a tie (docs/protocol.md §3.9). Devices must use it for
/// STEP_DONE; hosts use it for STEP (devices accept either).
pub const fn choose_spike_encoding(count: usize, universe: u16) -> SpikeFormat {
    if spike_data_len(SpikeFormat::List, count, universe)
        <= spike_data_len(SpikeFormat::Bitmap, count, universe)
    {
        SpikeFormat::List
    } else {
        SpikeFormat::Bitmap
    }
}

/// Writes `format u8` + spike data for strictly ascending `indices` (< `universe`)
/// in the canonical format; returns the bytes written.
pub fn encode_spike_section(
    indices: &[u16],
    universe: u16,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let format = choose_spike_encoding(indices.len(), universe);
    let n = 1 + spike_data_len(format, indices.len(), universe);
    if out.len() < n {
        return Err(EncodeError::BufferTooSmall {
            needed: n,
            available: out.len(),
        });
    }
    let mut prev: Option<u16> = None;
    for &i in indices {
        if i >= universe {
            return Err(EncodeError::Unrepresentable {
                field: "spike index",
                reason: "index >= universe",
            });
        }
        if prev.is_some_and(|p| p >= i) {
            return Err(EncodeError::Unrepresentable {
                field: "spike index",
                reason: "not strictly ascending",
            });
        }
        prev = Some(i);
    }
    out[0] = format.to_u8();
    match format {
        SpikeFormat::List => {
            out[1..3].copy_from_slice(&(indices.len() as u16).to_le_bytes());
            for (k, &i) in indices.iter().enumerate() {
                out[3 + 2 * k..5 + 2 * k].copy_from_slice(&i.to_le_bytes());
            }
        }
        SpikeFormat::Bitmap => {
            out[1..n].fill(0);
            for &i in indices {
                out[1 + i as usize / 8] |= 1 << (i % 8);
            }
        }
    }
    Ok(n)
}

/// Reads a spike section (`format u8` + data, exactly `b.len()` bytes) over
/// `universe` indices, calling `f` for each index in ascending order. `base` is
/// the payload offset of the format byte (for error offsets), `frame_type` the
/// frame's type (for length errors). Accepts both formats.
pub fn decode_spike_section(
    frame_type: u8,
    b: &[u8],
    base: usize,
    universe: u16,
    mut f: impl FnMut(u16),
) -> Result<(), DecodeError> {
    let total = base + b.len();
    let Some(&format) = b.first() else {
        return Err(DecodeError::Length {
            frame_type,
            expected: base + 1,
            actual: total,
        });
    };
    match format {
        SPIKES_LIST => {
            if b.len() < 1 + SPIKE_LIST_COUNT_LEN {
                return Err(DecodeError::Length {
                    frame_type,
                    expected: base + 3,
                    actual: total,
                });
            }
            let count = u16::from_le_bytes([b[1], b[2]]) as usize;
            let expected = base + 3 + 2 * count;
            if total != expected {
                return Err(DecodeError::Length {
                    frame_type,
                    expected,
                    actual: total,
                });
            }
            let mut prev: Option<u16> = None;
            for k in 0..count {
                let o = 3 + 2 * k;
                let i = u16::from_le_bytes([b[o], b[o + 1]]);
                if i >= universe {
                    return Err(DecodeError::OutOfRange {
                        field: "spike index",
                        offset: base + o,
                        value: i as u32,
                        reason: "index >= number of inputs/neurons",
                    });
                }
                if prev.is_some_and(|p| p >= i) {
                    return Err(DecodeError::BadParam {
                        field: "spike index",
                        offset: base + o,
                        reason: "spike list not strictly ascending",
                    });
                }
                prev = Some(i);
                f(i);
            }
            Ok(())
        }
        SPIKES_BITMAP => {
            let expected = base + 1 + bitmap_bytes(universe as usize);
            if total != expected {
                return Err(DecodeError::Length {
                    frame_type,
                    expected,
                    actual: total,
                });
            }
            for (k, &byte) in b[1..].iter().enumerate() {
                for bit in 0..8 {
                    if byte & (1 << bit) != 0 {
                        let i = k * 8 + bit;
                        if i >= universe as usize {
                            return Err(DecodeError::OutOfRange {
                                field: "spike bitmap",
                                offset: base + 1 + k,
                                value: i as u32,
                                reason: "padding bit set (index >= number of inputs/neurons)",
                            });
                        }
                        f(i as u16);
                    }
                }
            }
            Ok(())
        }
        _ => Err(DecodeError::BadParam {
            field: "format",
            offset: base,
            reason: "unknown spike format",
        }),
    }
}

// ---- flow control helpers (docs/protocol.md §6) -----------------------------------

/// What a device does with a STEP for `step` when it expects `next_step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDisposition {
    /// `step == next_step`: execute it.
    Execute,
    /// `next_step − replay_depth <= step < next_step`: a retransmission; re-send the
    /// stored STEP_DONE of `step`, execute nothing.
    Replay,
    /// Anything else: NACK STEP_GAP with detail = `expected` (= next_step).
    Gap { expected: u32 },
}

/// Classifies a received STEP (docs/protocol.md §6.2).
pub const fn classify_step(step: u32, next_step: u32, replay_depth: u8) -> StepDisposition {
    if step == next_step {
        StepDisposition::Execute
    } else if step < next_step && next_step - step <= replay_depth as u32 {
        StepDisposition::Replay
    } else {
        StepDisposition::Gap {
            expected: next_step,
        }
    }
}

/// Host-side STEP credit counter (docs/protocol.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCredits {
    window: u8,
    in_flight: u8,
}

impl StepCredits {
    /// `window` = IDENTITY's step_window (a window of 0 is treated as 1).
    pub fn new(window: u8) -> Self {
        StepCredits {
            window: window.max(1),
            in_flight: 0,
        }
    }
    /// Takes a credit to send a STEP; false if the window is full.
    pub fn try_take(&mut self) -> bool {
        if self.in_flight < self.window {
            self.in_flight += 1;
            true
        } else {
            false
        }
    }
    /// Returns a credit (a STEP_DONE or a NACK answering a STEP arrived).
    pub fn give_back(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
    pub fn in_flight(&self) -> u8 {
        self.in_flight
    }
    pub fn available(&self) -> u8 {
        self.window - self.in_flight
    }
}

// ---- errors ------------------------------------------------------------------------

/// Why a payload was rejected; maps onto a NACK error code and detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a command (or reply) type. → UNKNOWN_COMMAND.
    UnknownType(u8),
    /// Payload length wrong for the type (and its count fields). → BAD_LENGTH,
    /// detail = `expected` (for a payload too short to hold its fixed fields,
    /// the length of those fields).
    Length {
        frame_type: u8,
        expected: usize,
        actual: usize,
    },
    /// An index/row/col/count outside the core. → OUT_OF_RANGE, detail = `offset`.
    OutOfRange {
        field: &'static str,
        offset: usize,
        value: u32,
        reason: &'static str,
    },
    /// A parameter value the core refuses. → BAD_PARAM, detail = `offset`.
    BadParam {
        field: &'static str,
        offset: usize,
        reason: &'static str,
    },
    /// IDENTITY payload not understood (replies only).
    Identity(IdentityError),
    /// The `CoreShape` given as context is itself invalid.
    InvalidShape(ParamError),
}

impl DecodeError {
    /// The NACK error code a device answers this with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::UnknownType(_) => ErrorCode::UnknownCommand,
            DecodeError::Length { .. } => ErrorCode::BadLength,
            DecodeError::OutOfRange { .. } => ErrorCode::OutOfRange,
            DecodeError::BadParam { .. }
            | DecodeError::Identity(_)
            | DecodeError::InvalidShape(_) => ErrorCode::BadParam,
        }
    }

    /// The NACK detail word (docs/protocol.md §5).
    pub fn detail(&self) -> u32 {
        match *self {
            DecodeError::Length { expected, .. } => expected as u32,
            DecodeError::OutOfRange { offset, .. } | DecodeError::BadParam { offset, .. } => {
                offset as u32
            }
            _ => 0,
        }
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownType(t) => write!(f, "unknown frame type {t:#04x}"),
            DecodeError::Length {
                frame_type,
                expected,
                actual,
            } => write!(
                f,
                "frame type {frame_type:#04x}: payload of {actual} bytes, expected {expected}"
            ),
            DecodeError::OutOfRange {
                field,
                offset,
                value,
                reason,
            } => {
                write!(
                    f,
                    "{field} = {value} (payload offset {offset}) out of range: {reason}"
                )
            }
            DecodeError::BadParam {
                field,
                offset,
                reason,
            } => {
                write!(f, "bad {field} at payload offset {offset}: {reason}")
            }
            DecodeError::Identity(e) => write!(f, "bad IDENTITY: {e:?}"),
            DecodeError::InvalidShape(e) => write!(f, "invalid core shape: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// Why a command or reply could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// `buf` shorter than the payload.
    BufferTooSmall { needed: usize, available: usize },
    /// Payload would exceed MAX_PAYLOAD (too many records in one frame).
    TooLarge { len: usize },
    /// A value the wire format cannot carry (count too big for its field, weight
    /// outside W bits, spike list not ascending or out of the universe, ...).
    Unrepresentable {
        field: &'static str,
        reason: &'static str,
    },
    /// The `CoreShape` given as context is itself invalid.
    InvalidShape(ParamError),
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, available } => {
                write!(f, "buffer of {available} bytes too small, {needed} needed")
            }
            EncodeError::TooLarge { len } => {
                write!(f, "payload of {len} bytes exceeds {MAX_PAYLOAD}")
            }
            EncodeError::Unrepresentable { field, reason } => {
                write!(f, "cannot encode {field}: {reason}")
            }
            EncodeError::InvalidShape(e) => write!(f, "invalid core shape: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EncodeError {}

#[cfg(feature = "std")]
pub use typed::*;

#[cfg(feature = "std")]
mod typed {
    use super::*;
    use crate::frame::{encode_frame, FrameEncodeError, FrameError, FrameRef};
    use crate::params::{CoreShape, NeuronParams, NeuronState, StdpParams};
    use crate::records::{
        decode_identity, decode_neuron_params, decode_neuron_state, decode_stdp_params,
        decode_weight, encode_identity, encode_neuron_params, encode_neuron_state,
        encode_stdp_params, encode_weight, neuron_params_error_offset, stdp_params_error_offset,
        Capabilities, IDENTITY_LEN, NEURON_PARAMS_LEN, NEURON_STATE_LEN, STDP_PARAMS_LEN,
    };

    /// A set of spike indices (inputs or neurons), kept strictly ascending.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
    pub struct SpikeSet(Vec<u16>);

    impl SpikeSet {
        pub fn new() -> Self {
            SpikeSet(Vec::new())
        }
        /// From any indices: sorted, duplicates removed (a set, spec §3).
        pub fn from_indices(it: impl IntoIterator<Item = u16>) -> Self {
            let mut v: Vec<u16> = it.into_iter().collect();
            v.sort_unstable();
            v.dedup();
            SpikeSet(v)
        }
        /// From strictly ascending indices; `Err(position)` of the first violation.
        pub fn from_sorted(v: Vec<u16>) -> Result<Self, usize> {
            match v.windows(2).position(|w| w[0] >= w[1]) {
                Some(p) => Err(p + 1),
                None => Ok(SpikeSet(v)),
            }
        }
        pub fn as_slice(&self) -> &[u16] {
            &self.0
        }
        pub fn into_vec(self) -> Vec<u16> {
            self.0
        }
        pub fn len(&self) -> usize {
            self.0.len()
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub fn contains(&self, i: u16) -> bool {
            self.0.binary_search(&i).is_ok()
        }
        pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
            self.0.iter().copied()
        }
        /// Bytes of the canonical `format + data` section over `universe`.
        pub fn section_len(&self, universe: u16) -> usize {
            1 + spike_data_len(
                choose_spike_encoding(self.len(), universe),
                self.len(),
                universe,
            )
        }
    }

    impl FromIterator<u16> for SpikeSet {
        fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
            SpikeSet::from_indices(iter)
        }
    }

    /// A host → device command (docs/protocol.md §3).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Command {
        /// 0x01 → IDENTITY.
        Identify,
        /// 0x02 → ACK. `state`: state reset; `full`: full reset (implies state).
        Reset { state: bool, full: bool },
        /// 0x03 → ACK. Neurons `first .. first + params.len()` (1..=85 records).
        WriteNeuronParams {
            first: u16,
            params: Vec<NeuronParams>,
        },
        /// 0x04 → NEURON_PARAMS.
        ReadNeuronParams { first: u16, count: u8 },
        /// 0x05 → ACK.
        WriteStdp(StdpParams),
        /// 0x06 → STDP.
        ReadStdp,
        /// 0x07 → ACK. `Wt[row][col + k] = weights[k]`.
        WriteWeights {
            row: u16,
            col: u16,
            weights: Vec<i16>,
        },
        /// 0x08 → WEIGHTS.
        ReadWeights { row: u16, col: u16, count: u16 },
        /// 0x09 → ACK. `P[row][col + k] = bits[k]`.
        WriteMask { row: u16, col: u16, bits: Vec<bool> },
        /// 0x0A → MASK.
        ReadMask { row: u16, col: u16, count: u16 },
        /// 0x0B → STATE.
        ReadState { first: u16, count: u8 },
        /// 0x0C → PRE_TRACES (sources `first .. first + count`).
        ReadPreTraces { first: u16, count: u16 },
        /// 0x10 → STEP_DONE. External inputs `I(step)`.
        Step { step: u32, inputs: SpikeSet },
        /// 0x11 → k × STEP_DONE, then ACK.
        Run { k: u32 },
    }

    /// A device → host reply (docs/protocol.md §3).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Reply {
        /// 0x81
        Identity(Capabilities),
        /// 0x84
        NeuronParams {
            first: u16,
            params: Vec<NeuronParams>,
        },
        /// 0x86
        Stdp(StdpParams),
        /// 0x88
        Weights {
            row: u16,
            col: u16,
            weights: Vec<i16>,
        },
        /// 0x8A
        Mask { row: u16, col: u16, bits: Vec<bool> },
        /// 0x8B
        State {
            first: u16,
            states: Vec<NeuronState>,
        },
        /// 0x8C
        PreTraces { first: u16, traces: Vec<u8> },
        /// 0x90: `F(step)`.
        StepDone { step: u32, fired: SpikeSet },
        /// 0xA0: the command of type `cmd` was executed.
        Ack { cmd: u8 },
        /// 0xA1: the command of type `cmd` was refused and changed nothing.
        Nack {
            cmd: u8,
            error: ErrorCode,
            detail: u32,
        },
    }

    /// Little payload writer over a pre-sized slice.
    struct Out<'a> {
        buf: &'a mut [u8],
        pos: usize,
    }

    impl Out<'_> {
        fn u8(&mut self, v: u8) {
            self.buf[self.pos] = v;
            self.pos += 1;
        }
        fn bytes(&mut self, v: &[u8]) {
            self.buf[self.pos..self.pos + v.len()].copy_from_slice(v);
            self.pos += v.len();
        }
        fn u16(&mut self, v: u16) {
            self.bytes(&v.to_le_bytes());
        }
        fn u32(&mut self, v: u32) {
            self.bytes(&v.to_le_bytes());
        }
        fn take(&mut self, n: usize) -> &mut [u8] {
            let s = &mut self.buf[self.pos..self.pos + n];
            self.pos += n;
            s
        }
    }

    fn rd16(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes([b[o], b[o + 1]])
    }
    fn rd32(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }

    fn count_u8(n: usize, field: &'static str) -> Result<u8, EncodeError> {
        u8::try_from(n).map_err(|_| EncodeError::Unrepresentable {
            field,
            reason: "more than 255 records",
        })
    }
    fn count_u16(n: usize, field: &'static str) -> Result<u16, EncodeError> {
        u16::try_from(n).map_err(|_| EncodeError::Unrepresentable {
            field,
            reason: "more than 65535 elements",
        })
    }

    fn prepare<'a>(len: usize, buf: &'a mut [u8]) -> Result<Out<'a>, EncodeError> {
        if len > MAX_PAYLOAD {
            return Err(EncodeError::TooLarge { len });
        }
        if buf.len() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                available: buf.len(),
            });
        }
        Ok(Out {
            buf: &mut buf[..len],
            pos: 0,
        })
    }

    fn put_weights(o: &mut Out<'_>, weights: &[i16], w: u8) -> Result<(), EncodeError> {
        let wb = weight_bytes(w);
        for &x in weights {
            encode_weight(x, w, o.take(wb)).map_err(|_| EncodeError::Unrepresentable {
                field: "weight",
                reason: "outside the W-bit range",
            })?;
        }
        Ok(())
    }

    fn put_bits(o: &mut Out<'_>, bits: &[bool]) {
        let s = o.take(bitmap_bytes(bits.len()));
        s.fill(0);
        for (k, &b) in bits.iter().enumerate() {
            if b {
                s[k / 8] |= 1 << (k % 8);
            }
        }
    }

    fn put_spikes(o: &mut Out<'_>, set: &SpikeSet, universe: u16) -> Result<(), EncodeError> {
        let n = set.section_len(universe);
        let s = o.take(n);
        encode_spike_section(set.as_slice(), universe, s)?;
        Ok(())
    }

    fn need_len(t: u8, p: &[u8], expected: usize) -> Result<(), DecodeError> {
        if p.len() != expected {
            return Err(DecodeError::Length {
                frame_type: t,
                expected,
                actual: p.len(),
            });
        }
        Ok(())
    }
    fn need_min(t: u8, p: &[u8], min: usize) -> Result<(), DecodeError> {
        if p.len() < min {
            return Err(DecodeError::Length {
                frame_type: t,
                expected: min,
                actual: p.len(),
            });
        }
        Ok(())
    }

    fn oor(field: &'static str, offset: usize, value: u32, reason: &'static str) -> DecodeError {
        DecodeError::OutOfRange {
            field,
            offset,
            value,
            reason,
        }
    }

    /// Checks `first .. first + count` against `limit` (count at `count_off`).
    fn check_range(
        first: u16,
        count: usize,
        count_off: usize,
        limit: usize,
        max_count: usize,
    ) -> Result<(), DecodeError> {
        if count == 0 {
            return Err(oor("count", count_off, 0, "count must be at least 1"));
        }
        if count > max_count {
            return Err(oor(
                "count",
                count_off,
                count as u32,
                "reply would exceed MAX_PAYLOAD",
            ));
        }
        if first as usize + count > limit {
            return Err(oor(
                "count",
                count_off,
                (first as usize + count) as u32,
                "first + count exceeds the core",
            ));
        }
        Ok(())
    }

    /// Checks `row`, `col .. col + count` of a synapse range.
    fn check_synapses(
        shape: &CoreShape,
        row: u16,
        col: u16,
        count: u16,
        max_count: usize,
    ) -> Result<(), DecodeError> {
        if row as usize >= shape.sources() {
            return Err(oor("row", 0, row as u32, "row >= M + N"));
        }
        if col >= shape.neurons {
            return Err(oor("col", 2, col as u32, "col >= N"));
        }
        check_range(col, count as usize, 4, shape.neurons as usize, max_count)
    }

    fn get_weights(
        t: u8,
        p: &[u8],
        base: usize,
        count: usize,
        w: u8,
    ) -> Result<Vec<i16>, DecodeError> {
        let wb = weight_bytes(w);
        need_len(t, p, base + count * wb)?;
        (0..count)
            .map(|k| {
                let o = base + k * wb;
                decode_weight(&p[o..o + wb], w).map_err(|_| DecodeError::BadParam {
                    field: "weight",
                    offset: o,
                    reason: "weight outside the W-bit range",
                })
            })
            .collect()
    }

    fn get_bits(t: u8, p: &[u8], base: usize, count: usize) -> Result<Vec<bool>, DecodeError> {
        let nb = bitmap_bytes(count);
        need_len(t, p, base + nb)?;
        if !count.is_multiple_of(8) && p[base + nb - 1] >> (count % 8) != 0 {
            return Err(DecodeError::BadParam {
                field: "mask",
                offset: base + nb - 1,
                reason: "padding bits of the last byte must be 0",
            });
        }
        Ok((0..count)
            .map(|k| p[base + k / 8] & (1 << (k % 8)) != 0)
            .collect())
    }

    fn get_spikes(t: u8, p: &[u8], universe: u16) -> Result<SpikeSet, DecodeError> {
        let mut v = Vec::new();
        decode_spike_section(t, &p[4..], 4, universe, |i| v.push(i))?;
        Ok(SpikeSet(v))
    }

    fn get_neuron_params(t: u8, p: &[u8], count: usize) -> Result<Vec<NeuronParams>, DecodeError> {
        need_len(t, p, NEURON_RANGE_LEN + count * NEURON_PARAMS_LEN)?;
        Ok(p[NEURON_RANGE_LEN..]
            .chunks_exact(NEURON_PARAMS_LEN)
            .map(|c| decode_neuron_params(c.try_into().expect("chunk of record length")))
            .collect())
    }

    fn get_stdp(p: &[u8]) -> Result<StdpParams, DecodeError> {
        decode_stdp_params(p.try_into().expect("length checked")).map_err(|e| {
            DecodeError::BadParam {
                field: e.field,
                offset: e.offset,
                reason: "reserved bits must be 0",
            }
        })
    }

    impl Command {
        /// The frame type of this command.
        pub fn frame_type(&self) -> u8 {
            match self {
                Command::Identify => CMD_IDENTIFY,
                Command::Reset { .. } => CMD_RESET,
                Command::WriteNeuronParams { .. } => CMD_WRITE_NEURON_PARAMS,
                Command::ReadNeuronParams { .. } => CMD_READ_NEURON_PARAMS,
                Command::WriteStdp(_) => CMD_WRITE_STDP,
                Command::ReadStdp => CMD_READ_STDP,
                Command::WriteWeights { .. } => CMD_WRITE_WEIGHTS,
                Command::ReadWeights { .. } => CMD_READ_WEIGHTS,
                Command::WriteMask { .. } => CMD_WRITE_MASK,
                Command::ReadMask { .. } => CMD_READ_MASK,
                Command::ReadState { .. } => CMD_READ_STATE,
                Command::ReadPreTraces { .. } => CMD_READ_PRE_TRACES,
                Command::Step { .. } => CMD_STEP,
                Command::Run { .. } => CMD_RUN,
            }
        }

        /// Payload length of this command for a core of shape `shape`.
        pub fn payload_len(&self, shape: &CoreShape) -> usize {
            match self {
                Command::Identify | Command::ReadStdp => 0,
                Command::Reset { .. } => RESET_LEN,
                Command::WriteNeuronParams { params, .. } => {
                    NEURON_RANGE_LEN + params.len() * NEURON_PARAMS_LEN
                }
                Command::ReadNeuronParams { .. } | Command::ReadState { .. } => NEURON_RANGE_LEN,
                Command::WriteStdp(_) => STDP_PARAMS_LEN,
                Command::WriteWeights { weights, .. } => {
                    SYNAPSE_RANGE_LEN + weights.len() * weight_bytes(shape.weight_bits)
                }
                Command::ReadWeights { .. } | Command::ReadMask { .. } => SYNAPSE_RANGE_LEN,
                Command::WriteMask { bits, .. } => SYNAPSE_RANGE_LEN + bitmap_bytes(bits.len()),
                Command::ReadPreTraces { .. } => TRACE_RANGE_LEN,
                Command::Step { inputs, .. } => 4 + inputs.section_len(shape.inputs),
                Command::Run { .. } => RUN_LEN,
            }
        }

        /// Writes the payload into `buf`; returns its length. Checks only that the
        /// values are representable, not that the device will accept them.
        pub fn encode(&self, shape: &CoreShape, buf: &mut [u8]) -> Result<usize, EncodeError> {
            shape.validate().map_err(EncodeError::InvalidShape)?;
            let len = self.payload_len(shape);
            let mut o = prepare(len, buf)?;
            match self {
                Command::Identify | Command::ReadStdp => {}
                Command::Reset { state, full } => {
                    o.u8(if *state { RESET_STATE } else { 0 } | if *full { RESET_FULL } else { 0 })
                }
                Command::WriteNeuronParams { first, params } => {
                    o.u16(*first);
                    o.u8(count_u8(params.len(), "params")?);
                    for p in params {
                        encode_neuron_params(
                            p,
                            o.take(NEURON_PARAMS_LEN).try_into().expect("record"),
                        );
                    }
                }
                Command::ReadNeuronParams { first, count }
                | Command::ReadState { first, count } => {
                    o.u16(*first);
                    o.u8(*count);
                }
                Command::WriteStdp(p) => {
                    encode_stdp_params(p, o.take(STDP_PARAMS_LEN).try_into().expect("record"))
                }
                Command::WriteWeights { row, col, weights } => {
                    o.u16(*row);
                    o.u16(*col);
                    o.u16(count_u16(weights.len(), "weights")?);
                    put_weights(&mut o, weights, shape.weight_bits)?;
                }
                Command::ReadWeights { row, col, count }
                | Command::ReadMask { row, col, count } => {
                    o.u16(*row);
                    o.u16(*col);
                    o.u16(*count);
                }
                Command::WriteMask { row, col, bits } => {
                    o.u16(*row);
                    o.u16(*col);
                    o.u16(count_u16(bits.len(), "bits")?);
                    put_bits(&mut o, bits);
                }
                Command::ReadPreTraces { first, count } => {
                    o.u16(*first);
                    o.u16(*count);
                }
                Command::Step { step, inputs } => {
                    o.u32(*step);
                    put_spikes(&mut o, inputs, shape.inputs)?;
                }
                Command::Run { k } => o.u32(*k),
            }
            debug_assert_eq!(o.pos, len);
            Ok(len)
        }

        /// Decodes and fully validates a command payload against the core's shape,
        /// in the order of docs/protocol.md §5.1: type, fixed-length fields, ranges,
        /// total length, parameter values (first offending field in payload order).
        /// A device NACKs `err.code()` with detail `err.detail()`.
        pub fn decode(frame_type: u8, p: &[u8], shape: &CoreShape) -> Result<Command, DecodeError> {
            shape.validate().map_err(DecodeError::InvalidShape)?;
            let t = frame_type;
            let n = shape.neurons as usize;
            match t {
                CMD_IDENTIFY => need_len(t, p, IDENTIFY_LEN).map(|_| Command::Identify),
                CMD_RESET => {
                    need_len(t, p, RESET_LEN)?;
                    if p[0] & !(RESET_STATE | RESET_FULL) != 0 {
                        return Err(DecodeError::BadParam {
                            field: "flags",
                            offset: 0,
                            reason: "reserved reset flag bits set",
                        });
                    }
                    Ok(Command::Reset {
                        state: p[0] & RESET_STATE != 0,
                        full: p[0] & RESET_FULL != 0,
                    })
                }
                CMD_WRITE_NEURON_PARAMS => {
                    need_min(t, p, NEURON_RANGE_LEN)?;
                    let (first, count) = (rd16(p, 0), p[2] as usize);
                    check_range(first, count, 2, n, MAX_NEURON_PARAMS_PER_FRAME)?;
                    let params = get_neuron_params(t, p, count)?;
                    for (k, np) in params.iter().enumerate() {
                        if let Err(e) = np.validate(shape) {
                            let (off, field) = neuron_params_error_offset(&e);
                            let reason = match e {
                                ParamError::WeightShift { .. } => "W + w_shift > 16",
                                _ => "decay factor above 32768",
                            };
                            return Err(DecodeError::BadParam {
                                field,
                                offset: NEURON_RANGE_LEN + k * NEURON_PARAMS_LEN + off,
                                reason,
                            });
                        }
                    }
                    Ok(Command::WriteNeuronParams { first, params })
                }
                CMD_READ_NEURON_PARAMS | CMD_READ_STATE => {
                    need_len(t, p, NEURON_RANGE_LEN)?;
                    let (first, count) = (rd16(p, 0), p[2]);
                    let max = if t == CMD_READ_STATE {
                        MAX_STATES_PER_FRAME
                    } else {
                        MAX_NEURON_PARAMS_PER_FRAME
                    };
                    check_range(first, count as usize, 2, n, max)?;
                    Ok(if t == CMD_READ_STATE {
                        Command::ReadState { first, count }
                    } else {
                        Command::ReadNeuronParams { first, count }
                    })
                }
                CMD_WRITE_STDP => {
                    need_len(t, p, STDP_PARAMS_LEN)?;
                    let sp = get_stdp(p)?;
                    if let Err(e) = sp.validate(shape) {
                        let (offset, field) = stdp_params_error_offset(&sp, shape, &e);
                        let reason = match e {
                            ParamError::WeightBounds { .. } => {
                                "need w_min <= w_max, both within W bits"
                            }
                            _ => "decay factor above 32768",
                        };
                        return Err(DecodeError::BadParam {
                            field,
                            offset,
                            reason,
                        });
                    }
                    Ok(Command::WriteStdp(sp))
                }
                CMD_READ_STDP => need_len(t, p, READ_STDP_LEN).map(|_| Command::ReadStdp),
                CMD_WRITE_WEIGHTS | CMD_WRITE_MASK => {
                    need_min(t, p, SYNAPSE_RANGE_LEN)?;
                    let (row, col, count) = (rd16(p, 0), rd16(p, 2), rd16(p, 4));
                    check_synapses(shape, row, col, count, usize::MAX)?;
                    if t == CMD_WRITE_WEIGHTS {
                        let weights = get_weights(
                            t,
                            p,
                            SYNAPSE_RANGE_LEN,
                            count as usize,
                            shape.weight_bits,
                        )?;
                        Ok(Command::WriteWeights { row, col, weights })
                    } else {
                        let bits = get_bits(t, p, SYNAPSE_RANGE_LEN, count as usize)?;
                        Ok(Command::WriteMask { row, col, bits })
                    }
                }
                CMD_READ_WEIGHTS | CMD_READ_MASK => {
                    need_len(t, p, SYNAPSE_RANGE_LEN)?;
                    let (row, col, count) = (rd16(p, 0), rd16(p, 2), rd16(p, 4));
                    if t == CMD_READ_WEIGHTS {
                        check_synapses(
                            shape,
                            row,
                            col,
                            count,
                            max_weights_per_frame(shape.weight_bits),
                        )?;
                        Ok(Command::ReadWeights { row, col, count })
                    } else {
                        check_synapses(shape, row, col, count, MAX_MASK_BITS_PER_FRAME)?;
                        Ok(Command::ReadMask { row, col, count })
                    }
                }
                CMD_READ_PRE_TRACES => {
                    need_len(t, p, TRACE_RANGE_LEN)?;
                    let (first, count) = (rd16(p, 0), rd16(p, 2));
                    check_range(
                        first,
                        count as usize,
                        2,
                        shape.sources(),
                        MAX_PRE_TRACES_PER_FRAME,
                    )?;
                    Ok(Command::ReadPreTraces { first, count })
                }
                CMD_STEP => {
                    need_min(t, p, STEP_HEADER_LEN)?;
                    let step = rd32(p, 0);
                    let inputs = get_spikes(t, p, shape.inputs)?;
                    Ok(Command::Step { step, inputs })
                }
                CMD_RUN => {
                    need_len(t, p, RUN_LEN)?;
                    Ok(Command::Run { k: rd32(p, 0) })
                }
                _ => Err(DecodeError::UnknownType(t)),
            }
        }

        /// Decodes a received frame's payload (see [`Command::decode`]).
        pub fn from_frame(f: &FrameRef<'_>, shape: &CoreShape) -> Result<Command, DecodeError> {
            Command::decode(f.frame_type, f.payload, shape)
        }

        /// Encodes the complete wire frame (FLAG .. FLAG) into `sink`.
        pub fn encode_frame(
            &self,
            seq: u8,
            shape: &CoreShape,
            sink: impl FnMut(u8),
        ) -> Result<usize, EncodeError> {
            let mut buf = [0u8; MAX_PAYLOAD];
            let n = self.encode(shape, &mut buf)?;
            encode_frame(self.frame_type(), seq, &buf[..n], sink).map_err(frame_err)
        }

        /// The complete wire frame as a `Vec`.
        pub fn to_frame(&self, seq: u8, shape: &CoreShape) -> Result<Vec<u8>, EncodeError> {
            let mut v = Vec::new();
            self.encode_frame(seq, shape, |b| v.push(b))?;
            Ok(v)
        }
    }

    fn frame_err(e: FrameEncodeError) -> EncodeError {
        match e {
            FrameEncodeError::PayloadTooLarge { len } => EncodeError::TooLarge { len },
            _ => EncodeError::Unrepresentable {
                field: "frame",
                reason: "internal framing error",
            },
        }
    }

    impl Reply {
        /// The frame type of this reply.
        pub fn frame_type(&self) -> u8 {
            match self {
                Reply::Identity(_) => REPLY_IDENTITY,
                Reply::NeuronParams { .. } => REPLY_NEURON_PARAMS,
                Reply::Stdp(_) => REPLY_STDP,
                Reply::Weights { .. } => REPLY_WEIGHTS,
                Reply::Mask { .. } => REPLY_MASK,
                Reply::State { .. } => REPLY_STATE,
                Reply::PreTraces { .. } => REPLY_PRE_TRACES,
                Reply::StepDone { .. } => REPLY_STEP_DONE,
                Reply::Ack { .. } => REPLY_ACK,
                Reply::Nack { .. } => REPLY_NACK,
            }
        }

        /// The NACK a device sends for a frame-level error, as `(seq, reply)`;
        /// `None` if the type or seq byte never arrived (docs/protocol.md §6.4).
        pub fn nack_for_frame_error(e: &FrameError) -> Option<(u8, Reply)> {
            let (seq, cmd) = e.nack_target()?;
            let error = ErrorCode::from_u8(e.nack_code()).expect("frame error codes are defined");
            Some((
                seq,
                Reply::Nack {
                    cmd,
                    error,
                    detail: e.nack_detail(),
                },
            ))
        }

        /// The NACK a device sends for a command that failed to decode.
        pub fn nack_for_decode_error(cmd: u8, e: &DecodeError) -> Reply {
            Reply::Nack {
                cmd,
                error: e.code(),
                detail: e.detail(),
            }
        }

        /// Payload length of this reply for a core of shape `shape`.
        pub fn payload_len(&self, shape: &CoreShape) -> usize {
            match self {
                Reply::Identity(_) => IDENTITY_LEN,
                Reply::NeuronParams { params, .. } => {
                    NEURON_RANGE_LEN + params.len() * NEURON_PARAMS_LEN
                }
                Reply::Stdp(_) => STDP_PARAMS_LEN,
                Reply::Weights { weights, .. } => {
                    SYNAPSE_RANGE_LEN + weights.len() * weight_bytes(shape.weight_bits)
                }
                Reply::Mask { bits, .. } => SYNAPSE_RANGE_LEN + bitmap_bytes(bits.len()),
                Reply::State { states, .. } => NEURON_RANGE_LEN + states.len() * NEURON_STATE_LEN,
                Reply::PreTraces { traces, .. } => TRACE_RANGE_LEN + traces.len(),
                Reply::StepDone { fired, .. } => 4 + fired.section_len(shape.neurons),
                Reply::Ack { .. } => ACK_LEN,
                Reply::Nack { .. } => NACK_LEN,
            }
        }

        /// Writes the payload into `buf`; returns its length.
        pub fn encode(&self, shape: &CoreShape, buf: &mut [u8]) -> Result<usize, EncodeError> {
            shape.validate().map_err(EncodeError::InvalidShape)?;
            let len = self.payload_len(shape);
            let mut o = prepare(len, buf)?;
            match self {
                Reply::Identity(c) => {
                    encode_identity(c, o.take(IDENTITY_LEN).try_into().expect("record"))
                }
                Reply::NeuronParams { first, params } => {
                    o.u16(*first);
                    o.u8(count_u8(params.len(), "params")?);
                    for p in params {
                        encode_neuron_params(
                            p,
                            o.take(NEURON_PARAMS_LEN).try_into().expect("record"),
                        );
                    }
                }
                Reply::Stdp(p) => {
                    encode_stdp_params(p, o.take(STDP_PARAMS_LEN).try_into().expect("record"))
                }
                Reply::Weights { row, col, weights } => {
                    o.u16(*row);
                    o.u16(*col);
                    o.u16(count_u16(weights.len(), "weights")?);
                    put_weights(&mut o, weights, shape.weight_bits)?;
                }
                Reply::Mask { row, col, bits } => {
                    o.u16(*row);
                    o.u16(*col);
                    o.u16(count_u16(bits.len(), "bits")?);
                    put_bits(&mut o, bits);
                }
                Reply::State { first, states } => {
                    o.u16(*first);
                    o.u8(count_u8(states.len(), "states")?);
                    for s in states {
                        encode_neuron_state(
                            s,
                            o.take(NEURON_STATE_LEN).try_into().expect("record"),
                        );
                    }
                }
                Reply::PreTraces { first, traces } => {
                    o.u16(*first);
                    o.u16(count_u16(traces.len(), "traces")?);
                    o.bytes(traces);
                }
                Reply::StepDone { step, fired } => {
                    o.u32(*step);
                    put_spikes(&mut o, fired, shape.neurons)?;
                }
                Reply::Ack { cmd } => o.u8(*cmd),
                Reply::Nack { cmd, error, detail } => {
                    o.u8(*cmd);
                    o.u8(*error as u8);
                    o.u32(*detail);
                }
            }
            debug_assert_eq!(o.pos, len);
            Ok(len)
        }

        /// Decodes a reply payload. Checks lengths, formats and that spike indices
        /// and weights fit `shape`; does not re-validate parameter values.
        pub fn decode(frame_type: u8, p: &[u8], shape: &CoreShape) -> Result<Reply, DecodeError> {
            shape.validate().map_err(DecodeError::InvalidShape)?;
            let t = frame_type;
            match t {
                REPLY_IDENTITY => decode_identity(p)
                    .map(Reply::Identity)
                    .map_err(|e| match e {
                        crate::records::IdentityError::Length(actual) => DecodeError::Length {
                            frame_type: t,
                            expected: IDENTITY_LEN,
                            actual,
                        },
                        e => DecodeError::Identity(e),
                    }),
                REPLY_NEURON_PARAMS => {
                    need_min(t, p, NEURON_RANGE_LEN)?;
                    let params = get_neuron_params(t, p, p[2] as usize)?;
                    Ok(Reply::NeuronParams {
                        first: rd16(p, 0),
                        params,
                    })
                }
                REPLY_STDP => {
                    need_len(t, p, STDP_PARAMS_LEN)?;
                    Ok(Reply::Stdp(get_stdp(p)?))
                }
                REPLY_WEIGHTS | REPLY_MASK => {
                    need_min(t, p, SYNAPSE_RANGE_LEN)?;
                    let (row, col, count) = (rd16(p, 0), rd16(p, 2), rd16(p, 4) as usize);
                    if t == REPLY_WEIGHTS {
                        let weights =
                            get_weights(t, p, SYNAPSE_RANGE_LEN, count, shape.weight_bits)?;
                        Ok(Reply::Weights { row, col, weights })
                    } else {
                        let bits = get_bits(t, p, SYNAPSE_RANGE_LEN, count)?;
                        Ok(Reply::Mask { row, col, bits })
                    }
                }
                REPLY_STATE => {
                    need_min(t, p, NEURON_RANGE_LEN)?;
                    let count = p[2] as usize;
                    need_len(t, p, NEURON_RANGE_LEN + count * NEURON_STATE_LEN)?;
                    let states = p[NEURON_RANGE_LEN..]
                        .chunks_exact(NEURON_STATE_LEN)
                        .map(|c| decode_neuron_state(c.try_into().expect("record")))
                        .collect();
                    Ok(Reply::State {
                        first: rd16(p, 0),
                        states,
                    })
                }
                REPLY_PRE_TRACES => {
                    need_min(t, p, TRACE_RANGE_LEN)?;
                    let count = rd16(p, 2) as usize;
                    need_len(t, p, TRACE_RANGE_LEN + count)?;
                    Ok(Reply::PreTraces {
                        first: rd16(p, 0),
                        traces: p[TRACE_RANGE_LEN..].to_vec(),
                    })
                }
                REPLY_STEP_DONE => {
                    need_min(t, p, STEP_HEADER_LEN)?;
                    let step = rd32(p, 0);
                    let fired = get_spikes(t, p, shape.neurons)?;
                    Ok(Reply::StepDone { step, fired })
                }
                REPLY_ACK => {
                    need_len(t, p, ACK_LEN)?;
                    Ok(Reply::Ack { cmd: p[0] })
                }
                REPLY_NACK => {
                    need_len(t, p, NACK_LEN)?;
                    let error = ErrorCode::from_u8(p[1]).ok_or(DecodeError::BadParam {
                        field: "error",
                        offset: 1,
                        reason: "unknown error code",
                    })?;
                    Ok(Reply::Nack {
                        cmd: p[0],
                        error,
                        detail: rd32(p, 2),
                    })
                }
                _ => Err(DecodeError::UnknownType(t)),
            }
        }

        /// Decodes a received frame's payload (see [`Reply::decode`]).
        pub fn from_frame(f: &FrameRef<'_>, shape: &CoreShape) -> Result<Reply, DecodeError> {
            Reply::decode(f.frame_type, f.payload, shape)
        }

        /// Encodes the complete wire frame (FLAG .. FLAG) into `sink`.
        pub fn encode_frame(
            &self,
            seq: u8,
            shape: &CoreShape,
            sink: impl FnMut(u8),
        ) -> Result<usize, EncodeError> {
            let mut buf = [0u8; MAX_PAYLOAD];
            let n = self.encode(shape, &mut buf)?;
            encode_frame(self.frame_type(), seq, &buf[..n], sink).map_err(frame_err)
        }

        /// The complete wire frame as a `Vec`.
        pub fn to_frame(&self, seq: u8, shape: &CoreShape) -> Result<Vec<u8>, EncodeError> {
            let mut v = Vec::new();
            self.encode_frame(seq, shape, |b| v.push(b))?;
            Ok(v)
        }
    }
}
