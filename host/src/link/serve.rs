//! The virtual board: a device that answers protocol bytes, served on a serial
//! port (normally the master side of a pty, so that any serial client can open
//! the slave side and talk to it exactly as to a board).
//!
//! **Line rate.** A pty moves bytes as fast as the kernel copies them, whatever
//! baud rate is set. With [`ServeOptions::pace_baud`] the server models the
//! UART: a chunk of `n` received bytes is handed to the device only when its
//! last byte would have arrived (`n` × 10 bit times after the previous chunk
//! finished or after it was read, whichever is later), and every reply frame is
//! written when its last byte would have left (a separate writer thread keeps
//! the transmit timeline, so receiving and sending overlap as on a full-duplex
//! UART).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use neurofab_sim::ModelServer;

use super::transport::{FaultConfig, FaultCounts, FaultInjector, LinkError};

/// A device as a byte stream: what a board's UART receives and answers.
pub trait ByteDevice: Send {
    /// Receives `bytes`; appends the reply bytes they provoke to `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>);
    /// One line describing the core (for the serve banner).
    fn describe(&self) -> String;
}

impl ByteDevice for ModelServer {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.feed_into(bytes, out);
    }

    fn describe(&self) -> String {
        let c = self.config();
        format!(
            "reference model, {} neurons x {} inputs x {}-bit weights, {} baud, step window {}",
            c.shape.neurons, c.shape.inputs, c.shape.weight_bits, c.baud, c.step_window
        )
    }
}

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Model this line rate (8N1) instead of moving bytes as fast as the pty allows.
    pub pace_baud: Option<u32>,
    /// Inject faults into received and sent bytes.
    pub faults: Option<FaultConfig>,
    /// Stop after this long without receiving a byte.
    pub exit_after_idle: Option<Duration>,
}

/// What a serve session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub faults: FaultCounts,
}

fn byte_time(baud: u32) -> Duration {
    Duration::from_secs_f64(10.0 / f64::from(baud.max(1)))
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Serves `dev` on `port` until `stop` is set, the idle limit passes, or the
/// port fails. A hang-up (no client has the other side open) is waited out.
pub fn serve(
    mut port: Box<dyn serialport::SerialPort>,
    dev: &mut dyn ByteDevice,
    opts: &ServeOptions,
    stop: &AtomicBool,
) -> Result<ServeStats, LinkError> {
    let name = port.name().unwrap_or_else(|| "pty".into());
    let io_err = |e: &dyn std::fmt::Display| LinkError::Io {
        port: name.clone(),
        message: e.to_string(),
    };
    port.set_timeout(Duration::from_millis(20))
        .map_err(|e| io_err(&e))?;
    let mut stats = ServeStats::default();
    let mut rx_faults = opts.faults.map(FaultInjector::new);
    let mut tx_faults = opts.faults.map(|mut c| {
        c.seed = c.seed.wrapping_add(0x5EED);
        FaultInjector::new(c)
    });

    // Transmit side: a writer thread keeping the UART's transmit timeline.
    let writer_port = port.try_clone().map_err(|e| io_err(&e))?;
    let (tx, rx) = mpsc::channel::<(Vec<u8>, Duration)>();
    let pace = opts.pace_baud.map(byte_time);
    let writer = std::thread::spawn(move || -> Result<(), String> {
        let mut p = writer_port;
        let mut clock = Instant::now();
        for (bytes, delay) in rx {
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if let Some(bt) = pace {
                clock = clock.max(Instant::now()) + bt * bytes.len() as u32;
                sleep_until(clock);
            }
            p.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        Ok(())
    });

    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    let mut rx_clock = Instant::now();
    let mut last_activity = Instant::now();
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        if let Some(idle) = opts.exit_after_idle {
            if last_activity.elapsed() > idle {
                break Ok(());
            }
        }
        let n = match port.read(&mut buf) {
            Ok(0) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                // No client on the other side right now: wait for the next one.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => break Err(io_err(&e)),
        };
        last_activity = Instant::now();
        stats.bytes_in += n as u64;
        let received: Vec<u8> = match rx_faults.as_mut() {
            Some(f) => {
                let m = f.mangle(&buf[..n]);
                if !m.delay.is_zero() {
                    std::thread::sleep(m.delay);
                }
                m.bytes
            }
            None => buf[..n].to_vec(),
        };
        if let Some(bt) = pace {
            rx_clock = rx_clock.max(last_activity) + bt * n as u32;
            sleep_until(rx_clock);
        }
        out.clear();
        dev.feed(&received, &mut out);
        if out.is_empty() {
            continue;
        }
        stats.bytes_out += out.len() as u64;
        let (bytes, delay) = match tx_faults.as_mut() {
            Some(f) => {
                let m = f.mangle(&out);
                (m.bytes, m.delay)
            }
            None => (out.clone(), Duration::ZERO),
        };
        if tx.send((bytes, delay)).is_err() {
            break Err(io_err(&"the writer stopped"));
        }
    };
    drop(tx);
    let w = writer
        .join()
        .unwrap_or_else(|_| Err("writer thread panicked".into()));
    if let Some(f) = &rx_faults {
        stats.faults.add(&f.counts);
    }
    if let Some(f) = &tx_faults {
        stats.faults.add(&f.counts);
    }
    result?;
    w.map_err(|e| io_err(&e))?;
    Ok(stats)
}

/// Relays bytes between two ports through fault injectors (one per direction)
/// until `stop` is set; returns the faults injected. For tests of the
/// retransmission machinery over real ptys.
pub fn fault_proxy(
    a: Box<dyn serialport::SerialPort>,
    b: Box<dyn serialport::SerialPort>,
    cfg: FaultConfig,
    stop: &AtomicBool,
) -> Result<FaultCounts, LinkError> {
    let err = |e: &dyn std::fmt::Display| LinkError::Io {
        port: "fault proxy".into(),
        message: e.to_string(),
    };
    let a2 = a.try_clone().map_err(|e| err(&e))?;
    let b2 = b.try_clone().map_err(|e| err(&e))?;
    let mut back = cfg;
    back.seed = cfg.seed.wrapping_add(1);
    let counts = std::thread::scope(|s| {
        let h1 = s.spawn(|| relay(a, b2, cfg, stop));
        let h2 = s.spawn(|| relay(b, a2, back, stop));
        let mut c = h1.join().unwrap_or_default();
        c.add(&h2.join().unwrap_or_default());
        c
    });
    Ok(counts)
}

fn relay(
    mut from: Box<dyn serialport::SerialPort>,
    mut to: Box<dyn serialport::SerialPort>,
    cfg: FaultConfig,
    stop: &AtomicBool,
) -> FaultCounts {
    let mut inj = FaultInjector::new(cfg);
    let _ = from.set_timeout(Duration::from_millis(20));
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let n = match from.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        if n == 0 {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let m = inj.mangle(&buf[..n]);
        if !m.delay.is_zero() {
            std::thread::sleep(m.delay);
        }
        if to.write_all(&m.bytes).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    inj.counts
}
