//! Link flags for the `weft` binary.
//!
//! Packed relative relocations (DT_RELR): a position-independent executable keeps its address
//! randomisation, but its ~45,000 relative relocations take about 20 KB instead of 1.1 MB
//! (24 bytes each in `.rela.dyn`). Needs GNU ld ≥ 2.38 or lld ≥ 15 and, at run time, glibc
//! ≥ 2.36 (Debian 12, Ubuntu 22.10, Fedora 37). `WEFT_PLAIN_RELOCS=1` builds without it, for
//! older systems.
//!
//! Function order (release builds on Linux whose linker is lld, as rustup's rustc uses on
//! x86_64): the functions a start and the common pages run are placed together at the front
//! of `.text`, in the order `bench/order.py` saw them first run, listed in `bench/weft.order`.
//! The kernel maps an executable's code 64 KB around each page first touched, so with the code
//! a server runs scattered over the whole binary it kept about 10 MB of it mapped; together,
//! it keeps under 3. Names the file lists that a build does not have (another compiler, a
//! changed Cargo.lock, another profile) are skipped: the order only degrades, and
//! `bench/order.py --check` measures how much still applies. Whether the linker takes the
//! option is tried on an empty program first; `WEFT_NO_ORDER=1` links without it.
//! `WEFT_LINK_MAP=/ABSOLUTE/PATH` writes the linker's map, which `bench/order.py` reads.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ORDER: &str = "bench/weft.order";

fn main() {
    println!("cargo:rerun-if-env-changed=WEFT_PLAIN_RELOCS");
    println!("cargo:rerun-if-env-changed=WEFT_NO_ORDER");
    println!("cargo:rerun-if-env-changed=WEFT_LINK_MAP");
    println!("cargo:rerun-if-changed={ORDER}");
    let linux = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let linux_gnu = linux && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && env::var_os("WEFT_PLAIN_RELOCS").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if let Some(map) = env::var_os("WEFT_LINK_MAP") {
        println!(
            "cargo:rustc-link-arg-bin=weft=-Wl,-Map={}",
            Path::new(&map).display()
        );
        // The ordering file needs the names as the linker sees them.
        println!("cargo:rustc-link-arg-bin=weft=-Wl,--no-demangle");
    }
    let release = env::var("PROFILE").as_deref() == Ok("release");
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join(ORDER);
    if !(linux && release && order.exists()) || env::var_os("WEFT_NO_ORDER").is_some() {
        return;
    }
    if links_with_ordering() {
        println!(
            "cargo:rustc-link-arg-bin=weft=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=weft=-Wl,--no-warn-symbol-ordering");
    } else {
        println!(
            "cargo:warning=linking without {ORDER}: this linker does not take \
             --symbol-ordering-file (lld does), so the server will map more of its code"
        );
    }
}

/// Links an empty program the way this build links, with an empty ordering file.
fn links_with_ordering() -> bool {
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let (src, list) = (out.join("probe.rs"), out.join("probe.order"));
    if std::fs::write(&src, "fn main() {}\n").is_err() || std::fs::write(&list, "").is_err() {
        return false;
    }
    let mut rustc = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    if let Ok(target) = env::var("TARGET") {
        rustc.arg("--target").arg(target);
    }
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        rustc.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    if let Some(linker) = env::var_os("RUSTC_LINKER") {
        let mut flag = std::ffi::OsString::from("-Clinker=");
        flag.push(linker);
        rustc.arg(flag);
    }
    rustc
        .arg(format!(
            "-Clink-arg=-Wl,--symbol-ordering-file={}",
            list.display()
        ))
        .arg("-o")
        .arg(out.join("probe"))
        .arg(&src)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
