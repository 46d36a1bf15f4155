//! The generator core: well-typed Mu IR programs free of undefined behaviour by
//! construction, read from an [`arbitrary::Unstructured`] (the libFuzzer front end
//! uses it directly, the proptest front end feeds it bytes that proptest shrinks).
//!
//! A program is a chain of functions `@f0 … @fN` (each calls only later ones, so
//! the call graph is acyclic), all `(i64 i64) -> (i64)`, plus a callback `@cb`
//! that C calls through a static `.expose`. Each function threads a state of four
//! `i64` and one `double` through a forward spine of blocks, with counted loops
//! (rarely endless, to run out of fuel), and statements drawn from every part of
//! the native interface: heap structs and hybrids, allocas, globals, pin/unpin
//! pairs with `PTR` loads and stores, CCALLs into the fixed C library
//! `difftest/clib/difftest.c` and libc with structs by value, callbacks, calls with
//! exception clauses, THROW. Division, remainders and indices are guarded (a zero
//! divisor becomes one, an index is reduced modulo the length) except at a small
//! per-function rate, where the program may trap. Every function returns a
//! checksum of its state, so most computations reach the outcome.

use arbitrary::Unstructured;
use std::fmt::Write;

/// A generated program and how to run it.
#[derive(Clone, Debug)]
pub struct Program {
    /// The bundle, in Mu IR text.
    pub text: String,
    /// The function to call.
    pub entry: String,
    /// Its arguments, as Mu literals.
    pub args: Vec<String>,
    /// Whether the fast VM compiles fuel checks (it must, if the model runs out of
    /// fuel; otherwise the generator decides, so that both compilations are tested).
    pub fuel_checks: bool,
}

/// The prelude every program shares: types, signatures, constants, globals and the
/// C library's symbols.
pub const PRELUDE: &str = r#".typedef @i1 = int<1>
.typedef @i8 = int<8>
.typedef @i16 = int<16>
.typedef @i32 = int<32>
.typedef @i64 = int<64>
.typedef @float = float
.typedef @double = double
.typedef @void = void
.typedef @refvoid = ref<@void>
.typedef @refi64 = ref<@i64>
.typedef @irefi64 = iref<@i64>
.typedef @ptri64 = uptr<@i64>
.typedef @S1 = struct<@i64 @i8>
.typedef @S2 = struct<@i32 @double>
.typedef @S3 = struct<@float @float @float>
.typedef @S4 = struct<@i64 @i64 @i64>
.typedef @refS1 = ref<@S1>
.typedef @irefS1 = iref<@S1>
.typedef @irefi8 = iref<@i8>
.typedef @H = hybrid<@i64 @i64>
.typedef @refH = ref<@H>
.typedef @irefH = iref<@H>
.typedef @ptrH = uptr<@H>
.typedef @A4 = array<@i64 4>
.typedef @HM = hybrid<@i32 @i8 @i16>
.typedef @refHM = ref<@HM>
.typedef @ptrHM = uptr<@HM>
.funcsig @hm_sig = (@ptrHM @i64) -> (@i64)
.typedef @hm_fp = ufuncptr<@hm_sig>
.const @dt_hm <@hm_fp> = EXTERN "dt_hm"
.typedef @irefA4 = iref<@A4>
.funcsig @sig = (@i64 @i64) -> (@i64)
.funcsig @cb_sig = (@i64) -> (@i64)
.typedef @cb_fp = ufuncptr<@cb_sig>
.funcsig @mix_sig = (@i64 @i64) -> (@i64)
.typedef @mix_fp = ufuncptr<@mix_sig>
.const @dt_mix <@mix_fp> = EXTERN "dt_mix"
.funcsig @fmix_sig = (@double @i64) -> (@double)
.typedef @fmix_fp = ufuncptr<@fmix_sig>
.const @dt_fmix <@fmix_fp> = EXTERN "dt_fmix"
.funcsig @s1_sig = (@S1 @i64) -> (@i64)
.typedef @s1_fp = ufuncptr<@s1_sig>
.const @dt_s1 <@s1_fp> = EXTERN "dt_s1"
.funcsig @s2_sig = (@S2) -> (@i64)
.typedef @s2_fp = ufuncptr<@s2_sig>
.const @dt_s2 <@s2_fp> = EXTERN "dt_s2"
.funcsig @s3_sig = (@S3) -> (@double)
.typedef @s3_fp = ufuncptr<@s3_sig>
.const @dt_s3 <@s3_fp> = EXTERN "dt_s3"
.funcsig @s4_sig = (@S4) -> (@i64)
.typedef @s4_fp = ufuncptr<@s4_sig>
.const @dt_s4 <@s4_fp> = EXTERN "dt_s4"
.funcsig @mk1_sig = (@i64) -> (@S1)
.typedef @mk1_fp = ufuncptr<@mk1_sig>
.const @dt_mk1 <@mk1_fp> = EXTERN "dt_mk1"
.funcsig @mk2_sig = (@i64) -> (@S2)
.typedef @mk2_fp = ufuncptr<@mk2_sig>
.const @dt_mk2 <@mk2_fp> = EXTERN "dt_mk2"
.funcsig @mk4_sig = (@i64) -> (@S4)
.typedef @mk4_fp = ufuncptr<@mk4_sig>
.const @dt_mk4 <@mk4_fp> = EXTERN "dt_mk4"
.funcsig @split_sig = (@i64 @i64 @i64 @i64 @i64 @S1 @i64) -> (@i64)
.typedef @split_fp = ufuncptr<@split_sig>
.const @dt_split <@split_fp> = EXTERN "dt_split"
.funcsig @neg8_sig = (@i8) -> (@i8)
.typedef @neg8_fp = ufuncptr<@neg8_sig>
.const @dt_neg8 <@neg8_fp> = EXTERN "dt_neg8"
.funcsig @inc16_sig = (@i16) -> (@i16)
.typedef @inc16_fp = ufuncptr<@inc16_sig>
.const @dt_inc16 <@inc16_fp> = EXTERN "dt_inc16"
.funcsig @sum_sig = (@ptri64 @i64) -> (@i64)
.typedef @sum_fp = ufuncptr<@sum_sig>
.const @dt_sum <@sum_fp> = EXTERN "dt_sum"
.funcsig @fill_sig = (@ptri64 @i64 @i64) -> ()
.typedef @fill_fp = ufuncptr<@fill_sig>
.const @dt_fill <@fill_fp> = EXTERN "dt_fill"
.funcsig @apply_sig = (@cb_fp @i64) -> (@i64)
.typedef @apply_fp = ufuncptr<@apply_sig>
.const @dt_apply <@apply_fp> = EXTERN "dt_apply"
.funcsig @labs_sig = (@i64) -> (@i64)
.typedef @labs_fp = ufuncptr<@labs_sig>
.const @labs <@labs_fp> = EXTERN "labs"
.const @Z <@i64> = 0
.const @ONE <@i64> = 1
.const @K0 <@i64> = 0
.const @K1 <@i64> = 1
.const @K2 <@i64> = -1
.const @K3 <@i64> = 3
.const @K4 <@i64> = 255
.const @K5 <@i64> = -9223372036854775808
.const @K6 <@i64> = 9223372036854775807
.const @K7 <@i64> = 1000003
.const @K8 <@i64> = 64
.const @K9 <@i64> = -77
.const @K15 <@i64> = 15
.const @LEN1 <@i64> = 1
.const @LEN3 <@i64> = 3
.const @LEN5 <@i64> = 5
.const @LEN8 <@i64> = 8
.const @D0 <@double> = 0.5d
.const @D1 <@double> = -1.25d
.const @D2 <@double> = 3.0d
.const @D3 <@double> = 1.0e10d
.const @D4 <@double> = nand
.const @D5 <@double> = -0.0d
.const @F1 <@float> = 1.5f
.const @F2 <@float> = -2.0f
.const @B0 <@i8> = 5
.const @COOKIE <@i64> = 42
.const @NULLI <@irefi64> = NULL
.const @S1C <@S1> = {@K7 @B0}
.const @S3C <@S3> = {@F1 @F2 @F1}
.global @g_i <@i64>
.global @g_d <@double>
.global @g_s <@S1>
.global @g_h <@refH>
.global @g_a <@A4>
.funcdef @cb VERSION %v1 <@cb_sig> {
    %entry(<@i64> %x):
        %c = COMMINST @uvm.native.get_cookie
        %y = MUL <@i64> %x @K3
        %z = ADD <@i64> %y %c
        %n = LOAD <@i64> @g_i
        %n1 = ADD <@i64> %n @ONE
        STORE <@i64> @g_i %n1
        RET %z
}
.expose @cb_native = @cb #DEFAULT @COOKIE
.funcdef @cb_throw VERSION %v1 <@cb_sig> {
    %entry(<@i64> %x):
        %o = NEW <@i64>
        THROW %o
}
.expose @cb_throw_native = @cb_throw #DEFAULT @COOKIE
.typedef @fref = funcref<@sig>
.const @NULLF <@fref> = NULL
.const @NULLV <@refvoid> = NULL
.const @BIG <@i64> = 1000000
.funcdef @rec VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %acc):
        %c = SLE <@i64> %n @Z
        BRANCH2 %c %done(%acc) %more(%n %acc)
    %done(<@i64> %a):
        RET %a
    %more(<@i64> %n <@i64> %acc):
        %n1 = SUB <@i64> %n @ONE
        %a1 = ADD <@i64> %acc %n
        %r = CALL <@sig> @rec (%n1 %a1)
        RET %r
}
.funcdef @alloc_some VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %k):
        %a = NEW <@S1>
        %b = NEWHYBRID <@H @i64> @LEN3
        %r = ADD <@i64> %n %k
        RET %r
}
.funcdef @rec_exc VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %acc):
        %c = SLE <@i64> %n @Z
        BRANCH2 %c %done(%acc) %more(%n %acc)
    %done(<@i64> %a):
        RET %a
    %more(<@i64> %n <@i64> %acc):
        %n1 = SUB <@i64> %n @ONE
        %a1 = ADD <@i64> %acc %n
        %r = CALL <@sig> @rec_exc (%n1 %a1) EXC(%ok(%r) %full(%acc))
    %ok(<@i64> %x):
        RET %x
    %full(<@i64> %y) [%e]:
        RET %y
}
.funcdef @fibish VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %k):
        %c = SLT <@i64> %n @K3
        BRANCH2 %c %base(%k) %more(%n %k)
    %base(<@i64> %a):
        RET %a
    %more(<@i64> %n <@i64> %k):
        %n1 = SUB <@i64> %n @ONE
        %n2 = SUB <@i64> %n @K3
        %x = CALL <@sig> @fibish (%n1 %k)
        %y = CALL <@sig> @fibish (%n2 %x)
        %s = ADD <@i64> %x %y
        RET %s
}
.funcdef @trec VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %acc):
        %c = SLE <@i64> %n @Z
        BRANCH2 %c %done(%acc) %more(%n %acc)
    %done(<@i64> %a):
        RET %a
    %more(<@i64> %n <@i64> %acc):
        %n1 = SUB <@i64> %n @ONE
        %a1 = XOR <@i64> %acc %n
        TAILCALL <@sig> @trec (%n1 %a1)
}
"#;

/// What a generated function may do, decided once per function (swarm testing:
/// each function leaves some features out, so the rest get exercised harder).
#[derive(Clone, Copy, Debug)]
struct Swarm {
    memory: bool,
    native: bool,
    floats: bool,
    calls: bool,
    /// Percent of divisions left unguarded (may trap).
    unguarded: u8,
}

struct FnGen<'a, 'b> {
    u: &'a mut Unstructured<'b>,
    out: String,
    /// This function's index and how many functions the program has.
    index: usize,
    count: usize,
    swarm: Swarm,
    /// The state's current operands: four i64 and one double.
    xs: [String; 4],
    d: String,
    next: usize,
}

const INT_CONSTS: [&str; 10] = [
    "@K0", "@K1", "@K2", "@K3", "@K4", "@K5", "@K6", "@K7", "@K8", "@K9",
];
const DOUBLE_CONSTS: [&str; 6] = ["@D0", "@D1", "@D2", "@D3", "@D4", "@D5"];

impl FnGen<'_, '_> {
    fn int(&mut self, lo: usize, hi: usize) -> usize {
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    fn chance(&mut self, percent: u8) -> bool {
        self.u.int_in_range(0..=99u8).unwrap_or(100) < percent
    }

    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    /// `N` fresh value names, numbered in order.
    fn fresh_n<const N: usize>(&mut self) -> [String; N] {
        std::array::from_fn(|_| self.fresh())
    }

    fn x(&mut self) -> String {
        let i = self.int(0, 3);
        self.xs[i].clone()
    }

    fn operand(&mut self) -> String {
        if self.chance(20) {
            INT_CONSTS[self.int(0, INT_CONSTS.len() - 1)].to_string()
        } else {
            self.x()
        }
    }

    fn set(&mut self, v: String) {
        let i = self.int(0, 3);
        self.xs[i] = v;
    }

    fn line(&mut self, s: &str) {
        let _ = writeln!(self.out, "        {s}");
    }

    /// The state as block arguments.
    fn state_args(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.xs[0], self.xs[1], self.xs[2], self.xs[3], self.d
        )
    }

    /// Starts block `name` whose parameters are the state, plus an `i64` called
    /// `%NAME_extra` if `extra` is given.
    fn begin(&mut self, name: &str, extra: Option<&str>) {
        let p = format!("{name}_");
        let p = p.trim_start_matches('%');
        let extra = extra.map_or(String::new(), |e| format!(" <@i64> %{p}{e}"));
        let _ = writeln!(
            self.out,
            "    {name}(<@i64> %{p}x0 <@i64> %{p}x1 <@i64> %{p}x2 <@i64> %{p}x3 <@double> %{p}d{extra}):"
        );
        self.xs = [0, 1, 2, 3].map(|i| format!("%{p}x{i}"));
        self.d = format!("%{p}d");
    }

    fn new_block(&mut self) -> String {
        self.next += 1;
        format!("%b{}", self.next)
    }

    /// One statement (several instructions, maybe several blocks).
    fn statement(&mut self, depth: usize) {
        let kind = self.int(0, 19);
        match kind {
            0..=3 => self.int_op(),
            4 => self.division(),
            5 => self.narrow(),
            6 => self.select(),
            7 if self.swarm.floats => self.float(),
            8 if self.swarm.memory => self.heap_struct(),
            9 if self.swarm.memory && self.chance(50) => self.heap_hybrid(),
            9 if self.swarm.memory => self.ref_across_call(),
            10 if self.swarm.memory => self.alloca_global(),
            11 if self.swarm.memory && self.swarm.native && self.chance(35) => {
                self.mixed_hybrid();
            }
            11 if self.swarm.memory && self.swarm.native => self.pinned(),
            12 if self.swarm.native => self.ccall_scalar(),
            13 if self.swarm.native => self.ccall_struct(),
            14 if self.swarm.native => self.callback(),
            15 if self.swarm.calls && self.index + 1 < self.count => self.call(depth),
            16 if depth == 0 => self.loop_(),
            // Statements that open blocks stay out of loop bodies, whose counter is
            // local to the body's block.
            17 if depth == 0 && self.index > 0 && self.chance(15) => self.maybe_throw(),
            18 if self.chance(3) => self.null_load(),
            19 => self.rare(depth),
            _ => self.int_op(),
        }
    }

    fn int_op(&mut self) {
        const OPS: [&str; 9] = [
            "ADD", "SUB", "MUL", "AND", "OR", "XOR", "SHL", "LSHR", "ASHR",
        ];
        let op = OPS[self.int(0, OPS.len() - 1)];
        let (a, b) = (self.operand(), self.operand());
        let v = self.fresh();
        self.line(&format!("{v} = {op} <@i64> {a} {b}"));
        self.set(v);
    }

    fn division(&mut self) {
        const OPS: [&str; 4] = ["SDIV", "SREM", "UDIV", "UREM"];
        let op = OPS[self.int(0, 3)];
        let (a, b) = (self.operand(), self.operand());
        let b = if self.chance(self.swarm.unguarded) {
            b
        } else {
            // A zero divisor becomes one: OR with 1 keeps odd divisors, makes even ones odd.
            let t = self.fresh();
            self.line(&format!("{t} = OR <@i64> {b} @ONE"));
            t
        };
        let v = self.fresh();
        self.line(&format!("{v} = {op} <@i64> {a} {b}"));
        self.set(v);
    }

    fn narrow(&mut self) {
        let (w, t) = [(8, "@i8"), (16, "@i16"), (32, "@i32")][self.int(0, 2)];
        const OPS: [&str; 6] = ["ADD", "MUL", "SHL", "ASHR", "LSHR", "SUB"];
        let op = OPS[self.int(0, OPS.len() - 1)];
        let (a, b) = (self.x(), self.x());
        let [ta, tb, r, back] = self.fresh_n();
        self.line(&format!("{ta} = TRUNC <@i64 {t}> {a}"));
        self.line(&format!("{tb} = TRUNC <@i64 {t}> {b}"));
        self.line(&format!("{r} = {op} <{t}> {ta} {tb}"));
        let ext = if self.chance(50) { "SEXT" } else { "ZEXT" };
        self.line(&format!("{back} = {ext} <{t} @i64> {r}"));
        let _ = w;
        self.set(back);
    }

    fn select(&mut self) {
        const CMPS: [&str; 6] = ["EQ", "NE", "SLT", "SGE", "ULT", "UGT"];
        let c = CMPS[self.int(0, 5)];
        let (a, b, p, q) = (self.operand(), self.operand(), self.x(), self.x());
        let [cv, v] = self.fresh_n();
        self.line(&format!("{cv} = {c} <@i64> {a} {b}"));
        self.line(&format!("{v} = SELECT <@i1 @i64> {cv} {p} {q}"));
        self.set(v);
    }

    fn float(&mut self) {
        const OPS: [&str; 5] = ["FADD", "FSUB", "FMUL", "FDIV", "FREM"];
        let op = OPS[self.int(0, 4)];
        let a = self.x();
        let f = self.fresh();
        let src = if self.chance(30) {
            DOUBLE_CONSTS[self.int(0, DOUBLE_CONSTS.len() - 1)].to_string()
        } else {
            let conv = if self.chance(50) { "SITOFP" } else { "UITOFP" };
            self.line(&format!("{f} = {conv} <@i64 @double> {a}"));
            f
        };
        let [g, back] = self.fresh_n();
        let d = self.d.clone();
        self.line(&format!("{g} = {op} <@double> {d} {src}"));
        self.d = g.clone();
        let conv = if self.chance(50) { "FPTOSI" } else { "FPTOUI" };
        self.line(&format!("{back} = {conv} <@double @i64> {g}"));
        if self.chance(30) {
            let [t, e] = self.fresh_n();
            self.line(&format!("{t} = FPTRUNC <@double @float> {g}"));
            self.line(&format!("{e} = FPEXT <@float @double> {t}"));
            self.d = e;
        }
        if self.chance(20) {
            let c = self.fresh();
            let v = self.fresh();
            self.line(&format!("{c} = FOLT <@double> {g} @D2"));
            self.line(&format!("{v} = ZEXT <@i1 @i64> {c}"));
            self.set(v);
        }
        self.set(back);
    }

    fn heap_struct(&mut self) {
        let (a, b) = (self.x(), self.x());
        let [r, ir, f0, f1, tb, l0, l1, e] = self.fresh_n();
        self.line(&format!("{r} = NEW <@S1>"));
        self.line(&format!("{ir} = GETIREF <@S1> {r}"));
        self.line(&format!("{f0} = GETFIELDIREF <@S1 0> {ir}"));
        self.line(&format!("{f1} = GETFIELDIREF <@S1 1> {ir}"));
        self.line(&format!("STORE <@i64> {f0} {a}"));
        self.line(&format!("{tb} = TRUNC <@i64 @i8> {b}"));
        self.line(&format!("STORE <@i8> {f1} {tb}"));
        if self.chance(40) {
            // Keep it reachable from a global: part of the compared final state.
            let w = self.fresh();
            self.line(&format!("{w} = LOAD <@S1> {ir}"));
            self.line(&format!("STORE <@S1> @g_s {w}"));
        }
        self.line(&format!("{l0} = LOAD <@i64> {f0}"));
        self.line(&format!("{l1} = LOAD <@i8> {f1}"));
        self.line(&format!("{e} = SEXT <@i8 @i64> {l1}"));
        let v = self.fresh();
        self.line(&format!("{v} = ADD <@i64> {l0} {e}"));
        self.set(v);
    }

    fn heap_hybrid(&mut self) {
        let len = ["@LEN1", "@LEN3", "@LEN5", "@LEN8"][self.int(0, 3)];
        let (i, x) = (self.x(), self.x());
        let [h, ih, fx, v0, idx, p, l] = self.fresh_n();
        self.line(&format!("{h} = NEWHYBRID <@H @i64> {len}"));
        self.line(&format!("{ih} = GETIREF <@H> {h}"));
        self.line(&format!("{fx} = GETFIELDIREF <@H 0> {ih}"));
        self.line(&format!("STORE <@i64> {fx} {x}"));
        self.line(&format!("{v0} = GETVARPARTIREF <@H> {ih}"));
        self.line(&format!("{idx} = UREM <@i64> {i} {len}"));
        self.line(&format!("{p} = SHIFTIREF <@i64 @i64> {v0} {idx}"));
        self.line(&format!("STORE <@i64> {p} {x}"));
        if self.chance(50) {
            self.line(&format!("STORE <@refH> @g_h {h}"));
        }
        self.line(&format!("{l} = LOAD <@i64> {p}"));
        let v = self.fresh();
        self.line(&format!("{v} = XOR <@i64> {l} {idx}"));
        self.set(v);
    }

    /// A reference live across a call that allocates: with a collection in the
    /// callee, the object moves and the caller must see it where it went.
    fn ref_across_call(&mut self) {
        let (x, a, b) = (self.x(), self.x(), self.x());
        let [h, ir, f0, v, ir2, g0, l] = self.fresh_n();
        self.line(&format!("{h} = NEW <@S1>"));
        self.line(&format!("{ir} = GETIREF <@S1> {h}"));
        self.line(&format!("{f0} = GETFIELDIREF <@S1 0> {ir}"));
        self.line(&format!("STORE <@i64> {f0} {x}"));
        let callee = if self.swarm.calls && self.index + 1 < self.count && self.chance(50) {
            format!("@f{}", self.int(self.index + 1, self.count - 1))
        } else {
            "@alloc_some".to_string()
        };
        self.line(&format!("{v} = CALL <@sig> {callee} ({a} {b})"));
        self.line(&format!("{ir2} = GETIREF <@S1> {h}"));
        self.line(&format!("{g0} = GETFIELDIREF <@S1 0> {ir2}"));
        self.line(&format!("{l} = LOAD <@i64> {g0}"));
        let w = self.fresh();
        self.line(&format!("{w} = ADD <@i64> {l} {v}"));
        self.set(w);
    }

    fn alloca_global(&mut self) {
        let x = self.x();
        match self.int(0, 3) {
            0 => {
                let [a, l] = self.fresh_n();
                self.line(&format!("{a} = ALLOCA <@i64>"));
                self.line(&format!("STORE <@i64> {a} {x}"));
                self.line(&format!("{l} = LOAD <@i64> {a}"));
                let v = self.fresh();
                self.line(&format!("{v} = ADD <@i64> {l} @K3"));
                self.set(v);
            }
            1 => {
                let [l, n] = self.fresh_n();
                self.line(&format!("{l} = LOAD <@i64> @g_i"));
                self.line(&format!("{n} = ADD <@i64> {l} {x}"));
                self.line(&format!("STORE <@i64> @g_i {n}"));
                self.set(n);
            }
            2 => {
                let [idx, p, l] = self.fresh_n();
                self.line(&format!("{idx} = AND <@i64> {x} @K3"));
                self.line(&format!("{p} = GETELEMIREF <@A4 @i64> @g_a {idx}"));
                let y = self.x();
                self.line(&format!("STORE <@i64> {p} {y}"));
                self.line(&format!("{l} = LOAD <@i64> {p}"));
                self.set(l);
            }
            _ => {
                let d = self.d.clone();
                let l = self.fresh();
                self.line(&format!("STORE <@double> @g_d {d}"));
                self.line(&format!("{l} = LOAD <@double> @g_d"));
                self.d = l;
            }
        }
    }

    /// Pin a hybrid, write and read it through PTR, hand it to C, unpin.
    fn pinned(&mut self) {
        let len = ["@LEN3", "@LEN5", "@LEN8"][self.int(0, 2)];
        let (i, x) = (self.x(), self.x());
        let [h, p, v0, idx, q, l] = self.fresh_n();
        self.line(&format!("{h} = NEWHYBRID <@H @i64> {len}"));
        if self.chance(30) {
            // Something that may collect between the allocation and the pin.
            let junk = self.fresh();
            self.line(&format!("{junk} = NEW <@S1>"));
        }
        self.line(&format!("{p} = COMMINST @uvm.native.pin <@refH> ({h})"));
        if self.chance(40) {
            // An allocation while pinned: a collection here must leave it in place.
            let junk = self.fresh();
            self.line(&format!("{junk} = NEW <@S1>"));
        }
        self.line(&format!("{v0} = GETVARPARTIREF PTR <@H> {p}"));
        if self.chance(50) {
            self.line(&format!(
                "CCALL #DEFAULT <@fill_fp @fill_sig> @dt_fill ({v0} {len} {x})"
            ));
        }
        self.line(&format!("{idx} = UREM <@i64> {i} {len}"));
        self.line(&format!("{q} = SHIFTIREF PTR <@i64 @i64> {v0} {idx}"));
        self.line(&format!("STORE PTR <@i64> {q} {x}"));
        self.line(&format!("{l} = LOAD PTR <@i64> {q}"));
        let s = self.fresh();
        self.line(&format!(
            "{s} = CCALL #DEFAULT <@sum_fp @sum_sig> @dt_sum ({v0} {len})"
        ));
        self.line(&format!("COMMINST @uvm.native.unpin <@refH> ({h})"));
        if self.chance(40) {
            // After the unpin the object may move: reach it through its reference.
            let [ih, vv, r, n] = self.fresh_n();
            self.line(&format!("{n} = NEW <@S1>"));
            self.line(&format!("{ih} = GETIREF <@H> {h}"));
            self.line(&format!("{vv} = GETVARPARTIREF <@H> {ih}"));
            self.line(&format!("{r} = LOAD <@i64> {vv}"));
            self.set(r);
        }
        let v = self.fresh();
        self.line(&format!("{v} = ADD <@i64> {l} {s}"));
        self.set(v);
    }

    /// A hybrid whose variable part starts inside the fixed part's tail padding
    /// (`hybrid<@i32 @i8 @i16>`: at offset 6, where C puts a flexible array), written
    /// through irefs and through PTR, read and changed by C while pinned, and read
    /// back after the unpin.
    fn mixed_hybrid(&mut self) {
        let len = ["@LEN1", "@LEN3", "@LEN5", "@LEN8"][self.int(0, 3)];
        let (i, x, y) = (self.x(), self.x(), self.x());
        let [h, ih, f0, f1, v0, idx, e, t32, t8, t16] = self.fresh_n();
        self.line(&format!("{h} = NEWHYBRID <@HM @i64> {len}"));
        self.line(&format!("{ih} = GETIREF <@HM> {h}"));
        self.line(&format!("{f0} = GETFIELDIREF <@HM 0> {ih}"));
        self.line(&format!("{t32} = TRUNC <@i64 @i32> {x}"));
        self.line(&format!("STORE <@i32> {f0} {t32}"));
        self.line(&format!("{f1} = GETFIELDIREF <@HM 1> {ih}"));
        self.line(&format!("{t8} = TRUNC <@i64 @i8> {y}"));
        self.line(&format!("STORE <@i8> {f1} {t8}"));
        self.line(&format!("{v0} = GETVARPARTIREF <@HM> {ih}"));
        self.line(&format!("{idx} = UREM <@i64> {i} {len}"));
        self.line(&format!("{e} = SHIFTIREF <@i16 @i64> {v0} {idx}"));
        self.line(&format!("{t16} = TRUNC <@i64 @i16> {y}"));
        self.line(&format!("STORE <@i16> {e} {t16}"));
        let [p, pv, q, s] = self.fresh_n();
        self.line(&format!("{p} = COMMINST @uvm.native.pin <@refHM> ({h})"));
        if self.chance(50) {
            // The first element through the raw pointer as well.
            self.line(&format!("{pv} = GETVARPARTIREF PTR <@HM> {p}"));
            self.line(&format!("{q} = TRUNC <@i64 @i16> {x}"));
            self.line(&format!("STORE PTR <@i16> {pv} {q}"));
        }
        self.line(&format!(
            "{s} = CCALL #DEFAULT <@hm_fp @hm_sig> @dt_hm ({p} {len})"
        ));
        self.line(&format!("COMMINST @uvm.native.unpin <@refHM> ({h})"));
        // What C wrote, read back through the reference.
        let [last, l16, l] = self.fresh_n();
        self.line(&format!("{last} = SUB <@i64> {len} @ONE"));
        let le = self.fresh();
        self.line(&format!("{le} = SHIFTIREF <@i16 @i64> {v0} {last}"));
        self.line(&format!("{l16} = LOAD <@i16> {le}"));
        self.line(&format!("{l} = SEXT <@i16 @i64> {l16}"));
        let v = self.fresh();
        self.line(&format!("{v} = ADD <@i64> {s} {l}"));
        self.set(v);
    }

    fn ccall_scalar(&mut self) {
        let (a, b) = (self.x(), self.x());
        let v = self.fresh();
        match self.int(0, 4) {
            0 => self.line(&format!(
                "{v} = CCALL #DEFAULT <@mix_fp @mix_sig> @dt_mix ({a} {b})"
            )),
            1 => {
                let d = self.d.clone();
                let g = self.fresh();
                self.line(&format!(
                    "{g} = CCALL #DEFAULT <@fmix_fp @fmix_sig> @dt_fmix ({d} {a})"
                ));
                self.d = g;
                self.line(&format!("{v} = ADD <@i64> {a} @K1"));
            }
            2 => {
                let [t, r] = self.fresh_n();
                self.line(&format!("{t} = TRUNC <@i64 @i8> {a}"));
                self.line(&format!(
                    "{r} = CCALL #DEFAULT <@neg8_fp @neg8_sig> @dt_neg8 ({t})"
                ));
                self.line(&format!("{v} = SEXT <@i8 @i64> {r}"));
            }
            3 => {
                let [t, r] = self.fresh_n();
                self.line(&format!("{t} = TRUNC <@i64 @i16> {a}"));
                self.line(&format!(
                    "{r} = CCALL #DEFAULT <@inc16_fp @inc16_sig> @dt_inc16 ({t})"
                ));
                self.line(&format!("{v} = ZEXT <@i16 @i64> {r}"));
            }
            _ => {
                // labs of the minimum is undefined in C: keep it away.
                let t = self.fresh();
                self.line(&format!("{t} = ASHR <@i64> {a} @K3"));
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@labs_fp @labs_sig> @labs ({t})"
                ));
            }
        }
        self.set(v);
    }

    fn ccall_struct(&mut self) {
        let (a, b) = (self.x(), self.x());
        let v = self.fresh();
        match self.int(0, 5) {
            0 => {
                let [t, s] = self.fresh_n();
                self.line(&format!("{t} = TRUNC <@i64 @i8> {b}"));
                self.line(&format!("{s} = INSERTVALUE <@S1 1> @S1C {t}"));
                let s2 = self.fresh();
                self.line(&format!("{s2} = INSERTVALUE <@S1 0> {s} {a}"));
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@s1_fp @s1_sig> @dt_s1 ({s2} {b})"
                ));
            }
            1 => {
                let s = self.fresh();
                self.line(&format!(
                    "{s} = CCALL #DEFAULT <@mk2_fp @mk2_sig> @dt_mk2 ({a})"
                ));
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@s2_fp @s2_sig> @dt_s2 ({s})"
                ));
            }
            2 => {
                let [s, x0, x1, e] = self.fresh_n();
                self.line(&format!(
                    "{s} = CCALL #DEFAULT <@mk1_fp @mk1_sig> @dt_mk1 ({a})"
                ));
                self.line(&format!("{x0} = EXTRACTVALUE <@S1 0> {s}"));
                self.line(&format!("{x1} = EXTRACTVALUE <@S1 1> {s}"));
                self.line(&format!("{e} = SEXT <@i8 @i64> {x1}"));
                self.line(&format!("{v} = SUB <@i64> {x0} {e}"));
            }
            3 => {
                let s = self.fresh();
                self.line(&format!(
                    "{s} = CCALL #DEFAULT <@mk4_fp @mk4_sig> @dt_mk4 ({a})"
                ));
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@s4_fp @s4_sig> @dt_s4 ({s})"
                ));
            }
            4 => {
                let g = self.fresh();
                self.line(&format!(
                    "{g} = CCALL #DEFAULT <@s3_fp @s3_sig> @dt_s3 (@S3C)"
                ));
                self.d = g;
                self.line(&format!("{v} = XOR <@i64> {a} {b}"));
            }
            _ => {
                let (c, d, e) = (self.x(), self.x(), self.x());
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@split_fp @split_sig> @dt_split ({a} {b} {c} {d} {e} @S1C {a})"
                ));
            }
        }
        self.set(v);
    }

    fn callback(&mut self) {
        let a = self.x();
        let v = self.fresh();
        if self.chance(50) {
            self.line(&format!(
                "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply (@cb_native {a})"
            ));
        } else {
            let fp = self.fresh();
            self.line(&format!(
                "{fp} = COMMINST @uvm.native.expose [#DEFAULT] <[@cb_sig]> (@cb @K7)"
            ));
            self.line(&format!(
                "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply ({fp} {a})"
            ));
            self.line(&format!("COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"));
        }
        self.set(v);
    }

    /// A call of a later function, with an exception clause at a rate.
    fn call(&mut self, depth: usize) {
        let callee = self.int(self.index + 1, self.count - 1);
        let (a, b) = (self.x(), self.x());
        let v = self.fresh();
        if depth == 0 && self.chance(40) {
            let (ok, exc, join) = (self.new_block(), self.new_block(), self.new_block());
            let state = self.state_args();
            self.line(&format!(
                "{v} = CALL <@sig> @f{callee} ({a} {b}) EXC({ok}({state} {v}) {exc}({state}))"
            ));
            self.begin(&ok, Some("r"));
            let r = format!("%{}_r", ok.trim_start_matches('%'));
            let state = self.state_args();
            self.line(&format!("BRANCH {join}({state} {r})"));
            let _ = writeln!(
                self.out,
                "    {exc}(<@i64> %{e}_x0 <@i64> %{e}_x1 <@i64> %{e}_x2 <@i64> %{e}_x3 <@double> %{e}_d) [%{e}_ex]:",
                e = exc.trim_start_matches('%')
            );
            let e = exc.trim_start_matches('%');
            self.line(&format!(
                "BRANCH {join}(%{e}_x0 %{e}_x1 %{e}_x2 %{e}_x3 %{e}_d @K9)"
            ));
            self.begin(&join, Some("r"));
            let r = format!("%{}_r", join.trim_start_matches('%'));
            self.set(r);
        } else {
            self.line(&format!("{v} = CALL <@sig> @f{callee} ({a} {b})"));
            self.set(v);
        }
    }

    /// A counted loop: header, body, exit; rarely endless (fuel runs out).
    fn loop_(&mut self) {
        let (head, body, exit) = (self.new_block(), self.new_block(), self.new_block());
        let n = ["@LEN3", "@LEN5", "@LEN8", "@K8"][self.int(0, 3)];
        let state = self.state_args();
        self.line(&format!("BRANCH {head}({state} {n})"));
        self.begin(&head, Some("i"));
        let i = format!("%{}_i", head.trim_start_matches('%'));
        let c = self.fresh();
        self.line(&format!("{c} = SGT <@i64> {i} @Z"));
        let state = self.state_args();
        self.line(&format!("BRANCH2 {c} {body}({state} {i}) {exit}({state})"));
        self.begin(&body, Some("i"));
        let i = format!("%{}_i", body.trim_start_matches('%'));
        for _ in 0..self.int(1, 4) {
            self.statement(1);
        }
        let step = if self.chance(2) { "@Z" } else { "@ONE" };
        let i1 = self.fresh();
        self.line(&format!("{i1} = SUB <@i64> {i} {step}"));
        let state = self.state_args();
        self.line(&format!("BRANCH {head}({state} {i1})"));
        self.begin(&exit, None);
    }

    /// THROW when a state bit says so; callers catch it or the run traps.
    fn maybe_throw(&mut self) {
        let x = self.x();
        let [t, c] = self.fresh_n();
        let (thr, cont) = (self.new_block(), self.new_block());
        self.line(&format!("{t} = AND <@i64> {x} @K3"));
        self.line(&format!("{c} = EQ <@i64> {t} @K3"));
        let state = self.state_args();
        self.line(&format!("BRANCH2 {c} {thr}() {cont}({state})"));
        let _ = writeln!(self.out, "    {thr}():");
        let o = self.fresh();
        self.line(&format!("{o} = NEW <@i64>"));
        self.line(&format!("THROW {o}"));
        self.begin(&cont, None);
    }

    /// An instruction with an exception clause: `inst` gets `EXC(ok exc)`; the
    /// normal destination receives the result (if `result`), the exceptional one
    /// continues with -77 instead; both join.
    fn with_exc(&mut self, result: Option<&str>, inst: &str) {
        let (ok, exc, join) = (self.new_block(), self.new_block(), self.new_block());
        let state = self.state_args();
        let (lhs, arg) = match result {
            Some(v) => (format!("{v} = "), format!(" {v}")),
            None => (String::new(), String::new()),
        };
        self.line(&format!(
            "{lhs}{inst} EXC({ok}({state}{arg}) {exc}({state}))"
        ));
        self.begin(&ok, result.map(|_| "r"));
        let r = if result.is_some() {
            format!(" %{}_r", ok.trim_start_matches('%'))
        } else {
            " @K1".to_string()
        };
        let state = self.state_args();
        self.line(&format!("BRANCH {join}({state}{r})"));
        let e = exc.trim_start_matches('%');
        let _ = writeln!(
            self.out,
            "    {exc}(<@i64> %{e}_x0 <@i64> %{e}_x1 <@i64> %{e}_x2 <@i64> %{e}_x3 <@double> %{e}_d) [%{e}_ex]:"
        );
        self.line(&format!(
            "BRANCH {join}(%{e}_x0 %{e}_x1 %{e}_x2 %{e}_x3 %{e}_d @K9)"
        ));
        self.begin(&join, Some("r"));
        let r = format!("%{}_r", join.trim_start_matches('%'));
        self.set(r);
    }

    /// The rarer rules: exceptional continuations, stack and allocation limits,
    /// atomics, casts, client traps, the native interface's defined errors.
    fn rare(&mut self, depth: usize) {
        let x = self.x();
        let y = self.x();
        match self.int(0, 15) {
            0 if depth == 0 => {
                let [t, v] = self.fresh_n();
                self.line(&format!("{t} = AND <@i64> {y} @K3"));
                self.with_exc(Some(&v), &format!("SDIV <@i64> {x} {t}"));
            }
            1 if depth == 0 => {
                let v = self.fresh();
                self.with_exc(Some(&v), "LOAD <@i64> @NULLI");
            }
            2 => {
                let [n, v] = self.fresh_n();
                self.line(&format!("{n} = AND <@i64> {x} @K4"));
                if depth == 0 && self.chance(50) {
                    self.with_exc(Some(&v), &format!("CALL <@sig> @rec ({n} {y})"));
                } else if self.chance(50) {
                    // Stack exhaustion deep down continues exceptionally there.
                    self.line(&format!("{v} = CALL <@sig> @rec_exc ({n} {y})"));
                    self.set(v);
                } else {
                    self.line(&format!("{v} = CALL <@sig> @rec ({n} {y})"));
                    self.set(v);
                }
            }
            3 => {
                let [n, v] = self.fresh_n();
                if self.chance(50) {
                    self.line(&format!("{n} = AND <@i64> {x} @K4"));
                    self.line(&format!("{v} = CALL <@sig> @trec ({n} {y})"));
                } else {
                    // Recursion the fast VM turns into a loop with an accumulator.
                    // Its depth is bounded here, so that even an engine that gets
                    // everything else wrong (and may run without fuel checks) ends.
                    self.line(&format!("{n} = AND <@i64> {x} @K15"));
                    self.line(&format!("{v} = CALL <@sig> @fibish ({n} {y})"));
                }
                self.set(v);
            }
            4 => {
                let [a, v0, l] = self.fresh_n();
                self.line(&format!("{a} = ALLOCAHYBRID <@H @i64> @LEN3"));
                self.line(&format!("{v0} = GETVARPARTIREF <@H> {a}"));
                self.line(&format!("STORE <@i64> {v0} {x}"));
                self.line(&format!("{l} = LOAD <@i64> {v0}"));
                self.set(l);
            }
            5 if self.chance(30) => {
                let h = self.fresh();
                if depth == 0 && self.chance(50) {
                    self.with_exc(None, &format!("{h} = NEWHYBRID <@H @i64> @BIG"));
                } else {
                    self.line(&format!("{h} = NEWHYBRID <@H @i64> @BIG"));
                }
            }
            6 => {
                let [old, ok, z, a] = self.fresh_n();
                self.line(&format!(
                    "({old} {ok}) = CMPXCHG SEQ_CST SEQ_CST <@i64> @g_i {x} {y}"
                ));
                self.line(&format!("{z} = ZEXT <@i1 @i64> {ok}"));
                self.line(&format!("{a} = ATOMICRMW SEQ_CST ADD <@i64> @g_i {z}"));
                self.line("FENCE SEQ_CST");
                let v = self.fresh();
                self.line(&format!("{v} = ADD <@i64> {old} {a}"));
                self.set(v);
            }
            7 => {
                let [c, sel, b] = self.fresh_n();
                let d = self.d.clone();
                // NaN payloads are unspecified: only ordered values are bitcast.
                self.line(&format!("{c} = FORD <@double> {d} {d}"));
                self.line(&format!("{sel} = SELECT <@i1 @double> {c} {d} @D0"));
                self.line(&format!("{b} = BITCAST <@double @i64> {sel}"));
                self.set(b);
            }
            8 => {
                let [p, q] = self.fresh_n();
                self.line(&format!("{p} = PTRCAST <@i64 @ptri64> {x}"));
                self.line(&format!("{q} = PTRCAST <@ptri64 @i64> {p}"));
                self.set(q);
            }
            9 => {
                let [h, g, c, rv, c2, z] = self.fresh_n();
                self.line(&format!("{h} = NEWHYBRID <@H @i64> @LEN1"));
                self.line(&format!("{g} = LOAD <@refH> @g_h"));
                self.line(&format!("{c} = EQ <@refH> {g} {h}"));
                self.line(&format!("{rv} = REFCAST <@refH @refvoid> {g}"));
                self.line(&format!("{c2} = NE <@refvoid> {rv} @NULLV"));
                self.line(&format!("{z} = ZEXT <@i1 @i64> {c2}"));
                let v = self.fresh();
                self.line(&format!("{v} = SELECT <@i1 @i64> {c} {x} {z}"));
                self.set(v);
            }
            10 if self.chance(30) => {
                let v = self.fresh();
                self.line(&format!("{v} = CALL <@sig> @NULLF ({x} {y})"));
                self.set(v);
            }
            11 if self.chance(30) => {
                let t = self.fresh().replace("%v", "%t");
                self.line(&format!("[{t}] TRAP <> KEEPALIVE({x} {y})"));
            }
            12 if depth == 0 && self.chance(30) => {
                let [t, c] = self.fresh_n();
                let (stop, cont) = (self.new_block(), self.new_block());
                self.line(&format!("{t} = AND <@i64> {x} @K3"));
                self.line(&format!("{c} = EQ <@i64> {t} @K1"));
                let state = self.state_args();
                self.line(&format!("BRANCH2 {c} {stop}() {cont}({state})"));
                let _ = writeln!(self.out, "    {stop}():");
                self.line("COMMINST @uvm.thread_exit");
                self.begin(&cont, None);
            }
            13 if self.chance(30) => {
                let fp = self.fresh();
                self.line(&format!(
                    "{fp} = COMMINST @uvm.native.expose [#DEFAULT] <[@cb_sig]> (@cb @K7)"
                ));
                self.line(&format!("COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"));
                self.line(&format!("COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"));
            }
            14 if self.swarm.native && self.chance(30) => {
                let v = self.fresh();
                self.line(&format!(
                    "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply (@cb_throw_native {x})"
                ));
                self.set(v);
            }
            _ => self.int_op(),
        }
    }

    fn null_load(&mut self) {
        let v = self.fresh();
        self.line(&format!("{v} = LOAD <@i64> @NULLI"));
        self.set(v);
    }

    fn function(mut self) -> String {
        let _ = writeln!(self.out, ".funcdef @f{} VERSION %v1 <@sig> {{", self.index);
        let _ = writeln!(self.out, "    %entry(<@i64> %p0 <@i64> %p1):");
        self.xs = ["%p0".into(), "%p1".into(), "@K7".into(), "@K3".into()];
        self.d = "@D0".into();
        let nblocks = self.int(1, 4);
        let blocks: Vec<String> = (0..nblocks).map(|k| format!("%s{k}")).collect();
        for k in 0..nblocks {
            if k > 0 {
                self.begin(&blocks[k], None);
            }
            for _ in 0..self.int(1, 6) {
                self.statement(0);
            }
            if k + 1 == nblocks {
                // The checksum of the state.
                let [a, b, c, f, e, r] = self.fresh_n();
                let xs = self.xs.clone();
                let d = self.d.clone();
                self.line(&format!("{a} = XOR <@i64> {} {}", xs[0], xs[1]));
                self.line(&format!("{b} = MUL <@i64> {a} @K7"));
                self.line(&format!("{c} = ADD <@i64> {b} {}", xs[2]));
                self.line(&format!("{f} = SUB <@i64> {c} {}", xs[3]));
                self.line(&format!("{e} = FPTOSI <@double @i64> {d}"));
                self.line(&format!("{r} = ADD <@i64> {f} {e}"));
                self.line(&format!("RET {r}"));
            } else {
                let state = self.state_args();
                let next = &blocks[k + 1];
                let far = &blocks[self.u.int_in_range(k + 1..=nblocks - 1).unwrap_or(k + 1)];
                match self.int(0, 2) {
                    0 => self.line(&format!("BRANCH {next}({state})")),
                    1 => {
                        let (a, b) = (self.x(), self.x());
                        let c = self.fresh();
                        self.line(&format!("{c} = SLT <@i64> {a} {b}"));
                        self.line(&format!("BRANCH2 {c} {next}({state}) {far}({state})"));
                    }
                    _ => {
                        let a = self.x();
                        let t = self.fresh();
                        self.line(&format!("{t} = AND <@i64> {a} @K3"));
                        self.line(&format!(
                            "SWITCH <@i64> {t} {next}({state}) {{ @K1 {far}({state}) @K3 {next}({state}) }}"
                        ));
                    }
                }
            }
        }
        let _ = writeln!(self.out, "}}");
        self.out
    }
}

/// Generates one program from the bytes behind `u`.
pub fn generate(u: &mut Unstructured<'_>) -> Program {
    let count = u.int_in_range(1..=4usize).unwrap_or(1);
    let mut text = String::from(PRELUDE);
    for index in 0..count {
        let swarm = Swarm {
            memory: u.ratio(3u8, 4).unwrap_or(true),
            native: u.ratio(2u8, 3).unwrap_or(true),
            floats: u.ratio(1u8, 2).unwrap_or(false),
            calls: u.ratio(3u8, 4).unwrap_or(true),
            unguarded: if u.ratio(1u8, 8).unwrap_or(false) {
                20
            } else {
                0
            },
        };
        let g = FnGen {
            u,
            out: String::new(),
            index,
            count,
            swarm,
            xs: Default::default(),
            d: String::new(),
            next: 0,
        };
        text.push_str(&g.function());
    }
    let lit = |u: &mut Unstructured<'_>| -> String {
        match u.int_in_range(0..=3u8).unwrap_or(0) {
            0 => u.int_in_range(-10..=10i64).unwrap_or(0).to_string(),
            1 => u.arbitrary::<i64>().unwrap_or(0).to_string(),
            2 => u.int_in_range(0..=1000i64).unwrap_or(0).to_string(),
            _ => ["-9223372036854775808", "9223372036854775807", "-1", "0"]
                [u.int_in_range(0..=3usize).unwrap_or(0)]
            .to_string(),
        }
    };
    let args = vec![lit(u), lit(u)];
    let fuel_checks = u.ratio(1u8, 2).unwrap_or(true);
    Program {
        text,
        entry: "@f0".into(),
        args,
        fuel_checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statement kind marked below shows up within a few hundred programs: a
    /// generator change that made one unreachable fails here, not silently in
    /// coverage.
    #[test]
    fn every_statement_kind_is_generated() {
        let marks = [
            "SDIV <@i64>",
            "NEWHYBRID <@H @i64>",
            "NEWHYBRID <@HM @i64>",
            "GETVARPARTIREF PTR <@HM>",
            "@dt_hm",
            "@uvm.native.pin <@refH>",
            "@dt_split",
            "@uvm.native.expose",
            "THROW",
            "CALL <@sig> @trec",
            "CMPXCHG",
        ];
        let mut seen = vec![0u32; marks.len()];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..400 {
            let bytes: Vec<u8> = (0..4096)
                .map(|_| {
                    // xorshift64: deterministic bytes without a dependency.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            let p = generate(&mut Unstructured::new(&bytes));
            let body = &p.text[PRELUDE.len()..];
            for (k, m) in marks.iter().enumerate() {
                seen[k] += u32::from(body.contains(m));
            }
        }
        for (m, n) in marks.iter().zip(&seen) {
            assert!(*n > 0, "no program of 400 has `{m}`");
        }
    }
}
