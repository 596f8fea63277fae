//! The reference device: a protocol server on top of the bit-exact model.
//!
//! [`ModelServer`] turns the byte stream a host sends to a core into the exact
//! byte stream a core answers (docs/protocol.md), computing with [`Core`]. It is
//! the definition of what the generated RTL must send, byte for byte, and the
//! device behind `neurofab serve --device model`.
//!
//! Receive path (protocol §2.5, §7): every byte goes through the proto crate's
//! [`Decoder`]. A frame error whose `type` and `seq` bytes arrived is NACKed at
//! the point of the stream where it is detected (§6.4); a good frame is executed
//! at once (§5.1 validation by [`Command::decode`], then §3 / §6.2). Frames are
//! therefore answered strictly in arrival order, as the RTL's executor does.
//!
//! **BUSY.** The server has no finite receive queue: it executes each frame the
//! moment its closing FLAG arrives and so never answers NACK `BUSY`. A `BUSY`
//! from the RTL (its queue full because a host overran the step window or the
//! link outpaced the executor) is timing dependent and is the *only* legitimate
//! difference between the RTL's reply stream and this server's; apart from
//! frames it NACKs `BUSY` (and drops unexecuted), the RTL answers exactly
//! the bytes this server answers.
//!
//! **Step range.** Step indices do not wrap (§6.2). The server never executes
//! step `0xFFFF_FFFF`: once `next_step` is `0xFFFF_FFFF` every STEP is a replay
//! or NACK `STEP_GAP` (detail `0xFFFF_FFFF`), so the probe `step = 0xFFFF_FFFF`
//! never executes anything, and a RUN whose steps would include `0xFFFF_FFFF`
//! is NACKed `STEP_GAP` (detail next_step) as a whole, before any step runs.
//! Only a state reset leaves that state (docs/protocol.md §6.2, "End of the
//! step range").

use neurofab_proto::{
    classify_step, Capabilities, Command, ConfigError, CoreConfig, Decoder, ErrorCode, Reply,
    SpikeSet, StepDisposition, CMD_RUN, CMD_STEP,
};

use crate::model::Core;

/// Largest step index a server executes; `next_step` never exceeds `LAST_STEP + 1`.
pub const LAST_STEP: u32 = u32::MAX - 1;

/// The reference device: [`Core`] behind the neurofab wire protocol.
#[derive(Debug)]
pub struct ModelServer {
    decoder: Decoder<Vec<u8>>,
    exec: Executor,
}

/// Everything but the receive path (split so that a frame borrowed from the
/// decoder's buffer can be executed while the decoder is borrowed).
#[derive(Debug)]
struct Executor {
    cfg: CoreConfig,
    caps: Capabilities,
    core: Core,
    next_step: u32,
    /// STEP_DONE results of the last `replay_depth` executed steps: slot
    /// `step mod replay_depth` holds `(step, F(step))` (as in the RTL).
    replay: Vec<Option<(u32, SpikeSet)>>,
}

impl ModelServer {
    /// A device for `cfg` in the power-on state: full reset, `next_step` 0,
    /// empty replay store, receiver hunting for a FLAG. Fails if `cfg` is
    /// not a valid configuration ([`CoreConfig::validate`]).
    pub fn new(cfg: CoreConfig) -> Result<ModelServer, ConfigError> {
        cfg.validate()?;
        let core = Core::new(cfg.shape).map_err(|e| ConfigError(e.to_string()))?;
        let caps = cfg.capabilities();
        Ok(ModelServer {
            decoder: Decoder::with_buffer(vec![0; caps.max_payload as usize]),
            exec: Executor {
                cfg,
                caps,
                core,
                next_step: 0,
                replay: vec![None; cfg.replay_depth as usize],
            },
        })
    }

    /// Receives one byte; appends any complete reply frames (FLAG … FLAG) to `out`.
    ///
    /// The closing FLAG of a RUN k appends all k STEP_DONEs and the ACK at once
    /// (a real device streams them while it runs).
    pub fn push(&mut self, byte: u8, out: &mut Vec<u8>) {
        match self.decoder.push(byte) {
            None => {}
            Some(Ok(f)) => self.exec.execute(f.frame_type, f.seq, f.payload, out),
            Some(Err(e)) => {
                if let Some((seq, nack)) = Reply::nack_for_frame_error(&e) {
                    self.exec.send(&nack, seq, out);
                }
            }
        }
    }

    /// Receives `bytes` and returns the reply bytes they provoke, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.feed_into(bytes, &mut out);
        out
    }

    /// Like [`ModelServer::feed`], appending to `out`.
    pub fn feed_into(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            self.push(b, out);
        }
    }

    /// Executes one received good frame (what the receive path does after the
    /// closing FLAG, without the framing), appending the reply frames to `out`.
    pub fn execute(&mut self, frame_type: u8, seq: u8, payload: &[u8], out: &mut Vec<u8>) {
        self.exec.execute(frame_type, seq, payload, out);
    }

    /// The model core (for tests and inspection).
    pub fn core(&self) -> &Core {
        &self.exec.core
    }

    /// The step index the next executed STEP must carry (protocol §6.2).
    pub fn next_step(&self) -> u32 {
        self.exec.next_step
    }

    /// The configuration this device was built for.
    pub fn config(&self) -> &CoreConfig {
        &self.exec.cfg
    }

    /// What IDENTITY reports.
    pub fn capabilities(&self) -> Capabilities {
        self.exec.caps
    }

    /// Test hook: sets `next_step` to `step` and empties the replay store, the
    /// core's state untouched, so that the end of the step range can be tested
    /// without running 2³² steps. Steps below `step` are then not replayable
    /// (NACK STEP_GAP) until executed again. Not a protocol operation.
    #[doc(hidden)]
    pub fn force_next_step(&mut self, step: u32) {
        self.exec.next_step = step;
        self.exec.replay.fill(None);
    }
}

impl Executor {
    /// Appends the wire frame of `reply` with `seq`.
    fn send(&self, reply: &Reply, seq: u8, out: &mut Vec<u8>) {
        reply
            .encode_frame(seq, &self.cfg.shape, |b| out.push(b))
            .expect("every reply of a valid core is encodable");
    }

    fn ack(&self, cmd: u8, seq: u8, out: &mut Vec<u8>) {
        self.send(&Reply::Ack { cmd }, seq, out);
    }

    fn step_gap(&self, cmd: u8, seq: u8, out: &mut Vec<u8>) {
        let nack = Reply::Nack {
            cmd,
            error: ErrorCode::StepGap,
            detail: self.next_step,
        };
        self.send(&nack, seq, out);
    }

    /// State reset of the device (protocol §3.2, §6.2): core state, step counter
    /// and replay store.
    fn reset_state(&mut self) {
        self.core.reset_state();
        self.next_step = 0;
        self.replay.fill(None);
    }

    /// Executes step `next_step` with `inputs`, stores and sends its STEP_DONE.
    fn run_step(&mut self, inputs: &[u16], seq: u8, out: &mut Vec<u8>) {
        let step = self.next_step;
        debug_assert!(step <= LAST_STEP);
        let fired = self
            .core
            .step(inputs)
            .expect("inputs validated by Command::decode");
        let fired = SpikeSet::from_sorted(fired.to_vec()).expect("F(t) is strictly ascending");
        let reply = Reply::StepDone {
            step,
            fired: fired.clone(),
        };
        self.send(&reply, seq, out);
        let slot = step as usize % self.replay.len();
        self.replay[slot] = Some((step, fired));
        self.next_step = step + 1;
    }

    /// The stored STEP_DONE of `step`, if the replay store holds it.
    fn stored(&self, step: u32) -> Option<&SpikeSet> {
        match &self.replay[step as usize % self.replay.len()] {
            Some((s, fired)) if *s == step => Some(fired),
            _ => None,
        }
    }

    fn execute(&mut self, frame_type: u8, seq: u8, payload: &[u8], out: &mut Vec<u8>) {
        let shape = self.cfg.shape;
        let cmd = match Command::decode(frame_type, payload, &shape) {
            Ok(c) => c,
            Err(e) => {
                self.send(&Reply::nack_for_decode_error(frame_type, &e), seq, out);
                return;
            }
        };
        let t = frame_type;
        match cmd {
            Command::Identify => self.send(&Reply::Identity(self.caps), seq, out),
            Command::Reset { state, full } => {
                if full {
                    self.core.full_reset();
                }
                if state || full {
                    self.reset_state();
                }
                self.ack(t, seq, out);
            }
            Command::WriteNeuronParams { first, params } => {
                for (n, p) in (first..).zip(params) {
                    self.core
                        .set_neuron_params(n, p)
                        .expect("validated by Command::decode");
                }
                self.ack(t, seq, out);
            }
            Command::ReadNeuronParams { first, count } => {
                let params = (first..first + count as u16)
                    .map(|n| self.core.neuron_params(n).expect("range validated"))
                    .collect();
                self.send(&Reply::NeuronParams { first, params }, seq, out);
            }
            Command::WriteStdp(p) => {
                self.core.set_stdp(p).expect("validated by Command::decode");
                self.ack(t, seq, out);
            }
            Command::ReadStdp => self.send(&Reply::Stdp(self.core.stdp()), seq, out),
            Command::WriteWeights { row, col, weights } => {
                for (n, w) in (col..).zip(weights) {
                    self.core
                        .set_weight(row, n, w)
                        .expect("validated by Command::decode");
                }
                self.ack(t, seq, out);
            }
            Command::ReadWeights { row, col, count } => {
                let weights = (col..col + count)
                    .map(|n| self.core.weight(row, n).expect("range validated"))
                    .collect();
                self.send(&Reply::Weights { row, col, weights }, seq, out);
            }
            Command::WriteMask { row, col, bits } => {
                for (n, b) in (col..).zip(bits) {
                    self.core
                        .set_plastic(row, n, b)
                        .expect("validated by Command::decode");
                }
                self.ack(t, seq, out);
            }
            Command::ReadMask { row, col, count } => {
                let bits = (col..col + count)
                    .map(|n| self.core.plastic(row, n).expect("range validated"))
                    .collect();
                self.send(&Reply::Mask { row, col, bits }, seq, out);
            }
            Command::ReadState { first, count } => {
                let states = (first..first + count as u16)
                    .map(|n| self.core.neuron_state(n).expect("range validated"))
                    .collect();
                self.send(&Reply::State { first, states }, seq, out);
            }
            Command::ReadPreTraces { first, count } => {
                let traces = (first..first + count)
                    .map(|s| self.core.pre_trace(s).expect("range validated"))
                    .collect();
                self.send(&Reply::PreTraces { first, traces }, seq, out);
            }
            Command::Step { step, inputs } => {
                match classify_step(step, self.next_step, self.cfg.replay_depth) {
                    StepDisposition::Execute if step <= LAST_STEP => {
                        self.run_step(inputs.as_slice(), seq, out)
                    }
                    StepDisposition::Replay => match self.stored(step) {
                        Some(fired) => {
                            let reply = Reply::StepDone {
                                step,
                                fired: fired.clone(),
                            };
                            self.send(&reply, seq, out);
                        }
                        // Only after `force_next_step`: nothing to replay.
                        None => self.step_gap(CMD_STEP, seq, out),
                    },
                    _ => self.step_gap(CMD_STEP, seq, out),
                }
            }
            Command::Run { k } => {
                // Steps next_step ..= next_step + k − 1 must all be executable.
                if k > u32::MAX - self.next_step {
                    self.step_gap(CMD_RUN, seq, out);
                    return;
                }
                for _ in 0..k {
                    self.run_step(&[], seq, out);
                }
                self.ack(t, seq, out);
            }
        }
    }
}
