//! A host-side UART on the pins of an [`RtlSim`]: bytes in, bytes out, 8N1 at bit level.

use std::collections::VecDeque;

use super::{RtlError, RtlSim};

/// The host's transmitter (onto the design's `rxd`).
#[derive(Debug, Clone, Copy)]
enum Tx {
    /// Line idle (high); the next byte may start at cycle `ready_at`.
    Idle { ready_at: u64 },
    /// Sending `frame` (10 bits, start first, LSB first); bit `bit` is on the line
    /// until cycle `next_edge`.
    Busy { frame: u16, bit: u8, next_edge: u64 },
}

/// The host's receiver (sampling the design's `txd`).
#[derive(Debug, Clone, Copy)]
enum Rx {
    /// Line high, waiting for a start bit.
    Hunt,
    /// After a framing error or at power-up with `txd` low: wait for the line to go high.
    WaitHigh,
    /// In a frame: the next sample (bit `bit`, 0 = start, 1..=8 data, 9 = stop) is
    /// taken at cycle `at`.
    Frame { bit: u8, shift: u8, at: u64 },
}

/// A UART link to an [`RtlSim`]: [`send`](Self::send) queues bytes that are
/// serialised onto `rxd` (8N1, LSB first, idle high, exactly `cycles_per_bit` cycles per
/// bit, back to back), and a receiver samples `txd` at mid-bit and collects the bytes.
///
/// Timing: a start bit first seen on `txd` after cycle `a` is sampled at `a + D/2`,
/// data bit `k` at `a + D/2 + k·D`, the stop bit at `a + D/2 + 9·D`. A low stop bit
/// is a framing error: the byte is dropped, counted in
/// [`framing_errors`](Self::framing_errors), and the receiver waits for the line to go
/// high. A start bit that is high again at mid-bit is ignored (glitch).
///
/// Simulation is event driven: between bit edges and samples the model runs in batches
/// ([`RtlSim::tick_n`]), and while the receiver waits for a start bit the C++ side runs
/// until `txd` falls ([`RtlSim::tick_until_txd`]), so an idle link costs no per-cycle
/// Rust work.
#[derive(Debug)]
pub struct UartLink {
    sim: RtlSim,
    /// Cycles per bit the host transmits with.
    tx_bit: u64,
    /// Cycles per bit the host receives with.
    rx_bit: u64,
    /// Idle bit times inserted between transmitted bytes.
    tx_gap_bits: u64,
    queue: VecDeque<u8>,
    tx: Tx,
    rx: Rx,
    received: Vec<u8>,
    framing_errors: u64,
    glitches: u64,
    /// Last cycle with line activity in either direction.
    last_activity: u64,
}

impl UartLink {
    /// A link to a new instance of model `name` at the design's baud rate.
    pub fn open(name: &str) -> Result<UartLink, RtlError> {
        Ok(UartLink::new(RtlSim::new(name)?))
    }

    /// A link to `sim` at the design's baud rate. `rxd` is driven high (idle).
    pub fn new(mut sim: RtlSim) -> UartLink {
        let d = sim.info().cycles_per_bit;
        sim.set_rxd(true);
        let now = sim.cycles();
        let rx = if sim.txd() { Rx::Hunt } else { Rx::WaitHigh };
        UartLink {
            sim,
            tx_bit: d,
            rx_bit: d,
            tx_gap_bits: 0,
            queue: VecDeque::new(),
            tx: Tx::Idle { ready_at: now },
            rx,
            received: Vec::new(),
            framing_errors: 0,
            glitches: 0,
            last_activity: now,
        }
    }

    /// The simulated design.
    pub fn sim(&self) -> &RtlSim {
        &self.sim
    }

    /// The simulated design, e.g. to start a trace or read status outputs. Driving
    /// `rxd` directly while bytes are being sent garbles them.
    pub fn sim_mut(&mut self) -> &mut RtlSim {
        &mut self.sim
    }

    /// The simulated design, dropping the link.
    pub fn into_sim(self) -> RtlSim {
        self.sim
    }

    /// Clock cycles per bit of the design.
    pub fn cycles_per_bit(&self) -> u64 {
        self.sim.info().cycles_per_bit
    }

    /// Clock cycles of one 8N1 byte (10 bits) at the design's rate.
    pub fn byte_cycles(&self) -> u64 {
        10 * self.cycles_per_bit()
    }

    /// Simulated clock cycles so far.
    pub fn cycles(&self) -> u64 {
        self.sim.cycles()
    }

    /// Lets the host transmit with `cycles` per bit instead of the design's rate (to
    /// model a host clock that is off). Takes effect from the next byte. Panics below 2.
    pub fn set_host_tx_cycles_per_bit(&mut self, cycles: u64) {
        assert!(cycles >= 2, "need at least 2 cycles per bit");
        self.tx_bit = cycles;
    }

    /// Lets the host receive with `cycles` per bit instead of the design's rate.
    /// Panics below 2.
    pub fn set_host_rx_cycles_per_bit(&mut self, cycles: u64) {
        assert!(cycles >= 2, "need at least 2 cycles per bit");
        self.rx_bit = cycles;
    }

    /// Idle bit times the host leaves between the bytes it sends (default 0: back to back).
    pub fn set_tx_gap_bits(&mut self, bits: u64) {
        self.tx_gap_bits = bits;
    }

    /// Queues `bytes` for transmission; they go out while the simulation runs.
    pub fn send(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    /// Bytes queued or being sent.
    pub fn tx_pending(&self) -> usize {
        self.queue.len() + matches!(self.tx, Tx::Busy { .. }) as usize
    }

    /// Whether the host receiver is inside a frame.
    pub fn rx_busy(&self) -> bool {
        matches!(self.rx, Rx::Frame { .. })
    }

    /// Bytes received so far (since the last [`take_received`](Self::take_received)).
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    /// Takes the received bytes.
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    /// Frames with a low stop bit seen on `txd` (their bytes are dropped).
    pub fn framing_errors(&self) -> u64 {
        self.framing_errors
    }

    /// Start bits on `txd` that were high again at mid-bit (ignored).
    pub fn glitches(&self) -> u64 {
        self.glitches
    }

    /// Cycle of the last line activity in either direction (an `rxd` edge driven by the
    /// host, a start or stop bit seen on `txd`).
    pub fn last_activity(&self) -> u64 {
        self.last_activity
    }

    /// Runs exactly `cycles` clock cycles.
    pub fn run(&mut self, cycles: u64) {
        let end = self.sim.cycles() + cycles;
        while self.sim.cycles() < end {
            self.step(end);
        }
    }

    /// Runs until `pred(self)` holds (checked before the first cycle and after every bit
    /// event, at least once per byte time) or `max_cycles` have passed. Returns the
    /// cycles run.
    pub fn run_until(
        &mut self,
        max_cycles: u64,
        mut pred: impl FnMut(&UartLink) -> bool,
    ) -> Result<u64, RtlError> {
        let start = self.sim.cycles();
        let end = start + max_cycles;
        loop {
            if pred(self) {
                return Ok(self.sim.cycles() - start);
            }
            let now = self.sim.cycles();
            if now >= end {
                return Err(RtlError::Timeout {
                    cycles: now - start,
                    what: "the run_until condition".into(),
                });
            }
            let chunk_end = end.min(now + 10 * self.rx_bit);
            self.step(chunk_end);
        }
    }

    /// Runs until at least `n` bytes have been received (in total, see
    /// [`received`](Self::received)), for at most `max_cycles`.
    pub fn run_until_received(&mut self, n: usize, max_cycles: u64) -> Result<u64, RtlError> {
        self.run_until(max_cycles, |l| l.received.len() >= n)
            .map_err(|e| match e {
                RtlError::Timeout { cycles, .. } => RtlError::Timeout {
                    cycles,
                    what: format!("{n} received bytes (got {})", self.received.len()),
                },
                e => e,
            })
    }

    /// Runs until everything queued has been sent and the line has been quiet in both
    /// directions for `byte_times` byte times (at the host receive rate), for at most
    /// `max_cycles`.
    pub fn run_until_idle(&mut self, byte_times: u64, max_cycles: u64) -> Result<u64, RtlError> {
        let quiet = byte_times * 10 * self.rx_bit;
        self.run_until(max_cycles, |l| {
            l.queue.is_empty()
                && matches!(l.tx, Tx::Idle { .. })
                && matches!(l.rx, Rx::Hunt)
                && l.sim.cycles() >= l.last_activity + quiet
        })
        .map_err(|e| match e {
            RtlError::Timeout { cycles, .. } => RtlError::Timeout {
                cycles,
                what: format!("an idle line for {byte_times} byte times"),
            },
            e => e,
        })
    }

    /// Handles the events due now, then simulates up to the next event (at most to `end`).
    fn step(&mut self, end: u64) {
        let now = self.sim.cycles();
        self.tx_events(now);
        self.rx_events(now);

        let mut next = end;
        match self.tx {
            Tx::Busy { next_edge, .. } => next = next.min(next_edge),
            Tx::Idle { ready_at } if !self.queue.is_empty() => next = next.min(ready_at),
            Tx::Idle { .. } => {}
        }
        if let Rx::Frame { at, .. } = self.rx {
            next = next.min(at);
        }
        let budget = next.saturating_sub(now);
        if budget == 0 {
            return;
        }
        match self.rx {
            Rx::Hunt => {
                self.sim.tick_until_txd(false, budget);
                if !self.sim.txd() {
                    // Start bit: txd went low right after cycle `a`.
                    let a = self.sim.cycles();
                    self.last_activity = a;
                    self.rx = Rx::Frame {
                        bit: 0,
                        shift: 0,
                        at: a + self.rx_bit / 2,
                    };
                }
            }
            Rx::WaitHigh => {
                self.sim.tick_until_txd(true, budget);
                if self.sim.txd() {
                    self.rx = Rx::Hunt;
                }
            }
            Rx::Frame { .. } => self.sim.tick_n(budget),
        }
    }

    fn tx_events(&mut self, now: u64) {
        loop {
            match self.tx {
                Tx::Busy {
                    frame,
                    bit,
                    next_edge,
                } if next_edge == now => {
                    if bit == 9 {
                        self.tx = Tx::Idle {
                            ready_at: now + self.tx_gap_bits * self.tx_bit,
                        };
                        continue; // maybe start the next byte right away
                    }
                    let bit = bit + 1;
                    self.sim.set_rxd(frame >> bit & 1 != 0);
                    self.last_activity = now;
                    self.tx = Tx::Busy {
                        frame,
                        bit,
                        next_edge: now + self.tx_bit,
                    };
                }
                Tx::Idle { ready_at } if ready_at <= now => {
                    let Some(byte) = self.queue.pop_front() else {
                        return;
                    };
                    // start bit 0, data LSB first, stop bit 1
                    let frame = (byte as u16) << 1 | 1 << 9;
                    self.sim.set_rxd(false);
                    self.last_activity = now;
                    self.tx = Tx::Busy {
                        frame,
                        bit: 0,
                        next_edge: now + self.tx_bit,
                    };
                }
                _ => return,
            }
        }
    }

    fn rx_events(&mut self, now: u64) {
        match self.rx {
            Rx::Frame { bit, shift, at } if at == now => {
                let level = self.sim.txd();
                let next_at = now + self.rx_bit;
                self.rx = match bit {
                    0 if level => {
                        self.glitches += 1;
                        Rx::Hunt
                    }
                    0 => Rx::Frame {
                        bit: 1,
                        shift: 0,
                        at: next_at,
                    },
                    1..=8 => Rx::Frame {
                        bit: bit + 1,
                        shift: shift >> 1 | (level as u8) << 7,
                        at: next_at,
                    },
                    _ => {
                        self.last_activity = now;
                        if level {
                            self.received.push(shift);
                            Rx::Hunt
                        } else {
                            self.framing_errors += 1;
                            Rx::WaitHigh
                        }
                    }
                };
            }
            Rx::WaitHigh if self.sim.txd() => self.rx = Rx::Hunt,
            _ => {}
        }
    }
}
