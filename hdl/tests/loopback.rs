//! UartLoopback simulation: a random byte stream comes back unchanged on `txd`.

mod common;

use common::*;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_hdl::top::UartLoopback;

type Loopback = UartLoopback<8>;

struct Run {
    txd: Vec<bool>,
    overflow: bool,
    framing_error: bool,
}

fn run_loopback(divisor: u64, rxd: &[bool], tail: usize, vcd: Option<&std::path::Path>) -> Run {
    let mut sim = CycleSim::new(Loopback::new(divisor), |x| &mut x.clock).unwrap();
    if let Some(path) = vcd {
        sim.trace_to(path).unwrap();
    }
    let mut txd = Vec::with_capacity(rxd.len() + tail);
    for i in 0..rxd.len() + tail {
        sim.uut.rxd.next = rxd.get(i).copied().unwrap_or(true);
        sim.step();
        txd.push(sim.uut.txd.val());
    }
    Run {
        txd,
        overflow: sim.uut.overflow.val(),
        framing_error: sim.uut.framing_error.val(),
    }
}

#[test]
fn echoes_a_random_stream_with_baud_error() {
    let divisor = 8u64;
    let mut rng = rng(41);
    let bytes = random_bytes(&mut rng, 64);
    let gaps = random_gaps(&mut rng, bytes.len());
    // The host is 1.5 % slow here; the FIFO never fills.
    let rxd = uart_waveform(&bytes, divisor, 0.015, &gaps, &[], 0.4);
    let run = run_loopback(divisor, &rxd, 30 * divisor as usize, None);
    assert_eq!(decode_uart(&run.txd, divisor as usize), bytes);
    assert!(!run.overflow && !run.framing_error);
}

#[test]
fn fifo_absorbs_a_burst_from_a_faster_host() {
    // Back-to-back bytes 2 % faster than our transmitter: the FIFO level grows by one
    // byte per 50 bytes, far below its 16 entries.
    let divisor = 16u64;
    let mut rng = rng(42);
    let bytes = random_bytes(&mut rng, 48);
    let rxd = uart_waveform(&bytes, divisor, -0.02, &[], &[], 0.0);
    let run = run_loopback(divisor, &rxd, 30 * divisor as usize, None);
    assert_eq!(decode_uart(&run.txd, divisor as usize), bytes);
    assert!(!run.overflow && !run.framing_error);
}

#[test]
fn echo_latency_matches_the_documented_value() {
    // The first low rxd sample is at edge e0 = start; txd drops at edge e0 + 5 + D/2 + 9·D.
    let divisor = 8usize;
    let start = 10;
    let mut rxd = vec![true; start];
    for bit in frame_bits(0x42) {
        rxd.extend(std::iter::repeat_n(bit, divisor));
    }
    let run = run_loopback(divisor as u64, &rxd, 12 * divisor, None);
    let echo_start = run.txd.iter().position(|&b| !b).expect("no echo");
    // txd[c] is recorded right after edge c.
    assert_eq!(echo_start, start + 5 + divisor / 2 + 9 * divisor);
    assert_eq!(decode_uart(&run.txd, divisor), vec![0x42]);
}

#[test]
fn framing_error_is_sticky_and_the_stream_continues() {
    let divisor = 8u64;
    let bytes = [0x11, 0x22, 0x33, 0x44];
    let rxd = uart_waveform(&bytes, divisor, 0.0, &[1.0, 1.0, 1.0, 1.0], &[1], 0.0);
    let run = run_loopback(divisor, &rxd, 30 * divisor as usize, None);
    assert_eq!(
        decode_uart(&run.txd, divisor as usize),
        vec![0x11, 0x33, 0x44]
    );
    assert!(run.framing_error && !run.overflow);
}

#[test]
fn overflow_is_flagged_when_the_host_outruns_the_fifo() {
    // Back to back and 4 % fast, at D = 32 where the receiver still takes 4.7 % fast:
    // the FIFO gains one byte per 25 and must overflow well before 520 bytes.
    let divisor = 32u64;
    let mut rng = rng(43);
    let bytes = random_bytes(&mut rng, 520);
    let rxd = uart_waveform(&bytes, divisor, -0.04, &[], &[], 0.0);
    let run = run_loopback(divisor, &rxd, 0, None);
    assert!(run.overflow && !run.framing_error);
}

#[test]
fn writes_a_vcd_into_a_temp_dir() {
    let divisor = 4u64;
    let rxd = uart_waveform(&[0x5A, 0xA5], divisor, 0.0, &[1.0, 0.0], &[], 0.0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loopback.vcd");
    let run = run_loopback(divisor, &rxd, 30 * divisor as usize, Some(&path));
    assert_eq!(decode_uart(&run.txd, divisor as usize), vec![0x5A, 0xA5]);
    let vcd = std::fs::read_to_string(&path).unwrap();
    assert!(
        vcd.contains("$var") && vcd.contains("txd"),
        "VCD has no txd"
    );
}
