//! The generator's configuration: every knob once, with its default, its range
//! and the reason for the default (in the manner of wasm-smith's `Config`), and
//! one weight per instruction family. [`Config::arbitrary`] draws a configuration
//! from the input for swarm testing: each program may leave whole families out
//! and exercise the rest harder.

use arbitrary::Unstructured;
use serde::Serialize;

/// One knob of [`Config`]: its name, default, range and documentation.
#[derive(Clone, Copy, Debug)]
pub struct Knob {
    /// The field's name (also the `--set NAME=VALUE` name).
    pub name: &'static str,
    /// Its default.
    pub default: u32,
    /// The least value it takes.
    pub lo: u32,
    /// The greatest value it takes.
    pub hi: u32,
    /// How swarm testing draws it.
    pub kind: Kind,
    /// What it does and why the default is what it is.
    pub doc: &'static str,
}

/// How [`Config::arbitrary`] draws a knob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// In its whole range (a weight: or 0, leaving its family out).
    Drawn,
    /// A size of programs or functions: its value bounds what a check costs, so
    /// it is drawn at or below the configured value.
    Budget,
    /// Never drawn: it keeps the configured value.
    Fixed,
}

macro_rules! define_config {
    ( $( $(#[doc = $doc:literal])+ $name:ident : $default:literal in $lo:literal ..= $hi:literal $( $kind:ident )?, )* ) => {
        /// What the generator does, and how often (see [`Config::KNOBS`]).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        pub struct Config {
            $( $(#[doc = $doc])+ pub $name: u32, )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $name: $default, )* }
            }
        }

        impl Config {
            /// Every knob, in declaration order.
            pub const KNOBS: &'static [Knob] = &[
                $( Knob {
                    name: stringify!($name),
                    default: $default,
                    lo: $lo,
                    hi: $hi,
                    kind: define_config!(@kind $($kind)?),
                    doc: concat!($($doc),+),
                }, )*
            ];

            /// The value of the knob `name`.
            pub fn get(&self, name: &str) -> Option<u32> {
                match name {
                    $( stringify!($name) => Some(self.$name), )*
                    _ => None,
                }
            }

            fn slot(&mut self, name: &str) -> Option<&mut u32> {
                match name {
                    $( stringify!($name) => Some(&mut self.$name), )*
                    _ => None,
                }
            }
        }
    };
    (@kind budget) => { Kind::Budget };
    (@kind fixed) => { Kind::Fixed };
    (@kind) => { Kind::Drawn };
}

define_config! {
    /// Functions besides the entry `@f0` a program may have (it has 1 to this + 1).
    /// Each calls only later ones, so the call graph is acyclic; every function
    /// reached is compiled four times (once per build), so few.
    functions: 2 in 0..=6 budget,
    /// Parameters a generated function may have (0 to this), of any type both
    /// engines support: ints of every width, float, double, references, internal
    /// references, pointers, function references, structs and arrays by value.
    max_params: 8 in 0..=8,
    /// Results a generated function may have (0 to this).
    max_results: 3 in 0..=3,
    /// Blocks on a function's forward spine (1 to this), besides the blocks that
    /// loops, exception clauses and throws add.
    blocks: 4 in 1..=6 budget,
    /// Statements per block (1 to this); a statement is a few instructions.
    statements: 5 in 1..=10 budget,
    /// Argument vectors each program runs with (on the model and on every build):
    /// executions multiply while compile time, the most of a check, does not.
    /// Swarm testing leaves it as it is: fewer runs of the same program only
    /// test less.
    inputs: 8 in 1..=16 fixed,
    /// Instructions a function may hold before no more statements are added
    /// (callbacks a third of it): compile time is about linear in it, and the
    /// fast VM compiles every program four times.
    max_insts: 30 in 8..=1000 budget,
    /// Values a function carries from block to block as block arguments.
    state: 5 in 1..=8,
    /// Cases of a SWITCH (1 to this).
    max_cases: 16 in 1..=32,
    /// Percent of functions whose divisions are not guarded against a zero
    /// divisor (they may trap, or continue exceptionally); fuzzgen found a
    /// per-function rate wastes fewer programs than a per-instruction one.
    unguarded: 12 in 0..=100,
    /// Percent of generated functions past the entry with throw sites.
    throwing: 50 in 0..=100,
    /// Percent of calls with an exception clause.
    catching: 40 in 0..=100,
    /// Percent of calls that run the callee on a new stack instead (spec/12):
    /// SWAPSTACK to a stack whose bottom function calls it and swaps back with
    /// its results (KILL_OLD PASS_VALUES) or its exception (KILL_OLD THROW_EXC).
    on_stack: 15 in 0..=100,
    /// Percent of calls (without an exception clause) that run the callee on a
    /// new thread instead, the caller waiting for it on a futex (race-free by
    /// construction): the results come back through global cells, and an
    /// exception is thrown on in the caller.
    on_thread: 10 in 0..=100,
    /// C functions of the campaign's random library a program may call (0 to this).
    c_functions: 3 in 0..=8,
    /// Per mille of counted loops that never end (the run runs out of fuel).
    endless: 20 in 0..=1000,
    /// Percent of accesses through a reference that may be NULL (`null_ref` traps).
    null_access: 2 in 0..=100,
    /// Weight of integer arithmetic and bitwise operators (ADD … XOR).
    w_int_arith: 10 in 0..=30,
    /// Weight of UDIV, SDIV, UREM, SREM.
    w_int_div: 5 in 0..=20,
    /// Weight of SHL, LSHR, ASHR.
    w_shift: 4 in 0..=20,
    /// Weight of comparisons (every predicate, of ints, floats, references, pointers).
    w_compare: 8 in 0..=20,
    /// Weight of conversions (every pair of every conversion operator).
    w_convert: 10 in 0..=20,
    /// Weight of FADD … FREM on float and double.
    w_float: 5 in 0..=20,
    /// Weight of SELECT, of every operand type.
    w_select: 4 in 0..=20,
    /// Weight of EXTRACTVALUE and INSERTVALUE on struct values.
    w_aggregate: 3 in 0..=20,
    /// Weight of heap and stack memory: NEW, NEWHYBRID, ALLOCA, addressing, LOAD, STORE.
    w_memory: 5 in 0..=20,
    /// Weight of global cells, loads and stores.
    w_global: 3 in 0..=20,
    /// Weight of CMPXCHG, ATOMICRMW and FENCE.
    w_atomic: 2 in 0..=20,
    /// Weight of pinning with PTR accesses and the fixed C library reading them.
    w_pin: 2 in 0..=20,
    /// Weight of CCALLs of the random C library (out-pointers and callbacks included).
    w_ccall: 4 in 0..=20,
    /// Weight of calls of later functions (direct and through function references).
    w_call: 3 in 0..=20,
    /// Weight of conditional THROWs (in functions with throw sites).
    w_throw: 3 in 0..=20,
    /// Weight of counted loops.
    w_loop: 2 in 0..=10,
    /// Weight of the rarer rules: recursion to the stack limit, allocation failure,
    /// client traps, thread exit, NULL calls, exposing and unexposing.
    w_rare: 2 in 0..=10,
    /// Weight of the prelude's coroutines: a generator of objects pulled on
    /// another stack and finished, killed, thrown at or left unfinished, and a
    /// pin held across swaps (spec/12).
    w_stack: 2 in 0..=10,
    /// Weight of traps the client answers (`difftest::client`): resumed with
    /// values of every scalar type, thrown at, ending the thread, popping the
    /// frame (on-stack replacement), and loading a new version of the function.
    w_client: 2 in 0..=6,
    /// Percent of functions past the entry with no version in the bundle: the
    /// client loads one at the first call (`client.undefined-function`). Each
    /// costs compilations while the program runs, so swarm testing draws it at
    /// or below this.
    lazy: 8 in 0..=100 budget,
    /// Percent of functions past the entry whose calls load a new version of the
    /// function while its frame is live (drawn at or below this, as `lazy`).
    redefine: 10 in 0..=100 budget,
}

impl Config {
    /// Sets the knob `name` to `value`, within its range.
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), String> {
        let knob = Config::KNOBS
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| format!("no generator knob is called `{name}`"))?;
        if value < knob.lo || value > knob.hi {
            return Err(format!(
                "{name} takes {}..={}, not {value}",
                knob.lo, knob.hi
            ));
        }
        if let Some(s) = self.slot(name) {
            *s = value;
        }
        Ok(())
    }

    /// Applies `NAME=VALUE` settings in order.
    pub fn with_settings(mut self, settings: &[String]) -> Result<Config, String> {
        for s in settings {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
            let v: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("`{v}` is not a number"))?;
            self.set(k.trim(), v)?;
        }
        Ok(self)
    }

    /// A configuration drawn from `u` around `base` (swarm testing): each weight is
    /// left out (0) a quarter of the time and otherwise drawn in its range; every
    /// other knob keeps its base value half the time and is drawn the other half,
    /// in its range, or for a size ([`Kind::Budget`]) at or below its base value,
    /// so that the configured sizes bound every program's cost; a
    /// [`Kind::Fixed`] knob keeps its value. A weight that `base` sets to 0 stays
    /// 0, so `--set w_x=0` excludes a family from every program.
    pub fn arbitrary(u: &mut Unstructured<'_>, base: &Config) -> Config {
        let mut c = base.clone();
        for k in Config::KNOBS {
            let Some(b) = base.get(k.name) else { continue };
            let v = if k.name.starts_with("w_") {
                if b == 0 || u.ratio(1u8, 4).unwrap_or(false) {
                    0
                } else {
                    u.int_in_range(1.max(k.lo)..=k.hi).unwrap_or(b)
                }
            } else if k.kind != Kind::Fixed && u.ratio(1u8, 2).unwrap_or(false) {
                let hi = if k.kind == Kind::Budget {
                    b.max(k.lo)
                } else {
                    k.hi
                };
                u.int_in_range(k.lo..=hi).unwrap_or(b)
            } else {
                b
            };
            if let Some(s) = c.slot(k.name) {
                *s = v;
            }
        }
        c
    }

    /// The table of knobs: name, value, default and range, `size` or `fixed` for
    /// a knob that swarm testing bounds or leaves, and the first sentence of the
    /// reason (`muni difftest --config`).
    pub fn table(&self) -> String {
        let mut s = String::new();
        for k in Config::KNOBS {
            let v = self.get(k.name).unwrap_or(k.default);
            let first = k.doc.split(". ").next().unwrap_or(k.doc).trim();
            let size = match k.kind {
                Kind::Budget => "size ",
                Kind::Fixed => "fixed ",
                Kind::Drawn => "",
            };
            s.push_str(&format!(
                "{:<14} {:>4}  (default {:>3}, {}..={})  {size}{}\n",
                k.name, v, k.default, k.lo, k.hi, first
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lie_in_their_ranges_and_settings_are_checked() {
        for k in Config::KNOBS {
            assert!(k.lo <= k.default && k.default <= k.hi, "{}", k.name);
        }
        let c = Config::default()
            .with_settings(&["w_float=0".into(), "functions=1".into()])
            .expect("valid settings");
        assert_eq!((c.w_float, c.functions), (0, 1));
        assert!(Config::default().set("functions", 99).is_err());
        assert!(Config::default().set("nonsense", 1).is_err());
    }

    #[test]
    fn a_drawn_configuration_stays_in_range_and_keeps_excluded_families_out() {
        // ...and within the base's sizes: no drawn program costs more than the
        // configured ones may.
        let base = Config::default()
            .with_settings(&["w_ccall=0".into()])
            .expect("valid");
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut u = Unstructured::new(&bytes);
        for _ in 0..50 {
            let c = Config::arbitrary(&mut u, &base);
            assert_eq!(c.w_ccall, 0);
            for k in Config::KNOBS {
                let v = c.get(k.name).expect("knob");
                assert!(k.lo <= v && v <= k.hi, "{} = {v}", k.name);
                match k.kind {
                    Kind::Budget => assert!(v <= base.get(k.name).expect("knob"), "{}", k.name),
                    Kind::Fixed => assert_eq!(v, base.get(k.name).expect("knob"), "{}", k.name),
                    Kind::Drawn => {}
                }
            }
        }
    }
}
