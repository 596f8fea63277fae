//! The generated RTL, simulated by Verilator (docs/hdl.md, "Verilator models").
//!
//! `build.rs` verilates every design of `neurofab_hdl::sim_models()` into a C++ model
//! and links it here. [`RtlSim`] drives one instance at clock-cycle level (the `rxd`
//! input, the `txd` output and the 1-bit status outputs); [`UartLink`] adds a host-side
//! UART on top (bytes in, bytes out, bit-level 8N1 on the pins, like a board).
//!
//! If Verilator was not available at build time everything still compiles:
//! [`available_models`] is empty and [`RtlSim::new`] returns [`RtlError::NotBuilt`].
//! [`verilator_built`] tells which case this build is.
//!
//! ```no_run
//! use neurofab_sim::rtl::UartLink;
//! let mut link = UartLink::open("loopback")?;
//! link.send(b"hello");
//! link.run_until_received(5, 100 * link.byte_cycles())?;
//! assert_eq!(link.received(), b"hello");
//! # Ok::<(), neurofab_sim::rtl::RtlError>(())
//! ```

mod ffi;
mod uart;
mod wire;

pub use uart::UartLink;
pub use wire::{EngineMeter, RtlWire};

use std::ffi::{c_void, CString};
use std::path::Path;
use std::ptr::NonNull;

use ffi::{ModelEntry, VTable};

/// Errors of the RTL simulation layer.
#[derive(Debug, thiserror::Error)]
pub enum RtlError {
    /// The model was not built into this binary (Verilator missing or failed at build time).
    #[error("{0}")]
    NotBuilt(String),
    /// No model of that name exists in `neurofab_hdl::sim_models()`.
    #[error("unknown RTL model `{name}` (available: {available:?})")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The models that are built.
        available: Vec<&'static str>,
    },
    /// The C++ model could not be constructed.
    #[error("creating the Verilator model `{0}` failed")]
    Create(&'static str),
    /// A VCD trace could not be started.
    #[error("VCD trace: {0}")]
    Trace(String),
    /// The simulated core sent something that is not a well-formed frame.
    #[error("the simulated core sent a malformed frame: {0}")]
    BadReply(String),
    /// A `run_until*` condition did not hold within the cycle budget.
    #[error("timeout after {cycles} cycles waiting for {what}")]
    Timeout {
        /// Cycles simulated by the call.
        cycles: u64,
        /// What was awaited.
        what: String,
    },
}

/// A built model and the parameters its design was generated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtlModelInfo {
    /// Name (as in `neurofab_hdl::sim_models()`).
    pub name: &'static str,
    /// Clock frequency the design was generated for, in Hz.
    pub clock_hz: u64,
    /// UART baud rate the design was generated for.
    pub baud: u64,
    /// Clock cycles per UART bit of the design.
    pub cycles_per_bit: u64,
    /// 1-bit outputs other than `txd`, readable with [`RtlSim::output`].
    pub status_outputs: &'static [&'static str],
}

/// Whether this build has Verilator models (the `neurofab_verilator` cfg).
pub fn verilator_built() -> bool {
    cfg!(neurofab_verilator)
}

/// The models built into this binary (empty without Verilator).
pub fn available_models() -> Vec<&'static RtlModelInfo> {
    ffi::MODELS.iter().map(|m| &m.info).collect()
}

/// The built model `name`, if any.
pub fn model_info(name: &str) -> Option<&'static RtlModelInfo> {
    ffi::MODELS
        .iter()
        .find(|m| m.info.name == name)
        .map(|m| &m.info)
}

fn lookup(name: &str) -> Result<&'static ModelEntry, RtlError> {
    if let Some(m) = ffi::MODELS.iter().find(|m| m.info.name == name) {
        return Ok(m);
    }
    if let Some((_, why)) = ffi::NOT_BUILT.iter().find(|(n, _)| *n == name) {
        return Err(RtlError::NotBuilt(why.to_string()));
    }
    if !ffi::NOT_BUILT_REASON.is_empty() {
        return Err(RtlError::NotBuilt(ffi::NOT_BUILT_REASON.to_string()));
    }
    Err(RtlError::UnknownModel {
        name: name.to_string(),
        available: ffi::MODELS.iter().map(|m| m.info.name).collect(),
    })
}

/// One instance of a Verilator model, stepped one clock cycle at a time.
///
/// A cycle ([`tick`](Self::tick)) is clock low → eval → clock high → eval: inputs set
/// before it are sampled at its rising edge, outputs read after it show the registers
/// after that edge. The instance starts in its power-up state with `rxd` high (idle).
pub struct RtlSim {
    handle: NonNull<c_void>,
    vt: VTable,
    info: &'static RtlModelInfo,
    cycles: u64,
    rxd: bool,
    tracing: bool,
}

// SAFETY: an instance owns its own VerilatedContext and model; nothing in it is shared
// with other instances or tied to the creating thread, so moving it between threads is
// fine. It is not `Sync` (the C++ side has no locking).
unsafe impl Send for RtlSim {}

impl RtlSim {
    /// A fresh instance of model `name` (see [`available_models`]).
    pub fn new(name: &str) -> Result<RtlSim, RtlError> {
        let entry = lookup(name)?;
        // SAFETY: `create` has no preconditions; it returns null on failure.
        let raw = unsafe { (entry.vt.create)() };
        let handle = NonNull::new(raw).ok_or(RtlError::Create(entry.info.name))?;
        Ok(RtlSim {
            handle,
            vt: entry.vt,
            info: &entry.info,
            cycles: 0,
            rxd: true,
            tracing: false,
        })
    }

    /// The model this instance runs.
    pub fn info(&self) -> &'static RtlModelInfo {
        self.info
    }

    /// Drives the `rxd` input (from the next rising edge on).
    #[inline]
    pub fn set_rxd(&mut self, level: bool) {
        if level != self.rxd {
            self.rxd = level;
            // SAFETY: `handle` is a live instance of this vtable's model.
            unsafe { (self.vt.set_rxd)(self.handle.as_ptr(), level as u8) }
        }
    }

    /// The level last driven onto `rxd`.
    pub fn rxd(&self) -> bool {
        self.rxd
    }

    /// The `txd` output now.
    #[inline]
    pub fn txd(&self) -> bool {
        // SAFETY: as in `set_rxd`.
        unsafe { (self.vt.txd)(self.handle.as_ptr()) != 0 }
    }

    /// The 1-bit status output `name` (one of [`RtlModelInfo::status_outputs`]).
    pub fn output(&self, name: &str) -> Option<bool> {
        let idx = self.info.status_outputs.iter().position(|o| *o == name)?;
        self.output_at(idx)
    }

    /// Status output number `idx` (in the order of [`RtlModelInfo::status_outputs`]).
    pub fn output_at(&self, idx: usize) -> Option<bool> {
        let idx = u32::try_from(idx).ok()?;
        // SAFETY: as in `set_rxd`; out-of-range indices return 0xFF.
        match unsafe { (self.vt.output)(self.handle.as_ptr(), idx) } {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// One full clock cycle.
    #[inline]
    pub fn tick(&mut self) {
        self.tick_n(1);
    }

    /// `n` full clock cycles (one FFI call).
    #[inline]
    pub fn tick_n(&mut self, n: u64) {
        if n > 0 {
            // SAFETY: as in `set_rxd`.
            unsafe { (self.vt.tick)(self.handle.as_ptr(), n) }
            self.cycles += n;
        }
    }

    /// Up to `max` cycles, stopping after the first cycle after which `txd == level`.
    /// Returns the cycles run (`max` if `txd` never reached `level`; 0 if `max` is 0,
    /// even when `txd` already is at `level`).
    #[inline]
    pub fn tick_until_txd(&mut self, level: bool, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        // SAFETY: as in `set_rxd`.
        let n = unsafe { (self.vt.tick_until_txd)(self.handle.as_ptr(), max, level as u8) };
        self.cycles += n;
        n
    }

    /// Clock cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Writes a VCD of every signal to `path` from now on. Time unit: half a clock
    /// cycle; timestamp `2n` is the state right after rising edge `n` (when
    /// [`cycles`](Self::cycles) is `n`), `2n - 1` the clock-low half before it. One trace
    /// per instance; it is closed by [`close_trace`](Self::close_trace) or on drop.
    pub fn trace_to(&mut self, path: impl AsRef<Path>) -> Result<(), RtlError> {
        let path = path.as_ref();
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| RtlError::Trace(format!("{}: path contains NUL", path.display())))?;
        // SAFETY: as in `set_rxd`; `c` outlives the call.
        match unsafe { (self.vt.trace_open)(self.handle.as_ptr(), c.as_ptr()) } {
            0 => {
                self.tracing = true;
                Ok(())
            }
            1 => Err(RtlError::Trace(
                "this instance was traced before (one trace per instance)".into(),
            )),
            _ => Err(RtlError::Trace(format!(
                "cannot open {} for writing",
                path.display()
            ))),
        }
    }

    /// Whether a trace is being written.
    pub fn is_tracing(&self) -> bool {
        self.tracing
    }

    /// Flushes the VCD file (if tracing).
    pub fn flush_trace(&mut self) {
        // SAFETY: as in `set_rxd`.
        unsafe { (self.vt.trace_flush)(self.handle.as_ptr()) }
    }

    /// Closes the VCD file (if tracing).
    pub fn close_trace(&mut self) {
        // SAFETY: as in `set_rxd`.
        unsafe { (self.vt.trace_close)(self.handle.as_ptr()) }
        self.tracing = false;
    }
}

impl Drop for RtlSim {
    fn drop(&mut self) {
        // SAFETY: `handle` came from this vtable's `create` and is freed exactly once.
        unsafe { (self.vt.destroy)(self.handle.as_ptr()) }
    }
}

impl std::fmt::Debug for RtlSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtlSim")
            .field("model", &self.info.name)
            .field("cycles", &self.cycles)
            .field("rxd", &self.rxd)
            .field("tracing", &self.tracing)
            .finish()
    }
}
