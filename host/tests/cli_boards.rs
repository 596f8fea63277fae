//! `neurofab boards|build|fit|flash`, end to end through the binary: the board list, the
//! exact programmer commands, clear errors with their exit codes, and one small iCE40
//! loopback bitstream build (yosys, nextpnr-ice40, icepack must be installed).

mod common;
use common::{assert_clean_error, bin, run, text};

use std::path::Path;

const BOARDS: [&str; 5] = [
    "icebreaker",
    "ice40-hx8k-breakout",
    "ulx3s-85f",
    "ulx3s-25f",
    "cmod-a7-35t",
];

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn boards_lists_the_database() {
    let o = run(&["boards"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // Every board is a block starting with its name, in database order.
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .collect();
    assert_eq!(names, BOARDS, "{out}");
    // The iCEBreaker's block: device, PLL clock, baud, programmer, capacity, fit.
    let ice = out.split("\n\n").next().unwrap();
    for want in [
        "iCE40 up5k sg48",
        "24 MHz (PLL SB_PLL40_PAD from the 12 MHz oscillator)",
        "115200 baud",
        "iceprog neurofab_board.bin",
        "fpga-icestorm",
        "5280 LC",
        "30 BRAM",
        "4 SPRAM",
        "fit:",
    ] {
        assert!(ice.contains(want), "missing {want:?} in:\n{ice}");
    }
    assert!(
        out.contains("openFPGALoader --board ulx3s neurofab_board.bit"),
        "{out}"
    );
    assert!(
        out.contains("openFPGALoader --board cmoda7_35t neurofab_board.bit"),
        "{out}"
    );
    assert!(out.contains("ECP5 85k"), "{out}");
    // The fits recorded in the board files (measured by `neurofab fit`, docs/boards.md).
    assert!(out.contains("N = 512, M = 128, P = 4 at 50 MHz"), "{out}");
    assert!(out.contains("N = 224, M = 56, P = 4 at 50 MHz"), "{out}");
    assert!(
        out.contains("N = 256, M = 64, P = 1 at 24 MHz: 5076/5280 ICESTORM_LC"),
        "{out}"
    );
    assert!(out.contains("50 MHz (PLL MMCME2_BASE"), "{out}");
    assert!(out.contains("Vivado"), "{out}");

    // One board, and JSON.
    let o = run(&["boards", "ULX3S-25F"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.starts_with("ulx3s-25f\n") && !out.contains("icebreaker"),
        "{out}"
    );
    let o = run(&["boards", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BOARDS);
    assert_eq!(v[0]["pll"]["out_hz"], 24_000_000);
}

#[test]
fn help_teaches_the_board_commands() {
    let o = run(&["--help"]);
    let (out, _) = text(&o);
    for cmd in ["boards", "build", "fit", "flash"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "{cmd} missing in:\n{out}"
        );
    }
    assert!(out.contains("8  board build failed"), "{out}");
    assert!(out.contains("9  an external tool"), "{out}");
    for (cmd, want) in [
        ("boards", "neurofab boards --json"),
        ("build", "neurofab build --board icebreaker --loopback"),
        ("fit", "neurofab fit --board ulx3s-25f"),
        ("flash", "--dry-run"),
    ] {
        let o = run(&[cmd, "--help"]);
        let (out, _) = text(&o);
        assert!(o.status.success(), "{cmd}");
        assert!(
            out.contains("Examples:") && out.contains(want),
            "{cmd}:\n{out}"
        );
    }
}

#[test]
fn flash_dry_run_prints_the_exact_command() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("neurofab_board.bin");
    let o = run(&["flash", "--board", "icebreaker", p(&bin), "--dry-run"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(out, format!("iceprog {}\n", bin.display()));
    // The file does not exist: a note, but the command is still printed.
    assert!(err.contains("does not exist"), "{err}");

    let bit = dir.path().join("top.bit");
    std::fs::write(&bit, b"x").unwrap();
    let o = run(&["flash", "--board", "ulx3s-85f", "--dry-run", p(&bit)]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        out,
        format!("openFPGALoader --board ulx3s {}\n", bit.display())
    );
    assert!(err.is_empty(), "{err}");

    let o = run(&["flash", "--board", "cmod-a7-35t", "--dry-run", "a.bit"]);
    assert_eq!(text(&o).0, "openFPGALoader --board cmoda7_35t a.bit\n");
}

#[test]
fn flash_missing_bitstream_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_dir").join("neurofab_board.bin");
    let o = run(&["flash", "--board", "icebreaker", p(&missing)]);
    let err = assert_clean_error(&o, 4);
    assert!(err.contains(p(&missing)), "{err}");
    assert!(err.contains("bitstream"), "{err}");
    assert!(o.stdout.is_empty());
}

/// A fake programmer on PATH: the exact arguments reach it, its output is passed
/// through, its failure gives exit code 10; without it, exit code 9 and the install command.
#[test]
fn flash_runs_the_programmer_and_reports_its_failure() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    let bit = dir.path().join("neurofab_board.bit");
    std::fs::write(&bit, [0u8; 64]).unwrap();
    let args_file = dir.path().join("args.txt");
    let fake = tools.join("openFPGALoader");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\necho 'fake loader: no cable found'\nexit ${{FAKE_STATUS:-0}}\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

    let flash = |status: &str, path: &Path| {
        bin()
            .args(["flash", "--board", "ulx3s-25f", p(&bit)])
            .env("PATH", path)
            .env("FAKE_STATUS", status)
            .output()
            .unwrap()
    };
    let o = flash("0", &tools);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("fake loader: no cable found"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap().trim(),
        format!("--board ulx3s {}", bit.display())
    );

    // The command is announced on stderr, then the error follows the tool's output.
    let o = flash("3", &tools);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(10), "{err}");
    assert!(out.contains("fake loader: no cable found"), "{out}");
    assert!(
        err.starts_with(&format!(
            "running: openFPGALoader --board ulx3s {}\nerror: ",
            bit.display()
        )),
        "{err}"
    );
    let o = bin()
        .args(["flash", "--board", "ulx3s-25f", p(&bit), "--quiet"])
        .env("PATH", &tools)
        .env("FAKE_STATUS", "3")
        .output()
        .unwrap();
    let err = assert_clean_error(&o, 10);
    assert!(
        err.contains(&format!(
            "`openFPGALoader --board ulx3s {}` failed",
            bit.display()
        )),
        "{err}"
    );
    assert!(err.contains("exit status: 3"), "{err}");
    assert!(text(&o).0.contains("fake loader"));

    // No programmer anywhere: the message carries the Debian package.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = bin()
        .args(["flash", "--board", "icebreaker", p(&bit)])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let err = assert_clean_error(&o, 9);
    assert!(
        err.contains("`iceprog` not found") && err.contains("apt-get install fpga-icestorm"),
        "{err}"
    );
}

#[test]
fn unknown_board_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for args in [
        vec![
            "build",
            "--board",
            "de10-nano",
            "--loopback",
            "--out",
            p(&out),
        ],
        vec!["flash", "--board", "de10-nano", "x.bin", "--dry-run"],
        vec!["fit", "--board", "de10-nano", "--out", p(&out)],
        vec!["boards", "de10-nano"],
    ] {
        let o = run(&args);
        let err = assert_clean_error(&o, 2);
        assert!(err.contains("unknown board `de10-nano`"), "{err}");
        for b in BOARDS {
            assert!(err.contains(b), "{b} missing in {err}");
        }
    }
    assert!(!out.exists(), "nothing is written for an unknown board");
}

#[test]
fn build_refuses_a_clock_or_baud_the_board_does_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("core.toml");
    let out = dir.path().join("out");
    // `build --board icebreaker --config core.toml` with this file: the clean error text.
    let build_with = |core_toml: &str| {
        std::fs::write(&cfg, core_toml).unwrap();
        let o = run(&[
            "build",
            "--board",
            "icebreaker",
            "--config",
            p(&cfg),
            "--out",
            p(&out),
        ]);
        assert_clean_error(&o, 2)
    };

    let err = build_with("[core]\nneurons = 16\ninputs = 4\nclock_hz = 12000000\n");
    assert!(
        err.contains(&format!(
            "{}:4:12: clock_hz = 12000000 does not match board icebreaker",
            cfg.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("24000000 Hz core clock") && err.contains("set clock_hz = 24000000"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is built");

    let err = build_with("[core]\nneurons = 16\nclock_hz = 24000000\nbaud = 9600\n");
    assert!(
        err.contains(&format!(
            "{}:4:8: baud = 9600 does not match board icebreaker",
            cfg.display()
        )) && err.contains("115200 baud"),
        "{err}"
    );

    // Errors in the file point at file:line as for `generate`.
    let err = build_with("[core]\nneurons = 16\nlane = 2\n");
    assert!(err.contains(&format!("{}:3", cfg.display())), "{err}");

    // --loopback builds no core: sizes are refused.
    let o = run(&[
        "build",
        "--board",
        "icebreaker",
        "--loopback",
        "--neurons",
        "8",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn fit_refuses_bad_ranges_and_artix7() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    let o = run(&[
        "fit",
        "--board",
        "ulx3s-25f",
        "--min",
        "64",
        "--max",
        "32",
        "--out",
        p(&out),
    ]);
    let err = assert_clean_error(&o, 2);
    assert!(err.contains("--min 64 is larger than --max 32"), "{err}");
    let o = run(&[
        "fit",
        "--board",
        "ulx3s-25f",
        "--lanes",
        "3",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("lanes must be 1, 2, 4 or 8"));
    let o = run(&["fit", "--board", "cmod-a7-35t", "--out", p(&out)]);
    let err = assert_clean_error(&o, 2);
    assert!(err.contains("Artix-7") && err.contains("Vivado"), "{err}");
    assert!(!out.exists());
}

/// Artix-7: no open flow; the build writes the Vivado files and says so (no tools run).
#[test]
fn build_artix7_writes_vivado_files_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a7");
    let o = run(&[
        "build",
        "--board",
        "cmod-a7-35t",
        "--loopback",
        "--out",
        p(&out),
        "-q",
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        stdout.contains("no bitstream: cmod-a7-35t is an Artix-7 board"),
        "{stdout}"
    );
    assert!(
        stdout.contains("vivado -mode batch -source build.tcl"),
        "{stdout}"
    );
    assert!(stdout.contains("Fmax: not measured"), "{stdout}");
    for f in [
        "build.tcl",
        "neurofab_board.v",
        "neurofab_core.v",
        "report.txt",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(!out.join("neurofab_board.bit").exists());
}

/// The one end-to-end bitstream build: the iCEBreaker UART loopback through yosys,
/// nextpnr-ice40 and icepack.
#[test]
fn build_icebreaker_loopback_bitstream() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ice");
    let o = run(&[
        "build",
        "--board",
        "icebreaker",
        "--loopback",
        "--out",
        p(&out),
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "stdout:\n{stdout}\nstderr:\n{err}");
    // Progress: one line per stage on a non-terminal stderr.
    for stage in ["generate:", "synthesis:", "place and route:", "pack:"] {
        assert!(err.contains(stage), "{stage} missing in:\n{err}");
    }
    assert!(
        stdout.starts_with("neurofab build for icebreaker (up5k sg48)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("vs target 24.00 MHz: timing met"),
        "{stdout}"
    );
    assert!(stdout.contains("[ICESTORM_LC]"), "{stdout}");
    let bin = out.join("neurofab_board.bin");
    assert!(
        stdout.contains(&format!("\nbitstream: {}\n", bin.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "neurofab flash --board icebreaker {}",
            bin.display()
        )),
        "{stdout}"
    );
    assert!(
        std::fs::metadata(&bin).unwrap().len() > 100_000,
        "UP5K images are 104 kB"
    );
    let report = std::fs::read_to_string(out.join("report.txt")).unwrap();
    assert!(
        report.contains("timing met") && !report.contains("NOT MET"),
        "{report}"
    );
    assert!(out.join("report.json").is_file());

    // flash --dry-run on the built file.
    let o = run(&["flash", "--board", "icebreaker", "--dry-run", p(&bin)]);
    assert_eq!(text(&o).0, format!("iceprog {}\n", bin.display()));
}
