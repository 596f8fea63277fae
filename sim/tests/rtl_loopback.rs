//! The Verilator model of the UART loopback top (`neurofab_hdl::generate_loopback_verilog`,
//! 12 MHz / 115 200 baud = 104 cycles per bit), driven bit by bit through
//! `neurofab_sim::rtl`.
//!
//! Without Verilator at build time (cfg `neurofab_verilator` unset) the model tests are
//! ignored, and `verilator_available` says why; with `NEUROFAB_REQUIRE_VERILATOR=1` (CI)
//! `verilator_available` fails instead. If Verilator was there but this model failed to
//! build, the tests fail.

use std::time::Instant;

use neurofab_sim::rtl::{self, RtlError, RtlSim, UartLink};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MODEL: &str = "loopback";

fn require_verilator() -> bool {
    std::env::var("NEUROFAB_REQUIRE_VERILATOR").as_deref() == Ok("1")
}

#[test]
fn verilator_available() {
    match RtlSim::new(MODEL) {
        Ok(_) => assert!(rtl::verilator_built()),
        Err(e @ RtlError::NotBuilt(_)) if !rtl::verilator_built() => {
            assert!(
                !require_verilator(),
                "NEUROFAB_REQUIRE_VERILATOR=1 but the RTL models are not built: {e}"
            );
            eprintln!("RTL tests skipped: {e}");
        }
        Err(e) => panic!("RTL model `{MODEL}`: {e}"),
    }
}

/// The model tests run only when the cfg is set; `None` is unreachable then, but keeps
/// them correct if run with `--include-ignored` without Verilator.
fn open() -> Option<UartLink> {
    match UartLink::open(MODEL) {
        Ok(link) => Some(link),
        Err(e @ RtlError::NotBuilt(_)) if !rtl::verilator_built() && !require_verilator() => {
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("opening the RTL model `{MODEL}`: {e}"),
    }
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random()).collect()
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn model_is_listed() {
    let Some(link) = open() else { return };
    let info = link.sim().info();
    assert_eq!(info.name, MODEL);
    assert_eq!(info.cycles_per_bit, 104);
    assert_eq!(info.status_outputs, ["overflow", "framing_error"]);
    assert!(rtl::available_models().iter().any(|m| m.name == MODEL));
    assert!(matches!(
        RtlSim::new("no_such_model"),
        Err(RtlError::UnknownModel { .. })
    ));
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn power_up_is_idle() {
    let Some(mut link) = open() else { return };
    let sim = link.sim_mut();
    for _ in 0..1000 {
        sim.tick();
        assert!(sim.txd(), "txd must idle high");
    }
    assert_eq!(sim.cycles(), 1000);
    assert_eq!(sim.output("overflow"), Some(false));
    assert_eq!(sim.output("framing_error"), Some(false));
    assert_eq!(sim.output("nope"), None);
    assert_eq!(sim.output_at(2), None);
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn echoes_2000_random_bytes() {
    let Some(mut link) = open() else { return };
    let data = random_bytes(2000, 1);
    link.send(&data);
    let byte = link.byte_cycles();
    let t = Instant::now();
    link.run_until_received(data.len(), (data.len() as u64 + 20) * byte)
        .unwrap();
    link.run_until_idle(2, 10 * byte).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(link.received(), &data[..]);
    assert_eq!(link.framing_errors(), 0);
    assert_eq!(link.glitches(), 0);
    assert_eq!(link.sim().output("overflow"), Some(false));
    assert_eq!(link.sim().output("framing_error"), Some(false));
    // back to back at exactly the design's rate: one byte per 10·D cycles, plus the latency
    let cycles = link.cycles();
    assert!(cycles < (data.len() as u64 + 4) * byte, "{cycles} cycles");
    println!(
        "loopback echo: {} bytes, {cycles} cycles in {:.3} s = {:.2e} cycles/s",
        data.len(),
        secs,
        cycles as f64 / secs
    );
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn echo_latency_is_as_documented() {
    // docs/hdl.md: start bit first sampled at edge e0 -> echo start bit right after
    // edge e0 + 5 + D/2 + 9·D.
    let Some(link) = open() else { return };
    let mut sim = link.into_sim();
    let d = sim.info().cycles_per_bit;
    let byte = 0xA5u8;
    let frame = (byte as u16) << 1 | 1 << 9;
    sim.tick_n(10);
    let start = sim.cycles(); // rxd low from edge start+1 on
    let mut echo_at = None;
    for bit in 0..10 {
        sim.set_rxd(frame >> bit & 1 != 0);
        for _ in 0..d {
            sim.tick();
            if echo_at.is_none() && !sim.txd() {
                echo_at = Some(sim.cycles());
            }
        }
    }
    sim.set_rxd(true);
    if echo_at.is_none() {
        sim.tick_until_txd(false, 20 * d);
        echo_at = Some(sim.cycles());
    }
    // e0 = start + 1 (the first edge that sees rxd low)
    assert_eq!(echo_at.unwrap(), start + 1 + 5 + d / 2 + 9 * d);
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn gaps_and_small_bursts() {
    let Some(mut link) = open() else { return };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut expect = Vec::new();
    for _ in 0..40 {
        let n = rng.random_range(1..6);
        let chunk = random_bytes(n, rng.random());
        link.set_tx_gap_bits(rng.random_range(0..4));
        link.send(&chunk);
        expect.extend_from_slice(&chunk);
        let idle = rng.random_range(0..3 * link.byte_cycles());
        link.run_until(100 * link.byte_cycles(), |l| l.tx_pending() == 0)
            .unwrap();
        link.run(idle);
    }
    link.run_until_idle(2, 100 * link.byte_cycles()).unwrap();
    assert_eq!(link.take_received(), expect);
    assert!(link.received().is_empty());
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn slightly_fast_host_is_absorbed() {
    // host 1.5 % fast (rounded to whole cycles): the FIFO absorbs the difference
    let Some(mut link) = open() else { return };
    let d = link.cycles_per_bit();
    link.set_host_tx_cycles_per_bit(d - d * 15 / 1000);
    let data = random_bytes(300, 3);
    link.send(&data);
    link.run_until_received(data.len(), 400 * link.byte_cycles())
        .unwrap();
    assert_eq!(link.received(), &data[..]);
    assert_eq!(link.sim().output("overflow"), Some(false));
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn bad_stop_bit_sets_sticky_framing_error() {
    let Some(link) = open() else { return };
    let mut sim = link.into_sim();
    let d = sim.info().cycles_per_bit;
    // start bit and 8 zero bits, then a low "stop" bit, then idle
    sim.set_rxd(false);
    sim.tick_n(10 * d);
    sim.set_rxd(true);
    sim.tick_n(20 * d);
    assert_eq!(sim.output("framing_error"), Some(true));
    // the link keeps working afterwards
    let mut link = UartLink::new(sim);
    link.send(b"ok");
    link.run_until_received(2, 40 * link.byte_cycles()).unwrap();
    assert_eq!(link.received(), b"ok");
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn host_receiver_flags_framing_errors() {
    // the host receiver runs 25 % slow: it samples the echo's "stop bit" inside the next
    // byte's start bit or data, so some frames come out as framing errors / wrong bytes
    let Some(mut link) = open() else { return };
    let d = link.cycles_per_bit();
    link.set_host_rx_cycles_per_bit(d + d / 4);
    link.send(&[0x00; 8]);
    let _ = link.run_until_idle(3, 200 * link.byte_cycles());
    assert!(link.framing_errors() > 0, "expected framing errors");
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn vcd_trace_has_the_signals() {
    let Some(mut link) = open() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loopback.vcd");
    link.sim_mut().trace_to(&path).unwrap();
    assert!(link.sim().is_tracing());
    link.send(b"\x55\x0f");
    link.run_until_received(2, 40 * link.byte_cycles()).unwrap();
    assert_eq!(link.received(), b"\x55\x0f");
    // one trace per instance
    assert!(matches!(
        link.sim_mut().trace_to(dir.path().join("again.vcd")),
        Err(RtlError::Trace(_))
    ));
    let mut sim = link.into_sim();
    sim.close_trace();
    let vcd = std::fs::read_to_string(&path).unwrap();
    assert!(vcd.contains("$enddefinitions"));
    for name in ["clock", "rxd", "txd", "overflow", "framing_error"] {
        assert!(
            vcd.lines()
                .any(|l| l.trim_start().starts_with("$var")
                    && l.split_whitespace().nth(4) == Some(name)),
            "signal {name} missing from the VCD header:\n{}",
            &vcd[..vcd.find("$enddefinitions").unwrap()]
        );
    }
    // 2 timestamps per cycle: 2n = after rising edge n
    let last = vcd.lines().rev().find(|l| l.starts_with('#')).unwrap();
    assert_eq!(last[1..].parse::<u64>().unwrap(), 2 * sim.cycles());
    drop(sim);
    // a trace into a directory that does not exist is an error, not a crash
    let mut sim = RtlSim::new(MODEL).unwrap();
    assert!(matches!(
        sim.trace_to(dir.path().join("missing/dir/x.vcd")),
        Err(RtlError::Trace(_))
    ));
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn instances_are_independent_and_send() {
    let Some(a) = open() else { return };
    let handles: Vec<_> = (0..2u64)
        .map(|i| {
            std::thread::spawn(move || {
                let mut link = UartLink::open(MODEL).unwrap();
                let data = random_bytes(50, 100 + i);
                link.send(&data);
                link.run_until_received(50, 80 * link.byte_cycles())
                    .unwrap();
                assert_eq!(link.received(), &data[..]);
                link.cycles()
            })
        })
        .collect();
    // an instance created here runs on another thread
    let moved = std::thread::spawn(move || {
        let mut a = a;
        a.send(b"x");
        a.run_until_received(1, 40 * a.byte_cycles()).unwrap();
        a.received().to_vec()
    });
    for h in handles {
        assert!(h.join().unwrap() > 0);
    }
    assert_eq!(moved.join().unwrap(), b"x");
}

#[test]
#[cfg_attr(
    not(neurofab_verilator),
    ignore = "Verilator was not available at build time: run scripts/install-tools.sh"
)]
fn raw_speed() {
    // cycles/s of the bare model (idle, batched ticks) and with full-duplex traffic;
    // printed, not asserted
    let Some(mut link) = open() else { return };
    let n = 20_000_000;
    let t = Instant::now();
    link.sim_mut().tick_n(n);
    let idle = n as f64 / t.elapsed().as_secs_f64();
    let data = random_bytes(5000, 9);
    link.send(&data);
    let c0 = link.cycles();
    let t = Instant::now();
    link.run_until_received(data.len(), (data.len() as u64 + 20) * link.byte_cycles())
        .unwrap();
    let busy = (link.cycles() - c0) as f64 / t.elapsed().as_secs_f64();
    assert_eq!(link.received(), &data[..]);
    println!(
        "loopback model: idle {idle:.2e} cycles/s, UART traffic both ways {busy:.2e} cycles/s"
    );
}
