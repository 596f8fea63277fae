//! UartRx simulation: bytes driven bit by bit into `rxd` with a baud mismatch.

mod common;

use common::*;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_hdl::uart::UartRx;
use rand::Rng;

type Rx = UartRx<8>;

#[derive(Debug, Default, PartialEq)]
struct RxLog {
    bytes: Vec<u8>,
    framing_errors: usize,
}

/// Drives `levels` into `rxd` (one level per cycle) and collects the strobes.
fn run_rx(divisor: u64, levels: &[bool]) -> RxLog {
    let mut sim = CycleSim::new(Rx::new(divisor), |x| &mut x.clock).unwrap();
    let mut log = RxLog::default();
    for &level in levels {
        sim.uut.rxd.next = level;
        sim.step();
        let valid = sim.uut.valid.val();
        let error = sim.uut.framing_error.val();
        assert!(!(valid && error), "valid and framing_error together");
        if valid {
            log.bytes.push(sim.uut.data.val().to_u64() as u8);
        }
        if error {
            log.framing_errors += 1;
        }
    }
    log
}

fn check_random_stream(seed: u64, divisor: u64, baud_error: f64, n: usize) {
    let mut rng = rng(seed);
    let bytes = random_bytes(&mut rng, n);
    let gaps = random_gaps(&mut rng, n);
    let phase = rng.random_range(0.0..1.0);
    let levels = uart_waveform(&bytes, divisor, baud_error, &gaps, &[], phase);
    let log = run_rx(divisor, &levels);
    assert_eq!(
        log,
        RxLog {
            bytes,
            framing_errors: 0
        },
        "divisor {divisor}, baud error {baud_error}"
    );
}

#[test]
fn receives_random_bytes_exact_baud() {
    check_random_stream(1, 8, 0.0, 48);
}

#[test]
fn receives_random_bytes_sender_2_percent_fast() {
    check_random_stream(2, 8, -0.02, 48);
    check_random_stream(3, 16, -0.02, 24);
}

#[test]
fn receives_random_bytes_sender_2_percent_slow() {
    check_random_stream(4, 8, 0.02, 48);
    check_random_stream(5, 16, 0.02, 24);
}

#[test]
fn receives_at_odd_divisor_and_minimum_divisor() {
    check_random_stream(6, 7, 0.015, 24);
    check_random_stream(7, 4, 0.0, 24);
}

#[test]
fn bad_stop_bit_gives_one_framing_error_and_recovers() {
    let mut rng = rng(8);
    let bytes = random_bytes(&mut rng, 6);
    // The byte after the bad frame needs at least one idle bit: the receiver waits for
    // a high line after a framing error (a low stop bit directly followed by a start
    // bit cannot be told from a misaligned frame).
    let gaps = [0.0, 1.0, 1.5, 1.0, 0.0, 1.0];
    let levels = uart_waveform(&bytes, 8, 0.01, &gaps, &[2], 0.3);
    let log = run_rx(8, &levels);
    let mut expected = bytes.clone();
    expected.remove(2);
    assert_eq!(
        log,
        RxLog {
            bytes: expected,
            framing_errors: 1
        }
    );
}

#[test]
fn break_condition_gives_a_single_framing_error() {
    // 40 bit times of low line, then a normal byte.
    let divisor = 8;
    let mut levels = vec![true; 20];
    levels.extend(std::iter::repeat_n(false, 40 * divisor));
    levels.extend(uart_waveform(
        &[0xA5],
        divisor as u64,
        0.0,
        &[2.0],
        &[],
        0.0,
    ));
    let log = run_rx(divisor as u64, &levels);
    assert_eq!(
        log,
        RxLog {
            bytes: vec![0xA5],
            framing_errors: 1
        }
    );
}

#[test]
fn short_glitch_is_not_a_start_bit() {
    let divisor = 8;
    let mut levels = vec![true; 20];
    // A low pulse shorter than half a bit.
    levels.extend([false, false]);
    levels.extend(vec![true; 30]);
    levels.extend(uart_waveform(&[0x3C], divisor, 0.0, &[1.0], &[], 0.0));
    let log = run_rx(divisor, &levels);
    assert_eq!(
        log,
        RxLog {
            bytes: vec![0x3C],
            framing_errors: 0
        }
    );
}

#[test]
fn valid_timing_matches_the_documented_latency() {
    // rxd[start] is the first low sample (edge e0 = start): valid is high right after
    // edge e0 + 2 + D/2 + 9·D, and only then.
    let divisor = 8u64;
    let start = 5usize;
    let mut levels = vec![true; start];
    levels.extend(
        frame_bits(0x81)
            .iter()
            .flat_map(|&b| vec![b; divisor as usize]),
    );
    levels.extend(vec![true; 20]);
    let mut sim = CycleSim::new(Rx::new(divisor), |x| &mut x.clock).unwrap();
    let mut strobe_at = None;
    for (c, &level) in levels.iter().enumerate() {
        sim.uut.rxd.next = level;
        sim.step();
        if sim.uut.valid.val() {
            strobe_at = Some(c);
            assert_eq!(sim.uut.data.val().to_u64(), 0x81);
        }
    }
    let latency = 2 + divisor / 2 + 9 * divisor;
    assert_eq!(strobe_at, Some(start + latency as usize));
}

#[test]
fn tolerance_matches_the_documented_bounds() {
    // Documented: a sender up to (D/2 - 1) / (10·D) fast or 0.5 / 9 slow is received.
    // Back-to-back frames (no idle) are the worst case. Test just inside both bounds.
    for (seed, divisor) in [(10u64, 4u64), (11, 8), (12, 16)] {
        let fast = (divisor as f64 / 2.0 - 1.0) / (10.0 * divisor as f64);
        let slow = 0.5 / 9.0;
        for error in [-(fast - 0.003), slow - 0.003] {
            let mut rng = rng(seed);
            let bytes = random_bytes(&mut rng, 12);
            for phase in [0.0, 0.25, 0.5, 0.75] {
                let levels = uart_waveform(&bytes, divisor, error, &[], &[], phase);
                let log = run_rx(divisor, &levels);
                assert_eq!(
                    log,
                    RxLog {
                        bytes: bytes.clone(),
                        framing_errors: 0
                    },
                    "divisor {divisor}, baud error {error:.4}, phase {phase}"
                );
            }
        }
    }
}

#[test]
fn too_fast_a_sender_is_detected() {
    // 5 % fast at D = 8 is beyond the bound (3.75 %): the stop-bit sample falls into
    // the next start bit and the receiver reports framing errors rather than bad data.
    let mut rng = rng(13);
    let bytes = random_bytes(&mut rng, 12);
    let levels = uart_waveform(&bytes, 8, -0.05, &[], &[], 0.0);
    let log = run_rx(8, &levels);
    assert!(log.framing_errors > 0, "{log:?}");
}
