//! The body of the cargo-fuzz target `fuzz/fuzz_targets/decoder.rs`, shared with
//! the `fuzz_body` test so CI exercises it on stable. Panics on any violated
//! invariant; otherwise returns the number of frames that passed the CRC.

use crate::command::{Command, Reply};
use crate::frame::{
    crc16, encode_frame_vec, Decoder, Frame, CRC_LEN, ESC, ESC_XOR, FLAG, HEADER_LEN,
};
use crate::params::CoreShape;

/// Shapes every decoded payload is tried against.
pub const SHAPES: [CoreShape; 4] = [
    CoreShape::DEFAULT,
    CoreShape {
        neurons: 1,
        inputs: 0,
        weight_bits: 2,
    },
    CoreShape {
        neurons: 13,
        inputs: 5,
        weight_bits: 12,
    },
    CoreShape {
        neurons: 4096,
        inputs: 4096,
        weight_bits: 16,
    },
];

fn check_payload(frame_type: u8, payload: &[u8]) {
    for shape in &SHAPES {
        if let Ok(c) = Command::decode(frame_type, payload, shape) {
            let mut buf = [0u8; crate::frame::MAX_PAYLOAD];
            let n = c
                .encode(shape, &mut buf)
                .expect("a decoded command re-encodes");
            let again =
                Command::decode(frame_type, &buf[..n], shape).expect("re-encoded command decodes");
            assert_eq!(again, c);
        }
        if let Ok(r) = Reply::decode(frame_type, payload, shape) {
            let mut buf = [0u8; crate::frame::MAX_PAYLOAD];
            let n = r
                .encode(shape, &mut buf)
                .expect("a decoded reply re-encodes");
            let again =
                Reply::decode(frame_type, &buf[..n], shape).expect("re-encoded reply decodes");
            assert_eq!(again, r);
        }
    }
}

/// A deliberately naive, non-streaming decoder written from docs/protocol.md §2:
/// split the stream at FLAGs, ignore what precedes the first FLAG and follows the
/// last one, skip empty segments, and judge every other segment on its own.
/// Returns one entry per judged segment: the frame if it is valid.
pub fn reference_decode(data: &[u8], max_payload: usize) -> Vec<Option<Frame>> {
    let mut out = Vec::new();
    let segments: Vec<&[u8]> = data.split(|&b| b == FLAG).collect();
    if segments.len() < 3 {
        return out;
    }
    for seg in &segments[1..segments.len() - 1] {
        if seg.is_empty() {
            continue;
        }
        out.push(judge(seg, max_payload));
    }
    out
}

fn judge(seg: &[u8], max_payload: usize) -> Option<Frame> {
    let mut body = Vec::new();
    let mut it = seg.iter();
    while let Some(&b) = it.next() {
        if b == ESC {
            let x = it.next()? ^ ESC_XOR;
            if x != FLAG && x != ESC {
                return None;
            }
            body.push(x);
        } else {
            body.push(b);
        }
    }
    if body.len() < HEADER_LEN {
        return None;
    }
    let len = u16::from_le_bytes([body[2], body[3]]) as usize;
    if len > max_payload || body.len() != HEADER_LEN + len + CRC_LEN {
        return None;
    }
    let crc = u16::from_le_bytes([body[HEADER_LEN + len], body[HEADER_LEN + len + 1]]);
    if crc16(&body[..HEADER_LEN + len]) != crc {
        return None;
    }
    Some(Frame {
        frame_type: body[0],
        seq: body[1],
        payload: body[HEADER_LEN..HEADER_LEN + len].to_vec(),
    })
}

/// Runs the streaming decoder over `data` and checks it against
/// [`reference_decode`]: same valid frames in the same order, one outcome per
/// complete segment (plus at most one early error for the unterminated tail).
pub fn check_against_reference<B: AsRef<[u8]> + AsMut<[u8]>>(
    dec: &mut Decoder<B>,
    data: &[u8],
) -> Vec<Frame> {
    let reference = reference_decode(data, dec.max_payload());
    let mut got: Vec<Option<Frame>> = Vec::new();
    for &b in data {
        if let Some(r) = dec.push(b) {
            got.push(r.ok().map(|f| f.to_frame()));
        }
    }
    assert!(
        got.len() == reference.len()
            || (got.len() == reference.len() + 1 && got.last() == Some(&None)),
        "outcomes: streaming {} vs reference {}",
        got.len(),
        reference.len()
    );
    assert_eq!(
        &got[..reference.len()],
        &reference[..],
        "streaming decoder disagrees with the reference"
    );
    got.into_iter().flatten().collect()
}

/// Feeds `data` through the streaming decoder (full and 16-byte buffers) and
/// every payload decoder.
pub fn decoder_body(data: &[u8]) -> usize {
    let frames = check_against_reference(&mut Decoder::new(), data);
    for f in &frames {
        // A yielded frame re-encodes to a frame that decodes to itself.
        let wire = encode_frame_vec(f.frame_type, f.seq, &f.payload).expect("payload within limit");
        let mut d2 = Decoder::new();
        d2.push(FLAG);
        let mut seen = 0;
        for &w in &wire {
            if let Some(r) = d2.push(w) {
                assert_eq!(r.expect("re-encoded frame decodes").to_frame(), *f);
                seen += 1;
            }
        }
        assert_eq!(seen, 1);
        check_payload(f.frame_type, &f.payload);
    }
    let small = check_against_reference(&mut Decoder::with_buffer([0u8; 16]), data);
    assert!(small.iter().all(|f| f.payload.len() <= 16));
    if let Some((&t, p)) = data.split_first() {
        check_payload(t, p);
    }
    frames.len()
}
