//! Builds the Verilator models of the designs listed by `neurofab_hdl::sim_models()`.
//!
//! For every model `<name>`:
//! 1. write its Verilog to `$OUT_DIR/<name>.v`;
//! 2. `verilator --cc --trace ... --prefix V<name> -Mdir $OUT_DIR/obj_<name>`;
//! 3. compile the generated C++ plus a per-model copy of the shim (`csrc/nf_shim.inc`)
//!    into `libnf_<name>.a` with the `cc` crate.
//!
//! The Verilator runtime (`verilated.cpp`, `verilated_vcd_c.cpp`, `verilated_threads.cpp`)
//! is compiled once into `libnf_verilated.a`. A content hash (Verilog, flags, shim,
//! Verilator version) skips steps 2–3 when nothing changed.
//!
//! Then `$OUT_DIR/rtl_models.rs` is written: the `extern "C"` declarations and a table
//! of the built models, included by `src/rtl/ffi.rs`. If Verilator is missing or
//! fails, the build does not fail: a `cargo::warning` is printed, the table is empty
//! (or lacks the failed model), and `neurofab_sim::rtl` returns `RtlError::NotBuilt`.
//! The cfg `neurofab_verilator` is set when Verilator and its runtime are usable.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use neurofab_hdl::SimModel;

const NOT_FOUND: &str =
    "Verilator not found: RTL models are not built; run scripts/install-tools.sh";

/// Bump to force a rebuild of every cached model (e.g. when the flags below change shape).
const CACHE_VERSION: &str = "nf-rtl-1";

const SHIM: &str = "csrc/nf_shim.inc";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(neurofab_verilator)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={SHIM}");
    println!("cargo::rerun-if-env-changed=NEUROFAB_VERILATOR");
    println!("cargo::rerun-if-env-changed=VERILATOR_ROOT");
    // neurofab-hdl is a build-dependency: cargo reruns this script whenever it changes.

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    println!("cargo::rerun-if-env-changed=NEUROFAB_RTL_MODELS");
    let mut models = neurofab_hdl::sim_models();
    // NEUROFAB_RTL_MODELS=loopback,core builds only these (the others report NotBuilt).
    let mut excluded = Vec::new();
    if let Ok(only) = env::var("NEUROFAB_RTL_MODELS") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        let (keep, drop): (Vec<_>, Vec<_>) = models
            .into_iter()
            .partition(|m| only.contains(&m.name.as_str()));
        models = keep;
        excluded = drop
            .into_iter()
            .map(|m| {
                let why = format!("RTL model `{}` excluded by NEUROFAB_RTL_MODELS", m.name);
                (m.name, why)
            })
            .collect();
    }

    let status = match Verilator::find() {
        Ok(v) => build_all(&v, &models, &out, &manifest),
        Err(reason) => {
            watch_path_for_verilator();
            Err(reason)
        }
    };

    let (built, mut failed, not_built): (Vec<&SimModel>, Vec<(String, String)>, String) =
        match status {
            Ok((built, failed)) => (built, failed, String::new()),
            Err(reason) => {
                println!("cargo::warning={}", one_line(&reason));
                let failed = models
                    .iter()
                    .map(|m| (m.name.clone(), reason.clone()))
                    .collect();
                (Vec::new(), failed, reason)
            }
        };
    let runtime_ok = not_built.is_empty();
    failed.extend(excluded);
    for (_, reason) in &failed {
        if runtime_ok && !reason.contains("NEUROFAB_RTL_MODELS") {
            println!("cargo::warning={}", one_line(reason));
        }
    }
    if runtime_ok {
        println!("cargo::rustc-cfg=neurofab_verilator");
        for m in &built {
            println!("cargo::rustc-link-lib=static=nf_{}", m.name);
        }
        println!(
            "cargo::rustc-link-search=native={}",
            runtime_dir(&out).display()
        );
        println!("cargo::rustc-link-lib=static=nf_verilated");
        println!("cargo::rustc-link-lib=dylib=stdc++");
        println!("cargo::rustc-link-lib=dylib=pthread");
    }
    fs::write(
        out.join("rtl_models.rs"),
        rust_table(&built, &failed, &not_built),
    )
    .expect("write rtl_models.rs");
}

/// When Verilator is missing, rerun once it appears on PATH (installing it changes the
/// directory's contents; cargo compares the newest mtime inside each directory).
fn watch_path_for_verilator() {
    println!("cargo::rerun-if-env-changed=PATH");
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            if dir.is_absolute() && dir.is_dir() {
                println!("cargo::rerun-if-changed={}", dir.display());
            }
        }
    }
}

struct Verilator {
    bin: PathBuf,
    version: String,
    root: PathBuf,
}

impl Verilator {
    fn find() -> Result<Verilator, String> {
        let bin = env::var_os("NEUROFAB_VERILATOR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("verilator"));
        let version = match Command::new(&bin).arg("--version").output() {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
            Ok(o) => {
                return Err(format!(
                    "{NOT_FOUND} (`{} --version` failed: {})",
                    bin.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ))
            }
            Err(_) => return Err(NOT_FOUND.to_string()),
        };
        let root = match env::var_os("VERILATOR_ROOT") {
            Some(r) => PathBuf::from(r),
            None => {
                let o = Command::new(&bin)
                    .args(["--getenv", "VERILATOR_ROOT"])
                    .output()
                    .map_err(|e| format!("{NOT_FOUND} (verilator --getenv: {e})"))?;
                PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
            }
        };
        if !root.join("include/verilated.cpp").is_file() {
            return Err(format!(
                "{NOT_FOUND} (no include/verilated.cpp under VERILATOR_ROOT={})",
                root.display()
            ));
        }
        if let Ok(p) = which(&bin) {
            println!("cargo::rerun-if-changed={}", p.display());
        }
        Ok(Verilator { bin, version, root })
    }

    fn include(&self) -> PathBuf {
        self.root.join("include")
    }
}

fn which(bin: &Path) -> Result<PathBuf, ()> {
    if bin.components().count() > 1 {
        return Ok(bin.to_path_buf());
    }
    let path = env::var_os("PATH").ok_or(())?;
    env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
        .ok_or(())
}

fn runtime_dir(out: &Path) -> PathBuf {
    out.join("verilated_runtime")
}

type BuildResult<'a> = Result<(Vec<&'a SimModel>, Vec<(String, String)>), String>;

/// Builds every model, then the runtime. `Err` only if the runtime cannot be built
/// (then nothing is usable); a failing model is reported in the second list.
fn build_all<'a>(
    v: &Verilator,
    models: &'a [SimModel],
    out: &Path,
    manifest: &Path,
) -> BuildResult<'a> {
    let shim_text = fs::read_to_string(manifest.join(SHIM)).map_err(|e| format!("{SHIM}: {e}"))?;
    let mut built = Vec::new();
    let mut failed = Vec::new();
    let mut runtime_files: Vec<String> = Vec::new();
    for m in models {
        match build_model(v, m, out, manifest, &shim_text) {
            Ok(globals) => {
                for g in globals {
                    if !runtime_files.contains(&g) {
                        runtime_files.push(g);
                    }
                }
                built.push(m);
            }
            Err(e) => failed.push((
                m.name.clone(),
                format!("RTL model `{}` is not built: {e}", m.name),
            )),
        }
    }
    // The runtime every model needs (from VM_GLOBAL_* in V<name>_classes.mk); the same
    // set whenever --trace is on: verilated, verilated_vcd_c, verilated_threads.
    for f in ["verilated", "verilated_vcd_c", "verilated_threads"] {
        if !runtime_files.iter().any(|g| g == f) {
            runtime_files.push(f.to_string());
        }
    }
    runtime_files.retain(|f| v.include().join(format!("{f}.cpp")).is_file());
    runtime_files.sort();
    build_runtime(v, &runtime_files, out)?;
    Ok((built, failed))
}

fn verilator_args(m: &SimModel, mdir: &Path, vfile: &Path) -> Vec<String> {
    vec![
        "--cc".into(),
        "--top-module".into(),
        m.top_module.clone(),
        "-O3".into(),
        "--x-assign".into(),
        "fast".into(),
        "--x-initial".into(),
        "fast".into(),
        "-Wno-fatal".into(),
        "-Wno-lint".into(),
        "-Wno-style".into(),
        "--trace".into(),
        "--prefix".into(),
        format!("V{}", m.name),
        "-Mdir".into(),
        mdir.display().to_string(),
        vfile.display().to_string(),
    ]
}

/// Verilates and compiles one model into `$OUT_DIR/obj_<name>/libnf_<name>.a`.
/// Returns the runtime files (VM_GLOBAL_*) it needs.
fn build_model(
    v: &Verilator,
    m: &SimModel,
    out: &Path,
    manifest: &Path,
    shim_text: &str,
) -> Result<Vec<String>, String> {
    let vfile = out.join(format!("{}.v", m.name));
    let mdir = out.join(format!("obj_{}", m.name));
    let lib = mdir.join(format!("libnf_{}.a", m.name));
    let stamp = mdir.join("nf.stamp");
    let classes_mk = mdir.join(format!("V{}_classes.mk", m.name));
    let args = verilator_args(m, &mdir, &vfile);
    let shim_cpp = shim_wrapper(m);

    let mut h = Fnv::new();
    for part in [
        CACHE_VERSION,
        &v.version,
        &m.verilog,
        shim_text,
        &shim_cpp,
        &args.join(" "),
        &cxx_key(),
    ] {
        h.write(part.as_bytes());
        h.write(&[0]);
    }
    let hash = format!("{:016x}", h.0);

    if fs::read_to_string(&stamp).ok().as_deref() == Some(hash.as_str())
        && lib.is_file()
        && classes_mk.is_file()
    {
        println!("cargo::rustc-link-search=native={}", mdir.display());
        return Ok(mk_list(
            &fs::read_to_string(&classes_mk).unwrap_or_default(),
            &["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"],
        ));
    }

    let _ = fs::remove_dir_all(&mdir);
    fs::create_dir_all(&mdir).map_err(|e| format!("{}: {e}", mdir.display()))?;
    fs::write(&vfile, &m.verilog).map_err(|e| format!("{}: {e}", vfile.display()))?;
    let o = Command::new(&v.bin)
        .args(&args)
        .output()
        .map_err(|e| format!("running verilator: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let tail: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("%Error"))
            .take(5)
            .collect();
        return Err(format!(
            "verilator failed on {} ({}): {}",
            vfile.display(),
            o.status,
            if tail.is_empty() {
                err.trim().to_string()
            } else {
                tail.join(" | ")
            }
        ));
    }

    let mk =
        fs::read_to_string(&classes_mk).map_err(|e| format!("{}: {e}", classes_mk.display()))?;
    let sources = mk_list(
        &mk,
        &[
            "VM_CLASSES_FAST",
            "VM_CLASSES_SLOW",
            "VM_SUPPORT_FAST",
            "VM_SUPPORT_SLOW",
        ],
    );
    if sources.is_empty() {
        return Err(format!("{}: no VM_CLASSES_* entries", classes_mk.display()));
    }
    let defines = mk_defines(&mk);
    let shim_path = mdir.join(format!("nf_shim_{}.cpp", m.name));
    fs::write(&shim_path, &shim_cpp).map_err(|e| format!("{}: {e}", shim_path.display()))?;

    let mut b = cxx(v);
    b.include(&mdir)
        .include(manifest.join("csrc"))
        .out_dir(&mdir);
    for (k, val) in &defines {
        b.define(k, val.as_str());
    }
    for s in &sources {
        b.file(mdir.join(format!("{s}.cpp")));
    }
    b.file(&shim_path);
    b.try_compile(&format!("nf_{}", m.name))
        .map_err(|e| format!("compiling the C++ model: {e}"))?;

    fs::write(&stamp, &hash).map_err(|e| format!("{}: {e}", stamp.display()))?;
    println!("cargo::rustc-link-search=native={}", mdir.display());
    Ok(mk_list(&mk, &["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"]))
}

fn build_runtime(v: &Verilator, files: &[String], out: &Path) -> Result<(), String> {
    let dir = runtime_dir(out);
    let lib = dir.join("libnf_verilated.a");
    let stamp = dir.join("nf.stamp");
    let mut h = Fnv::new();
    for part in [
        CACHE_VERSION,
        &v.version,
        &v.root.display().to_string(),
        &files.join(" "),
        &cxx_key(),
    ] {
        h.write(part.as_bytes());
        h.write(&[0]);
    }
    let hash = format!("{:016x}", h.0);
    if fs::read_to_string(&stamp).ok().as_deref() == Some(hash.as_str()) && lib.is_file() {
        return Ok(());
    }
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut b = cxx(v);
    b.out_dir(&dir);
    for (k, val) in RUNTIME_DEFINES {
        b.define(k, *val);
    }
    for f in files {
        b.file(v.include().join(format!("{f}.cpp")));
    }
    b.try_compile("nf_verilated")
        .map_err(|e| format!("compiling the Verilator runtime: {e}"))?;
    fs::write(&stamp, &hash).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(())
}

/// The defines verilated.mk passes to every file (runtime side; trace support on).
const RUNTIME_DEFINES: &[(&str, &str)] = &[
    ("VM_COVERAGE", "0"),
    ("VM_SC", "0"),
    ("VM_TRACE", "1"),
    ("VM_TRACE_FST", "0"),
    ("VM_TRACE_VCD", "1"),
];

/// A `cc` build with the flags common to the runtime and the models.
fn cxx(v: &Verilator) -> cc::Build {
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("c++17")
        .opt_level(2)
        .debug(false)
        .warnings(false)
        .extra_warnings(false)
        .cargo_metadata(false)
        .include(v.include())
        .include(v.include().join("vltstd"))
        .flag("-w")
        .flag("-faligned-new");
    b
}

/// What else decides the compiled code (compiler and target), for the cache key.
fn cxx_key() -> String {
    ["TARGET", "CXX", "CXXFLAGS", "HOST"]
        .iter()
        .map(|k| format!("{k}={}", env::var(k).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The values of the make variables `vars` (`VAR += \` continuation lists).
fn mk_list(mk: &str, vars: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut active = false;
    for line in mk.lines() {
        let t = line.trim();
        if let Some((lhs, rhs)) = t.split_once("+=").or_else(|| t.split_once('=')) {
            if !line.starts_with(char::is_whitespace) {
                active = vars.contains(&lhs.trim());
                if active {
                    out.extend(
                        rhs.split_whitespace()
                            .filter(|w| *w != "\\")
                            .map(String::from),
                    );
                }
                continue;
            }
        }
        if active {
            if t.is_empty() {
                active = false;
                continue;
            }
            out.extend(
                t.split_whitespace()
                    .filter(|w| *w != "\\")
                    .map(String::from),
            );
        }
    }
    out
}

/// `-D` defines verilated.mk derives from V<name>_classes.mk.
fn mk_defines(mk: &str) -> Vec<(String, String)> {
    let mut defs: Vec<(String, String)> = RUNTIME_DEFINES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for line in mk.lines() {
        if let Some((k, val)) = line.split_once('=') {
            let k = k.trim();
            if let Some(d) = defs.iter_mut().find(|(n, _)| n == k) {
                d.1 = val.trim().to_string();
            }
        }
    }
    defs
}

fn shim_wrapper(m: &SimModel) -> String {
    let mut outs = String::new();
    for o in &m.status_outputs {
        write!(outs, " X({o})").unwrap();
    }
    format!(
        "// Generated by neurofab-sim's build.rs for model `{name}`.\n\
         #include \"V{name}.h\"\n\
         #define NF_CLASS V{name}\n\
         #define NF_FN(x) nf_{name}_##x\n\
         #define NF_STATUS_OUTPUTS(X){outs}\n\
         #include \"nf_shim.inc\"\n",
        name = m.name
    )
}

/// The Rust side: extern declarations and the model table (included by src/rtl/ffi.rs).
fn rust_table(built: &[&SimModel], failed: &[(String, String)], not_built: &str) -> String {
    let mut s = String::from("// Generated by neurofab-sim's build.rs. Do not edit.\n\n");
    for m in built {
        let n = &m.name;
        write!(
            s,
            "extern \"C\" {{\n\
             \x20   fn nf_{n}_create() -> *mut c_void;\n\
             \x20   fn nf_{n}_destroy(h: *mut c_void);\n\
             \x20   fn nf_{n}_set_rxd(h: *mut c_void, v: u8);\n\
             \x20   fn nf_{n}_txd(h: *mut c_void) -> u8;\n\
             \x20   fn nf_{n}_output(h: *mut c_void, idx: u32) -> u8;\n\
             \x20   fn nf_{n}_tick(h: *mut c_void, n: u64);\n\
             \x20   fn nf_{n}_tick_until_txd(h: *mut c_void, n: u64, level: u8) -> u64;\n\
             \x20   fn nf_{n}_trace_open(h: *mut c_void, path: *const c_char) -> c_int;\n\
             \x20   fn nf_{n}_trace_flush(h: *mut c_void);\n\
             \x20   fn nf_{n}_trace_close(h: *mut c_void);\n\
             }}\n\n"
        )
        .unwrap();
    }
    s.push_str("pub(crate) static MODELS: &[ModelEntry] = &[\n");
    for m in built {
        let n = &m.name;
        let outs: Vec<String> = m.status_outputs.iter().map(|o| format!("{o:?}")).collect();
        write!(
            s,
            "    ModelEntry {{\n\
             \x20       info: RtlModelInfo {{ name: {n:?}, clock_hz: {}, baud: {}, cycles_per_bit: {}, status_outputs: &[{}] }},\n\
             \x20       vt: VTable {{ create: nf_{n}_create, destroy: nf_{n}_destroy, set_rxd: nf_{n}_set_rxd, txd: nf_{n}_txd, output: nf_{n}_output, tick: nf_{n}_tick, tick_until_txd: nf_{n}_tick_until_txd, trace_open: nf_{n}_trace_open, trace_flush: nf_{n}_trace_flush, trace_close: nf_{n}_trace_close }},\n\
             \x20   }},\n",
            m.clock_hz,
            m.baud,
            m.cycles_per_bit,
            outs.join(", ")
        )
        .unwrap();
    }
    s.push_str("];\n\n");
    s.push_str("/// Models that were requested but not built, with the reason.\n");
    s.push_str("pub(crate) static NOT_BUILT: &[(&str, &str)] = &[\n");
    for (n, r) in failed {
        writeln!(s, "    ({n:?}, {:?}),", one_line(r)).unwrap();
    }
    s.push_str("];\n\n");
    writeln!(
        s,
        "/// Why no model is available at all (empty when Verilator was found).\n\
         pub(crate) static NOT_BUILT_REASON: &str = {:?};",
        one_line(not_built)
    )
    .unwrap();
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// FNV-1a 64: a stable content hash for the build cache.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
