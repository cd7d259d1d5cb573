//! Link flags for the `weft` binary.
//!
//! Packed relative relocations (DT_RELR): a position-independent executable keeps its address
//! randomisation, but its ~45,000 relative relocations take about 20 KB instead of 1.1 MB
//! (24 bytes each in `.rela.dyn`). Needs GNU ld ≥ 2.38 or lld ≥ 15 and, at run time, glibc
//! ≥ 2.36 (Debian 12, Ubuntu 22.10, Fedora 37). `WEFT_PLAIN_RELOCS=1` builds without it, for
//! older systems.
//!
//! Function order (release builds on x86_64 Linux, where rustc links with its own lld): the
//! functions a start and the common pages run are placed together at the front of `.text`, in
//! the order `bench/order.py` saw them first run, listed in `bench/weft.order`. The kernel maps
//! an executable's pages 64 KB at a time around each one first touched, so with the code a
//! server runs scattered over the whole binary it kept about 10 MB of it mapped; together, it
//! keeps a few. Names the file lists that a build does not have (another compiler version,
//! changed code) are skipped: the order only degrades. `WEFT_NO_ORDER=1` links without it (a
//! linker other than lld); `WEFT_LINK_MAP=PATH` writes the linker's map, which `bench/order.py`
//! reads.

use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=WEFT_PLAIN_RELOCS");
    println!("cargo:rerun-if-env-changed=WEFT_NO_ORDER");
    println!("cargo:rerun-if-env-changed=WEFT_LINK_MAP");
    println!("cargo:rerun-if-changed=build.rs");
    let linux_gnu = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && env::var_os("WEFT_PLAIN_RELOCS").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if let Some(map) = env::var_os("WEFT_LINK_MAP") {
        println!(
            "cargo:rustc-link-arg-bin=weft=-Wl,-Map={}",
            std::path::Path::new(&map).display()
        );
        // The ordering file needs the names as the linker sees them.
        println!("cargo:rustc-link-arg-bin=weft=-Wl,--no-demangle");
    }
    // rustc links x86_64-unknown-linux-gnu with its bundled lld unless told to use another
    // linker; only lld knows --symbol-ordering-file.
    let own_lld = env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && env::var_os("RUSTC_LINKER").is_none()
        && !env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("link"));
    let release = env::var("PROFILE").as_deref() == Ok("release");
    let order = std::path::Path::new("bench/weft.order");
    println!("cargo:rerun-if-changed={}", order.display());
    if own_lld && release && order.exists() && env::var_os("WEFT_NO_ORDER").is_none() {
        let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        let path = std::path::Path::new(&dir).join(order);
        println!(
            "cargo:rustc-link-arg-bin=weft=-Wl,--symbol-ordering-file={}",
            path.display()
        );
        println!("cargo:rustc-link-arg-bin=weft=-Wl,--no-warn-symbol-ordering");
    }
}
