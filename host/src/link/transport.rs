//! Byte transports under the protocol: a real serial port, the in-process
//! reference device, and a fault-injecting wrapper for tests.
//!
//! A [`Transport`] moves raw bytes. It knows nothing of frames; the protocol
//! layer ([`super::protocol::ProtocolDevice`]) does framing, CRC checks,
//! retransmissions and flow control on top of it.
//!
//! **Time.** `read(buf, timeout)` waits at most `timeout` *of the transport's own
//! time* for at least one byte. A real port waits wall-clock time; a simulated
//! transport whose time advances only when asked (the Verilator RTL model) runs
//! its simulation for the equivalent number of clock cycles and returns what
//! arrived; the in-process reference model answers instantly, so for it "nothing
//! pending" already means "nothing will ever come" and `read` returns 0 at once.
//! The protocol layer therefore never measures wall-clock time itself: a read
//! returning 0 *is* the timeout.

use std::collections::VecDeque;
use std::time::Duration;

use neurofab_sim::ModelServer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A failure of the byte link (not of the device).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The port could not be opened (missing, busy, no permission).
    #[error("cannot open serial port {port}: {message}")]
    Open { port: String, message: String },
    /// The port went away while in use (device unplugged, server killed).
    #[error("serial port {port} vanished: {message}")]
    Vanished { port: String, message: String },
    /// Any other I/O failure on the port.
    #[error("serial port {port}: {message}")]
    Io { port: String, message: String },
    /// The transport is not available in this build or not wired up yet.
    #[error("{0}")]
    Unavailable(String),
}

/// Raw bytes to and from a neurofab core.
pub trait Transport: Send {
    /// How the transport is named in messages (`serial:/dev/ttyUSB0@115200`, `proto-model`, …).
    fn describe(&self) -> String;
    /// Sends all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError>;
    /// Waits up to `timeout` (transport time, see the module docs) for at least
    /// one byte; returns how many were stored in `buf`, 0 if none arrived.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
    /// Throws away bytes received but not read yet (stale replies of an earlier session).
    fn discard_input(&mut self) -> Result<(), LinkError> {
        Ok(())
    }
    /// The line rate in baud if the transport has one (for timeouts and link utilisation).
    fn baud(&self) -> Option<u32> {
        None
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        (**self).write_all(bytes)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        (**self).read(buf, timeout)
    }
    fn discard_input(&mut self) -> Result<(), LinkError> {
        (**self).discard_input()
    }
    fn baud(&self) -> Option<u32> {
        (**self).baud()
    }
}

// ---- serial port ---------------------------------------------------------------------

/// A serial port (a USB-UART to a board, or a pty served by `neurofab serve`).
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    path: String,
    baud: u32,
    timeout: Duration,
}

impl SerialTransport {
    /// Opens `path` at `baud`, 8N1, no flow control.
    pub fn open(path: &str, baud: u32) -> Result<SerialTransport, LinkError> {
        if !std::path::Path::new(path).exists() {
            return Err(LinkError::Open {
                port: path.to_string(),
                message:
                    "no such file or device (is the board plugged in, or `neurofab serve` running?)"
                        .into(),
            });
        }
        let timeout = Duration::from_millis(100);
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(timeout)
            .open()
            .map_err(|e| LinkError::Open {
                port: path.to_string(),
                message: e.to_string(),
            })?;
        Ok(SerialTransport {
            port,
            path: path.to_string(),
            baud,
            timeout,
        })
    }

    fn vanished(&self, e: impl std::fmt::Display) -> LinkError {
        LinkError::Vanished {
            port: self.path.clone(),
            message: e.to_string(),
        }
    }
}

impl Transport for SerialTransport {
    fn describe(&self) -> String {
        format!("serial:{}@{}", self.path, self.baud)
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        use std::io::Write;
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.port.write(rest) {
                Ok(0) => return Err(self.vanished("write returned 0 bytes")),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    // Output buffer full for a whole timeout: the other side stopped reading.
                    return Err(LinkError::Io {
                        port: self.path.clone(),
                        message: format!("write stalled for {:?}: {e}", self.timeout),
                    });
                }
                Err(e) => return Err(self.vanished(e)),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        use std::io::Read;
        let timeout = timeout.max(Duration::from_millis(1));
        if timeout != self.timeout {
            self.port
                .set_timeout(timeout)
                .map_err(|e| self.vanished(e))?;
            self.timeout = timeout;
        }
        loop {
            return match self.port.read(buf) {
                // A tty read of 0 bytes after poll() said readable: hang-up.
                Ok(0) => Err(self.vanished("end of file (hang-up)")),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(0),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(self.vanished(e)),
            };
        }
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(|e| self.vanished(e))
    }

    fn baud(&self) -> Option<u32> {
        Some(self.baud)
    }
}

// ---- the reference device in-process ---------------------------------------------------

/// The reference device ([`ModelServer`]) in-process: written bytes are fed to
/// it, its replies are what `read` returns. It answers instantly, so a read
/// with nothing pending returns 0 at once (the timeout has "elapsed").
pub struct ModelTransport {
    server: ModelServer,
    pending: VecDeque<u8>,
    scratch: Vec<u8>,
}

impl ModelTransport {
    pub fn new(server: ModelServer) -> ModelTransport {
        ModelTransport {
            server,
            pending: VecDeque::new(),
            scratch: Vec::new(),
        }
    }

    /// The device behind the transport.
    pub fn server(&self) -> &ModelServer {
        &self.server
    }
}

impl Transport for ModelTransport {
    fn describe(&self) -> String {
        "proto-model".into()
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.scratch.clear();
        self.server.feed_into(bytes, &mut self.scratch);
        self.pending.extend(self.scratch.iter().copied());
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize, LinkError> {
        let n = buf.len().min(self.pending.len());
        for (d, s) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.pending.clear();
        Ok(())
    }
}

// ---- fault injection -----------------------------------------------------------------

/// What a fault injector does to a byte stream: on average one fault per
/// `1 / rate` bytes, each a bit flip, a dropped byte or (on real links) a delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultConfig {
    /// Probability that a byte is hit by a fault (e.g. 0.001 = one per 1,000 bytes).
    pub rate: f64,
    /// Seed of the fault pattern (reproducible runs).
    pub seed: u64,
    /// Relative weights of bit flips, drops and delays.
    pub flip: u32,
    pub drop: u32,
    pub delay: u32,
    /// Longest delay inserted before a byte (real links only).
    pub max_delay: Duration,
}

impl FaultConfig {
    /// One fault per `1/rate` bytes, flips, drops and delays equally likely.
    pub fn new(rate: f64, seed: u64) -> FaultConfig {
        FaultConfig {
            rate,
            seed,
            flip: 1,
            drop: 1,
            delay: 1,
            max_delay: Duration::from_millis(20),
        }
    }
}

/// Counts of injected faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    pub bytes: u64,
    pub flipped: u64,
    pub dropped: u64,
    pub delayed: u64,
}

impl FaultCounts {
    /// Bytes corrupted or lost (delays do not corrupt).
    pub fn corrupted(&self) -> u64 {
        self.flipped + self.dropped
    }

    pub fn add(&mut self, o: &FaultCounts) {
        self.bytes += o.bytes;
        self.flipped += o.flipped;
        self.dropped += o.dropped;
        self.delayed += o.delayed;
    }
}

/// Applies a [`FaultConfig`] to a byte stream.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    cfg: FaultConfig,
    rng: ChaCha8Rng,
    pub counts: FaultCounts,
}

/// What happens to one chunk: the bytes to pass on, and a delay before them.
pub struct Mangled {
    pub bytes: Vec<u8>,
    pub delay: Duration,
}

impl FaultInjector {
    pub fn new(cfg: FaultConfig) -> FaultInjector {
        FaultInjector {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            cfg,
            counts: FaultCounts::default(),
        }
    }

    /// Mangles `input`; delays are summed into [`Mangled::delay`] (to be slept
    /// before forwarding by a real relay, ignored in-process).
    pub fn mangle(&mut self, input: &[u8]) -> Mangled {
        let mut bytes = Vec::with_capacity(input.len());
        let mut delay = Duration::ZERO;
        let total = self.cfg.flip + self.cfg.drop + self.cfg.delay;
        for &b in input {
            self.counts.bytes += 1;
            if total == 0 || self.cfg.rate <= 0.0 || !self.rng.random_bool(self.cfg.rate.min(1.0)) {
                bytes.push(b);
                continue;
            }
            let pick = self.rng.random_range(0..total);
            if pick < self.cfg.flip {
                self.counts.flipped += 1;
                bytes.push(b ^ (1 << self.rng.random_range(0..8)));
            } else if pick < self.cfg.flip + self.cfg.drop {
                self.counts.dropped += 1;
            } else {
                self.counts.delayed += 1;
                let max = self.cfg.max_delay.as_micros().max(1) as u64;
                delay += Duration::from_micros(self.rng.random_range(0..max));
                bytes.push(b);
            }
        }
        Mangled { bytes, delay }
    }
}

/// A transport whose bytes are mangled in both directions (in-process tests).
pub struct FaultyTransport<T: Transport> {
    inner: T,
    to_device: FaultInjector,
    to_host: FaultInjector,
}

impl<T: Transport> FaultyTransport<T> {
    pub fn new(inner: T, cfg: FaultConfig) -> Self {
        let mut back = cfg;
        back.seed = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        FaultyTransport {
            inner,
            to_device: FaultInjector::new(cfg),
            to_host: FaultInjector::new(back),
        }
    }

    /// Faults injected so far, both directions.
    pub fn counts(&self) -> FaultCounts {
        let mut c = self.to_device.counts;
        c.add(&self.to_host.counts);
        c
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }
}

impl<T: Transport> Transport for FaultyTransport<T> {
    fn describe(&self) -> String {
        format!("{} (with injected faults)", self.inner.describe())
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let m = self.to_device.mangle(bytes);
        self.inner.write_all(&m.bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        loop {
            let n = self.inner.read(buf, timeout)?;
            if n == 0 {
                return Ok(0);
            }
            let m = self.to_host.mangle(&buf[..n]);
            if !m.bytes.is_empty() {
                buf[..m.bytes.len()].copy_from_slice(&m.bytes);
                return Ok(m.bytes.len());
            }
        }
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.inner.discard_input()
    }

    fn baud(&self) -> Option<u32> {
        self.inner.baud()
    }
}
