//! Board database, wrappers, constraints, flash commands and the Artix-7 file set.
//! (No synthesis here; see tests/flow.rs.)

use std::path::Path;

use neurofab_boards::flow::command_line;
use neurofab_boards::pll::{self, Pll};
use neurofab_boards::wrapper::{constraints, pin_map, wrapper_verilog, Inner};
use neurofab_boards::{build, flash_command, Board, Error, Family};

#[test]
fn every_board_loads_with_consistent_pll() {
    let boards = Board::all().unwrap();
    let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "icebreaker",
            "ice40-hx8k-breakout",
            "ulx3s-85f",
            "ulx3s-25f",
            "cmod-a7-35t"
        ]
    );
    for b in &boards {
        // The recorded divisors are what our search (icepll/ecppll rules) finds for out_hz.
        let out = b.core_clock_hz();
        let found = match (&b.family, &b.pll) {
            (Family::Ice40, Pll::Ice40 { pad, .. }) => pll::ice40(b.clock.hz, out, *pad),
            (Family::Ecp5, _) => pll::ecp5(b.clock.hz, out),
            (Family::Artix7, _) => pll::mmcm(b.clock.hz, out),
            _ => panic!("{}: family/PLL mismatch", b.name),
        }
        .unwrap();
        assert_eq!(found, b.pll, "{}", b.name);
        assert_eq!(b.pll.output_hz(b.clock.hz), out as f64, "{}", b.name);
        // The core config for the board runs at the PLL output and makes the baud rate.
        let cfg = b.core_config(64, 16, b.default_lanes());
        assert_eq!(cfg.clock_hz, out);
        cfg.validate().unwrap();
    }
}

#[test]
fn icepll_agrees_when_installed() {
    let Some(icepll) = neurofab_boards::find_tool(&["icepll"]) else {
        eprintln!("icepll not installed: skipped");
        return;
    };
    let b = Board::load("icebreaker").unwrap();
    let out = std::process::Command::new(icepll)
        .args(["-i", "12", "-o", "24"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let Pll::Ice40 {
        divr,
        divf,
        divq,
        filter_range,
        ..
    } = b.pll
    else {
        unreachable!()
    };
    assert!(text.contains(&format!("DIVR: {divr:>2} (")), "{text}");
    assert!(text.contains(&format!("DIVF: {divf:>2} (")), "{text}");
    assert!(text.contains(&format!("DIVQ: {divq:>2} (")), "{text}");
    assert!(
        text.contains(&format!("FILTER_RANGE: {filter_range} (")),
        "{text}"
    );
}

#[test]
fn ecppll_agrees_when_installed() {
    let Some(ecppll) = neurofab_boards::find_tool(&["ecppll", "yowasp-ecppll"]) else {
        eprintln!("ecppll not installed: skipped");
        return;
    };
    let b = Board::load("ulx3s-85f").unwrap();
    let out = std::process::Command::new(ecppll)
        .args(["-i", "25", "-o", "50"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let Pll::Ecp5 {
        clki_div,
        clkfb_div,
        clkop_div,
        ..
    } = b.pll
    else {
        unreachable!()
    };
    assert!(
        text.contains(&format!("Refclk divisor: {clki_div}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("Feedback divisor: {clkfb_div}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("clkout0 divisor: {clkop_div}\n")),
        "{text}"
    );
}

#[test]
fn load_errors_are_clear() {
    let e = Board::load("no-such-board").unwrap_err().to_string();
    assert!(
        e.contains("unknown board `no-such-board`") && e.contains("icebreaker"),
        "{e}"
    );

    let good = include_str!("../icebreaker.toml");
    let e = Board::parse("x.toml", &good.replace("divf = 63", "divf = 62")).unwrap_err();
    assert!(
        e.to_string()
            .contains("x.toml: pll: the divisors make 23625000 Hz"),
        "{e}"
    );
    let e = Board::parse(
        "x.toml",
        &good.replace("family = \"ice40\"", "family = \"ecp5\""),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("does not belong to family Ecp5"),
        "{e}"
    );
    let e = Board::parse("x.toml", &good.replace("pin = \"26\"", "pin = \"37\"")).unwrap_err();
    assert!(e.to_string().contains("pin 37 is used twice"), "{e}");
    let e = Board::parse("x.toml", &good.replace("[uart]", "[uart]\nparity = 1")).unwrap_err();
    assert!(
        e.to_string().contains("x.toml") && e.to_string().contains("parity"),
        "{e}"
    );
}

#[test]
fn wrappers_and_constraints_cover_every_pin() {
    for b in Board::all().unwrap() {
        let v = wrapper_verilog(&b, Inner::Core);
        let prim = match b.family {
            Family::Ice40 => {
                if matches!(b.pll, Pll::Ice40 { pad: true, .. }) {
                    "SB_PLL40_PAD"
                } else {
                    "SB_PLL40_CORE"
                }
            }
            Family::Ecp5 => "EHXPLLL",
            Family::Artix7 => "MMCME2_BASE",
        };
        assert!(v.contains(prim), "{}", b.name);
        assert!(v.contains("top core (") && v.contains(".uart_error(core_uart_error)"));
        assert!(v.contains("endmodule"));
        let (_, cons) = constraints(&b);
        for (port, pin, _) in pin_map(&b) {
            assert!(
                v.contains(&format!("output wire {port}"))
                    || v.contains(&format!("input wire {port}"))
            );
            let expect = match b.family {
                Family::Ice40 => format!("set_io {port} {pin}\n"),
                Family::Ecp5 => format!("LOCATE COMP \"{port}\" SITE \"{pin}\";"),
                Family::Artix7 => {
                    format!("PACKAGE_PIN {pin} IOSTANDARD LVCMOS33 }} [get_ports {{ {port} }}]")
                }
            };
            assert!(cons.contains(&expect), "{}: {expect}\n{cons}", b.name);
        }
    }
}

#[test]
fn flash_dry_run_commands() {
    let bit = Path::new("/tmp/out/neurofab_board.bin");
    let cmd = |name: &str, file: &str| {
        command_line(&flash_command(&Board::load(name).unwrap(), Path::new(file)))
    };
    assert_eq!(
        cmd("icebreaker", "/tmp/out/neurofab_board.bin"),
        "iceprog /tmp/out/neurofab_board.bin"
    );
    assert_eq!(
        command_line(&flash_command(
            &Board::load("ice40-hx8k-breakout").unwrap(),
            bit
        )),
        "iceprog /tmp/out/neurofab_board.bin"
    );
    assert_eq!(
        cmd("ulx3s-85f", "a/neurofab_board.bit"),
        "openFPGALoader --board ulx3s a/neurofab_board.bit"
    );
    assert_eq!(
        cmd("ulx3s-25f", "a.bit"),
        "openFPGALoader --board ulx3s a.bit"
    );
    assert_eq!(
        cmd("cmod-a7-35t", "b.bit"),
        "openFPGALoader --board cmoda7_35t b.bit"
    );
}

#[test]
fn clock_mismatch_is_refused() {
    let b = Board::load("ulx3s-85f").unwrap();
    let mut cfg = b.core_config(16, 4, 1);
    cfg.clock_hz = 25_000_000;
    let dir = tempfile::tempdir().unwrap();
    let e = build(&b, &cfg, dir.path(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ClockMismatch {
                pll_hz: 50_000_000,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn artix7_build_writes_consistent_vivado_files() {
    let b = Board::load("cmod-a7-35t").unwrap();
    let cfg = b.core_config(16, 4, 1);
    let dir = tempfile::tempdir().unwrap();
    let mut stages = vec![];
    let rep = build(&b, &cfg, dir.path(), &mut |p| stages.push(p.stage)).unwrap();
    let core = neurofab_hdl::generate_core(&cfg).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    // The exact generated Verilog, and its hash in the report.
    assert_eq!(read("neurofab_core.v"), core.verilog);
    assert_eq!(rep.verilog_hash, format!("{:016x}", core.verilog_hash));
    assert_eq!(rep.clock_hz, 50_000_000);
    assert!(rep.bitstream.is_none() && rep.fmax_mhz.is_none());
    // XDC: the pins of the board file, the 12 MHz clock.
    let xdc = read("neurofab_board.xdc");
    assert!(
        xdc.contains("PACKAGE_PIN L17") && xdc.contains("create_clock -name clk_in -period 83.333")
    );
    assert!(xdc.contains("PACKAGE_PIN J17") && xdc.contains("PACKAGE_PIN J18"));
    // Tcl: the part, the files that exist, the wrapper top.
    let tcl = read("build.tcl");
    assert!(tcl.contains("set part xc7a35tcpg236-1"));
    assert!(tcl.contains("read_verilog { neurofab_core.v neurofab_board.v }"));
    assert!(
        tcl.contains("read_xdc neurofab_board.xdc")
            && tcl.contains("synth_design -top neurofab_board")
    );
    let wrapper = read("neurofab_board.v");
    assert!(
        wrapper.contains("module neurofab_board") && wrapper.contains(".CLKFBOUT_MULT_F(50.0)")
    );
    assert!(wrapper.contains(".CLKOUT0_DIVIDE_F(12.0)") && wrapper.contains("BUFGCE"));
    // Reports written, cycle model filled in (formula: docs/hdl.md).
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(json["verilog_hash"], rep.verilog_hash);
    assert!(read("report.txt").contains("vivado -mode batch -source build.tcl"));
    let expect = neurofab_hdl::generate::expected_step_cycles(&cfg, 0.015, 0.015, true);
    assert_eq!(rep.cycles_per_step_stdp, expect);
    assert_eq!(stages.first(), Some(&neurofab_boards::Stage::Generate));
    assert_eq!(stages.last(), Some(&neurofab_boards::Stage::Done));
}

/// The LED stretcher, simulated by Verilator (`--binary`) with a 3-bit prescaler: every
/// pulse shows from the next cycle for at least 2^3 cycles, and a channel with no pulse
/// in the last 2^4 + 1 cycles is dark. Channels are independent.
#[test]
fn led_stretcher_shows_each_pulse_for_one_to_two_periods() {
    use neurofab_boards::wrapper::LED_STRETCH;
    neurofab_hdl::lint_with_verilator(LED_STRETCH, "neurofab_led_stretch").unwrap();
    const CYCLES: usize = 400;
    // A fixed pseudo-random schedule: sparse single pulses, bursts and long gaps.
    let mut seed = 0x2545_f491_u32;
    let pulses: Vec<u8> = (0..CYCLES)
        .map(|t| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let quiet = (t / 50) % 2 == 1; // every other 50-cycle window is silent
            if quiet || !seed.is_multiple_of(9) {
                0
            } else {
                (seed >> 8) as u8 & 7
            }
        })
        .collect();
    let mut tb = String::from(
        "module tb;\n  reg clk = 0;\n  reg [2:0] pulse = 0;\n  wire [2:0] show;\n  integer t;\n\
         \x20 neurofab_led_stretch #(.BITS(3)) dut (.clock(clk), .pulse(pulse), .show(show));\n\
         \x20 initial begin\n    for (t = 0; t < ",
    );
    tb.push_str(&format!("{CYCLES}; t = t + 1) begin\n      case (t)\n"));
    for (t, p) in pulses.iter().enumerate().filter(|(_, p)| **p != 0) {
        tb.push_str(&format!("        {t}: pulse = 3'd{p};\n"));
    }
    tb.push_str(
        "        default: pulse = 3'd0;\n      endcase\n      #5 clk = 1;\n      #5 clk = 0;\n\
         \x20     $display(\"%0d %0d\", t, show);\n    end\n    $finish;\n  end\nendmodule\n",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stretch.v"), LED_STRETCH).unwrap();
    std::fs::write(dir.path().join("tb.v"), tb).unwrap();
    let build = std::process::Command::new("verilator")
        .args(["--binary", "--timing", "--top-module", "tb", "-o", "tb_bin"])
        .args(["tb.v", "stretch.v"])
        .current_dir(dir.path())
        .output()
        .expect("verilator (scripts/install-tools.sh installs it)");
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let run = std::process::Command::new(dir.path().join("obj_dir/tb_bin"))
        .output()
        .unwrap();
    assert!(run.status.success());
    // show[t]: the outputs after the clock edge of cycle t (which saw pulse[t]).
    let show: Vec<u8> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(show.len(), CYCLES);
    let (mut lit, mut dark) = (0, 0);
    for k in 0..3 {
        let pulsed = |t: usize| pulses[t] >> k & 1 == 1;
        for (t, shown) in show.iter().enumerate() {
            let on = shown >> k & 1 == 1;
            // A pulse at c shows at c .. c + 7 at least.
            if (t.saturating_sub(7)..=t).any(pulsed) {
                assert!(on, "channel {k}, cycle {t}: a recent pulse is not shown");
                lit += 1;
            }
            // Nothing in c .. c + 16 keeps it lit longer than two periods.
            if !(t.saturating_sub(16)..=t).any(pulsed) {
                assert!(
                    !on,
                    "channel {k}, cycle {t}: shown with no pulse in 17 cycles"
                );
                dark += 1;
            }
        }
    }
    assert!(
        lit > 200 && dark > 200,
        "schedule exercises both: {lit} lit, {dark} dark"
    );
}
