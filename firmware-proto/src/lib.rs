//! neurofab wire protocol and core parameter records: the one definition of the
//! host <-> core link (docs/protocol.md) and of the core's parameters
//! (docs/core-spec.md).
//!
//! * [`params`]: core sizes and parameter records (docs/core-spec.md).
//! * [`frame`]: byte stuffing, CRC-16, streaming decoder/encoder (protocol.md §2, §7).
//! * [`records`]: byte layouts of parameter/state records and IDENTITY (protocol.md §3.1, §4).
//! * [`command`]: frame types, error codes, payload codecs, flow-control helpers
//!   (protocol.md §3, §5, §6).
//!
//! `no_std` (and alloc-free) without the default `std` feature; the typed
//! `Command` / `Reply` enums need `std`.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod command;
#[cfg(feature = "std")]
pub mod config;
pub mod frame;
pub mod params;
pub mod records;

#[cfg(feature = "std")]
#[doc(hidden)]
pub mod fuzzing;

pub use command::*;
#[cfg(feature = "std")]
pub use config::{
    ConfigError, CoreConfig, WeightMemory, SPRAM_BLOCKS, SPRAM_WORDS, SUPPORTED_LANES,
};
pub use frame::*;
pub use params::*;
pub use records::{
    bitmap_bytes, decode_identity, decode_neuron_params, decode_neuron_state, decode_stdp_params,
    decode_weight, encode_identity, encode_neuron_params, encode_neuron_state, encode_stdp_params,
    encode_weight, weight_bytes, Capabilities, IdentityError, FEATURE_STATE_READOUT, FEATURE_STDP,
    IDENTITY_LEN, MAGIC, NEURON_PARAMS_LEN, NEURON_STATE_LEN, PROTOCOL_VERSION, STDP_PARAMS_LEN,
};
