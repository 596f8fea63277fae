//! Framing layer: CRC, worked examples of docs/protocol.md §2.6, decoder behaviour.

use neurofab_proto::*;

fn wire(t: u8, seq: u8, payload: &[u8]) -> Vec<u8> {
    encode_frame_vec(t, seq, payload).unwrap()
}

fn run(dec: &mut Decoder, bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
    let mut out = Vec::new();
    dec.feed(bytes, |r| out.push(r.map(|f| f.to_frame())));
    out
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0x29B1);
    assert_eq!(CRC_CHECK, 0x29B1);
    assert_eq!(CRC_ALGORITHM.check, CRC_CHECK);
    assert_eq!(CRC_ALGORITHM.poly, CRC_POLY);
    assert_eq!(CRC_ALGORITHM.init, CRC_INIT);
    assert_eq!(CRC_ALGORITHM.xorout, CRC_XOROUT);
    assert_eq!(CRC_ALGORITHM.refin, CRC_REFIN);
    assert_eq!(CRC_ALGORITHM.refout, CRC_REFOUT);
    assert_eq!(
        b"123456789"
            .iter()
            .fold(CRC_INIT, |c, &b| crc16_update(c, b)),
        0x29B1
    );
}

#[test]
fn bitwise_crc_matches_table_crc() {
    let data: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for n in [0, 1, 2, 7, 100, 2000] {
        let d = &data[..n];
        assert_eq!(
            d.iter().fold(CRC_INIT, |c, &b| crc16_update(c, b)),
            crc16(d)
        );
    }
}

/// docs/protocol.md §2.6, example 1.
#[test]
fn worked_example_identify() {
    let body = [0x01, 0x00, 0x00, 0x00];
    assert_eq!(crc16(&body), 0xF274);
    let f = Command::Identify.to_frame(0, &CoreShape::DEFAULT).unwrap();
    assert_eq!(f, hex("7E 01 00 00 00 74 F2 7E"));
    assert_eq!(wire(CMD_IDENTIFY, 0, &[]), f);
}

/// docs/protocol.md §2.6, example 2 (escapes in header, payload and CRC).
#[test]
fn worked_example_step_with_escapes() {
    let cmd = Command::Step {
        step: 126,
        inputs: SpikeSet::from_indices([56]),
    };
    let shape = CoreShape::DEFAULT;
    let mut p = [0u8; 64];
    let n = cmd.encode(&shape, &mut p).unwrap();
    assert_eq!(&p[..n], &hex("7E 00 00 00 00 01 00 38 00")[..]);
    let body = hex("10 7E 09 00 7E 00 00 00 00 01 00 38 00");
    assert_eq!(crc16(&body), 0xF27D);
    let f = cmd.to_frame(0x7E, &shape).unwrap();
    assert_eq!(
        f,
        hex("7E 10 7D 5E 09 00 7D 5E 00 00 00 00 01 00 38 00 7D 5D F2 7E")
    );
    let mut d = Decoder::new();
    let out = run(&mut d, &f);
    assert_eq!(out.len(), 1);
    let fr = out[0].clone().unwrap();
    assert_eq!((fr.frame_type, fr.seq), (CMD_STEP, 0x7E));
    assert_eq!(
        Command::decode(fr.frame_type, &fr.payload, &shape).unwrap(),
        cmd
    );
}

/// docs/protocol.md §3.1: the IDENTITY of a default device.
#[test]
fn worked_example_identity() {
    let caps = Capabilities {
        protocol_version: PROTOCOL_VERSION,
        shape: CoreShape::DEFAULT,
        lanes: 4,
        clock_hz: 12_000_000,
        baud: DEFAULT_BAUD,
        max_payload: MAX_PAYLOAD as u16,
        step_window: 4,
        replay_depth: 8,
        features: FEATURE_STDP | FEATURE_STATE_READOUT,
        core_id: 0xDEADBEEF,
    };
    let mut p = [0u8; IDENTITY_LEN];
    encode_identity(&caps, &mut p);
    assert_eq!(
        p.to_vec(),
        hex("4E 46 41 42 01 00 01 40 00 08 04 00 1B B7 00 00 C2 01 00 00 04 04 08 03 EF BE AD DE")
    );
    let f = Reply::Identity(caps)
        .to_frame(0, &CoreShape::DEFAULT)
        .unwrap();
    assert_eq!(
        f,
        hex("7E 81 00 1C 00 4E 46 41 42 01 00 01 40 00 08 04 00 1B B7 00 00 C2 01 00 00 04 04 08 03 EF BE AD DE 9E 8F 7E")
    );
}

#[test]
fn idle_flags_and_back_to_back_frames() {
    let mut s = vec![FLAG, FLAG, FLAG];
    s.extend(wire(0x01, 1, &[]));
    s.extend(wire(0x02, 2, &[1]));
    s.extend([FLAG, FLAG]);
    let mut d = Decoder::new();
    let out = run(&mut d, &s);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].as_ref().unwrap().payload, vec![1]);
    // Shared flags: the closing FLAG of one frame opens the next.
    let a = wire(0x01, 1, &[]);
    let b = wire(0x02, 2, &[1]);
    let mut s = a.clone();
    s.extend_from_slice(&b[1..]);
    assert_eq!(
        run(&mut Decoder::new(), &s)
            .iter()
            .filter(|r| r.is_ok())
            .count(),
        2
    );
}

#[test]
fn starts_hunting_and_skips_leading_garbage() {
    let mut s = vec![0x01, 0x00, 0x00, 0x00, 0x74, 0xF2]; // a body without its opening FLAG
    s.extend(wire(0x01, 9, &[]));
    let out = run(&mut Decoder::new(), &s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].as_ref().unwrap().seq, 9);
}

#[test]
fn bad_crc_reports_header() {
    let mut f = wire(0x07, 42, &[1, 2, 3]);
    let n = f.len();
    f[n - 3] ^= 0x01; // flip a CRC bit
    let out = run(&mut Decoder::new(), &f);
    let e = out[0].clone().unwrap_err();
    assert!(matches!(e.kind, FrameErrorKind::BadCrc { .. }));
    assert_eq!((e.frame_type, e.seq), (Some(0x07), Some(42)));
    assert_eq!(e.nack_code(), ERR_BAD_CRC);
    let (seq, nack) = Reply::nack_for_frame_error(&e).unwrap();
    assert_eq!(seq, 42);
    assert!(matches!(
        nack,
        Reply::Nack {
            cmd: 0x07,
            error: ErrorCode::BadCrc,
            ..
        }
    ));
}

#[test]
fn truncated_frames() {
    // FLAG before the payload is complete.
    let f = wire(0x03, 5, &[9; 20]);
    let mut s = f[..10].to_vec();
    s.push(FLAG);
    s.extend(wire(0x01, 6, &[]));
    let out = run(&mut Decoder::new(), &s);
    assert_eq!(out.len(), 2);
    let e = out[0].clone().unwrap_err();
    assert_eq!(
        e.kind,
        FrameErrorKind::Truncated {
            received: 9,
            expected: Some(26)
        }
    );
    assert_eq!((e.frame_type, e.seq), (Some(0x03), Some(5)));
    assert_eq!(e.nack_code(), ERR_FRAMING);
    assert_eq!(out[1].as_ref().unwrap().seq, 6);
    // Header incomplete: only the type byte.
    let out = run(&mut Decoder::new(), &[FLAG, 0x05, FLAG]);
    let e = out[0].clone().unwrap_err();
    assert_eq!(
        e.kind,
        FrameErrorKind::Truncated {
            received: 1,
            expected: None
        }
    );
    assert_eq!((e.frame_type, e.seq), (Some(0x05), None));
    assert!(e.nack_target().is_none());
}

#[test]
fn oversized_rejected_immediately_without_buffering() {
    let mut d = Decoder::new();
    let hdr = [FLAG, 0x07, 0x11, 0x01, 0x04]; // len = 0x0401 = 1025
    let mut got = None;
    for (k, &b) in hdr.iter().enumerate() {
        if let Some(r) = d.push(b) {
            got = Some((k, r.unwrap_err()));
        }
    }
    let (k, e) = got.unwrap();
    assert_eq!(k, 4, "rejected on the last length byte");
    assert_eq!(e.kind, FrameErrorKind::Oversized { len: 1025 });
    assert_eq!((e.frame_type, e.seq), (Some(0x07), Some(0x11)));
    assert_eq!(e.nack_code(), ERR_OVERSIZED);
    assert!(d.is_hunting());
    // 64 KiB of non-FLAG bytes produce nothing; the next good frame is recovered.
    for _ in 0..65536 {
        assert!(d.push(0x55).is_none());
    }
    let out = run(&mut d, &wire(0x01, 3, &[]));
    assert_eq!(out.len(), 1);
    assert!(out[0].is_ok());
    // Exactly MAX_PAYLOAD is fine.
    let out = run(&mut Decoder::new(), &wire(0x07, 1, &[0x7E; MAX_PAYLOAD]));
    assert_eq!(out[0].as_ref().unwrap().payload.len(), MAX_PAYLOAD);
}

#[test]
fn small_buffer_lowers_limit() {
    let mut d = Decoder::with_buffer([0u8; 8]);
    assert_eq!(d.max_payload(), 8);
    let mut out = Vec::new();
    d.feed(&wire(0x07, 1, &[1; 9]), |r| {
        out.push(r.map(|f| f.to_frame()))
    });
    d.feed(&wire(0x07, 2, &[1; 8]), |r| {
        out.push(r.map(|f| f.to_frame()))
    });
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].clone().unwrap_err().kind,
        FrameErrorKind::Oversized { len: 9 }
    );
    assert_eq!(out[1].as_ref().unwrap().seq, 2);
    let mut slice_buf = [0u8; 100];
    let mut d = Decoder::with_buffer(&mut slice_buf[..]);
    let mut n = 0;
    d.feed(&wire(0x07, 1, &[1; 100]), |r| {
        assert!(r.is_ok());
        n += 1
    });
    assert_eq!(n, 1);
}

#[test]
fn bad_escapes() {
    // ESC followed by a byte that does not unescape to FLAG/ESC: error, hunt.
    let out = run(
        &mut Decoder::new(),
        &[FLAG, 0x01, 0x02, ESC, 0x41, 0x00, 0x00, FLAG],
    );
    assert_eq!(out.len(), 1);
    let e = out[0].clone().unwrap_err();
    assert_eq!(e.kind, FrameErrorKind::BadEscape { byte: 0x41 });
    assert_eq!((e.frame_type, e.seq), (Some(1), Some(2)));
    // ESC FLAG: abort; the FLAG opens the next frame.
    let mut s = vec![FLAG, 0x01, 0x02, ESC];
    s.extend(&wire(0x01, 7, &[])[..]);
    let out = run(&mut Decoder::new(), &s);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].clone().unwrap_err().kind,
        FrameErrorKind::BadEscape { byte: FLAG }
    );
    assert_eq!(out[1].as_ref().unwrap().seq, 7);
}

#[test]
fn overlong_body() {
    let mut f = wire(0x01, 3, &[]);
    let n = f.len();
    f.insert(n - 1, 0x00);
    let out = run(&mut Decoder::new(), &f);
    assert_eq!(out.len(), 1);
    let e = out[0].clone().unwrap_err();
    assert_eq!(e.kind, FrameErrorKind::Overlong { len: 0 });
    assert_eq!(e.nack_code(), ERR_FRAMING);
}

#[test]
fn streaming_encoder_matches_and_checks_length() {
    let payload: Vec<u8> = (0..=255).collect();
    let mut v = Vec::new();
    let mut e = FrameEncoder::begin(0x88, 0x7D, payload.len(), |b| v.push(b)).unwrap();
    for c in payload.chunks(7) {
        e.write(c).unwrap();
    }
    let n = e.finish().unwrap();
    assert_eq!(n, v.len());
    assert_eq!(v, wire(0x88, 0x7D, &payload));
    let e = FrameEncoder::begin(1, 1, 3, |_| {}).unwrap();
    assert_eq!(
        e.finish(),
        Err(FrameEncodeError::LengthMismatch {
            announced: 3,
            written: 0
        })
    );
    let mut e = FrameEncoder::begin(1, 1, 1, |_| {}).unwrap();
    assert!(e.write(&[1, 2]).is_err());
    assert!(FrameEncoder::begin(1, 1, MAX_PAYLOAD + 1, |_| {}).is_err());
    assert_eq!(
        encode_frame(1, 1, &[0; MAX_PAYLOAD + 1], |_| {}),
        Err(FrameEncodeError::PayloadTooLarge {
            len: MAX_PAYLOAD + 1
        })
    );
}

#[test]
fn encode_into_slice() {
    let mut buf = [0u8; MAX_WIRE_LEN];
    let n = encode_frame_into(0x02, 1, &[0x7E; MAX_PAYLOAD], &mut buf).unwrap();
    assert_eq!(&buf[..n], &wire(0x02, 1, &[0x7E; MAX_PAYLOAD])[..]);
    assert!(n <= MAX_WIRE_LEN);
    let mut small = [0u8; 5];
    assert_eq!(
        encode_frame_into(0x01, 0, &[], &mut small),
        Err(FrameEncodeError::BufferTooSmall { needed: 8 })
    );
}
