//! [`ProtocolDevice`]: a [`Device`] that speaks the wire protocol
//! (docs/protocol.md) over any [`Transport`].
//!
//! * Opening sends IDENTIFY and checks magic and version.
//! * Loading a network checks that it fits the core (N, M, W), then uploads
//!   parameters, STDP, weights and masks and resets the state; optionally reads
//!   everything back and compares (`--verify`).
//! * Steps are streamed with up to `step_window` STEP frames in flight
//!   (protocol §6.1). Results are matched by **step index**, never by arrival
//!   order or sequence number, so a lost, corrupted, duplicated or late reply
//!   can never shift a step. Recovery is go-back-N (protocol §6.3, and
//!   docs/host.md "Retransmission"): any sign that something between the first
//!   undelivered step and the newest STEP sent went wrong makes the host resend
//!   every STEP from the first undelivered one; the device replays steps it
//!   already executed (§6.2) and executes the others, so no step is lost,
//!   repeated or reordered.
//! * Everything else is stop-and-wait with retransmission on timeout or on a
//!   NACK for a damaged frame (`BAD_CRC`, `FRAMING`, `BUSY`).

use std::collections::VecDeque;
use std::time::Duration;

use neurofab_proto::{
    decode_identity, max_weights_per_frame, weight_bytes, Capabilities, Command, CoreShape,
    Decoder, ErrorCode, Frame, IdentityError, NeuronParams, NeuronState, Reply, SpikeSet,
    StdpParams, CMD_STEP, MAX_NEURON_PARAMS_PER_FRAME, MAX_PAYLOAD, MAX_PRE_TRACES_PER_FRAME,
    MAX_STATES_PER_FRAME, MAX_WIRE_LEN, NEURON_PARAMS_LEN, NEURON_RANGE_LEN, NEURON_STATE_LEN,
    PROTOCOL_VERSION, REPLY_IDENTITY, SYNAPSE_RANGE_LEN, TRACE_RANGE_LEN,
};

use super::transport::{LinkError, Transport};
use crate::compile::CompiledNetwork;
use crate::device::{Counters, Device, DeviceError};

/// Link behaviour: timeouts, retries, verification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkOptions {
    /// Reply timeout on top of the wire time of the longest exchange at the
    /// transport's baud rate (transport time, see [`Transport::read`]).
    pub timeout: Duration,
    /// Retransmissions of one command (or consecutive timeouts of a step
    /// stream) before giving up.
    pub retries: u32,
    /// After an upload, read everything back and compare.
    pub verify: bool,
    /// Limit the STEP window below the device's `step_window` (1 = stop-and-wait).
    pub window: Option<u8>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            timeout: Duration::from_millis(250),
            retries: 10,
            verify: false,
            window: None,
        }
    }
}

/// What happened on the link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkStats {
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub frames_received: u64,
    pub bytes_received: u64,
    /// Frames sent again (stop-and-wait retries plus resent STEPs).
    pub retransmissions: u64,
    /// Received frames that failed framing or CRC checks, or did not decode.
    pub bad_frames: u64,
    /// Reply timeouts.
    pub timeouts: u64,
    /// NACKs received (all causes).
    pub nacks: u64,
    /// Replies that answered nothing outstanding (late, duplicate, unknown seq).
    pub stale_replies: u64,
    /// Go-back-N rewinds of the step stream.
    pub rewinds: u64,
}

impl LinkStats {
    /// The counts accumulated since `earlier` was taken.
    pub fn since(&self, earlier: &LinkStats) -> LinkStats {
        LinkStats {
            frames_sent: self.frames_sent - earlier.frames_sent,
            bytes_sent: self.bytes_sent - earlier.bytes_sent,
            frames_received: self.frames_received - earlier.frames_received,
            bytes_received: self.bytes_received - earlier.bytes_received,
            retransmissions: self.retransmissions - earlier.retransmissions,
            bad_frames: self.bad_frames - earlier.bad_frames,
            timeouts: self.timeouts - earlier.timeouts,
            nacks: self.nacks - earlier.nacks,
            stale_replies: self.stale_replies - earlier.stale_replies,
            rewinds: self.rewinds - earlier.rewinds,
        }
    }
}

/// A neurofab core behind a byte transport.
pub struct ProtocolDevice<T: Transport> {
    t: T,
    label: String,
    caps: Capabilities,
    /// The network's shape once one is loaded (the view of weights etc.), else the core's.
    view: CoreShape,
    stdp_enabled: bool,
    opts: LinkOptions,
    reply_timeout: Duration,
    dec: Decoder<Vec<u8>>,
    frames: VecDeque<Frame>,
    rx: Vec<u8>,
    seq: u8,
    stats: LinkStats,
    /// The device's `next_step` as far as the host knows.
    next_step: u32,
    fired: Vec<u16>,
    prev_fired: usize,
    counters: Counters,
}

/// One STEP frame in flight.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    seq: u8,
    k: u32,
    /// Sent before the last rewind: its reply still delivers data but
    /// anomalies about it are old news.
    stale: bool,
}

fn link_err(label: &str, e: LinkError) -> DeviceError {
    DeviceError::Link {
        device: label.to_string(),
        message: e.to_string(),
    }
}

/// Name of a command type for messages.
pub fn command_name(t: u8) -> &'static str {
    match t {
        0x01 => "IDENTIFY",
        0x02 => "RESET",
        0x03 => "WRITE_NEURON_PARAMS",
        0x04 => "READ_NEURON_PARAMS",
        0x05 => "WRITE_STDP",
        0x06 => "READ_STDP",
        0x07 => "WRITE_WEIGHTS",
        0x08 => "READ_WEIGHTS",
        0x09 => "WRITE_MASK",
        0x0A => "READ_MASK",
        0x0B => "READ_STATE",
        0x0C => "READ_PRE_TRACES",
        0x10 => "STEP",
        0x11 => "RUN",
        _ => "unknown command",
    }
}

fn reply_name(t: u8) -> &'static str {
    match t {
        0x01 => "IDENTITY",
        0x04 => "NEURON_PARAMS",
        0x06 => "STDP",
        0x08 => "WEIGHTS",
        0x0A => "MASK",
        0x0B => "STATE",
        0x0C => "PRE_TRACES",
        0x10 => "STEP_DONE",
        _ => "ACK",
    }
}

/// Wire time of `bytes` bytes at `baud` (8N1: 10 bits per byte).
pub fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud.max(1)))
}

impl<T: Transport> ProtocolDevice<T> {
    /// Opens the device: IDENTIFY, check magic and version.
    pub fn open(t: T, opts: LinkOptions) -> Result<ProtocolDevice<T>, DeviceError> {
        let label = t.describe();
        // Timeout: the longest exchange is a maximal frame each way.
        let reply_timeout = opts.timeout + t.baud().map_or(Duration::ZERO, |b| wire_time(128, b));
        let mut d = ProtocolDevice {
            t,
            label,
            caps: neurofab_proto::CoreConfig::DEFAULT.capabilities(),
            view: CoreShape::DEFAULT,
            stdp_enabled: false,
            opts,
            reply_timeout,
            dec: Decoder::with_buffer(vec![0; MAX_PAYLOAD]),
            frames: VecDeque::new(),
            rx: vec![0; 4096],
            seq: 0,
            stats: LinkStats::default(),
            next_step: 0,
            fired: Vec::new(),
            prev_fired: 0,
            counters: Counters::default(),
        };
        d.t.discard_input().map_err(|e| link_err(&d.label, e))?;
        d.caps = d.identify()?;
        d.view = d.caps.shape;
        Ok(d)
    }

    /// What IDENTITY reported.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    pub fn transport(&self) -> &T {
        &self.t
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.t
    }

    /// Reply timeout for an exchange of `bytes` wire bytes: the configured
    /// timeout plus their wire time at the link's baud rate.
    fn allowance(&self, bytes: usize) -> Duration {
        self.opts.timeout
            + self
                .t
                .baud()
                .map_or(Duration::ZERO, |b| wire_time(bytes, b))
    }

    /// Worst-case wire length of the reply to `cmd` (every byte escaped).
    fn reply_wire_max(&self, cmd: &Command) -> usize {
        let d = self.dev();
        let payload = match cmd {
            Command::Identify => neurofab_proto::IDENTITY_LEN,
            Command::ReadNeuronParams { count, .. } => {
                NEURON_RANGE_LEN + *count as usize * NEURON_PARAMS_LEN
            }
            Command::ReadStdp => neurofab_proto::STDP_PARAMS_LEN,
            Command::ReadWeights { count, .. } => {
                SYNAPSE_RANGE_LEN + *count as usize * weight_bytes(d.weight_bits)
            }
            Command::ReadMask { count, .. } => SYNAPSE_RANGE_LEN + (*count as usize).div_ceil(8),
            Command::ReadState { count, .. } => {
                NEURON_RANGE_LEN + *count as usize * NEURON_STATE_LEN
            }
            Command::ReadPreTraces { count, .. } => TRACE_RANGE_LEN + *count as usize,
            _ => neurofab_proto::NACK_LEN,
        };
        2 + 2 * (payload + 6)
    }

    /// Worst-case wire bytes of one STEP and its STEP_DONE.
    fn step_wire_max(&self) -> usize {
        let d = self.dev();
        let set = |u: u16| 1 + (2 + 2 * u as usize).min((u as usize).div_ceil(8));
        2 + 2 * (6 + 4 + set(d.inputs)) + 2 + 2 * (6 + 4 + set(d.neurons))
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), DeviceError> {
        self.stats.frames_sent += 1;
        self.stats.bytes_sent += bytes.len() as u64;
        self.t
            .write_all(bytes)
            .map_err(|e| link_err(&self.label, e))
    }

    /// The next good frame, or `None` after a reply timeout. Counts bad frames.
    fn recv(&mut self) -> Result<Option<Frame>, DeviceError> {
        let mut noise = 0usize;
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Ok(Some(f));
            }
            let n = self
                .t
                .read(&mut self.rx, self.reply_timeout)
                .map_err(|e| link_err(&self.label, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.stats.bytes_received += n as u64;
            let frames = &mut self.frames;
            let stats = &mut self.stats;
            self.dec.feed(&self.rx[..n], |r| match r {
                Ok(f) => {
                    stats.frames_received += 1;
                    frames.push_back(f.to_frame());
                }
                Err(_) => stats.bad_frames += 1,
            });
            if self.frames.is_empty() {
                // A port that streams bytes but never a frame is as good as silent.
                noise += n;
                if noise > 4 * MAX_WIRE_LEN {
                    return Ok(None);
                }
            }
        }
    }

    fn decode(&mut self, f: &Frame) -> Option<Reply> {
        match Reply::decode(f.frame_type, &f.payload, &self.caps.shape) {
            Ok(r) => Some(r),
            Err(_) => {
                self.stats.bad_frames += 1;
                None
            }
        }
    }

    /// IDENTIFY → capabilities, with the checks of protocol §3.1.
    fn identify(&mut self) -> Result<Capabilities, DeviceError> {
        let frame = Command::Identify
            .to_frame(0, &CoreShape::DEFAULT)
            .expect("IDENTIFY encodes");
        let attempts = self.opts.retries.clamp(1, 3);
        let mut noise_before = self.stats.bytes_received;
        for attempt in 0..attempts {
            if attempt > 0 {
                self.stats.retransmissions += 1;
            }
            let seq = self.next_seq();
            let frame = {
                let mut f = frame.clone();
                // Re-encode with this seq (cheap; IDENTIFY is tiny).
                f.clear();
                Command::Identify
                    .encode_frame(seq, &CoreShape::DEFAULT, |b| f.push(b))
                    .expect("IDENTIFY encodes");
                f
            };
            self.send_bytes(&frame)?;
            while let Some(f) = self.recv()? {
                if f.seq != seq || f.frame_type != REPLY_IDENTITY {
                    self.stats.stale_replies += 1;
                    continue;
                }
                return match decode_identity(&f.payload) {
                    Ok(c) => Ok(c),
                    Err(IdentityError::BadMagic(m)) => Err(DeviceError::NotACore {
                        device: self.label.clone(),
                        message: format!(
                            "it answered IDENTIFY with magic {:02X} {:02X} {:02X} {:02X} instead of \"NFAB\"",
                            m[0], m[1], m[2], m[3]
                        ),
                    }),
                    Err(IdentityError::UnsupportedVersion(v)) => Err(DeviceError::Version {
                        device: self.label.clone(),
                        found: v,
                        supported: PROTOCOL_VERSION,
                    }),
                    Err(IdentityError::Length(n)) => Err(DeviceError::NotACore {
                        device: self.label.clone(),
                        message: format!("its IDENTITY payload has {n} bytes, not 28"),
                    }),
                };
            }
            self.stats.timeouts += 1;
            let _ = &mut noise_before;
        }
        let received = self.stats.bytes_received - noise_before;
        if received > 0 {
            Err(DeviceError::NotACore {
                device: self.label.clone(),
                message: format!(
                    "it sent {received} bytes in answer to {attempts} IDENTIFY frames, none of them a valid neurofab frame (wrong baud rate, or not a neurofab core)"
                ),
            })
        } else {
            Err(DeviceError::Link {
                device: self.label.clone(),
                message: format!(
                    "timed out waiting for IDENTITY (no reply to {attempts} IDENTIFY frames, {:?} each): is a neurofab core connected, and at this baud rate?",
                    self.reply_timeout
                ),
            })
        }
    }

    /// Stop-and-wait exchange: sends `cmd`, returns its reply (ACK or data).
    /// Retransmits on timeout and on NACK BAD_CRC / FRAMING / BUSY / OVERSIZED
    /// (a corrupted length byte); any other
    /// NACK is the device refusing the command (an error naming it).
    pub fn request(&mut self, cmd: &Command) -> Result<Reply, DeviceError> {
        let t = cmd.frame_type();
        let seq = self.next_seq();
        let frame = cmd
            .to_frame(seq, &self.caps.shape)
            .map_err(|e| DeviceError::Failed {
                device: self.label.clone(),
                op: command_name(t).into(),
                message: format!("cannot encode: {e}"),
            })?;
        self.reply_timeout = self.allowance(frame.len() + self.reply_wire_max(cmd));
        let mut last_problem = String::from("no reply");
        for attempt in 0..=self.opts.retries {
            if attempt > 0 {
                self.stats.retransmissions += 1;
            }
            self.send_bytes(&frame)?;
            loop {
                let Some(f) = self.recv()? else {
                    self.stats.timeouts += 1;
                    last_problem = format!("no reply within {:?}", self.reply_timeout);
                    break;
                };
                if f.seq != seq {
                    self.stats.stale_replies += 1;
                    continue;
                }
                let Some(r) = self.decode(&f) else { continue };
                match r {
                    Reply::Nack { error, detail, cmd } => {
                        self.stats.nacks += 1;
                        match error {
                            ErrorCode::BadCrc
                            | ErrorCode::Framing
                            | ErrorCode::Busy
                            | ErrorCode::Oversized => {
                                last_problem = format!("NACK {error:?}");
                                break;
                            }
                            _ if cmd != t => {
                                // A NACK for a mangled copy of our frame; resend.
                                last_problem = format!("NACK {error:?} for type {cmd:#04x}");
                                break;
                            }
                            _ => {
                                return Err(DeviceError::Refused {
                                    device: self.label.clone(),
                                    op: command_name(t).into(),
                                    message: format!("NACK {error:?} (detail {detail})"),
                                })
                            }
                        }
                    }
                    Reply::Ack { cmd } if cmd != t => {
                        self.stats.stale_replies += 1;
                        continue;
                    }
                    r => return Ok(r),
                }
            }
        }
        Err(DeviceError::Link {
            device: self.label.clone(),
            message: format!(
                "timed out waiting for the {} to {} (seq {seq}): {} attempts, last: {last_problem}",
                reply_name(t),
                command_name(t),
                self.opts.retries + 1
            ),
        })
    }

    fn expect_ack(&mut self, cmd: Command) -> Result<(), DeviceError> {
        let t = cmd.frame_type();
        match self.request(&cmd)? {
            Reply::Ack { .. } => Ok(()),
            other => Err(self.unexpected(t, &other)),
        }
    }

    fn unexpected(&self, t: u8, r: &Reply) -> DeviceError {
        DeviceError::Failed {
            device: self.label.clone(),
            op: command_name(t).into(),
            message: format!("unexpected reply type {:#04x}", r.frame_type()),
        }
    }

    // ---- shapes -----------------------------------------------------------------------

    fn dev(&self) -> CoreShape {
        self.caps.shape
    }

    /// Device row of view row `s` (inputs keep their index; neuron sources move
    /// from `M_view + n` to `M_dev + n`).
    fn dev_row(&self, s: u16) -> u16 {
        if s < self.view.inputs {
            s
        } else {
            self.dev().inputs + (s - self.view.inputs)
        }
    }

    fn weights_per_frame(&self) -> usize {
        let b = weight_bytes(self.dev().weight_bits);
        max_weights_per_frame(self.dev().weight_bits)
            .min((self.caps.max_payload as usize).saturating_sub(SYNAPSE_RANGE_LEN) / b)
            .max(1)
    }

    fn mask_bits_per_frame(&self) -> usize {
        ((self.caps.max_payload as usize).saturating_sub(SYNAPSE_RANGE_LEN) * 8).max(1)
    }

    /// Checks that `net` fits this core; the message names the numbers.
    pub fn check_fits(&self, net: &CompiledNetwork) -> Result<(), DeviceError> {
        let (n, d) = (net.shape, self.dev());
        let mut problems = Vec::new();
        if n.neurons > d.neurons {
            problems.push(format!(
                "{} neurons (the core has {})",
                n.neurons, d.neurons
            ));
        }
        if n.inputs > d.inputs {
            problems.push(format!("{} inputs (the core has {})", n.inputs, d.inputs));
        }
        if n.weight_bits > d.weight_bits {
            problems.push(format!(
                "{}-bit weights (the core has {}-bit weights)",
                n.weight_bits, d.weight_bits
            ));
        }
        if problems.is_empty() && d.weight_bits > n.weight_bits {
            if let Some((i, p)) = net
                .neuron_params
                .iter()
                .enumerate()
                .find(|(_, p)| p.w_shift as u32 + d.weight_bits as u32 > 16)
            {
                problems.push(format!(
                    "neuron {i} has w_shift = {}, which with the core's {}-bit weights exceeds 16 bits",
                    p.w_shift, d.weight_bits
                ));
            }
        }
        if !net.stdp.enabled || self.caps.has_stdp() {
        } else {
            problems.push("STDP (the core has no STDP)".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DeviceError::DoesNotFit {
                device: self.label.clone(),
                message: format!(
                    "the network needs {}; compile it for a core this size ([core] neurons/inputs/weight_bits)",
                    problems.join(", ")
                ),
            })
        }
    }

    /// Uploads `net` (see the module docs); `progress(done, total)` counts frames.
    pub fn upload(
        &mut self,
        net: &CompiledNetwork,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        self.check_fits(net)?;
        self.view = net.shape;
        let cols = net.shape.neurons as usize;
        let wpf = self.weights_per_frame();
        let mpf = self.mask_bits_per_frame();
        // Plan the frames first so that progress has a total.
        let mut writes: Vec<Command> = Vec::new();
        let ppf = MAX_NEURON_PARAMS_PER_FRAME
            .min((self.caps.max_payload as usize - NEURON_RANGE_LEN) / NEURON_PARAMS_LEN);
        for (c, chunk) in net.neuron_params.chunks(ppf).enumerate() {
            writes.push(Command::WriteNeuronParams {
                first: (c * ppf) as u16,
                params: chunk.to_vec(),
            });
        }
        writes.push(Command::WriteStdp(net.stdp));
        for s in 0..net.shape.sources() {
            let row = &net.weights[s * cols..(s + 1) * cols];
            let dev_row = self.dev_row(s as u16);
            for (c, chunk) in row.chunks(wpf).enumerate() {
                if chunk.iter().any(|&w| w != 0) {
                    writes.push(Command::WriteWeights {
                        row: dev_row,
                        col: (c * wpf) as u16,
                        weights: chunk.to_vec(),
                    });
                }
            }
            let bits = &net.plastic[s * cols..(s + 1) * cols];
            for (c, chunk) in bits.chunks(mpf).enumerate() {
                if chunk.iter().any(|&b| b) {
                    writes.push(Command::WriteMask {
                        row: dev_row,
                        col: (c * mpf) as u16,
                        bits: chunk.to_vec(),
                    });
                }
            }
        }
        let total = writes.len() as u64 + 2;
        self.expect_ack(Command::Reset {
            state: true,
            full: true,
        })?;
        progress(1, total);
        for (i, w) in writes.into_iter().enumerate() {
            self.expect_ack(w)?;
            progress(i as u64 + 2, total);
        }
        self.reset_state()?;
        progress(total, total);
        self.stdp_enabled = net.stdp.enabled;
        if self.opts.verify {
            self.verify(net)?;
        }
        Ok(())
    }

    /// Reads parameters, STDP, weights and masks back and compares with `net`.
    pub fn verify(&mut self, net: &CompiledNetwork) -> Result<(), DeviceError> {
        let label = self.label.clone();
        let mismatch = |what: String| DeviceError::Failed {
            device: label.clone(),
            op: "verify".into(),
            message: what,
        };
        let params = self.read_neuron_params()?;
        for (n, (a, b)) in net.neuron_params.iter().zip(&params).enumerate() {
            if a != b {
                return Err(mismatch(format!(
                    "neuron {n} parameters: wrote {a:?}, read {b:?}"
                )));
            }
        }
        let stdp = self.read_stdp()?;
        if stdp != net.stdp {
            return Err(mismatch(format!(
                "STDP parameters: wrote {:?}, read {stdp:?}",
                net.stdp
            )));
        }
        let w = self.read_weights()?;
        let cols = net.shape.neurons as usize;
        if let Some(k) = (0..w.len()).find(|&k| w[k] != net.weights[k]) {
            return Err(mismatch(format!(
                "weight source {} -> neuron {}: wrote {}, read {}",
                k / cols,
                k % cols,
                net.weights[k],
                w[k]
            )));
        }
        let m = self.read_masks()?;
        if let Some(k) = (0..m.len()).find(|&k| m[k] != net.plastic[k]) {
            return Err(mismatch(format!(
                "plasticity bit source {} -> neuron {}: wrote {}, read {}",
                k / cols,
                k % cols,
                net.plastic[k],
                m[k]
            )));
        }
        Ok(())
    }

    /// Neuron parameters of the view's neurons.
    pub fn read_neuron_params(&mut self) -> Result<Vec<NeuronParams>, DeviceError> {
        let per = MAX_NEURON_PARAMS_PER_FRAME
            .min((self.caps.max_payload as usize - NEURON_RANGE_LEN) / NEURON_PARAMS_LEN);
        let mut out = Vec::with_capacity(self.view.neurons as usize);
        self.read_range(
            0,
            self.view.neurons as usize,
            per,
            |first, count| Command::ReadNeuronParams {
                first: first as u16,
                count: count as u8,
            },
            |reply, first, count| match reply {
                Reply::NeuronParams { first: f, params }
                    if f as usize == first && params.len() == count =>
                {
                    Ok(params)
                }
                r => Err(r),
            },
            &mut out,
        )?;
        Ok(out)
    }

    /// Reads items `start .. start + len` in requests of at most `per` items and appends
    /// them to `out`: `cmd(first, count)` is the request, `take(reply, first, count)` the
    /// items if the reply answers exactly that request (else the reply, for the error).
    fn read_range<Item>(
        &mut self,
        start: usize,
        len: usize,
        per: usize,
        cmd: impl Fn(usize, usize) -> Command,
        take: impl Fn(Reply, usize, usize) -> Result<Vec<Item>, Reply>,
        out: &mut Vec<Item>,
    ) -> Result<(), DeviceError> {
        let mut k = 0usize;
        while k < len {
            let count = per.min(len - k);
            let request = cmd(start + k, count);
            match take(self.request(&request)?, start + k, count) {
                Ok(items) => out.extend(items),
                Err(r) => return Err(self.unexpected(request.frame_type(), &r)),
            }
            k += count;
        }
        Ok(())
    }

    pub fn read_stdp(&mut self) -> Result<StdpParams, DeviceError> {
        match self.request(&Command::ReadStdp)? {
            Reply::Stdp(p) => Ok(p),
            r => Err(self.unexpected(Command::ReadStdp.frame_type(), &r)),
        }
    }

    /// The weight matrix in the view's layout, `(M+N) × N` row-major.
    pub fn read_weights(&mut self) -> Result<Vec<i16>, DeviceError> {
        let cols = self.view.neurons as usize;
        let per = self.weights_per_frame();
        let mut out = Vec::with_capacity(self.view.sources() * cols);
        for s in 0..self.view.sources() {
            let row = self.dev_row(s as u16);
            self.read_range(
                0,
                cols,
                per,
                |col, count| Command::ReadWeights {
                    row,
                    col: col as u16,
                    count: count as u16,
                },
                |reply, col, count| match reply {
                    Reply::Weights {
                        row: r,
                        col: c,
                        weights,
                    } if r == row && c as usize == col && weights.len() == count => Ok(weights),
                    r => Err(r),
                },
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// The plasticity mask in the view's layout.
    pub fn read_masks(&mut self) -> Result<Vec<bool>, DeviceError> {
        let cols = self.view.neurons as usize;
        let per = self.mask_bits_per_frame();
        let mut out = Vec::with_capacity(self.view.sources() * cols);
        for s in 0..self.view.sources() {
            let row = self.dev_row(s as u16);
            self.read_range(
                0,
                cols,
                per,
                |col, count| Command::ReadMask {
                    row,
                    col: col as u16,
                    count: count as u16,
                },
                |reply, col, count| match reply {
                    Reply::Mask {
                        row: r,
                        col: c,
                        bits,
                    } if r == row && c as usize == col && bits.len() == count => Ok(bits),
                    r => Err(r),
                },
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Writes the whole weight matrix (view layout).
    pub fn write_weights(
        &mut self,
        weights: &[i16],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        let cols = self.view.neurons as usize;
        if weights.len() != self.view.sources() * cols {
            return Err(DeviceError::Failed {
                device: self.label.clone(),
                op: "write weights".into(),
                message: format!(
                    "{} weights given, the core needs {} ({} sources x {} neurons)",
                    weights.len(),
                    self.view.sources() * cols,
                    self.view.sources(),
                    cols
                ),
            });
        }
        let per = self.weights_per_frame();
        let total = (self.view.sources() * cols.div_ceil(per)) as u64;
        let mut done = 0;
        for s in 0..self.view.sources() {
            let row = self.dev_row(s as u16);
            for (c, chunk) in weights[s * cols..(s + 1) * cols].chunks(per).enumerate() {
                self.expect_ack(Command::WriteWeights {
                    row,
                    col: (c * per) as u16,
                    weights: chunk.to_vec(),
                })?;
                done += 1;
                progress(done, total);
            }
        }
        Ok(())
    }

    /// Dynamic state of the view's neurons.
    pub fn read_states(&mut self) -> Result<Vec<NeuronState>, DeviceError> {
        let per = MAX_STATES_PER_FRAME
            .min((self.caps.max_payload as usize - NEURON_RANGE_LEN) / NEURON_STATE_LEN);
        let mut out = Vec::with_capacity(self.view.neurons as usize);
        self.read_range(
            0,
            self.view.neurons as usize,
            per,
            |first, count| Command::ReadState {
                first: first as u16,
                count: count as u8,
            },
            |reply, first, count| match reply {
                Reply::State { first: f, states }
                    if f as usize == first && states.len() == count =>
                {
                    Ok(states)
                }
                r => Err(r),
            },
            &mut out,
        )?;
        Ok(out)
    }

    /// Pre-synaptic traces of the view's sources (inputs, then neurons).
    pub fn read_pre_traces(&mut self) -> Result<Vec<u8>, DeviceError> {
        let per = MAX_PRE_TRACES_PER_FRAME.min(self.caps.max_payload as usize - TRACE_RANGE_LEN);
        let mut out = Vec::with_capacity(self.view.sources());
        let ranges = [
            (0usize, self.view.inputs as usize),
            (self.dev().inputs as usize, self.view.neurons as usize),
        ];
        for (start, len) in ranges {
            self.read_range(
                start,
                len,
                per,
                |first, count| Command::ReadPreTraces {
                    first: first as u16,
                    count: count as u16,
                },
                |reply, first, count| match reply {
                    Reply::PreTraces { first: f, traces }
                        if f as usize == first && traces.len() == count =>
                    {
                        Ok(traces)
                    }
                    r => Err(r),
                },
                &mut out,
            )?;
        }
        Ok(out)
    }

    // ---- the step stream -------------------------------------------------------------

    fn window(&self) -> u32 {
        let mut w = self.caps.step_window.max(1);
        if self.caps.replay_depth >= 1 {
            // Never have more unacknowledged steps than the device can replay.
            w = w.min(self.caps.replay_depth);
        }
        if let Some(o) = self.opts.window {
            w = w.min(o.max(1));
        }
        u32::from(w)
    }

    fn send_step(&mut self, step: u32, inputs: &[u16]) -> Result<u8, DeviceError> {
        let seq = self.next_seq();
        let cmd = Command::Step {
            step,
            inputs: SpikeSet::from_indices(inputs.iter().copied()),
        };
        let frame = cmd
            .to_frame(seq, &self.caps.shape)
            .map_err(|e| DeviceError::Failed {
                device: self.label.clone(),
                op: format!("STEP {step}"),
                message: format!("cannot encode: {e}"),
            })?;
        self.send_bytes(&frame)?;
        Ok(seq)
    }

    /// Streams `count` steps from the device's next step; `inputs(k)` gives the
    /// inputs of the k-th step of this call; `on_step(k, fired)` is called once
    /// per step, in order.
    pub fn stream<'a>(
        &mut self,
        count: u32,
        inputs: &dyn Fn(u32) -> &'a [u16],
        on_step: &mut dyn FnMut(u32, &[u16]),
    ) -> Result<(), DeviceError> {
        let base = self.next_step;
        if count > u32::MAX - 1 - base {
            return Err(DeviceError::Failed {
                device: self.label.clone(),
                op: "step".into(),
                message: format!(
                    "{count} more steps would pass the last step index (device at step {base}); reset the state first"
                ),
            });
        }
        let window = self.window();
        self.reply_timeout = self.allowance(window as usize * self.step_wire_max());
        let mut inflight: VecDeque<InFlight> = VecDeque::new();
        // Results received ahead of delivery, slot k - done.
        let mut ahead: VecDeque<Option<Vec<u16>>> = VecDeque::new();
        let (mut done, mut sent, mut max_sent) = (0u32, 0u32, 0u32);
        let mut timeouts_in_a_row = 0u32;
        while done < count {
            // Fill the window.
            while sent < count && sent - done < window && (inflight.len() as u32) < window {
                let ins = inputs(sent);
                let seq = self.send_step(base + sent, ins)?;
                if sent < max_sent {
                    self.stats.retransmissions += 1;
                }
                inflight.push_back(InFlight {
                    seq,
                    k: sent,
                    stale: false,
                });
                sent += 1;
                max_sent = max_sent.max(sent);
            }
            let Some(f) = self.recv()? else {
                // Nothing for a whole timeout: assume everything in flight is lost.
                self.stats.timeouts += 1;
                timeouts_in_a_row += 1;
                if timeouts_in_a_row > self.opts.retries {
                    return Err(DeviceError::Link {
                        device: self.label.clone(),
                        message: format!(
                            "timed out waiting for STEP_DONE of step {} ({} timeouts of {:?} in a row, {} STEPs in flight)",
                            base + done,
                            timeouts_in_a_row,
                            self.reply_timeout,
                            inflight.len()
                        ),
                    });
                }
                inflight.clear();
                self.stats.rewinds += 1;
                sent = done;
                continue;
            };
            // Which frame does it answer? Replies come in sending order, so
            // frames sent before it that got no reply never will.
            let hit = inflight.iter().position(|x| x.seq == f.seq);
            let fresh = match hit {
                Some(i) => {
                    let x = inflight[i];
                    inflight.drain(..=i);
                    Some(x)
                }
                None => None,
            };
            let Some(reply) = self.decode(&f) else {
                continue;
            };
            let anomaly = match reply {
                Reply::StepDone { step, fired } => {
                    timeouts_in_a_row = 0;
                    let k = step.wrapping_sub(base);
                    if step < base || k < done || k >= count {
                        self.stats.stale_replies += 1;
                        false
                    } else {
                        let slot = (k - done) as usize;
                        if ahead.len() <= slot {
                            ahead.resize(slot + 1, None);
                        }
                        if ahead[slot].is_none() {
                            ahead[slot] = Some(fired.into_vec());
                        } else {
                            self.stats.stale_replies += 1;
                        }
                        while let Some(Some(_)) = ahead.front() {
                            let fired = ahead.pop_front().flatten().unwrap_or_default();
                            self.account(inputs(done), &fired);
                            on_step(done, &fired);
                            done += 1;
                        }
                        // Replies of stale frames may carry delivery past `sent`.
                        sent = sent.max(done);
                        // A fresh reply for a later step while an earlier one is
                        // still missing: that earlier reply was lost.
                        matches!(fresh, Some(x) if !x.stale) && !ahead.is_empty()
                    }
                }
                Reply::Nack {
                    cmd, error, detail, ..
                } => {
                    self.stats.nacks += 1;
                    if error == ErrorCode::StepGap
                        && cmd == CMD_STEP
                        && detail < base.wrapping_add(done)
                        && matches!(fresh, Some(x) if !x.stale)
                    {
                        return Err(DeviceError::Failed {
                            device: self.label.clone(),
                            op: format!("STEP {}", base + done),
                            message: format!(
                                "the device expects step {detail}: its step counter went back (was it reset by someone else?)"
                            ),
                        });
                    }
                    if !matches!(
                        error,
                        ErrorCode::StepGap
                            | ErrorCode::BadCrc
                            | ErrorCode::Framing
                            | ErrorCode::Busy
                            | ErrorCode::Oversized
                    ) && cmd == CMD_STEP
                        && matches!(fresh, Some(x) if !x.stale)
                    {
                        return Err(DeviceError::Refused {
                            device: self.label.clone(),
                            op: format!("STEP {}", base + fresh.map_or(done, |x| x.k)),
                            message: format!("NACK {error:?} (detail {detail})"),
                        });
                    }
                    matches!(fresh, Some(x) if !x.stale)
                }
                _ => {
                    self.stats.stale_replies += 1;
                    false
                }
            };
            if anomaly && done < count {
                // Go back N: everything in flight is old news; resend from `done`.
                for x in inflight.iter_mut() {
                    x.stale = true;
                }
                self.stats.rewinds += 1;
                sent = done;
            }
        }
        self.next_step = base + count;
        self.drain(&mut inflight)?;
        Ok(())
    }

    /// Waits for the replies of frames still in flight (stale duplicates after a
    /// rewind), so that the next stop-and-wait command starts on a quiet link.
    fn drain(&mut self, inflight: &mut VecDeque<InFlight>) -> Result<(), DeviceError> {
        while !inflight.is_empty() {
            match self.recv()? {
                None => {
                    self.stats.timeouts += 1;
                    inflight.clear();
                }
                Some(f) => {
                    self.stats.stale_replies += 1;
                    if let Some(i) = inflight.iter().position(|x| x.seq == f.seq) {
                        inflight.drain(..=i);
                    }
                }
            }
        }
        Ok(())
    }

    /// Host-side event counters (spec §8), from the streams.
    fn account(&mut self, inputs: &[u16], fired: &[u16]) {
        let d = self.dev();
        let mut sorted: Vec<u16> = inputs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let sources = (sorted.len() + self.prev_fired) as u64;
        self.counters.steps += 1;
        self.counters.spikes += fired.len() as u64;
        self.counters.delivered += sources * u64::from(d.neurons);
        if self.stdp_enabled {
            self.counters.potentiation += fired.len() as u64 * d.sources() as u64;
        }
        self.prev_fired = fired.len();
    }
}

impl<T: Transport> Device for ProtocolDevice<T> {
    fn name(&self) -> &str {
        &self.label
    }

    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    fn load(&mut self, net: &CompiledNetwork) -> Result<(), DeviceError> {
        self.upload(net, &mut |_, _| {})
    }

    fn load_with_progress(
        &mut self,
        net: &CompiledNetwork,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        self.upload(net, progress)
    }

    fn reset_state(&mut self) -> Result<(), DeviceError> {
        self.expect_ack(Command::Reset {
            state: true,
            full: false,
        })?;
        self.next_step = 0;
        self.prev_fired = 0;
        self.counters = Counters::default();
        Ok(())
    }

    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DeviceError> {
        let mut out = Vec::new();
        self.stream(1, &|_| inputs, &mut |_, f| out = f.to_vec())?;
        self.fired = out;
        Ok(&self.fired)
    }

    fn run_train(
        &mut self,
        train: &crate::inputs::SpikeTrain,
        steps: u32,
        on_step: &mut dyn FnMut(u32, &[u16]),
    ) -> Result<(), DeviceError> {
        self.stream(steps, &|k| train.at(k), on_step)
    }

    fn weights(&mut self) -> Result<Vec<i16>, DeviceError> {
        self.read_weights()
    }

    fn masks(&mut self) -> Result<Vec<bool>, DeviceError> {
        self.read_masks()
    }

    fn set_weights(
        &mut self,
        weights: &[i16],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        self.write_weights(weights, progress)
    }

    fn neuron_state(&mut self, n: u16) -> Result<NeuronState, DeviceError> {
        let cmd = Command::ReadState { first: n, count: 1 };
        match self.request(&cmd)? {
            Reply::State { states, .. } if states.len() == 1 => Ok(states[0]),
            r => Err(self.unexpected(cmd.frame_type(), &r)),
        }
    }

    fn neuron_states(&mut self) -> Result<Vec<NeuronState>, DeviceError> {
        self.read_states()
    }

    fn pre_traces(&mut self) -> Result<Vec<u8>, DeviceError> {
        self.read_pre_traces()
    }

    fn shape(&self) -> CoreShape {
        self.view
    }

    fn counters(&mut self) -> Result<Counters, DeviceError> {
        Ok(self.counters)
    }

    fn link_stats(&self) -> Option<LinkStats> {
        Some(self.stats)
    }

    fn baud(&self) -> Option<u32> {
        self.t.baud()
    }
}
