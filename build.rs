//! Link flags for the `weft` binary.
//!
//! Packed relative relocations (DT_RELR): a position-independent executable keeps its address
//! randomisation, but its ~45,000 relative relocations take about 20 KB instead of 1.1 MB
//! (24 bytes each in `.rela.dyn`). Needs GNU ld ≥ 2.38 or lld ≥ 15 and, at run time, glibc
//! ≥ 2.36 (Debian 12, Ubuntu 22.10, Fedora 37). `WEFT_PLAIN_RELOCS=1` builds without it, for
//! older systems.

fn main() {
    println!("cargo:rerun-if-env-changed=WEFT_PLAIN_RELOCS");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && std::env::var_os("WEFT_PLAIN_RELOCS").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
