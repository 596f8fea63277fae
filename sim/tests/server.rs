//! The reference device (`ModelServer`) against docs/protocol.md: reply bytes of
//! every command built independently with the proto crate's `Reply` values, every
//! NACK code a device can send (except the timing-dependent BUSY, which the server
//! never sends), STEP replay / STEP_GAP / RUN, equivalence with driving `Core`
//! directly, and recovery from garbage, truncated and bit-flipped streams.

use neurofab_proto::{
    choose_spike_encoding, crc16, encode_frame_vec, Command, CoreConfig, Decoder, ErrorCode, Reply,
    SpikeSet, CMD_IDENTIFY, CMD_READ_STDP, CMD_READ_WEIGHTS, CMD_RESET, CMD_RUN, CMD_STEP,
    CMD_WRITE_NEURON_PARAMS, CMD_WRITE_STDP, CMD_WRITE_WEIGHTS, ESC, FLAG, REPLY_STEP_DONE,
    SPIKES_BITMAP,
};
use neurofab_sim::{Core, CoreShape, ModelServer, NeuronParams, NeuronState, StdpParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---- helpers ---------------------------------------------------------------------

const SHAPE: CoreShape = CoreShape {
    neurons: 20,
    inputs: 12,
    weight_bits: 8,
};

fn cfg(shape: CoreShape) -> CoreConfig {
    CoreConfig::with_shape(shape)
}

/// The wire frame of a command.
fn cmd(c: &Command, seq: u8, shape: &CoreShape) -> Vec<u8> {
    c.to_frame(seq, shape).unwrap()
}

/// The wire frame of a reply.
fn rep(r: &Reply, seq: u8, shape: &CoreShape) -> Vec<u8> {
    r.to_frame(seq, shape).unwrap()
}

/// A raw frame (any type, any payload).
fn raw(frame_type: u8, seq: u8, payload: &[u8]) -> Vec<u8> {
    encode_frame_vec(frame_type, seq, payload).unwrap()
}

fn nack(cmd: u8, error: ErrorCode, detail: u32) -> Reply {
    Reply::Nack { cmd, error, detail }
}

/// Host side: splits reply bytes into `(type, seq, payload)`; every frame must be good.
fn frames(bytes: &[u8]) -> Vec<(u8, u8, Vec<u8>)> {
    let mut d = Decoder::new();
    let mut v = Vec::new();
    d.feed(bytes, |r| {
        let f = r.expect("the server sends only well-formed frames");
        v.push((f.frame_type, f.seq, f.payload.to_vec()));
    });
    v
}

/// Host side: decodes reply bytes into `(seq, Reply)`.
fn replies(bytes: &[u8], shape: &CoreShape) -> Vec<(u8, Reply)> {
    frames(bytes)
        .into_iter()
        .map(|(t, s, p)| (s, Reply::decode(t, &p, shape).expect("a valid reply")))
        .collect()
}

/// Everything a command could change, read from the model.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    params: Vec<NeuronParams>,
    stdp: StdpParams,
    weights: Vec<i16>,
    plastic: Vec<bool>,
    states: Vec<NeuronState>,
    traces: Vec<u8>,
    t: u32,
    next_step: u32,
}

fn snapshot(s: &ModelServer) -> Snapshot {
    let c = s.core();
    let sh = c.shape();
    let n = sh.neurons;
    let src = sh.sources() as u16;
    Snapshot {
        params: (0..n).map(|k| c.neuron_params(k).unwrap()).collect(),
        stdp: c.stdp(),
        weights: c.weights().to_vec(),
        plastic: (0..src)
            .flat_map(|r| (0..n).map(move |k| (r, k)))
            .map(|(r, k)| c.plastic(r, k).unwrap())
            .collect(),
        states: (0..n).map(|k| c.neuron_state(k).unwrap()).collect(),
        traces: (0..src).map(|k| c.pre_trace(k).unwrap()).collect(),
        t: c.steps_done(),
        next_step: s.next_step(),
    }
}

/// Random valid parameters; one neuron in twenty is a pacemaker (v_rest >= v_th).
fn random_params(rng: &mut ChaCha8Rng, shape: &CoreShape) -> NeuronParams {
    let v_rest = rng.random_range(-100..100);
    let v_th = if rng.random_bool(0.05) {
        v_rest - rng.random_range(0..20)
    } else {
        rng.random_range(20..1500)
    };
    NeuronParams {
        v_th,
        v_reset: rng.random_range(-200..50),
        v_rest,
        alpha_v: rng.random_range(26000..=32768),
        alpha_i: rng.random_range(0..=32768),
        t_ref: rng.random_range(0..8),
        w_shift: rng.random_range(0..=(16 - shape.weight_bits).min(5)),
    }
}

fn random_stdp(rng: &mut ChaCha8Rng, shape: &CoreShape) -> StdpParams {
    let a = rng.random_range(shape.weight_min()..=shape.weight_max());
    let b = rng.random_range(shape.weight_min()..=shape.weight_max());
    StdpParams {
        enabled: true,
        eta_plus: rng.random(),
        eta_minus: rng.random(),
        w_min: a.min(b),
        w_max: a.max(b),
        alpha_pre: rng.random_range(0..=32768),
        alpha_post: rng.random_range(0..=32768),
        inc_pre: rng.random(),
        inc_post: rng.random(),
    }
}

fn random_inputs(rng: &mut ChaCha8Rng, inputs: u16, p: f64) -> SpikeSet {
    (0..inputs).filter(|_| rng.random_bool(p)).collect()
}

/// A small network with firing neurons, uploaded through the server, then a state reset.
fn network_server() -> ModelServer {
    let mut s = ModelServer::new(cfg(SHAPE)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let params = (0..SHAPE.neurons)
        .map(|_| random_params(&mut rng, &SHAPE))
        .collect();
    let mut bytes = cmd(&Command::WriteNeuronParams { first: 0, params }, 1, &SHAPE);
    bytes.extend(cmd(
        &Command::WriteStdp(random_stdp(&mut rng, &SHAPE)),
        2,
        &SHAPE,
    ));
    for row in 0..SHAPE.sources() as u16 {
        let weights = (0..SHAPE.neurons)
            .map(|_| rng.random_range(-20..=127))
            .collect();
        let bits = (0..SHAPE.neurons).map(|_| rng.random_bool(0.5)).collect();
        bytes.extend(cmd(
            &Command::WriteWeights {
                row,
                col: 0,
                weights,
            },
            3,
            &SHAPE,
        ));
        bytes.extend(cmd(&Command::WriteMask { row, col: 0, bits }, 4, &SHAPE));
    }
    bytes.extend(cmd(
        &Command::Reset {
            state: true,
            full: false,
        },
        5,
        &SHAPE,
    ));
    let out = s.feed(&bytes);
    assert!(replies(&out, &SHAPE)
        .iter()
        .all(|(_, r)| matches!(r, Reply::Ack { .. })));
    s
}

// ---- IDENTITY and the scripted session ---------------------------------------------

/// docs/protocol.md §2.6 Example 3, byte for byte.
#[test]
fn identity_matches_protocol_example_3() {
    let c = CoreConfig {
        core_id: 0xDEAD_BEEF,
        ..CoreConfig::DEFAULT
    };
    let mut s = ModelServer::new(c).unwrap();
    let out = s.feed(&[0x7E, 0x01, 0x00, 0x00, 0x00, 0x74, 0xF2, 0x7E]);
    let expected = [
        0x7E, 0x81, 0x00, 0x1C, 0x00, 0x4E, 0x46, 0x41, 0x42, 0x01, 0x00, 0x01, 0x40, 0x00, 0x08,
        0x04, 0x00, 0x1B, 0xB7, 0x00, 0x00, 0xC2, 0x01, 0x00, 0x00, 0x04, 0x04, 0x08, 0x03, 0xEF,
        0xBE, 0xAD, 0xDE, 0x9E, 0x8F, 0x7E,
    ];
    assert_eq!(out, expected);
}

#[test]
fn new_rejects_invalid_config() {
    let mut c = cfg(SHAPE);
    c.replay_depth = 3;
    assert!(ModelServer::new(c).is_err());
    c = cfg(CoreShape {
        neurons: 0,
        ..SHAPE
    });
    assert!(ModelServer::new(c).is_err());
}

/// One command at a time, each reply compared byte for byte with the frame of
/// the hand-built `Reply`.
#[test]
fn scripted_session_byte_exact() {
    let sh = SHAPE;
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    assert_eq!(s.next_step(), 0);
    let ex = |s: &mut ModelServer, c: Command, seq: u8, expected: Vec<Reply>| {
        let out = s.feed(&cmd(&c, seq, &sh));
        let want: Vec<u8> = expected.iter().flat_map(|r| rep(r, seq, &sh)).collect();
        assert_eq!(out, want, "reply to {c:?}");
    };

    ex(
        &mut s,
        Command::Identify,
        0,
        vec![Reply::Identity(cfg(sh).capabilities())],
    );
    ex(
        &mut s,
        Command::ReadStdp,
        1,
        vec![Reply::Stdp(StdpParams::reset(&sh))],
    );
    ex(
        &mut s,
        Command::ReadNeuronParams {
            first: 17,
            count: 3,
        },
        2,
        vec![Reply::NeuronParams {
            first: 17,
            params: vec![NeuronParams::RESET; 3],
        }],
    );

    // Neuron 2 fires one step after input 5 spikes: w = 100 << 2, i carries it.
    let p = NeuronParams {
        v_th: 100,
        v_reset: -20,
        v_rest: 10,
        alpha_v: 24576,
        alpha_i: 16384,
        t_ref: 1,
        w_shift: 2,
    };
    let q = NeuronParams {
        v_th: 5000,
        ..NeuronParams::RESET
    };
    ex(
        &mut s,
        Command::WriteNeuronParams {
            first: 2,
            params: vec![p, q],
        },
        3,
        vec![Reply::Ack {
            cmd: CMD_WRITE_NEURON_PARAMS,
        }],
    );
    ex(
        &mut s,
        Command::ReadNeuronParams { first: 1, count: 4 },
        4,
        vec![Reply::NeuronParams {
            first: 1,
            params: vec![NeuronParams::RESET, p, q, NeuronParams::RESET],
        }],
    );

    let sp = StdpParams {
        enabled: true,
        eta_plus: 64,
        eta_minus: 32,
        w_min: -50,
        w_max: 120,
        alpha_pre: 30000,
        alpha_post: 28000,
        inc_pre: 100,
        inc_post: 90,
    };
    ex(
        &mut s,
        Command::WriteStdp(sp),
        5,
        vec![Reply::Ack {
            cmd: CMD_WRITE_STDP,
        }],
    );
    ex(&mut s, Command::ReadStdp, 6, vec![Reply::Stdp(sp)]);

    ex(
        &mut s,
        Command::WriteWeights {
            row: 5,
            col: 2,
            weights: vec![100, -128, 127],
        },
        7,
        vec![Reply::Ack {
            cmd: CMD_WRITE_WEIGHTS,
        }],
    );
    ex(
        &mut s,
        Command::ReadWeights {
            row: 5,
            col: 0,
            count: 6,
        },
        8,
        vec![Reply::Weights {
            row: 5,
            col: 0,
            weights: vec![0, 0, 100, -128, 127, 0],
        }],
    );
    // Last row (neuron 19 as a source), last column.
    ex(
        &mut s,
        Command::WriteWeights {
            row: 31,
            col: 19,
            weights: vec![-1],
        },
        9,
        vec![Reply::Ack {
            cmd: CMD_WRITE_WEIGHTS,
        }],
    );
    ex(
        &mut s,
        Command::ReadWeights {
            row: 31,
            col: 18,
            count: 2,
        },
        10,
        vec![Reply::Weights {
            row: 31,
            col: 18,
            weights: vec![0, -1],
        }],
    );

    let bits = vec![
        true, false, true, true, false, false, false, false, true, true,
    ];
    ex(
        &mut s,
        Command::WriteMask {
            row: 5,
            col: 1,
            bits: bits.clone(),
        },
        11,
        vec![Reply::Ack { cmd: 0x09 }],
    );
    let mut all = vec![false; 20];
    all[1..11].copy_from_slice(&bits);
    ex(
        &mut s,
        Command::ReadMask {
            row: 5,
            col: 0,
            count: 20,
        },
        12,
        vec![Reply::Mask {
            row: 5,
            col: 0,
            bits: all,
        }],
    );

    // Parameters do not move the state (spec §5): v is still 0 until a state reset.
    ex(
        &mut s,
        Command::ReadState {
            first: 0,
            count: 20,
        },
        13,
        vec![Reply::State {
            first: 0,
            states: vec![NeuronState::default(); 20],
        }],
    );
    ex(
        &mut s,
        Command::Reset {
            state: true,
            full: false,
        },
        14,
        vec![Reply::Ack { cmd: CMD_RESET }],
    );
    let mut st = vec![NeuronState::default(); 20];
    st[2].v = 10;
    ex(
        &mut s,
        Command::ReadState {
            first: 0,
            count: 20,
        },
        15,
        vec![Reply::State {
            first: 0,
            states: st,
        }],
    );

    // Steps, against a model driven directly with the same calls.
    let mut m = Core::new(sh).unwrap();
    m.set_neuron_params(2, p).unwrap();
    m.set_neuron_params(3, q).unwrap();
    m.set_stdp(sp).unwrap();
    for (k, w) in [100, -128, 127].into_iter().enumerate() {
        m.set_weight(5, 2 + k as u16, w).unwrap();
    }
    m.set_weight(31, 19, -1).unwrap();
    for (k, &b) in bits.iter().enumerate() {
        m.set_plastic(5, 1 + k as u16, b).unwrap();
    }
    m.reset_state();
    let mut fired_any = false;
    for t in 0..6u32 {
        let inputs: SpikeSet = if t % 2 == 0 {
            SpikeSet::from_indices([5, 11])
        } else {
            SpikeSet::from_indices([0])
        };
        let f = SpikeSet::from_sorted(m.step(inputs.as_slice()).unwrap().to_vec()).unwrap();
        fired_any |= f.contains(2);
        ex(
            &mut s,
            Command::Step { step: t, inputs },
            20 + t as u8,
            vec![Reply::StepDone { step: t, fired: f }],
        );
        assert_eq!(s.next_step(), t + 1);
    }
    assert!(fired_any, "the scripted network never fired");
    let st: Vec<NeuronState> = (0..20).map(|n| m.neuron_state(n).unwrap()).collect();
    ex(
        &mut s,
        Command::ReadState {
            first: 0,
            count: 20,
        },
        30,
        vec![Reply::State {
            first: 0,
            states: st,
        }],
    );
    let traces: Vec<u8> = (0..32).map(|k| m.pre_trace(k).unwrap()).collect();
    assert!(traces.iter().any(|&x| x != 0));
    ex(
        &mut s,
        Command::ReadPreTraces {
            first: 0,
            count: 32,
        },
        31,
        vec![Reply::PreTraces { first: 0, traces }],
    );
    // Plastic synapses of row 5 moved under STDP: the readback is the model's.
    let w: Vec<i16> = (0..20).map(|n| m.weight(5, n).unwrap()).collect();
    ex(
        &mut s,
        Command::ReadWeights {
            row: 5,
            col: 0,
            count: 20,
        },
        32,
        vec![Reply::Weights {
            row: 5,
            col: 0,
            weights: w,
        }],
    );

    // RESET flags 0: a no-op.
    let before = snapshot(&s);
    ex(
        &mut s,
        Command::Reset {
            state: false,
            full: false,
        },
        40,
        vec![Reply::Ack { cmd: CMD_RESET }],
    );
    assert_eq!(snapshot(&s), before);

    // State reset: step counter and replay store emptied, weights kept. Step 0
    // is executed afresh (not replayed) and matches a freshly reset model.
    ex(
        &mut s,
        Command::Reset {
            state: true,
            full: false,
        },
        41,
        vec![Reply::Ack { cmd: CMD_RESET }],
    );
    assert_eq!(s.next_step(), 0);
    assert_eq!(s.core().weights(), m.weights());
    m.reset_state();
    ex(
        &mut s,
        Command::Step {
            step: 3,
            inputs: SpikeSet::new(),
        },
        42,
        vec![nack(CMD_STEP, ErrorCode::StepGap, 0)],
    );
    let f = SpikeSet::from_sorted(m.step(&[1]).unwrap().to_vec()).unwrap();
    ex(
        &mut s,
        Command::Step {
            step: 0,
            inputs: SpikeSet::from_indices([1]),
        },
        43,
        vec![Reply::StepDone { step: 0, fired: f }],
    );

    // Full reset: back to power-on.
    ex(
        &mut s,
        Command::Reset {
            state: false,
            full: true,
        },
        44,
        vec![Reply::Ack { cmd: CMD_RESET }],
    );
    assert_eq!(s.next_step(), 0);
    assert_eq!(
        snapshot(&s),
        snapshot(&ModelServer::new(cfg(sh)).unwrap()),
        "full reset = power-on"
    );
    ex(
        &mut s,
        Command::ReadStdp,
        45,
        vec![Reply::Stdp(StdpParams::reset(&sh))],
    );
    // Both flags: a full reset too.
    ex(
        &mut s,
        Command::Reset {
            state: true,
            full: true,
        },
        46,
        vec![Reply::Ack { cmd: CMD_RESET }],
    );
}

/// 2-byte weights (W = 12): sign extension on the wire.
#[test]
fn wide_weights_round_trip() {
    let sh = CoreShape {
        neurons: 5,
        inputs: 3,
        weight_bits: 12,
    };
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    let w = vec![-2048, -1, 0, 2047, 77];
    let out = s.feed(&cmd(
        &Command::WriteWeights {
            row: 7,
            col: 0,
            weights: w.clone(),
        },
        1,
        &sh,
    ));
    assert_eq!(
        out,
        rep(
            &Reply::Ack {
                cmd: CMD_WRITE_WEIGHTS
            },
            1,
            &sh
        )
    );
    let out = s.feed(&raw(CMD_READ_WEIGHTS, 2, &[7, 0, 0, 0, 5, 0]));
    assert_eq!(
        frames(&out)[0].2,
        [7, 0, 0, 0, 5, 0, 0x00, 0xF8, 0xFF, 0xFF, 0, 0, 0xFF, 0x07, 77, 0]
    );
}

// ---- NACKs ---------------------------------------------------------------------------

/// Every NACK code a server can send (all but BUSY), each for a frame that would
/// otherwise change state: exact reply bytes, and nothing changed.
#[test]
fn every_nack_code_and_nothing_changes() {
    let sh = SHAPE;
    let mut s = network_server();
    // Some dynamic state, so that a stray step or reset would show.
    let out = s.feed(&cmd(&Command::Run { k: 5 }, 0, &sh));
    assert_eq!(replies(&out, &sh).len(), 6);
    let next = s.next_step();
    assert_eq!(next, 5);

    let ww = cmd(
        &Command::WriteWeights {
            row: 3,
            col: 4,
            weights: vec![9, 10, 11],
        },
        0x33,
        &sh,
    );
    // BAD_CRC: corrupt the CRC's low byte (position: before CRC high byte and FLAG).
    let mut bad_crc = ww.clone();
    let k = bad_crc.len() - 3;
    assert!(bad_crc[k] != ESC && bad_crc[k - 1] != ESC);
    bad_crc[k] ^= 0x01;
    assert!(bad_crc[k] != ESC && bad_crc[k] != FLAG);
    let body = [
        &[CMD_WRITE_WEIGHTS, 0x33, 9, 0][..],
        &[3, 0, 4, 0, 3, 0, 9, 10, 11][..],
    ]
    .concat();
    let computed = crc16(&body);
    let received = computed ^ 0x0001;

    // A second neuron-parameter record with alpha_v > 32768: detail = its offset.
    let mut wnp = vec![0u8, 0, 2];
    let mut rec = [0u8; 12];
    neurofab_proto::encode_neuron_params(&NeuronParams::RESET, &mut rec);
    wnp.extend(rec);
    rec[6..8].copy_from_slice(&40000u16.to_le_bytes());
    wnp.extend(rec);

    let stdp_bad = {
        let mut r = [0u8; 14];
        let mut p = StdpParams::reset(&sh);
        p.w_min = 10;
        p.w_max = 5;
        neurofab_proto::encode_stdp_params(&p, &mut r);
        r
    };

    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "BAD_CRC",
            bad_crc,
            rep(
                &nack(
                    CMD_WRITE_WEIGHTS,
                    ErrorCode::BadCrc,
                    ((computed as u32) << 16) | received as u32,
                ),
                0x33,
                &sh,
            ),
        ),
        (
            "UNKNOWN_COMMAND reply type",
            raw(0x81, 1, &[]),
            rep(&nack(0x81, ErrorCode::UnknownCommand, 0), 1, &sh),
        ),
        (
            "UNKNOWN_COMMAND 0x00",
            raw(0x00, 2, &[1, 2, 3]),
            rep(&nack(0x00, ErrorCode::UnknownCommand, 0), 2, &sh),
        ),
        (
            "UNKNOWN_COMMAND 0x7F",
            raw(0x7F, 3, &[]),
            rep(&nack(0x7F, ErrorCode::UnknownCommand, 0), 3, &sh),
        ),
        (
            "BAD_LENGTH fixed",
            raw(CMD_RESET, 4, &[1, 0]),
            rep(&nack(CMD_RESET, ErrorCode::BadLength, 1), 4, &sh),
        ),
        (
            "BAD_LENGTH empty IDENTIFY with payload",
            raw(CMD_IDENTIFY, 5, &[0]),
            rep(&nack(CMD_IDENTIFY, ErrorCode::BadLength, 0), 5, &sh),
        ),
        (
            "BAD_LENGTH count vs data",
            raw(CMD_WRITE_WEIGHTS, 6, &[3, 0, 4, 0, 3, 0, 9, 10]),
            rep(&nack(CMD_WRITE_WEIGHTS, ErrorCode::BadLength, 9), 6, &sh),
        ),
        (
            "BAD_LENGTH short STEP",
            raw(CMD_STEP, 7, &[5, 0, 0]),
            rep(&nack(CMD_STEP, ErrorCode::BadLength, 5), 7, &sh),
        ),
        (
            "OUT_OF_RANGE row",
            raw(CMD_WRITE_WEIGHTS, 8, &[32, 0, 0, 0, 1, 0, 1]),
            rep(&nack(CMD_WRITE_WEIGHTS, ErrorCode::OutOfRange, 0), 8, &sh),
        ),
        (
            "OUT_OF_RANGE col + count",
            raw(CMD_WRITE_WEIGHTS, 9, &[0, 0, 19, 0, 2, 0, 1, 1]),
            rep(&nack(CMD_WRITE_WEIGHTS, ErrorCode::OutOfRange, 4), 9, &sh),
        ),
        (
            "OUT_OF_RANGE count 0",
            raw(CMD_WRITE_NEURON_PARAMS, 10, &[0, 0, 0]),
            rep(
                &nack(CMD_WRITE_NEURON_PARAMS, ErrorCode::OutOfRange, 2),
                10,
                &sh,
            ),
        ),
        (
            "OUT_OF_RANGE spike index (executable step)",
            raw(CMD_STEP, 11, &[5, 0, 0, 0, 0, 1, 0, 12, 0]),
            rep(&nack(CMD_STEP, ErrorCode::OutOfRange, 7), 11, &sh),
        ),
        (
            "OUT_OF_RANGE bitmap padding bit",
            raw(CMD_STEP, 12, &[5, 0, 0, 0, 1, 0, 0x10]),
            rep(&nack(CMD_STEP, ErrorCode::OutOfRange, 6), 12, &sh),
        ),
        (
            "BAD_PARAM reset flags",
            raw(CMD_RESET, 13, &[0x07]),
            rep(&nack(CMD_RESET, ErrorCode::BadParam, 0), 13, &sh),
        ),
        (
            "BAD_PARAM second record (first not written)",
            raw(CMD_WRITE_NEURON_PARAMS, 14, &wnp),
            rep(
                &nack(CMD_WRITE_NEURON_PARAMS, ErrorCode::BadParam, 3 + 12 + 6),
                14,
                &sh,
            ),
        ),
        (
            "BAD_PARAM stdp w_min > w_max",
            raw(CMD_WRITE_STDP, 15, &stdp_bad),
            rep(&nack(CMD_WRITE_STDP, ErrorCode::BadParam, 6), 15, &sh),
        ),
        (
            "BAD_PARAM spike list not ascending",
            raw(CMD_STEP, 17, &[5, 0, 0, 0, 0, 2, 0, 3, 0, 3, 0]),
            rep(&nack(CMD_STEP, ErrorCode::BadParam, 9), 17, &sh),
        ),
        (
            "BAD_PARAM spike format",
            raw(CMD_STEP, 18, &[5, 0, 0, 0, 2]),
            rep(&nack(CMD_STEP, ErrorCode::BadParam, 4), 18, &sh),
        ),
        (
            "STEP_GAP ahead",
            cmd(
                &Command::Step {
                    step: next + 1,
                    inputs: SpikeSet::from_indices([1, 2]),
                },
                19,
                &sh,
            ),
            rep(&nack(CMD_STEP, ErrorCode::StepGap, next), 19, &sh),
        ),
        (
            "STEP_GAP probe",
            cmd(
                &Command::Step {
                    step: 0xFFFF_FFFF,
                    inputs: SpikeSet::new(),
                },
                20,
                &sh,
            ),
            rep(&nack(CMD_STEP, ErrorCode::StepGap, next), 20, &sh),
        ),
        (
            "OVERSIZED (rest discarded up to the FLAG)",
            [
                &[FLAG, CMD_WRITE_WEIGHTS, 21, 0x01, 0x04][..],
                &[0u8; 40][..],
                &[0x12, 0x34, FLAG][..],
            ]
            .concat(),
            rep(
                &nack(CMD_WRITE_WEIGHTS, ErrorCode::Oversized, 1025),
                21,
                &sh,
            ),
        ),
        (
            "OVERSIZED len 0xFFFF",
            vec![FLAG, CMD_RUN, 22, 0xFF, 0xFF, 1, 2, FLAG],
            rep(&nack(CMD_RUN, ErrorCode::Oversized, 0xFFFF), 22, &sh),
        ),
        (
            "FRAMING truncated",
            vec![FLAG, CMD_RUN, 23, 4, 0, 1, 0, FLAG],
            rep(&nack(CMD_RUN, ErrorCode::Framing, 6), 23, &sh),
        ),
        (
            "FRAMING truncated header",
            vec![FLAG, CMD_RUN, 24, 4, FLAG],
            rep(&nack(CMD_RUN, ErrorCode::Framing, 3), 24, &sh),
        ),
        (
            "FRAMING bad escape",
            vec![FLAG, CMD_RUN, 25, 4, 0, ESC, 0x11, 0, 0, 0, 0, 0, FLAG],
            rep(&nack(CMD_RUN, ErrorCode::Framing, 0x11), 25, &sh),
        ),
        (
            "FRAMING escape + FLAG",
            vec![FLAG, CMD_RUN, 26, 4, 0, 1, ESC, FLAG],
            rep(&nack(CMD_RUN, ErrorCode::Framing, FLAG as u32), 26, &sh),
        ),
        (
            "FRAMING overlong",
            {
                let mut f = cmd(&Command::Run { k: 1 }, 27, &sh);
                let end = f.pop().unwrap();
                f.extend([0x00, 0x55, end]);
                f
            },
            rep(&nack(CMD_RUN, ErrorCode::Framing, 4), 27, &sh),
        ),
        ("no type/seq: silent", vec![FLAG, CMD_RUN, FLAG], Vec::new()),
        ("idle FLAGs: silent", vec![FLAG; 5], Vec::new()),
    ];

    for (name, input, expected) in cases {
        let before = snapshot(&s);
        let out = s.feed(&input);
        assert_eq!(out, expected, "{name}");
        assert_eq!(snapshot(&s), before, "{name}: state changed");
    }

    // A weight outside W bits needs a W that does not fill its bytes: W = 6.
    let sh6 = CoreShape {
        neurons: 4,
        inputs: 2,
        weight_bits: 6,
    };
    let mut s6 = ModelServer::new(cfg(sh6)).unwrap();
    let before = snapshot(&s6);
    let out = s6.feed(&raw(
        CMD_WRITE_WEIGHTS,
        16,
        &[1, 0, 1, 0, 3, 0, 31, 0xE0, 32],
    ));
    assert_eq!(
        out,
        rep(&nack(CMD_WRITE_WEIGHTS, ErrorCode::BadParam, 8), 16, &sh6)
    );
    assert_eq!(snapshot(&s6), before);

    // Never BUSY (no finite queue): 64 STEPs at once, far beyond the step window.
    let next = s.next_step();
    let bytes: Vec<u8> = (0..64u32)
        .flat_map(|k| {
            cmd(
                &Command::Step {
                    step: next + k,
                    inputs: SpikeSet::new(),
                },
                k as u8,
                &sh,
            )
        })
        .collect();
    let r = replies(&s.feed(&bytes), &sh);
    assert_eq!(r.len(), 64);
    for (k, (seq, x)) in r.into_iter().enumerate() {
        assert_eq!(seq, k as u8);
        assert!(matches!(x, Reply::StepDone { step, .. } if step == next + k as u32));
    }
}

/// A framing error is NACKed at the byte where it is detected (protocol §2.5,
/// §6.4), before any later byte is received.
#[test]
fn frame_errors_are_nacked_where_detected() {
    let sh = SHAPE;
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    let check = |s: &mut ModelServer, bytes: &[u8], at: usize, expected: Vec<u8>| {
        let mut out = Vec::new();
        for (k, &b) in bytes.iter().enumerate() {
            s.push(b, &mut out);
            if k < at {
                assert!(out.is_empty(), "reply before byte {at}: at {k}");
            } else if k == at {
                assert_eq!(out, expected);
            }
        }
        assert_eq!(out, expected, "nothing more after the error");
    };
    // Oversized: at the second len byte.
    check(
        &mut s,
        &[FLAG, 0x07, 1, 0x01, 0x04, 0, 0, 0, 0, FLAG],
        4,
        rep(&nack(0x07, ErrorCode::Oversized, 1025), 1, &sh),
    );
    // Bad escape: at the byte after ESC.
    check(
        &mut s,
        &[FLAG, 0x07, 2, ESC, 0x00, 0, 0, FLAG],
        4,
        rep(&nack(0x07, ErrorCode::Framing, 0), 2, &sh),
    );
    // Overlong: at the first byte after the CRC.
    let mut f = cmd(&Command::ReadStdp, 3, &sh);
    let n = f.len();
    f.insert(n - 1, 0x42);
    f.insert(n, 0x43);
    check(
        &mut s,
        &f,
        n - 1,
        rep(&nack(CMD_READ_STDP, ErrorCode::Framing, 0), 3, &sh),
    );
    // A good frame: at its closing FLAG; pipelined frames answered in order.
    let a = cmd(&Command::ReadStdp, 4, &sh);
    check(
        &mut s,
        &a,
        a.len() - 1,
        rep(&Reply::Stdp(StdpParams::reset(&sh)), 4, &sh),
    );
}

// ---- STEP replay, STEP_GAP, RUN --------------------------------------------------------

#[test]
fn step_replay_and_gap() {
    let sh = SHAPE;
    let mut s = network_server();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // Pipelined: four STEPs in one write, answered in order.
    let mut done: Vec<Vec<u8>> = Vec::new(); // STEP_DONE payloads by step
    for chunk in 0..3u32 {
        let mut bytes = Vec::new();
        for t in chunk * 4..chunk * 4 + 4 {
            let inputs = random_inputs(&mut rng, sh.inputs, 0.4);
            bytes.extend(cmd(&Command::Step { step: t, inputs }, t as u8, &sh));
        }
        let f = frames(&s.feed(&bytes));
        assert_eq!(f.len(), 4);
        for (k, (ty, seq, p)) in f.into_iter().enumerate() {
            let t = chunk * 4 + k as u32;
            assert_eq!((ty, seq), (REPLY_STEP_DONE, t as u8));
            assert_eq!(p[..4], t.to_le_bytes());
            done.push(p);
        }
    }
    assert_eq!(s.next_step(), 12);
    // Replays: next_step − 8 ..= next_step − 1, any inputs, any seq; nothing runs.
    for t in 4..12u32 {
        let before = snapshot(&s);
        let out = s.feed(&cmd(
            &Command::Step {
                step: t,
                inputs: random_inputs(&mut rng, sh.inputs, 0.5),
            },
            0xC0 + t as u8,
            &sh,
        ));
        assert_eq!(out, raw(REPLY_STEP_DONE, 0xC0 + t as u8, &done[t as usize]));
        assert_eq!(snapshot(&s), before, "replay of {t} executed something");
    }
    // Too old, ahead, probe: STEP_GAP with next_step, nothing runs.
    for t in [0, 3, 13, 1000, 0xFFFF_FFFE, 0xFFFF_FFFF] {
        let before = snapshot(&s);
        let out = s.feed(&cmd(
            &Command::Step {
                step: t,
                inputs: SpikeSet::new(),
            },
            9,
            &sh,
        ));
        assert_eq!(
            out,
            rep(&nack(CMD_STEP, ErrorCode::StepGap, 12), 9, &sh),
            "{t}"
        );
        assert_eq!(snapshot(&s), before);
    }
    // The stream continues at next_step.
    let out = s.feed(&cmd(
        &Command::Step {
            step: 12,
            inputs: SpikeSet::new(),
        },
        1,
        &sh,
    ));
    assert_eq!(replies(&out, &sh).len(), 1);
    assert_eq!(s.next_step(), 13);
    // Step 4 has now left the replay store.
    let out = s.feed(&cmd(
        &Command::Step {
            step: 4,
            inputs: SpikeSet::new(),
        },
        2,
        &sh,
    ));
    assert_eq!(out, rep(&nack(CMD_STEP, ErrorCode::StepGap, 13), 2, &sh));
}

#[test]
fn replay_depth_one() {
    let sh = SHAPE;
    let mut s = ModelServer::new(CoreConfig {
        replay_depth: 1,
        ..cfg(sh)
    })
    .unwrap();
    let step = |t: u32| {
        cmd(
            &Command::Step {
                step: t,
                inputs: SpikeSet::new(),
            },
            t as u8,
            &sh,
        )
    };
    let a = s.feed(&step(0));
    assert_eq!(s.feed(&step(0)), a);
    s.feed(&step(1));
    assert_eq!(
        s.feed(&step(0)),
        rep(&nack(CMD_STEP, ErrorCode::StepGap, 2), 0, &sh)
    );
}

#[test]
fn run_steps_acks_and_stores() {
    let sh = SHAPE;
    let mut s = network_server();
    let mut m = s.core().clone();
    // Drive one step with inputs so RUN has activity to propagate.
    let inputs: SpikeSet = (0..sh.inputs).collect();
    let f0 = SpikeSet::from_sorted(m.step(inputs.as_slice()).unwrap().to_vec()).unwrap();
    let out = s.feed(&cmd(&Command::Step { step: 0, inputs }, 1, &sh));
    assert_eq!(out, rep(&Reply::StepDone { step: 0, fired: f0 }, 1, &sh));

    // RUN 0: only the ACK.
    let before = snapshot(&s);
    let out = s.feed(&cmd(&Command::Run { k: 0 }, 2, &sh));
    assert_eq!(out, rep(&Reply::Ack { cmd: CMD_RUN }, 2, &sh));
    assert_eq!(snapshot(&s), before);

    // RUN 6: six STEP_DONEs (steps 1..=6), all with RUN's seq, then ACK.
    let out = s.feed(&cmd(&Command::Run { k: 6 }, 0x7E, &sh));
    let mut want = Vec::new();
    let mut fired = Vec::new();
    for t in 1..=6u32 {
        let f = SpikeSet::from_sorted(m.step(&[]).unwrap().to_vec()).unwrap();
        fired.push(f.clone());
        want.extend(rep(&Reply::StepDone { step: t, fired: f }, 0x7E, &sh));
    }
    want.extend(rep(&Reply::Ack { cmd: CMD_RUN }, 0x7E, &sh));
    assert_eq!(out, want);
    assert!(
        fired.iter().any(|f| !f.is_empty()),
        "RUN propagated nothing"
    );
    assert_eq!(s.next_step(), 7);
    assert_eq!(s.core().weights(), m.weights());

    // RUN's steps are replayable like any other.
    let out = s.feed(&cmd(
        &Command::Step {
            step: 3,
            inputs: SpikeSet::from_indices([1]),
        },
        5,
        &sh,
    ));
    assert_eq!(
        out,
        rep(
            &Reply::StepDone {
                step: 3,
                fired: fired[2].clone()
            },
            5,
            &sh
        )
    );
    // Probe after RUN (lost ACK recovery): next_step = 1 + 6.
    let out = s.feed(&cmd(
        &Command::Step {
            step: u32::MAX,
            inputs: SpikeSet::new(),
        },
        6,
        &sh,
    ));
    assert_eq!(out, rep(&nack(CMD_STEP, ErrorCode::StepGap, 7), 6, &sh));
}

/// Step indices do not wrap (protocol §6.2): step 0xFFFFFFFF is never executed.
#[test]
fn end_of_step_range() {
    let sh = SHAPE;
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    let step = |t: u32, seq: u8| {
        cmd(
            &Command::Step {
                step: t,
                inputs: SpikeSet::new(),
            },
            seq,
            &sh,
        )
    };
    let empty = SpikeSet::new();
    s.force_next_step(u32::MAX - 2);
    for t in [u32::MAX - 2, u32::MAX - 1] {
        assert_eq!(
            s.feed(&step(t, 1)),
            rep(
                &Reply::StepDone {
                    step: t,
                    fired: empty.clone()
                },
                1,
                &sh
            )
        );
    }
    assert_eq!(s.next_step(), u32::MAX);
    let before = snapshot(&s);
    let gap = rep(&nack(CMD_STEP, ErrorCode::StepGap, u32::MAX), 2, &sh);
    assert_eq!(s.feed(&step(u32::MAX, 2)), gap);
    assert_eq!(
        s.feed(&cmd(&Command::Run { k: 1 }, 3, &sh)),
        rep(&nack(CMD_RUN, ErrorCode::StepGap, u32::MAX), 3, &sh)
    );
    assert_eq!(snapshot(&s), before);
    assert_eq!(
        s.feed(&cmd(&Command::Run { k: 0 }, 4, &sh)),
        rep(&Reply::Ack { cmd: CMD_RUN }, 4, &sh)
    );
    // Still replayable.
    assert_eq!(
        s.feed(&step(u32::MAX - 1, 5)),
        rep(
            &Reply::StepDone {
                step: u32::MAX - 1,
                fired: empty.clone()
            },
            5,
            &sh
        )
    );
    // A RUN that would reach 0xFFFFFFFF is refused as a whole.
    s.force_next_step(u32::MAX - 3);
    let before = snapshot(&s);
    assert_eq!(
        s.feed(&cmd(&Command::Run { k: 4 }, 6, &sh)),
        rep(&nack(CMD_RUN, ErrorCode::StepGap, u32::MAX - 3), 6, &sh)
    );
    assert_eq!(
        s.feed(&cmd(&Command::Run { k: u32::MAX }, 6, &sh)),
        rep(&nack(CMD_RUN, ErrorCode::StepGap, u32::MAX - 3), 6, &sh)
    );
    assert_eq!(snapshot(&s), before);
    let out = s.feed(&cmd(&Command::Run { k: 3 }, 7, &sh));
    assert_eq!(replies(&out, &sh).len(), 4);
    assert_eq!(s.next_step(), u32::MAX);
    // Only a state reset leaves the end of the range.
    s.feed(&cmd(
        &Command::Reset {
            state: true,
            full: false,
        },
        8,
        &sh,
    ));
    assert_eq!(s.next_step(), 0);
    assert_eq!(
        s.feed(&step(0, 9)),
        rep(
            &Reply::StepDone {
                step: 0,
                fired: empty
            },
            9,
            &sh
        )
    );
}

// ---- the server computes what the model computes ----------------------------------------

/// Random networks uploaded and run through the server (STEPs in both spike
/// formats, pipelined, and RUNs) against the same calls on `Core` directly.
#[test]
fn random_networks_match_the_model() {
    let shapes = [
        (SHAPE, 1u64),
        (
            CoreShape {
                neurons: 40,
                inputs: 0,
                weight_bits: 12,
            },
            2,
        ),
        (
            CoreShape {
                neurons: 9,
                inputs: 17,
                weight_bits: 3,
            },
            3,
        ),
        (
            CoreShape {
                neurons: 300,
                inputs: 30,
                weight_bits: 6,
            },
            4,
        ),
    ];
    let mut formats = [0usize; 2];
    for (sh, seed) in shapes {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut s = ModelServer::new(cfg(sh)).unwrap();
        let mut m = Core::new(sh).unwrap();
        let n = sh.neurons;
        let src = sh.sources() as u16;
        let mut up = Vec::new();

        // Parameters in chunks of up to 85 records.
        let params: Vec<NeuronParams> = (0..n).map(|_| random_params(&mut rng, &sh)).collect();
        for (k, p) in params.iter().enumerate() {
            m.set_neuron_params(k as u16, *p).unwrap();
        }
        for (c, chunk) in params.chunks(85).enumerate() {
            up.push(Command::WriteNeuronParams {
                first: (c * 85) as u16,
                params: chunk.to_vec(),
            });
        }
        let sp = random_stdp(&mut rng, &sh);
        m.set_stdp(sp).unwrap();
        up.push(Command::WriteStdp(sp));
        // Weights and masks, each row split at a random column.
        let (wlo, whi) = (sh.weight_min(), sh.weight_max());
        for row in 0..src {
            let w: Vec<i16> = (0..n)
                .map(|_| {
                    if rng.random_bool(0.6) {
                        0
                    } else {
                        rng.random_range(wlo / 2..=whi / 2)
                    }
                })
                .collect();
            let b: Vec<bool> = (0..n).map(|_| rng.random_bool(0.6)).collect();
            for k in 0..n {
                m.set_weight(row, k, w[k as usize]).unwrap();
                m.set_plastic(row, k, b[k as usize]).unwrap();
            }
            let cut = rng.random_range(1..=n) as usize;
            for (col, range) in [(0, 0..cut), (cut, cut..n as usize)] {
                if range.is_empty() {
                    continue;
                }
                up.push(Command::WriteWeights {
                    row,
                    col: col as u16,
                    weights: w[range.clone()].to_vec(),
                });
                up.push(Command::WriteMask {
                    row,
                    col: col as u16,
                    bits: b[range].to_vec(),
                });
            }
        }
        up.push(Command::Reset {
            state: true,
            full: false,
        });
        m.reset_state();
        let bytes: Vec<u8> = up
            .iter()
            .enumerate()
            .flat_map(|(k, c)| cmd(c, k as u8, &sh))
            .collect();
        let out = s.feed(&bytes);
        let want: Vec<u8> = up
            .iter()
            .enumerate()
            .flat_map(|(k, c)| {
                rep(
                    &Reply::Ack {
                        cmd: c.frame_type(),
                    },
                    k as u8,
                    &sh,
                )
            })
            .collect();
        assert_eq!(out, want);

        // Steps.
        let mut t = 0u32;
        let mut total_fired = 0usize;
        while t < 400 {
            let mut bytes = Vec::new();
            let mut want = Vec::new();
            if rng.random_bool(0.2) {
                let k = rng.random_range(0..6u32);
                let seq = rng.random();
                bytes.extend(cmd(&Command::Run { k }, seq, &sh));
                for _ in 0..k {
                    let f = SpikeSet::from_sorted(m.step(&[]).unwrap().to_vec()).unwrap();
                    total_fired += f.len();
                    want.push((seq, Reply::StepDone { step: t, fired: f }));
                    t += 1;
                }
                want.push((seq, Reply::Ack { cmd: CMD_RUN }));
            } else {
                // Up to step_window STEPs in flight.
                for _ in 0..rng.random_range(1..=4) {
                    let p = [0.02, 0.2, 0.6][rng.random_range(0..3)];
                    let inputs = random_inputs(&mut rng, sh.inputs, p);
                    let seq = rng.random();
                    if rng.random_bool(0.3) {
                        // The non-canonical format: a bitmap (or list) by hand.
                        let mut pl = t.to_le_bytes().to_vec();
                        if rng.random_bool(0.5) {
                            pl.push(SPIKES_BITMAP);
                            let mut bm = vec![0u8; (sh.inputs as usize).div_ceil(8)];
                            for i in inputs.iter() {
                                bm[i as usize / 8] |= 1 << (i % 8);
                            }
                            pl.extend(bm);
                        } else {
                            pl.push(0);
                            pl.extend((inputs.len() as u16).to_le_bytes());
                            for i in inputs.iter() {
                                pl.extend(i.to_le_bytes());
                            }
                        }
                        bytes.extend(raw(CMD_STEP, seq, &pl));
                    } else {
                        bytes.extend(cmd(
                            &Command::Step {
                                step: t,
                                inputs: inputs.clone(),
                            },
                            seq,
                            &sh,
                        ));
                    }
                    let f =
                        SpikeSet::from_sorted(m.step(inputs.as_slice()).unwrap().to_vec()).unwrap();
                    total_fired += f.len();
                    want.push((seq, Reply::StepDone { step: t, fired: f }));
                    t += 1;
                }
            }
            let out = s.feed(&bytes);
            assert_eq!(replies(&out, &sh), want, "shape {sh:?} at step {t}");
            let expected_bytes: Vec<u8> = want.iter().flat_map(|(q, r)| rep(r, *q, &sh)).collect();
            assert_eq!(out, expected_bytes);
            // STEP_DONE is canonical (protocol §3.9).
            for (ty, _, p) in frames(&out) {
                if ty == REPLY_STEP_DONE {
                    let count = match p[4] {
                        0 => u16::from_le_bytes([p[5], p[6]]) as usize,
                        _ => p[5..].iter().map(|b| b.count_ones() as usize).sum(),
                    };
                    assert_eq!(p[4], choose_spike_encoding(count, n).to_u8());
                    formats[p[4] as usize] += 1;
                }
            }
            assert_eq!(s.next_step(), t);
        }
        assert!(total_fired > 0, "shape {sh:?}: nothing fired");
        assert_eq!(s.core().weights(), m.weights(), "shape {sh:?}");
        assert_ne!(
            s.core().weights(),
            snapshot_weights_before_learning(&up),
            "no learning"
        );

        // Read everything back over the wire.
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        let wmax = neurofab_proto::max_weights_per_frame(sh.weight_bits) as u16;
        for row in 0..src {
            let mut col = 0;
            while col < n {
                let count = (n - col).min(wmax);
                bytes.extend(cmd(&Command::ReadWeights { row, col, count }, 1, &sh));
                want.push(Reply::Weights {
                    row,
                    col,
                    weights: (col..col + count)
                        .map(|k| m.weight(row, k).unwrap())
                        .collect(),
                });
                bytes.extend(cmd(&Command::ReadMask { row, col, count }, 1, &sh));
                want.push(Reply::Mask {
                    row,
                    col,
                    bits: (col..col + count)
                        .map(|k| m.plastic(row, k).unwrap())
                        .collect(),
                });
                col += count;
            }
        }
        for first in (0..n).step_by(170) {
            let count = (n - first).min(170) as u8;
            bytes.extend(cmd(&Command::ReadState { first, count }, 1, &sh));
            want.push(Reply::State {
                first,
                states: (first..first + count as u16)
                    .map(|k| m.neuron_state(k).unwrap())
                    .collect(),
            });
        }
        for first in (0..n).step_by(85) {
            let count = (n - first).min(85) as u8;
            bytes.extend(cmd(&Command::ReadNeuronParams { first, count }, 1, &sh));
            want.push(Reply::NeuronParams {
                first,
                params: (first..first + count as u16)
                    .map(|k| m.neuron_params(k).unwrap())
                    .collect(),
            });
        }
        bytes.extend(cmd(
            &Command::ReadPreTraces {
                first: 0,
                count: src,
            },
            1,
            &sh,
        ));
        want.push(Reply::PreTraces {
            first: 0,
            traces: (0..src).map(|k| m.pre_trace(k).unwrap()).collect(),
        });
        bytes.extend(cmd(&Command::ReadStdp, 1, &sh));
        want.push(Reply::Stdp(m.stdp()));
        let got: Vec<Reply> = replies(&s.feed(&bytes), &sh)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(got, want, "shape {sh:?}");
    }
    assert!(
        formats.iter().all(|&k| k > 0),
        "STEP_DONE formats {formats:?}"
    );
}

/// The weights as uploaded (to check that STDP actually moved something).
fn snapshot_weights_before_learning(up: &[Command]) -> Vec<i16> {
    let mut rows: Vec<(u16, u16, Vec<i16>)> = Vec::new();
    for c in up {
        if let Command::WriteWeights { row, col, weights } = c {
            rows.push((*row, *col, weights.clone()));
        }
    }
    let n = rows
        .iter()
        .filter(|r| r.0 == 0)
        .map(|r| r.2.len())
        .sum::<usize>();
    let srcs = rows.iter().map(|r| r.0).max().unwrap() as usize + 1;
    let mut w = vec![0; srcs * n];
    for (row, col, ws) in rows {
        let base = row as usize * n + col as usize;
        w[base..base + ws.len()].copy_from_slice(&ws);
    }
    w
}

// ---- robustness: garbage, truncation, flipped bits ---------------------------------------

/// Random bytes, biased towards FLAG and ESC.
fn garbage(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| match rng.random_range(0..10) {
            0 => FLAG,
            1 => ESC,
            _ => rng.random(),
        })
        .collect()
}

/// The reply to a good frame sent after the noise; asserts it comes last and intact.
fn assert_served_last(out: &[u8], good_reply: &[u8]) {
    assert!(
        out.ends_with(good_reply),
        "good frame not served last: {out:02X?}"
    );
    frames(out); // every reply frame well formed
}

#[test]
fn garbage_then_good_frame_is_served() {
    let sh = SHAPE;
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    let good = cmd(&Command::ReadStdp, 0xA5, &sh);
    let good_reply = rep(&Reply::Stdp(StdpParams::reset(&sh)), 0xA5, &sh);
    for _ in 0..500 {
        let len = rng.random_range(0..200);
        let mut bytes = garbage(&mut rng, len);
        bytes.extend(&good);
        let out = s.feed(&bytes);
        assert_served_last(&out, &good_reply);
        // Fed byte by byte: the same bytes.
        let mut s2 = ModelServer::new(cfg(sh)).unwrap();
        let mut out2 = Vec::new();
        for &b in &bytes {
            s2.push(b, &mut out2);
        }
        assert_served_last(&out2, &good_reply);
    }
}

#[test]
fn truncated_then_good_frame_is_served() {
    let sh = SHAPE;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut s = network_server();
    let good = cmd(&Command::ReadStdp, 0x11, &sh);
    let good_reply = rep(&Reply::Stdp(s.core().stdp()), 0x11, &sh);
    let victims = [
        cmd(&Command::Run { k: 3 }, 1, &sh),
        cmd(
            &Command::WriteWeights {
                row: 0x7E,
                col: 0,
                weights: vec![0x7D, 0x7E, -1],
            },
            0x7D,
            &SHAPE_BIG,
        ),
        cmd(
            &Command::Step {
                step: 0,
                inputs: SpikeSet::from_indices([1, 5, 7]),
            },
            0x7E,
            &sh,
        ),
        cmd(
            &Command::Reset {
                state: true,
                full: true,
            },
            4,
            &sh,
        ),
    ];
    for _ in 0..400 {
        let v = &victims[rng.random_range(0..victims.len())];
        let cut = rng.random_range(1..v.len() - 1);
        let before = snapshot(&s);
        let mut bytes = v[..cut].to_vec();
        bytes.extend(&good);
        let out = s.feed(&bytes);
        assert_served_last(&out, &good_reply);
        let r = replies(&out, &sh);
        for (_, x) in &r[..r.len() - 1] {
            assert!(
                matches!(
                    x,
                    Reply::Nack {
                        error: ErrorCode::Framing,
                        ..
                    }
                ),
                "{x:?}"
            );
        }
        assert_eq!(snapshot(&s), before, "a truncated frame was executed");
    }
}

/// A bigger shape so that row 0x7E is valid (escapes in the payload).
const SHAPE_BIG: CoreShape = CoreShape {
    neurons: 100,
    inputs: 64,
    weight_bits: 8,
};

#[test]
fn flipped_bit_then_good_frame_is_served() {
    let sh = SHAPE_BIG;
    let mut rng = ChaCha8Rng::seed_from_u64(1234);
    let mut s = ModelServer::new(cfg(sh)).unwrap();
    let good = cmd(&Command::ReadStdp, 0x22, &sh);
    let good_reply = rep(&Reply::Stdp(StdpParams::reset(&sh)), 0x22, &sh);
    let victims = [
        cmd(
            &Command::WriteWeights {
                row: 0x7E,
                col: 0x7D,
                weights: vec![0x7D, 0x7E, -1, 5],
            },
            0x7D,
            &sh,
        ),
        cmd(
            &Command::Step {
                step: 0x7E,
                inputs: SpikeSet::from_indices([1, 0x3E, 0x3F]),
            },
            0x7E,
            &sh,
        ),
        cmd(&Command::Run { k: 2 }, 3, &sh),
        cmd(
            &Command::WriteNeuronParams {
                first: 3,
                params: vec![NeuronParams {
                    v_th: 0x7E7D,
                    ..NeuronParams::RESET
                }],
            },
            0x7E,
            &sh,
        ),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..2000 {
        let v = &victims[rng.random_range(0..victims.len())];
        let mut bad = v.clone();
        let k = rng.random_range(0..bad.len());
        bad[k] ^= 1 << rng.random_range(0..8);
        let before = snapshot(&s);
        // Good frame, damaged frame, good frame.
        let bytes = [&good[..], &bad[..], &good[..]].concat();
        let out = s.feed(&bytes);
        assert!(out.starts_with(&good_reply));
        assert_served_last(&out, &good_reply);
        let r = replies(&out, &sh);
        for (_, x) in &r[1..r.len() - 1] {
            match x {
                Reply::Nack { error, .. } => {
                    codes.insert(*error as u8);
                }
                other => panic!("damaged frame answered {other:?} (byte {k})"),
            }
        }
        assert_eq!(snapshot(&s), before, "a damaged frame was executed");
    }
    // CRC, framing and length damage all occurred.
    for c in [ErrorCode::BadCrc, ErrorCode::Framing, ErrorCode::Oversized] {
        assert!(codes.contains(&(c as u8)), "{c:?} never seen: {codes:?}");
    }
}
