//! The `extern "C"` surface of the per-model C++ shims (`sim/csrc/nf_shim.inc`).
//!
//! `build.rs` writes `$OUT_DIR/rtl_models.rs`: one `extern "C"` block per built model
//! (`nf_<name>_create`, ...) and the [`MODELS`] table of their entry points. Without
//! Verilator the table is empty and [`NOT_BUILT_REASON`] says why.

#[allow(unused_imports)] // unused when no model was built
use std::ffi::{c_char, c_int, c_void};

use super::RtlModelInfo;

/// The shim functions of one model. All take the pointer `create` returned.
#[derive(Clone, Copy)]
#[cfg_attr(not(neurofab_verilator), allow(dead_code))]
pub(crate) struct VTable {
    pub create: unsafe extern "C" fn() -> *mut c_void,
    pub destroy: unsafe extern "C" fn(*mut c_void),
    pub set_rxd: unsafe extern "C" fn(*mut c_void, u8),
    pub txd: unsafe extern "C" fn(*mut c_void) -> u8,
    /// Status output by index; 0xFF if out of range.
    pub output: unsafe extern "C" fn(*mut c_void, u32) -> u8,
    /// `n` full clock cycles.
    pub tick: unsafe extern "C" fn(*mut c_void, u64),
    /// Up to `n` cycles, stopping after the first cycle after which txd == level;
    /// returns the cycles run.
    pub tick_until_txd: unsafe extern "C" fn(*mut c_void, u64, u8) -> u64,
    /// 0 = ok, 1 = traced before, 2 = cannot open the file.
    pub trace_open: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    pub trace_flush: unsafe extern "C" fn(*mut c_void),
    pub trace_close: unsafe extern "C" fn(*mut c_void),
}

/// A built model: what it is and how to drive it.
#[cfg_attr(not(neurofab_verilator), allow(dead_code))]
pub(crate) struct ModelEntry {
    pub info: RtlModelInfo,
    pub vt: VTable,
}

include!(concat!(env!("OUT_DIR"), "/rtl_models.rs"));
