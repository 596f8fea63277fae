//! TxPath simulation: the serial output equals `neurofab_proto::frame::encode_frame_vec`
//! byte for byte, with random payload handshake gaps and back-to-back frames.

mod common;

use common::*;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_hdl::frame::{TxPath, ESC, FLAG, MAX_PAYLOAD};
use neurofab_proto::frame::encode_frame_vec;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

const D: u64 = 4;
type Tx = TxPath<8>;

struct Frame {
    frame_type: u8,
    seq: u8,
    payload: Vec<u8>,
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

fn nasty_byte(rng: &mut ChaCha8Rng) -> u8 {
    nasty_bytes(rng, 1)[0]
}

/// How the testbench offers payload bytes and starts frames.
struct Driver {
    /// Probability that `data_valid` is high in a cycle (1.0 = never a gap).
    p_valid: f64,
    /// Idle cycles after `idle` is seen before `start` (None = random 0..50).
    start_delay: Option<u64>,
}

struct TxRun {
    txd: Vec<bool>,
    /// Cycle (edge index) of each `start` strobe.
    starts: Vec<usize>,
}

fn run_tx(frames: &[Frame], driver: &Driver, rng: &mut ChaCha8Rng) -> TxRun {
    let mut sim = CycleSim::new(Tx::new(D), |x| &mut x.clock).unwrap();
    let mut txd = Vec::new();
    let mut starts = Vec::new();
    for f in frames {
        // Wait for idle (it is high after the previous closing FLAG went to the UART).
        let mut waited = 0;
        while !sim.uut.idle.val() {
            assert!(!sim.uut.data_ready.val(), "data_ready outside the payload");
            sim.step();
            txd.push(sim.uut.txd.val());
            waited += 1;
            assert!(waited < 100_000, "TxPath never became idle");
        }
        let delay = driver
            .start_delay
            .unwrap_or_else(|| rng.random_range(0..50));
        for _ in 0..delay {
            sim.step();
            txd.push(sim.uut.txd.val());
            assert!(sim.uut.idle.val(), "idle fell without start");
        }
        sim.uut.start.next = true;
        sim.uut.frame_type.next = f.frame_type.to_bits();
        sim.uut.seq.next = f.seq.to_bits();
        sim.uut.len.next = (f.payload.len() as u64).to_bits();
        starts.push(txd.len());
        sim.step();
        txd.push(sim.uut.txd.val());
        sim.uut.start.next = false;
        // Scramble the header inputs: they must have been sampled at start.
        sim.uut.frame_type.next = 0xA5u64.to_bits();
        sim.uut.seq.next = 0x5Au64.to_bits();
        sim.uut.len.next = 7u64.to_bits();
        assert!(!sim.uut.idle.val(), "idle after start");
        let mut taken = 0;
        let mut cycles = 0;
        while taken < f.payload.len() {
            let valid = rng.random_bool(driver.p_valid);
            sim.uut.data_valid.next = valid;
            sim.uut.data.next = if valid {
                f.payload[taken].to_bits()
            } else {
                0x7Eu64.to_bits() // garbage while not valid
            };
            sim.settle();
            let ready = sim.uut.data_ready.val();
            assert!(!sim.uut.idle.val(), "idle during the payload");
            sim.step();
            txd.push(sim.uut.txd.val());
            if valid && ready {
                taken += 1;
            }
            cycles += 1;
            assert!(cycles < 1_000_000, "payload not taken");
        }
        sim.uut.data_valid.next = false;
        sim.settle();
        assert!(!sim.uut.data_ready.val() || f.payload.is_empty() || sim.uut.idle.val());
    }
    // Let the last frame leave the UART.
    while !sim.uut.idle.val() {
        sim.step();
        txd.push(sim.uut.txd.val());
    }
    for _ in 0..(12 * D) {
        sim.step();
        txd.push(sim.uut.txd.val());
    }
    TxRun { txd, starts }
}

fn expected_wire(frames: &[Frame]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| encode_frame_vec(f.frame_type, f.seq, &f.payload).unwrap())
        .collect()
}

fn random_frames(rng: &mut ChaCha8Rng, n: usize, max_len: usize) -> Vec<Frame> {
    (0..n)
        .map(|_| {
            let len = rng.random_range(0..=max_len);
            Frame {
                frame_type: nasty_byte(rng),
                seq: nasty_byte(rng),
                payload: nasty_bytes(rng, len),
            }
        })
        .collect()
}

#[test]
fn random_frames_with_gaps_match_the_reference_encoder() {
    let mut rng = rng(301);
    let frames = random_frames(&mut rng, 30, 60);
    let t0 = std::time::Instant::now();
    let run = run_tx(
        &frames,
        &Driver {
            p_valid: 0.3,
            start_delay: None,
        },
        &mut rng,
    );
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "TxPath: {} cycles in {secs:.2} s = {:.0} cycles/s",
        run.txd.len(),
        run.txd.len() as f64 / secs
    );
    assert_eq!(decode_uart(&run.txd, D as usize), expected_wire(&frames));
}

#[test]
fn max_payload_frame_matches_the_reference_encoder() {
    let mut rng = rng(302);
    let frames = vec![
        Frame {
            frame_type: 0x88,
            seq: FLAG,
            payload: nasty_bytes(&mut rng, MAX_PAYLOAD),
        },
        // An empty frame right behind it.
        Frame {
            frame_type: ESC,
            seq: 0,
            payload: vec![],
        },
    ];
    let run = run_tx(
        &frames,
        &Driver {
            p_valid: 0.7,
            start_delay: Some(0),
        },
        &mut rng,
    );
    assert_eq!(decode_uart(&run.txd, D as usize), expected_wire(&frames));
}

#[test]
fn back_to_back_frames_leave_no_gap_on_the_line() {
    // data_valid always high and start as soon as idle: the line carries every wire byte
    // of every frame at exactly 10·D cycles per byte, with no idle bit anywhere.
    let mut rng = rng(303);
    let frames = random_frames(&mut rng, 6, 20);
    let run = run_tx(
        &frames,
        &Driver {
            p_valid: 1.0,
            start_delay: Some(0),
        },
        &mut rng,
    );
    let wire = expected_wire(&frames);
    let first = run.txd.iter().position(|&b| !b).expect("no start bit");
    let mut expected = Vec::new();
    for &b in &wire {
        for bit in frame_bits(b) {
            expected.extend(std::iter::repeat_n(bit, D as usize));
        }
    }
    assert_eq!(&run.txd[first..first + expected.len()], &expected[..]);
    assert!(run.txd[first + expected.len()..].iter().all(|&b| b));
    // The first start bit follows the first start strobe after a fixed latency:
    // start at edge s, the UART takes the FLAG at edge s + 1 and drives its start bit.
    assert_eq!(first, run.starts[0] + 1);
}

fn step_rec(sim: &mut CycleSim<Tx>, txd: &mut Vec<bool>) {
    sim.step();
    txd.push(sim.uut.txd.val());
}

#[test]
fn idle_and_ready_protocol() {
    let mut sim = CycleSim::new(Tx::new(D), |x| &mut x.clock).unwrap();
    let mut txd = Vec::new();
    for _ in 0..5 {
        step_rec(&mut sim, &mut txd);
        assert!(sim.uut.idle.val());
        assert!(sim.uut.txd.val());
        assert!(!sim.uut.data_ready.val());
    }
    // A 1-byte frame: data_ready rises only once the header bytes are loaded.
    sim.uut.start.next = true;
    sim.uut.frame_type.next = 0x01u64.to_bits();
    sim.uut.seq.next = 0x02u64.to_bits();
    sim.uut.len.next = 1u64.to_bits();
    step_rec(&mut sim, &mut txd);
    sim.uut.start.next = false;
    let mut cycles_to_ready = 0;
    loop {
        sim.settle();
        if sim.uut.data_ready.val() {
            break;
        }
        assert!(!sim.uut.idle.val());
        step_rec(&mut sim, &mut txd);
        cycles_to_ready += 1;
        assert!(cycles_to_ready < 100 * D, "data_ready never rose");
    }
    // The payload byte waits: ready stays high while data_valid is low.
    for _ in 0..20 {
        step_rec(&mut sim, &mut txd);
        assert!(sim.uut.data_ready.val());
        assert!(!sim.uut.idle.val());
    }
    sim.uut.data_valid.next = true;
    sim.uut.data.next = 0x7Du64.to_bits();
    step_rec(&mut sim, &mut txd);
    sim.uut.data_valid.next = false;
    assert!(!sim.uut.data_ready.val(), "one byte only");
    while !sim.uut.idle.val() {
        assert!(!sim.uut.data_ready.val());
        step_rec(&mut sim, &mut txd);
    }
    // idle rose when the closing FLAG went to the UART, which is still sending it.
    let at_idle = txd.len();
    for _ in 0..12 * D {
        step_rec(&mut sim, &mut txd);
    }
    let wire = decode_uart(&txd, D as usize);
    assert_eq!(wire, encode_frame_vec(0x01, 0x02, &[0x7D]).unwrap());
    // The closing FLAG's start bit began the cycle before idle rose. FLAG = 0x7E: its
    // last falling edge is data bit 7, 8 bits after the start bit.
    let last_fall = (1..txd.len())
        .rev()
        .find(|&c| txd[c - 1] && !txd[c])
        .unwrap();
    assert_eq!(last_fall - 8 * D as usize + 1, at_idle);
}
