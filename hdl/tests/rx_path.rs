//! RxPath simulation against the reference decoder (`neurofab_proto::frame::Decoder`):
//! the descriptor sequence (status, detail, type, seq and, for good frames, the payload
//! read back through `rd_offset`/`rd_data`) equals what the decoder reports, for clean
//! frames mixed with garbage, truncated frames, flipped bits, bad escapes, oversized and
//! overlong frames; plus a slow consumer with BUSY and dropped frames.

mod common;

use common::rng;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_hdl::frame::{RxPath, ESC, FLAG, MAX_PAYLOAD, RX_QUEUE_DEPTH, RX_QUEUE_GOOD};
use neurofab_proto::command::ERR_BUSY;
use neurofab_proto::frame::{encode_frame_vec, Decoder};
use neurofab_proto::CoreConfig;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// The smallest ring the config allows (2048 bytes): overflows are easy to provoke.
const RA: usize = 11;
const RING: usize = 1 << RA;

#[derive(Clone, PartialEq, Eq)]
struct Desc {
    frame_type: u8,
    seq: u8,
    status: u8,
    detail: u32,
    payload: Vec<u8>,
}

impl std::fmt::Debug for Desc {
    // Payloads are long: show the length and a checksum instead.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Desc(type {:#04x}, seq {:#04x}, status {}, detail {:#x}, len {}, sum {:#06x})",
            self.frame_type,
            self.seq,
            self.status,
            self.detail,
            self.payload.len(),
            neurofab_proto::frame::crc16(&self.payload)
        )
    }
}

/// What the reference decoder reports for `stream`: one descriptor per frame and per
/// error with a NACK target (before any BUSY decision).
fn reference(stream: &[u8]) -> Vec<Desc> {
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    for &b in stream {
        match dec.push(b) {
            Some(Ok(f)) => out.push(Desc {
                frame_type: f.frame_type,
                seq: f.seq,
                status: 0,
                detail: 0,
                payload: f.payload.to_vec(),
            }),
            Some(Err(e)) => {
                if let Some((seq, frame_type)) = e.nack_target() {
                    out.push(Desc {
                        frame_type,
                        seq,
                        status: e.nack_code(),
                        detail: e.nack_detail(),
                        payload: vec![],
                    });
                }
            }
            None => {}
        }
    }
    out
}

/// The RxPath's admission rule applied to `reference` output when nothing is popped
/// while the stream arrives: returns the queued descriptors and whether any was dropped.
fn admit_without_pops(descs: &[Desc]) -> (Vec<Desc>, bool) {
    let (mut used, mut queued, mut dropped) = (0usize, Vec::new(), false);
    for d in descs {
        if d.status == 0 {
            if used + d.payload.len() <= RING && queued.len() < RX_QUEUE_GOOD {
                used += d.payload.len();
                queued.push(d.clone());
            } else if queued.len() < RX_QUEUE_DEPTH {
                queued.push(Desc {
                    status: ERR_BUSY,
                    detail: 0,
                    payload: vec![],
                    ..d.clone()
                });
            } else {
                dropped = true;
            }
        } else if queued.len() < RX_QUEUE_DEPTH {
            queued.push(d.clone());
        } else {
            dropped = true;
        }
    }
    (queued, dropped)
}

/// Random bytes, about 60 % of them FLAG or ESC.
fn nasty_bytes(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| match rng.random_range(0..10) {
            0..=2 => FLAG,
            3..=5 => ESC,
            _ => rng.random(),
        })
        .collect()
}

fn good_frame(rng: &mut ChaCha8Rng, max_len: usize) -> Vec<u8> {
    let len = rng.random_range(0..=max_len);
    let payload = nasty_bytes(rng, len);
    let t = nasty_bytes(rng, 2);
    encode_frame_vec(t[0], t[1], &payload).unwrap()
}

/// A stuffed header with `len` (may exceed MAX_PAYLOAD), then `extra` random body bytes.
fn raw_header(rng: &mut ChaCha8Rng, len: u16, extra: usize) -> Vec<u8> {
    let mut body = nasty_bytes(rng, 2);
    body.extend(len.to_le_bytes());
    body.extend(nasty_bytes(rng, extra));
    let mut wire = vec![FLAG];
    for b in body {
        if b == FLAG || b == ESC {
            wire.extend([ESC, b ^ 0x20]);
        } else {
            wire.push(b);
        }
    }
    wire
}

/// One random segment of the test stream.
fn segment(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut f = good_frame(rng, 60);
    match rng.random_range(0..12) {
        0..=3 => f,
        4 => {
            let n = rng.random_range(1..20);
            nasty_bytes(rng, n)
        }
        5 => {
            // truncated: cut anywhere (the next segment's FLAG ends it)
            let cut = rng.random_range(1..f.len() - 1);
            f.truncate(cut);
            f
        }
        6 => {
            // flipped bit somewhere in the body
            let i = rng.random_range(1..f.len() - 1);
            f[i] ^= 1 << rng.random_range(0..8);
            f
        }
        7 => {
            // bad escape: ESC + a byte that is not 0x5E/0x5D, or ESC FLAG
            let i = rng.random_range(1..f.len() - 1);
            let bad = if rng.random_bool(0.3) {
                FLAG
            } else {
                loop {
                    let b: u8 = rng.random();
                    if b != FLAG ^ 0x20 && b != ESC ^ 0x20 {
                        break b;
                    }
                }
            };
            f.splice(i..i, [ESC, bad]);
            f
        }
        8 => {
            // oversized len, then some body bytes and maybe a FLAG
            let len = rng.random_range(MAX_PAYLOAD as u16 + 1..=u16::MAX);
            let extra = rng.random_range(0..10);
            let mut w = raw_header(rng, len, extra);
            if rng.random_bool(0.5) {
                w.push(FLAG);
            }
            w
        }
        9 => {
            // overlong: extra bytes before the closing FLAG
            let n = f.len();
            let k = rng.random_range(1..4);
            let extra = nasty_bytes(rng, k);
            f.splice(n - 1..n - 1, extra);
            f
        }
        10 => {
            // short headers: FLAG type FLAG, FLAG type seq FLAG, ...
            let n = rng.random_range(1..4);
            let mut w = vec![FLAG];
            w.extend((0..n).map(|_| rng.random_range(0..0x7Cu8)));
            w.push(FLAG);
            w
        }
        _ => {
            // idle FLAGs between frames
            let mut w = vec![FLAG; rng.random_range(1..4)];
            w.append(&mut f);
            w
        }
    }
}

/// Testbench: a byte source with random gaps and a consumer that reads every payload
/// byte through `rd_offset`/`rd_data` and pops.
struct Bench<const A: usize = RA> {
    sim: CycleSim<RxPath<A>>,
    got: Vec<Desc>,
    /// Consumer: the descriptor being read and the next offset to present.
    reading: Option<(Desc, usize, usize)>,
    pop_pending: bool,
    /// While false the consumer neither reads nor pops.
    consume: bool,
}

impl<const A: usize> Bench<A> {
    fn new() -> Self {
        let config = CoreConfig {
            rx_buffer: 1 << A,
            ..CoreConfig::DEFAULT
        };
        let sim = CycleSim::new(RxPath::<A>::new(&config), |x| &mut x.clock).unwrap();
        Bench {
            sim,
            got: Vec::new(),
            reading: None,
            pop_pending: false,
            consume: true,
        }
    }

    fn desc_at_head(&self) -> (Desc, usize) {
        let u = &self.sim.uut;
        let len = u.head_len.val().index();
        (
            Desc {
                frame_type: u.head_type.val().index() as u8,
                seq: u.head_seq.val().index() as u8,
                status: u.head_status.val().index() as u8,
                detail: u.head_detail.val().index() as u32,
                payload: Vec::with_capacity(len),
            },
            len,
        )
    }

    /// One clock cycle; `byte` is strobed at this edge if given.
    fn cycle(&mut self, byte: Option<u8>) {
        {
            let u = &mut self.sim.uut;
            u.byte_valid.next = byte.is_some();
            u.byte_in.next = (byte.unwrap_or(0x55) as u64).to_bits();
            u.pop.next = false;
        }
        // consumer, before the edge
        let mut present = None;
        if self.consume {
            if self.pop_pending {
                self.sim.uut.pop.next = true;
                self.pop_pending = false;
            } else if let Some((_, len, next)) = &mut self.reading {
                if *next < *len {
                    present = Some(*next);
                    *next += 1;
                }
            } else if self.sim.uut.head_valid.val() {
                let (d, len) = self.desc_at_head();
                if d.status != 0 {
                    assert_eq!(len, 0, "error descriptor with a length");
                }
                if len == 0 {
                    self.got.push(d);
                    self.sim.uut.pop.next = true;
                } else {
                    self.reading = Some((d, len, 1));
                    present = Some(0);
                }
            }
        }
        if let Some(off) = present {
            self.sim.uut.rd_offset.next = (off as u64).to_bits();
        } else {
            // junk offset: rd_data is only sampled for presented offsets
            self.sim.uut.rd_offset.next = 0x7FFu64.to_bits();
        }
        self.sim.step();
        if let Some(off) = present {
            let byte = self.sim.uut.rd_data.val().index() as u8;
            let (d, len, _) = self.reading.as_mut().unwrap();
            assert_eq!(d.payload.len(), off);
            d.payload.push(byte);
            if d.payload.len() == *len {
                let (d, _, _) = self.reading.take().unwrap();
                self.got.push(d);
                self.pop_pending = true;
            }
        }
    }

    /// Feeds `stream` with 0..=max_gap idle cycles before each byte.
    fn feed(&mut self, stream: &[u8], max_gap: usize, rng: &mut ChaCha8Rng) {
        for &b in stream {
            for _ in 0..rng.random_range(0..=max_gap) {
                self.cycle(None);
            }
            self.cycle(Some(b));
        }
    }

    /// Runs without input until the consumer has emptied the queue.
    fn drain(&mut self) {
        self.consume = true;
        let mut idle = 0;
        let mut n = 0;
        while idle < 8 {
            self.cycle(None);
            let busy = self.sim.uut.head_valid.val() || self.reading.is_some() || self.pop_pending;
            idle = if busy { 0 } else { idle + 1 };
            n += 1;
            assert!(n < 1_000_000, "queue never drained");
        }
    }
}

#[test]
fn mixed_stream_matches_the_reference_decoder() {
    let mut rng = rng(501);
    // Start in the middle of garbage (the receiver hunts for a FLAG).
    let mut stream = vec![0x00, ESC, 0x13];
    for _ in 0..120 {
        stream.extend(segment(&mut rng));
    }
    stream.extend(good_frame(&mut rng, 10));
    let expected = reference(&stream);
    // sanity: the stream exercises every kind of descriptor
    for code in [0, 1, 8, 9] {
        assert!(
            expected.iter().any(|d| d.status == code),
            "no status {code}"
        );
    }
    let mut bench = Bench::<RA>::new();
    let t0 = std::time::Instant::now();
    bench.feed(&stream, 3, &mut rng);
    bench.drain();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "RxPath: {} bytes, {} cycles in {secs:.2} s = {:.0} cycles/s",
        stream.len(),
        bench.sim.cycle(),
        bench.sim.cycle() as f64 / secs
    );
    assert_eq!(bench.got.len(), expected.len());
    for (i, (g, e)) in bench.got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "descriptor {i}");
    }
    assert!(!bench.sim.uut.dropped.val());
}

#[test]
fn back_to_back_bytes_and_max_payload_frames() {
    // One byte per clock (no gaps at all) and frames of MAX_PAYLOAD bytes. The consumer
    // reads one byte per clock too, so up to two big frames are in the ring at once:
    // this uses the default 4096-byte ring (with 2048 bytes some would get BUSY).
    let mut rng = rng(502);
    let mut stream = Vec::new();
    for i in 0..6 {
        let len = if i % 2 == 0 { MAX_PAYLOAD } else { 5 };
        let payload = nasty_bytes(&mut rng, len);
        stream.extend(encode_frame_vec(0x07, i, &payload).unwrap());
        stream.extend(segment(&mut rng));
    }
    let expected = reference(&stream);
    let mut bench = Bench::<12>::new();
    bench.feed(&stream, 0, &mut rng);
    bench.drain();
    assert_eq!(bench.got, expected);
    assert!(!bench.sim.uut.dropped.val());
}

#[test]
fn slow_consumer_gets_busy_when_the_ring_overflows() {
    // Nothing is popped while 6 frames of 700 bytes arrive (ring: 2048 bytes): two
    // fit, the rest get BUSY; errors in between keep their own codes (a bad CRC stays
    // BAD_CRC even when there is no room). Then the queue drains and later frames are
    // received normally.
    let mut rng = rng(503);
    let mut stream = Vec::new();
    for i in 0..6u8 {
        let payload = nasty_bytes(&mut rng, 700);
        let mut f = encode_frame_vec(0x10, i, &payload).unwrap();
        if i == 4 {
            let n = f.len();
            f[n - 2] ^= 0x01; // CRC high byte (or its escape) flipped
            if f[n - 2] == FLAG || f[n - 2] == ESC {
                f[n - 2] ^= 0x02;
            }
        }
        stream.extend(f);
        stream.extend(encode_frame_vec(0x01, 100 + i, &[]).unwrap());
    }
    let expected = reference(&stream);
    let (queued, dropped) = admit_without_pops(&expected);
    assert!(!dropped);
    let busy = queued.iter().filter(|d| d.status == ERR_BUSY).count();
    assert_eq!(busy, 3, "frames 2, 3 and 5 do not fit: {queued:?}");
    assert!(
        queued.iter().any(|d| d.status == 1),
        "bad CRC reported as such"
    );

    let mut bench = Bench::<RA>::new();
    bench.consume = false;
    bench.feed(&stream, 1, &mut rng);
    for _ in 0..5000 {
        bench.cycle(None); // the consumer is still busy elsewhere
    }
    bench.drain();
    assert_eq!(bench.got, queued);
    assert!(!bench.sim.uut.dropped.val());

    // Afterwards everything is received again, with the consumer active.
    let mut later = Vec::new();
    for _ in 0..10 {
        later.extend(good_frame(&mut rng, 60));
    }
    later.extend(encode_frame_vec(0x20, 0x21, &nasty_bytes(&mut rng, MAX_PAYLOAD)).unwrap());
    later.extend(encode_frame_vec(0x20, 0x22, &nasty_bytes(&mut rng, MAX_PAYLOAD)).unwrap());
    let expected_later = reference(&later);
    bench.got.clear();
    bench.feed(&later, 3, &mut rng);
    bench.drain();
    assert_eq!(bench.got, expected_later);
}

#[test]
fn queue_overflow_gives_busy_then_drops() {
    // 20 small good frames plus NACK-able errors, nothing popped: the first
    // RX_QUEUE_GOOD are queued, then BUSY up to RX_QUEUE_DEPTH, then dropped (sticky).
    let mut rng = rng(504);
    let mut stream = Vec::new();
    for i in 0..20u8 {
        stream.extend(encode_frame_vec(0x10, i, &nasty_bytes(&mut rng, 10)).unwrap());
        if i == 13 {
            // a truncated frame with type and seq: a FRAMING NACK in the reserve
            stream.extend([FLAG, 0x10, 0x55, 0x03]);
        }
    }
    stream.push(FLAG);
    let expected = reference(&stream);
    let (queued, dropped) = admit_without_pops(&expected);
    assert!(dropped);
    assert_eq!(queued.len(), RX_QUEUE_DEPTH);
    assert_eq!(
        queued.iter().filter(|d| d.status == 0).count(),
        RX_QUEUE_GOOD
    );

    let mut bench = Bench::<RA>::new();
    bench.consume = false;
    bench.feed(&stream, 2, &mut rng);
    assert!(bench.sim.uut.dropped.val());
    bench.drain();
    assert_eq!(bench.got, queued);
    assert!(bench.sim.uut.dropped.val(), "dropped is sticky");

    // Recovery.
    let mut later = Vec::new();
    for _ in 0..20 {
        later.extend(segment(&mut rng));
    }
    later.extend(good_frame(&mut rng, 60));
    let expected_later = reference(&later);
    bench.got.clear();
    bench.feed(&later, 3, &mut rng);
    bench.drain();
    assert_eq!(bench.got, expected_later);
}

#[test]
fn descriptor_and_read_port_timing() {
    let mut bench = Bench::<RA>::new();
    bench.consume = false;
    let frame = encode_frame_vec(0x42, 0x07, &[0xAA, 0xBB, 0xCC]).unwrap();
    let (last, body) = frame.split_last().unwrap();
    for &b in body {
        bench.cycle(Some(b));
        bench.cycle(None);
    }
    assert!(!bench.sim.uut.head_valid.val());
    // The closing FLAG is strobed at edge e: the descriptor is written at e and visible
    // after edge e + 1.
    bench.cycle(Some(*last));
    assert!(!bench.sim.uut.head_valid.val());
    bench.cycle(None);
    let u = &bench.sim.uut;
    assert!(u.head_valid.val());
    assert_eq!(u.head_type.val().index(), 0x42);
    assert_eq!(u.head_seq.val().index(), 0x07);
    assert_eq!(u.head_len.val().index(), 3);
    assert_eq!(u.head_status.val().index(), 0);
    assert_eq!(u.head_detail.val().index(), 0);
    // rd_data is registered: offset presented before edge k, byte valid after edge k.
    for (off, want) in [(2usize, 0xCCusize), (0, 0xAA), (1, 0xBB)] {
        bench.sim.uut.rd_offset.next = (off as u64).to_bits();
        bench.sim.step();
        assert_eq!(bench.sim.uut.rd_data.val().index(), want);
    }
    // A second frame behind it; pop shows it right after the popping edge.
    let second = encode_frame_vec(0x43, 0x08, &[0x11]).unwrap();
    for &b in &second {
        bench.cycle(Some(b));
    }
    bench.cycle(None);
    assert_eq!(bench.sim.uut.head_seq.val().index(), 0x07);
    bench.sim.uut.pop.next = true;
    bench.sim.uut.rd_offset.next = 0u64.to_bits();
    bench.sim.step();
    bench.sim.uut.pop.next = false;
    assert!(bench.sim.uut.head_valid.val());
    assert_eq!(bench.sim.uut.head_seq.val().index(), 0x08);
    bench.sim.step();
    assert_eq!(bench.sim.uut.rd_data.val().index(), 0x11);
    bench.sim.uut.pop.next = true;
    bench.sim.step();
    bench.sim.uut.pop.next = false;
    assert!(!bench.sim.uut.head_valid.val());
}
