//! Every command and reply: payload round trip, framed round trip, and the
//! validation errors a device NACKs with (docs/protocol.md §3, §5).

use neurofab_proto::*;

const S: CoreShape = CoreShape {
    neurons: 20,
    inputs: 10,
    weight_bits: 8,
};
const S12: CoreShape = CoreShape {
    neurons: 20,
    inputs: 10,
    weight_bits: 12,
};

fn np(k: i16) -> NeuronParams {
    NeuronParams {
        v_th: 1000 + k,
        v_reset: -5,
        v_rest: 3,
        alpha_v: 30000,
        alpha_i: 32768,
        t_ref: 2,
        w_shift: 8,
    }
}

fn stdp() -> StdpParams {
    StdpParams {
        enabled: true,
        eta_plus: 10,
        eta_minus: 20,
        w_min: -100,
        w_max: 127,
        alpha_pre: 1234,
        alpha_post: 32768,
        inc_pre: 30,
        inc_post: 255,
    }
}

fn framed_cmd(c: &Command, shape: &CoreShape, seq: u8) -> Command {
    let wire = c.to_frame(seq, shape).unwrap();
    let mut d = Decoder::new();
    let mut out = None;
    d.feed(&wire, |r| {
        let f = r.unwrap();
        assert_eq!(f.seq, seq);
        assert_eq!(f.frame_type, c.frame_type());
        out = Some(Command::from_frame(&f, shape).unwrap());
    });
    out.unwrap()
}

fn framed_reply(r: &Reply, shape: &CoreShape, seq: u8) -> Reply {
    let wire = r.to_frame(seq, shape).unwrap();
    let mut d = Decoder::new();
    let mut out = None;
    d.feed(&wire, |x| {
        let f = x.unwrap();
        assert_eq!(f.seq, seq);
        assert_eq!(f.frame_type, r.frame_type());
        out = Some(Reply::from_frame(&f, shape).unwrap());
    });
    out.unwrap()
}

fn all_commands() -> Vec<(Command, usize)> {
    vec![
        (Command::Identify, 0),
        (
            Command::Reset {
                state: true,
                full: false,
            },
            1,
        ),
        (
            Command::Reset {
                state: false,
                full: true,
            },
            1,
        ),
        (
            Command::WriteNeuronParams {
                first: 3,
                params: vec![np(0), np(1), NeuronParams::RESET],
            },
            3 + 36,
        ),
        (
            Command::ReadNeuronParams {
                first: 0,
                count: 20,
            },
            3,
        ),
        (Command::WriteStdp(stdp()), 14),
        (Command::ReadStdp, 0),
        (
            Command::WriteWeights {
                row: 29,
                col: 17,
                weights: vec![-128, 127, 0],
            },
            6 + 3,
        ),
        (
            Command::ReadWeights {
                row: 0,
                col: 0,
                count: 20,
            },
            6,
        ),
        (
            Command::WriteMask {
                row: 5,
                col: 1,
                bits: vec![true, false, true, true, false, false, false, true, true],
            },
            6 + 2,
        ),
        (
            Command::ReadMask {
                row: 5,
                col: 1,
                count: 19,
            },
            6,
        ),
        (
            Command::ReadState {
                first: 19,
                count: 1,
            },
            3,
        ),
        (
            Command::ReadPreTraces {
                first: 0,
                count: 30,
            },
            4,
        ),
        (
            Command::Step {
                step: 7,
                inputs: SpikeSet::new(),
            },
            4 + 1 + 2,
        ),
        (
            Command::Step {
                step: 8,
                inputs: SpikeSet::from_indices([9, 0]),
            },
            4 + 1 + 2,
        ),
        (
            Command::Step {
                step: u32::MAX,
                inputs: SpikeSet::from_indices([1]),
            },
            4 + 1 + 2,
        ),
        (Command::Run { k: 1000 }, 4),
    ]
}

#[test]
fn every_command_round_trips() {
    let mut types = std::collections::BTreeSet::new();
    for (c, len) in all_commands() {
        let mut buf = [0u8; MAX_PAYLOAD];
        let n = c.encode(&S, &mut buf).unwrap();
        assert_eq!(n, len, "{c:?}");
        assert_eq!(c.payload_len(&S), len);
        assert_eq!(Command::decode(c.frame_type(), &buf[..n], &S).unwrap(), c);
        assert_eq!(framed_cmd(&c, &S, 0x7E), c);
        types.insert(c.frame_type());
    }
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        COMMAND_TYPES.to_vec()
    );
    // 12-bit weights: 2 bytes each.
    let c = Command::WriteWeights {
        row: 0,
        col: 0,
        weights: vec![-2048, 2047, -1],
    };
    let mut buf = [0u8; 64];
    assert_eq!(c.encode(&S12, &mut buf).unwrap(), 12);
    assert_eq!(&buf[6..12], &[0x00, 0xF8, 0xFF, 0x07, 0xFF, 0xFF]);
    assert_eq!(framed_cmd(&c, &S12, 1), c);
}

fn all_replies() -> Vec<Reply> {
    let caps = Capabilities {
        protocol_version: PROTOCOL_VERSION,
        shape: S,
        lanes: 1,
        clock_hz: 48_000_000,
        baud: 3_000_000,
        max_payload: 512,
        step_window: 2,
        replay_depth: 4,
        features: FEATURE_STDP,
        core_id: 7,
    };
    vec![
        Reply::Identity(caps),
        Reply::NeuronParams {
            first: 1,
            params: vec![np(5), np(6)],
        },
        Reply::Stdp(stdp()),
        Reply::Weights {
            row: 3,
            col: 4,
            weights: vec![1, -1, 0, -128],
        },
        Reply::Mask {
            row: 3,
            col: 4,
            bits: vec![false; 16],
        },
        Reply::State {
            first: 0,
            states: vec![
                NeuronState {
                    v: -300,
                    i: 7,
                    refractory: 3,
                    post_trace: 200,
                },
                NeuronState::default(),
            ],
        },
        Reply::PreTraces {
            first: 10,
            traces: vec![0, 255, 17],
        },
        Reply::StepDone {
            step: 3,
            fired: SpikeSet::new(),
        },
        Reply::StepDone {
            step: 4,
            fired: SpikeSet::from_indices(0..20),
        },
        Reply::Ack {
            cmd: CMD_WRITE_STDP,
        },
        Reply::Nack {
            cmd: CMD_STEP,
            error: ErrorCode::StepGap,
            detail: 99,
        },
    ]
}

#[test]
fn every_reply_round_trips() {
    let mut types = std::collections::BTreeSet::new();
    for r in all_replies() {
        let mut buf = [0u8; MAX_PAYLOAD];
        let n = r.encode(&S, &mut buf).unwrap();
        assert_eq!(n, r.payload_len(&S));
        assert_eq!(Reply::decode(r.frame_type(), &buf[..n], &S).unwrap(), r);
        assert_eq!(framed_reply(&r, &S, 0x7D), r);
        types.insert(r.frame_type());
    }
    assert_eq!(types.into_iter().collect::<Vec<_>>(), REPLY_TYPES.to_vec());
    for code in ErrorCode::ALL {
        let r = Reply::Nack {
            cmd: 1,
            error: code,
            detail: 0xDEADBEEF,
        };
        assert_eq!(framed_reply(&r, &S, 0), r);
    }
}

#[test]
fn spike_encoding_choice() {
    // list: 2 + 2c bytes, bitmap: ceil(U/8) bytes, tie -> list.
    assert_eq!(choose_spike_encoding(0, 0), SpikeFormat::Bitmap);
    assert_eq!(choose_spike_encoding(0, 16), SpikeFormat::List);
    assert_eq!(choose_spike_encoding(0, 17), SpikeFormat::List);
    assert_eq!(choose_spike_encoding(1, 32), SpikeFormat::List); // 4 vs 4: tie
    assert_eq!(choose_spike_encoding(2, 32), SpikeFormat::Bitmap); // 6 vs 4
    assert_eq!(choose_spike_encoding(15, 256), SpikeFormat::List); // 32 vs 32
    assert_eq!(choose_spike_encoding(16, 256), SpikeFormat::Bitmap);
    // STEP_DONE for 20 neurons all firing: bitmap.
    let r = Reply::StepDone {
        step: 0,
        fired: SpikeSet::from_indices(0..20),
    };
    let mut buf = [0u8; 64];
    let n = r.encode(&S, &mut buf).unwrap();
    assert_eq!(&buf[..n], &[0, 0, 0, 0, SPIKES_BITMAP, 0xFF, 0xFF, 0x0F]);
    // A device may receive either format; both decode to the same set.
    let list = [5u8, 0, 0, 0, SPIKES_LIST, 2, 0, 1, 0, 9, 0];
    let bitmap = [5u8, 0, 0, 0, SPIKES_BITMAP, 0x02, 0x02];
    let a = Command::decode(CMD_STEP, &list, &S).unwrap();
    let b = Command::decode(CMD_STEP, &bitmap, &S).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a,
        Command::Step {
            step: 5,
            inputs: SpikeSet::from_indices([1, 9])
        }
    );
}

fn err(t: u8, p: &[u8]) -> DecodeError {
    Command::decode(t, p, &S).unwrap_err()
}

#[test]
fn decode_errors_map_to_nack_codes() {
    assert_eq!(err(0x42, &[]), DecodeError::UnknownType(0x42));
    assert_eq!(err(REPLY_ACK, &[1]).code(), ErrorCode::UnknownCommand);
    // BAD_LENGTH, detail = expected length.
    let e = err(CMD_IDENTIFY, &[0]);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadLength, 0));
    let e = err(CMD_WRITE_NEURON_PARAMS, &[0, 0, 2, 0]);
    assert_eq!(
        e,
        DecodeError::Length {
            frame_type: CMD_WRITE_NEURON_PARAMS,
            expected: 27,
            actual: 4
        }
    );
    assert_eq!(e.detail(), 27);
    assert_eq!(err(CMD_STEP, &[0, 0]).detail(), 5);
    assert_eq!(err(CMD_STEP, &[0, 0, 0, 0, 1, 0]).detail(), 7); // bitmap of M = 10 inputs: 2 bytes
    assert_eq!(err(CMD_STEP, &[0, 0, 0, 0, 0, 2, 0, 1, 0]).detail(), 11);
    // OUT_OF_RANGE, detail = payload offset of the field.
    let e = err(CMD_READ_STATE, &[19, 0, 2]);
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 2));
    assert_eq!(
        err(CMD_READ_STATE, &[0, 0, 0]).code(),
        ErrorCode::OutOfRange
    ); // count 0
    let e = err(CMD_READ_WEIGHTS, &[30, 0, 0, 0, 1, 0]); // row 30 = M + N
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 0));
    let e = err(CMD_WRITE_WEIGHTS, &[0, 0, 20, 0, 1, 0, 5]); // col 20
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 2));
    let e = err(CMD_WRITE_MASK, &[0, 0, 19, 0, 2, 0, 3]); // col + count = 21
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 4));
    let e = err(CMD_READ_PRE_TRACES, &[25, 0, 6, 0]); // 31 > M + N
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 2));
    let e = err(CMD_STEP, &[0, 0, 0, 0, 0, 1, 0, 10, 0]); // input 10 >= M
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 7));
    let e = err(CMD_STEP, &[0, 0, 0, 0, 1, 0, 0x04]); // bitmap bit 10 >= M
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 6));
    // BAD_PARAM, detail = payload offset of the field.
    let e = err(CMD_STEP, &[0, 0, 0, 0, 0, 2, 0, 3, 0, 3, 0]); // not ascending
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 9));
    let e = err(CMD_STEP, &[0, 0, 0, 0, 2]);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 4));
    let e = err(CMD_RESET, &[4]);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 0));
    let mut bad = np(0);
    bad.alpha_i = 32769;
    let mut p = vec![0, 0, 2];
    let mut rec = [0u8; NEURON_PARAMS_LEN];
    encode_neuron_params(&np(0), &mut rec);
    p.extend(rec);
    encode_neuron_params(&bad, &mut rec);
    p.extend(rec);
    let e = err(CMD_WRITE_NEURON_PARAMS, &p);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 3 + 12 + 8));
    let mut bad = np(0);
    bad.w_shift = 9; // 8 + 9 > 16
    encode_neuron_params(&bad, &mut rec);
    let mut p = vec![0, 0, 1];
    p.extend(rec);
    assert_eq!(err(CMD_WRITE_NEURON_PARAMS, &p).detail(), 3 + 11);
    let mut s = stdp();
    s.w_min = 10;
    s.w_max = 5;
    let mut rec = [0u8; STDP_PARAMS_LEN];
    encode_stdp_params(&s, &mut rec);
    let e = err(CMD_WRITE_STDP, &rec);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 6));
    s = stdp();
    s.w_max = 128; // outside 8 bits
    encode_stdp_params(&s, &mut rec);
    assert_eq!(err(CMD_WRITE_STDP, &rec).detail(), 8);
    s = stdp();
    s.alpha_post = 40000;
    encode_stdp_params(&s, &mut rec);
    assert_eq!(err(CMD_WRITE_STDP, &rec).detail(), 12);
    encode_stdp_params(&stdp(), &mut rec);
    rec[5] = 1; // reserved byte
    assert_eq!(err(CMD_WRITE_STDP, &rec).detail(), 5);
    rec[5] = 0;
    rec[0] = 0x81; // reserved flag bit
    assert_eq!(err(CMD_WRITE_STDP, &rec).detail(), 0);
    // 12-bit weight 2048 does not fit.
    let e = Command::decode(
        CMD_WRITE_WEIGHTS,
        &[0, 0, 0, 0, 2, 0, 0, 0, 0x00, 0x08],
        &S12,
    )
    .unwrap_err();
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 8));
    // Mask padding bits.
    let e = err(CMD_WRITE_MASK, &[0, 0, 0, 0, 3, 0, 0x08]);
    assert_eq!((e.code(), e.detail()), (ErrorCode::BadParam, 6));
    // Per-frame count limits on reads.
    let big = CoreShape {
        neurons: 4096,
        inputs: 0,
        weight_bits: 16,
    };
    assert!(Command::decode(CMD_READ_WEIGHTS, &[0, 0, 0, 0, 0xFD, 0x01], &big).is_ok()); // 509
    let e = Command::decode(CMD_READ_WEIGHTS, &[0, 0, 0, 0, 0xFE, 0x01], &big).unwrap_err(); // 510
    assert_eq!((e.code(), e.detail()), (ErrorCode::OutOfRange, 4));
    assert_eq!(max_weights_per_frame(8), 1018);
    assert_eq!(max_weights_per_frame(9), 509);
    assert_eq!(MAX_NEURON_PARAMS_PER_FRAME, 85);
    assert_eq!(MAX_STATES_PER_FRAME, 170);
    assert_eq!(MAX_PRE_TRACES_PER_FRAME, 1020);
    assert_eq!(MAX_SPIKE_LIST, 508);
}

#[test]
fn decoded_nack_for_every_decode_error_is_well_formed() {
    let e = err(CMD_READ_STATE, &[19, 0, 2]);
    let r = Reply::nack_for_decode_error(CMD_READ_STATE, &e);
    assert_eq!(
        r,
        Reply::Nack {
            cmd: CMD_READ_STATE,
            error: ErrorCode::OutOfRange,
            detail: 2
        }
    );
    let mut buf = [0u8; 8];
    assert_eq!(r.encode(&S, &mut buf).unwrap(), NACK_LEN);
    assert_eq!(&buf[..6], &[0x0B, 0x04, 2, 0, 0, 0]);
}

#[test]
fn encode_rejects_unrepresentable() {
    let mut buf = [0u8; MAX_PAYLOAD];
    let c = Command::WriteWeights {
        row: 0,
        col: 0,
        weights: vec![128],
    };
    assert!(matches!(
        c.encode(&S, &mut buf),
        Err(EncodeError::Unrepresentable { .. })
    ));
    let c = Command::WriteNeuronParams {
        first: 0,
        params: vec![np(0); 86],
    };
    assert_eq!(
        c.encode(&S, &mut buf),
        Err(EncodeError::TooLarge { len: 3 + 86 * 12 })
    );
    let c = Command::Step {
        step: 0,
        inputs: SpikeSet::from_indices([10]),
    };
    assert!(matches!(
        c.encode(&S, &mut buf),
        Err(EncodeError::Unrepresentable { .. })
    ));
    let mut small = [0u8; 2];
    assert_eq!(
        Command::Run { k: 1 }.encode(&S, &mut small),
        Err(EncodeError::BufferTooSmall {
            needed: 4,
            available: 2
        })
    );
    let bad = CoreShape {
        neurons: 0,
        inputs: 0,
        weight_bits: 8,
    };
    assert!(matches!(
        Command::Identify.encode(&bad, &mut buf),
        Err(EncodeError::InvalidShape(_))
    ));
    assert!(matches!(
        Command::decode(1, &[], &bad),
        Err(DecodeError::InvalidShape(_))
    ));
}

#[test]
fn identity_checks_magic_and_version() {
    let mut p = [0u8; IDENTITY_LEN];
    encode_identity(
        &Capabilities {
            protocol_version: 1,
            shape: S,
            lanes: 1,
            clock_hz: 1,
            baud: 1,
            max_payload: 1024,
            step_window: 1,
            replay_depth: 0,
            features: 0,
            core_id: 0,
        },
        &mut p,
    );
    assert!(Reply::decode(REPLY_IDENTITY, &p, &S).is_ok());
    let mut q = p;
    q[0] = b'X';
    assert!(matches!(
        Reply::decode(REPLY_IDENTITY, &q, &S),
        Err(DecodeError::Identity(IdentityError::BadMagic(_)))
    ));
    let mut q = p;
    q[4] = 2;
    assert_eq!(
        Reply::decode(REPLY_IDENTITY, &q, &S),
        Err(DecodeError::Identity(IdentityError::UnsupportedVersion(2)))
    );
    assert!(matches!(
        Reply::decode(REPLY_IDENTITY, &p[..27], &S),
        Err(DecodeError::Length { expected: 28, .. })
    ));
}

#[test]
fn step_classification() {
    use StepDisposition::*;
    assert_eq!(classify_step(10, 10, 4), Execute);
    assert_eq!(classify_step(9, 10, 4), Replay);
    assert_eq!(classify_step(6, 10, 4), Replay);
    assert_eq!(classify_step(5, 10, 4), Gap { expected: 10 });
    assert_eq!(classify_step(11, 10, 4), Gap { expected: 10 });
    assert_eq!(classify_step(0, 0, 4), Execute);
    assert_eq!(classify_step(u32::MAX, 0, 255), Gap { expected: 0 });
    assert_eq!(classify_step(9, 10, 0), Gap { expected: 10 });
    let mut c = StepCredits::new(2);
    assert!(c.try_take() && c.try_take());
    assert!(!c.try_take());
    c.give_back();
    assert_eq!((c.in_flight(), c.available()), (1, 1));
    assert!(c.try_take());
}

#[test]
fn record_layouts_are_byte_exact() {
    let mut r = [0u8; NEURON_PARAMS_LEN];
    encode_neuron_params(
        &NeuronParams {
            v_th: 0x0102,
            v_reset: -2,
            v_rest: 0x0304,
            alpha_v: 0x8000,
            alpha_i: 0x0506,
            t_ref: 7,
            w_shift: 8,
        },
        &mut r,
    );
    assert_eq!(
        r,
        [0x02, 0x01, 0xFE, 0xFF, 0x04, 0x03, 0x00, 0x80, 0x06, 0x05, 7, 8]
    );
    let mut r = [0u8; STDP_PARAMS_LEN];
    encode_stdp_params(&stdp(), &mut r);
    assert_eq!(
        r,
        [1, 10, 20, 30, 255, 0, 0x9C, 0xFF, 127, 0, 0xD2, 0x04, 0x00, 0x80]
    );
    let mut r = [0u8; NEURON_STATE_LEN];
    encode_neuron_state(
        &NeuronState {
            v: -1,
            i: 0x0102,
            refractory: 3,
            post_trace: 4,
        },
        &mut r,
    );
    assert_eq!(r, [0xFF, 0xFF, 0x02, 0x01, 3, 4]);
    assert_eq!(weight_bytes(2), 1);
    assert_eq!(weight_bytes(8), 1);
    assert_eq!(weight_bytes(9), 2);
    assert_eq!(weight_bytes(16), 2);
    let mut w = [0u8; 1];
    encode_weight(-2, 2, &mut w).unwrap();
    assert_eq!(w, [0xFE]);
    assert!(encode_weight(2, 2, &mut w).is_err());
    assert_eq!(decode_weight(&[0xFE], 2), Ok(-2));
    assert!(decode_weight(&[0x02], 2).is_err());
}
