//! Makes the Rust side of the interface tables from the one description of the
//! API (api/muapi.txt), as include/muni.h is made (src/generate.rs).

#[path = "src/generate.rs"]
#[allow(dead_code)]
mod generate;

fn main() {
    println!("cargo::rerun-if-changed=api/muapi.txt");
    println!("cargo::rerun-if-changed=src/generate.rs");
    println!("cargo::rerun-if-changed=src/imp.rs");
    let text = std::fs::read_to_string("api/muapi.txt").expect("api/muapi.txt");
    let funcs = generate::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let imp = std::fs::read_to_string("src/imp.rs").expect("src/imp.rs");
    let tables = generate::rust_tables(&funcs, &generate::implemented(&imp))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("tables.rs"), tables).expect("write tables.rs");
}
