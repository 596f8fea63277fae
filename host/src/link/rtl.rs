//! The Verilator-simulated core as a link peer: [`RtlTransport`] (for `--device rtl`)
//! and [`RtlByteDevice`] (for `neurofab serve --device rtl`).
//!
//! Both drive the generated core's UART pins at bit level (`neurofab_sim::rtl::UartLink`),
//! so the bytes the host sends and receives are exactly the bytes a board would see. The
//! simulation only advances while the host waits: `read(timeout)` runs
//! `timeout × clock_hz` cycles at most and returns as soon as bytes arrived.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use neurofab_sim::rtl::{RtlError, RtlSim, UartLink};

use super::serve::ByteDevice;
use super::transport::{LinkError, Transport};

/// The RTL model `--device rtl` uses when none is named: the default core (N = 256,
/// M = 64, W = 8, 4 lanes).
pub const DEFAULT_RTL_MODEL: &str = "core_256";

fn unavailable(e: RtlError) -> LinkError {
    LinkError::Unavailable(format!("RTL device: {e}"))
}

/// Opens model `name` (with a VCD trace into `trace` if given) behind its UART.
fn open_link(name: &str, trace: Option<&Path>) -> Result<UartLink, LinkError> {
    let mut sim = RtlSim::new(name).map_err(unavailable)?;
    if let Some(path) = trace {
        sim.trace_to(path).map_err(unavailable)?;
    }
    // No need to wait for the power-on reset: the core holds frames that arrive
    // meanwhile and executes them afterwards.
    Ok(UartLink::new(sim))
}

/// `--device rtl[:MODEL]`: the simulated core as a byte transport.
pub struct RtlTransport {
    name: String,
    link: UartLink,
    clock_hz: u64,
    baud: u64,
    inbox: VecDeque<u8>,
}

impl RtlTransport {
    /// Model `name` (see `neurofab_sim::rtl::available_models`), optionally tracing to a
    /// VCD file.
    pub fn open(name: &str, trace: Option<&Path>) -> Result<RtlTransport, LinkError> {
        let link = open_link(name, trace)?;
        let info = link.sim().info();
        Ok(RtlTransport {
            name: name.to_string(),
            clock_hz: info.clock_hz,
            baud: info.baud,
            link,
            inbox: VecDeque::new(),
        })
    }

    /// Simulated clock cycles so far.
    pub fn cycles(&self) -> u64 {
        self.link.cycles()
    }
}

impl Transport for RtlTransport {
    fn describe(&self) -> String {
        format!("rtl:{} (Verilator)", self.name)
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.link.send(bytes);
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        let budget = (timeout.as_secs_f64() * self.clock_hz as f64) as u64;
        let chunk = 10 * self.link.cycles_per_bit();
        let start = self.link.cycles();
        while self.inbox.is_empty() && self.link.cycles() - start < budget {
            self.link.run(chunk);
            self.inbox.extend(self.link.take_received());
        }
        let n = buf.len().min(self.inbox.len());
        for (b, x) in buf.iter_mut().zip(self.inbox.drain(..n)) {
            *b = x;
        }
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.inbox.clear();
        self.link.take_received();
        Ok(())
    }

    fn baud(&self) -> Option<u32> {
        u32::try_from(self.baud).ok()
    }
}

/// `neurofab serve --device rtl[:MODEL]`: the simulated core behind a pty.
pub struct RtlByteDevice {
    name: String,
    link: UartLink,
    active_idx: Option<usize>,
}

impl RtlByteDevice {
    pub fn open(name: &str, trace: Option<&Path>) -> Result<RtlByteDevice, LinkError> {
        let link = open_link(name, trace)?;
        let active_idx = link
            .sim()
            .info()
            .status_outputs
            .iter()
            .position(|o| *o == "active");
        Ok(RtlByteDevice {
            name: name.to_string(),
            link,
            active_idx,
        })
    }

    fn core_idle(&self) -> bool {
        match self.active_idx {
            Some(i) => self.link.sim().output_at(i) == Some(false),
            None => true,
        }
    }
}

impl ByteDevice for RtlByteDevice {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.link.send(bytes);
        // Run until the line is quiet and the executor has nothing left to do (a RUN
        // of many steps keeps it active between its STEP_DONE frames).
        let limit = 2_000_000_000u64;
        let start = self.link.cycles();
        loop {
            let _ = self.link.run_until_idle(4, 50_000_000);
            // The line is quiet; the executor may still be computing (a reset, a step).
            self.link.run(256);
            if self.core_idle() && self.link.tx_pending() == 0 && !self.link.rx_busy() {
                break;
            }
            if self.link.cycles() - start > limit {
                break;
            }
        }
        out.extend(self.link.take_received());
    }

    fn describe(&self) -> String {
        let info = self.link.sim().info();
        format!(
            "Verilator RTL core `{}` ({} Hz clock, {} baud, {} cycles per bit)",
            self.name, info.clock_hz, info.baud, info.cycles_per_bit
        )
    }
}
