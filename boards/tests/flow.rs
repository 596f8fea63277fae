//! End-to-end bitstream builds (yosys, nextpnr, icepack/ecppack must be installed:
//! scripts/install-tools.sh). Small designs, plus the ECP5-85F target build (N=512, 4 lanes).

use neurofab_boards::flow::command_line;
use neurofab_boards::{build, build_loopback, flash_command, Board, BuildReport, Error};
use neurofab_proto::CoreConfig;

/// iCE40: the UART loopback bring-up design through the whole iCEBreaker flow (PLL
/// 12 → 24 MHz, gated core clock, LEDs) → neurofab_board.bin. The neurofab core itself
/// does not fit any iCE40 (see `ice40_core_does_not_fit`).
#[test]
fn icebreaker_loopback_bitstream() {
    let b = Board::load("icebreaker").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rep = build_loopback(&b, dir.path(), &mut |p| {
        eprintln!("[{:?}] {}", p.stage, p.message.lines().next().unwrap_or(""))
    })
    .unwrap();
    let lc = rep.luts.clone().unwrap();
    assert_eq!(lc.name, "ICESTORM_LC");
    assert!(lc.used > 50 && lc.used < lc.available, "{lc:?}");
    assert_eq!(
        rep.all_resources
            .iter()
            .find(|r| r.name == "ICESTORM_PLL")
            .unwrap()
            .used,
        1
    );
    assert!(rep.timing_met.unwrap(), "{}", rep.to_text());
    assert!(rep.fmax_mhz.unwrap() >= 24.0);
    let bin = std::path::PathBuf::from(rep.bitstream.clone().unwrap());
    assert!(
        std::fs::metadata(&bin).unwrap().len() > 100_000,
        "UP5K images are 104 kB"
    );
    assert_eq!(
        command_line(&flash_command(&b, &bin)),
        format!("iceprog {}", bin.display())
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["timing_met"], true);
    // The post-route hook and sta.py ran (every iCE40 build with DSPs times them).
    assert!(
        rep.notes.iter().any(|n| n.starts_with(MACS_TIMED)),
        "{}",
        rep.to_text()
    );
}

/// The note a build with the multipliers timed carries (boards/src/flow.rs).
const MACS_TIMED: &str = "Fmax with the SB_MAC16 multipliers timed";

/// Issue 5's iCE40 target: N = 256 (M = 64) all-to-all with STDP and its weights in the
/// four SPRAMs on the iCEBreaker's UP5K, at its 24 MHz clock, with the multipliers timed:
/// nextpnr gives an SB_MAC16 no delay, the build's `sta.py` adds 9.05 ns to every path
/// through one (docs/boards.md, "Session 8"). About 2.5 min on 2 cores.
#[test]
fn icebreaker_n256_spram_meets_24_mhz() {
    let (b, cfg, _dir, rep) = build_logged("icebreaker", 256, 64, 1);
    assert_eq!(cfg.weight_memory, neurofab_proto::WeightMemory::Spram);
    assert_eq!(b.core_clock_hz(), 24_000_000);
    for r in [&rep.luts, &rep.bram, &rep.spram, &rep.dsp]
        .into_iter()
        .flatten()
    {
        assert!(r.used <= r.available, "{r:?}");
    }
    assert_eq!(rep.dsp.clone().unwrap().used, 6, "{}", rep.to_text());
    assert!(
        rep.notes.iter().any(|n| n.starts_with(MACS_TIMED)),
        "{}",
        rep.to_text()
    );
    assert!(
        rep.timing_met.unwrap() && rep.fmax_mhz.unwrap() >= 24.0,
        "{}",
        rep.to_text()
    );
}

/// Builds the core (N, M, lanes) for `board` in a fresh directory, printing each stage
/// and the report (shown when a test fails).
fn build_logged(
    board: &str,
    neurons: u16,
    inputs: u16,
    lanes: u8,
) -> (Board, CoreConfig, tempfile::TempDir, BuildReport) {
    let b = Board::load(board).unwrap();
    let cfg = b.core_config(neurons, inputs, lanes);
    let dir = tempfile::tempdir().unwrap();
    let rep = build(&b, &cfg, dir.path(), &mut |p| {
        eprintln!("[{:?}] {}", p.stage, p.message.lines().next().unwrap_or(""))
    })
    .unwrap();
    eprintln!("{}", rep.to_text());
    (b, cfg, dir, rep)
}

/// Builds a small core for `board` and checks the report: every resource fits, timing is
/// met at `min_mhz` or more, the hash and the written file are the exact generated
/// Verilog, the bitstream is at least `min_bytes`, and `flash_command` is `flash`
/// followed by the bitstream path.
fn small_core_bitstream(
    board: &str,
    (neurons, inputs): (u16, u16),
    min_mhz: f64,
    min_bytes: u64,
    flash: &str,
) {
    let (b, cfg, dir, rep) = build_logged(board, neurons, inputs, 1);
    let core = neurofab_hdl::generate_core(&cfg).unwrap();
    assert_eq!(rep.verilog_hash, format!("{:016x}", core.verilog_hash));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("neurofab_core.v")).unwrap(),
        core.verilog
    );
    assert!(
        rep.luts.is_some() && rep.bram.is_some(),
        "{}",
        rep.to_text()
    );
    for r in [&rep.luts, &rep.ffs, &rep.bram, &rep.dsp]
        .into_iter()
        .flatten()
    {
        assert!(r.used <= r.available, "{r:?}");
    }
    assert!(rep.luts.clone().unwrap().used > 1000);
    assert!(
        rep.timing_met.unwrap() && rep.fmax_mhz.unwrap() >= min_mhz,
        "{}",
        rep.to_text()
    );
    let bit = std::path::PathBuf::from(rep.bitstream.clone().unwrap());
    assert!(std::fs::metadata(&bit).unwrap().len() > min_bytes);
    assert_eq!(
        command_line(&flash_command(&b, &bit)),
        format!("{flash} {}", bit.display())
    );
}

/// ECP5: the smallest neurofab core (N=8, M=2, P=1) on the ULX3S-25F at 50 MHz.
#[test]
fn ulx3s_25f_small_core_bitstream() {
    small_core_bitstream(
        "ulx3s-25f",
        (8, 2),
        50.0,
        10_000,
        "openFPGALoader --board ulx3s",
    );
}

/// iCE40: a small core (N=16, M=4, P=1) on the iCE40-HX8K breakout at its 24 MHz PLL
/// clock (multipliers in LUTs: the HX8K has no DSP).
#[test]
fn hx8k_small_core_bitstream() {
    small_core_bitstream("ice40-hx8k-breakout", (16, 4), 24.0, 100_000, "iceprog");
}

/// A core too large for the board fails with `DoesNotFit` naming the resource: N = 256
/// with its weights in block RAM needs far more than the UP5K's 30 EBRs.
/// Slow (yosys on the whole core, ~60 s on 2 cores): `cargo test -- --ignored`.
#[test]
#[ignore]
fn ice40_oversized_core_does_not_fit() {
    let b = Board::load("icebreaker").unwrap();
    // Weights in block RAM (not the board's SPRAM): 160 of 30 block RAMs.
    let cfg = neurofab_proto::CoreConfig {
        weight_memory: neurofab_proto::WeightMemory::Block,
        ..b.core_config(256, 64, 1)
    };
    let dir = tempfile::tempdir().unwrap();
    match build(&b, &cfg, dir.path(), &mut |_| {}) {
        Err(Error::DoesNotFit {
            resource,
            used,
            available,
            ..
        }) => {
            assert!(resource.starts_with("ICESTORM_"), "{resource}");
            assert!(used > available);
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
}

/// Issue 5's ECP5 target: N = 512 (M = 128) with 4 weight lanes on the ULX3S-85F meets
/// its 50 MHz board clock. Slow (yosys + nextpnr on the whole core, about 4 min on 2
/// cores), but part of the suite: a change once took this build to 44 MHz while every
/// other test passed (docs/boards.md, "Fmax"). The yowasp tools are pinned in
/// scripts/install-tools.sh, so the result is reproducible (nextpnr seed 1).
#[test]
fn ulx3s_85f_n512_meets_50_mhz() {
    let (b, _, _dir, rep) = build_logged("ulx3s-85f", 512, 128, 4);
    assert_eq!(b.core_clock_hz(), 50_000_000);
    let bram = rep.bram.clone().unwrap();
    assert!(bram.used <= bram.available, "{bram:?}");
    assert!(
        rep.timing_met.unwrap() && rep.fmax_mhz.unwrap() >= 50.0,
        "{}",
        rep.to_text()
    );
}
