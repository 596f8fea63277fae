//! [`RtlWire`]: the simulated core as a frame-level peer. Bytes go in through its UART
//! pins; whole reply frames come back. Used by the co-simulation tests, the RTL
//! benchmarks and the host's `--device rtl`.

use neurofab_proto::Decoder;

use super::{RtlError, UartLink};

/// A simulated core behind its UART, answering whole frames.
#[derive(Debug)]
pub struct RtlWire {
    link: UartLink,
    decoder: Decoder,
    /// Reply bytes received but not yet handed out.
    pending: Vec<u8>,
    /// End offset in `pending` (one past the closing FLAG) of every complete frame in it.
    frame_ends: std::collections::VecDeque<usize>,
    /// Index of the engine's `busy` status output (for [`RtlWire::exchange_metered`]).
    busy_idx: Option<usize>,
}

/// Engine activity seen while [`RtlWire::exchange_metered`] ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineMeter {
    /// Length in cycles of every busy stretch longer than a host access (3 cycles):
    /// one per STEP, in order.
    pub step_cycles: Vec<u64>,
    /// All busy cycles, host accesses included.
    pub busy_cycles: u64,
}

impl RtlWire {
    /// A new instance of model `name` (see [`super::available_models`]).
    pub fn open(name: &str) -> Result<RtlWire, RtlError> {
        Ok(RtlWire::new(UartLink::open(name)?))
    }

    pub fn new(link: UartLink) -> RtlWire {
        let busy_idx = link
            .sim()
            .info()
            .status_outputs
            .iter()
            .position(|o| *o == "busy");
        RtlWire {
            link,
            decoder: Decoder::new(),
            pending: Vec::new(),
            frame_ends: Default::default(),
            busy_idx,
        }
    }

    pub fn link(&self) -> &UartLink {
        &self.link
    }

    pub fn link_mut(&mut self) -> &mut UartLink {
        &mut self.link
    }

    /// Simulated clock cycles so far.
    pub fn cycles(&self) -> u64 {
        self.link.cycles()
    }

    fn absorb(&mut self) -> Result<(), RtlError> {
        for b in self.link.take_received() {
            self.pending.push(b);
            if let Some(res) = self.decoder.push(b) {
                // The core must only ever send well-formed frames.
                if let Err(e) = res {
                    return Err(RtlError::BadReply(format!("{e:?}")));
                }
                self.frame_ends.push_back(self.pending.len());
            }
        }
        Ok(())
    }

    /// Takes the bytes of the first `replies` complete frames out of `pending`.
    fn split_off(&mut self, replies: usize) -> Vec<u8> {
        let end = if replies == 0 {
            0
        } else {
            self.frame_ends[replies - 1]
        };
        self.frame_ends.drain(..replies);
        for e in self.frame_ends.iter_mut() {
            *e -= end;
        }
        self.pending.drain(..end).collect()
    }

    /// Sends `bytes` and runs until `replies` complete frames have come back (at most
    /// `max_cycles`); returns their bytes exactly as they appeared on `txd`.
    pub fn exchange(
        &mut self,
        bytes: &[u8],
        replies: usize,
        max_cycles: u64,
    ) -> Result<Vec<u8>, RtlError> {
        self.link.send(bytes);
        let start = self.link.cycles();
        let chunk = 20 * self.link.cycles_per_bit();
        loop {
            self.absorb()?;
            if self.frame_ends.len() >= replies {
                return Ok(self.split_off(replies));
            }
            self.check_timeout(start, max_cycles, replies)?;
            self.link.run(chunk);
        }
    }

    /// `Timeout` once more than `max_cycles` have run since cycle `start` while waiting
    /// for `replies` frames.
    fn check_timeout(&self, start: u64, max_cycles: u64, replies: usize) -> Result<(), RtlError> {
        let ran = self.link.cycles() - start;
        if ran > max_cycles {
            return Err(RtlError::Timeout {
                cycles: ran,
                what: format!("{replies} reply frames (got {})", self.frame_ends.len()),
            });
        }
        Ok(())
    }

    /// Like [`RtlWire::exchange`], but runs cycle by cycle and measures the engine's
    /// `busy` output (slower; for cycle accounting).
    pub fn exchange_metered(
        &mut self,
        bytes: &[u8],
        replies: usize,
        max_cycles: u64,
        meter: &mut EngineMeter,
    ) -> Result<Vec<u8>, RtlError> {
        let idx = self
            .busy_idx
            .ok_or_else(|| RtlError::BadReply("the model has no `busy` output".into()))?;
        self.link.send(bytes);
        let start = self.link.cycles();
        let mut stretch = 0u64;
        loop {
            self.link.run(1);
            if self.link.sim().output_at(idx) == Some(true) {
                stretch += 1;
                meter.busy_cycles += 1;
            } else if stretch > 0 {
                if stretch > 3 {
                    meter.step_cycles.push(stretch);
                }
                stretch = 0;
            }
            self.absorb()?;
            if self.frame_ends.len() >= replies && stretch == 0 {
                return Ok(self.split_off(replies));
            }
            self.check_timeout(start, max_cycles, replies)?;
        }
    }

    /// Sends `bytes`, runs `byte_times` byte times after the line went quiet, and
    /// returns everything received meanwhile (for streams whose reply count is unknown).
    pub fn send_and_drain(
        &mut self,
        bytes: &[u8],
        byte_times: u64,
        max_cycles: u64,
    ) -> Result<Vec<u8>, RtlError> {
        self.link.send(bytes);
        self.link.run_until_idle(byte_times, max_cycles)?;
        self.absorb()?;
        self.frame_ends.clear();
        Ok(std::mem::take(&mut self.pending))
    }
}
