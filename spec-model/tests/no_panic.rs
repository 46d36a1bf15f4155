//! Property: no input makes the parser, verifier or machine panic. Inputs are random
//! bytes, random token soup, and corpus programs with random edits (which keep most
//! of their structure, so many still verify and run).

use proptest::prelude::*;
use spec_model::{Budgets, Loaded, ModelError, load};

fn run_all(l: &Loaded) {
    let results = l.run_every_function(Budgets {
        fuel: 20_000,
        alloc: 1 << 20,
        stack: 64,
    });
    for (f, r) in results {
        if let Err(ModelError::Bug(b)) = r {
            panic!("model bug in {}: {b}", l.module.funcs[f as usize].name);
        }
    }
}

fn check(text: &str) {
    let diags = match load(&[("input.uir", text)]) {
        Ok(l) => {
            run_all(&l);
            l.unsupported
        }
        Err(e) => {
            // Rendering the diagnostics must not panic either.
            let _ = e.render();
            e.diags
        }
    };
    for d in diags {
        assert!(
            spec_model::diag::CODES.contains(&(d.code, d.severity)),
            "undocumented diagnostic {} {}",
            d.severity.word(),
            d.code
        );
    }
}

fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(t) = std::fs::read_to_string(f.path()) {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}

const TOKENS: &[&str] = &[
    ".typedef",
    ".funcsig",
    ".const",
    ".global",
    ".funcdecl",
    ".funcdef",
    ".expose",
    "@i64",
    "@T",
    "%x",
    "%entry",
    "%b",
    "#DEFAULT",
    "=",
    "<",
    ">",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ":",
    "->",
    "int",
    "<64>",
    "struct",
    "hybrid",
    "ref",
    "iref",
    "uptr",
    "ufuncptr",
    "funcref",
    "array",
    "VERSION",
    "ADD",
    "SDIV",
    "CALL",
    "RET",
    "BRANCH",
    "BRANCH2",
    "SWITCH",
    "EXC",
    "KEEPALIVE",
    "LOAD",
    "STORE",
    "PTR",
    "NEW",
    "NEWHYBRID",
    "ALLOCA",
    "GETIREF",
    "GETFIELDIREF",
    "TRAP",
    "THROW",
    "COMMINST",
    "@uvm.thread_exit",
    "CCALL",
    "0",
    "-1",
    "0x10",
    "1.5d",
    "nanf",
    "+infd",
    "bitsd(",
    "NULL",
    "EXTERN",
    "\"x\"",
    "\n",
    " ",
    "//",
    "SWAPSTACK",
    "<[",
    "]>",
    "-",
    "+",
    "007",
    "99999999999999999999",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Arbitrary bytes.
    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    /// Sequences of UIR tokens, which get much further into the parser.
    #[test]
    fn token_soup(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..120)) {
        check(&toks.join(" "));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Corpus programs with a few random deletions, duplications and replacements of
    /// lines and words.
    #[test]
    fn mutated_corpus(pick in any::<prop::sample::Index>(), edits in prop::collection::vec((0u8..4, any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::sample::select(TOKENS)), 1..4)) {
        let files = corpus();
        prop_assume!(!files.is_empty());
        let mut words: Vec<String> = pick.get(&files).split(' ').map(String::from).collect();
        for (kind, a, b, tok) in edits {
            if words.is_empty() { break; }
            let i = a.index(words.len());
            let j = b.index(words.len());
            match kind {
                0 => { words.remove(i); }
                1 => { let w = words[j].clone(); words.insert(i, w); }
                2 => words[i] = tok.to_string(),
                _ => words.swap(i, j),
            }
        }
        check(&words.join(" "));
    }
}
