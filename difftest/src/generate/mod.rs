//! The generator: well-typed Mu IR programs free of undefined behaviour by
//! construction, read from an [`arbitrary::Unstructured`] (libFuzzer feeds it
//! directly; the proptest front end feeds it bytes that proptest shrinks).
//!
//! A program is a chain of functions `@f0 … @fN` with random signatures (0–8
//! parameters and 0–3 results of every type both engines support); each calls only
//! later ones, so the call graph is acyclic. Each function carries typed values
//! along a forward spine of blocks (BRANCH, BRANCH2, SWITCH with many cases), with
//! counted loops (rarely endless, to run out of fuel), and its statements are drawn
//! by the weights of [`Config`]: every operator at every width, every comparison
//! predicate and conversion pair, SELECT of every type, aggregates, memory of
//! every space, atomics, pinning with PTR accesses, CCALLs of the campaign's random
//! C library ([`clib`]) with out-pointers and callbacks into generated Mu
//! functions, calls with exception clauses, THROWs caught frames above, and the
//! rarer rules. Divisions are guarded (a zero divisor becomes one) except in a
//! few functions, where they may trap; indices are always reduced into range.
//! The first bytes draw the program's configuration (swarm testing).
//!
//! What a program computes is observed: its results, every global cell (and the
//! object a reference global refers to), and the native trace.

pub mod clib;
mod func;
pub mod types;

use crate::config::Config;
use arbitrary::Unstructured;
use clib::{CTy, Library};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::fmt::Write;
use types::{Decls, Sig, Ty};

/// The prelude every program draws its fixed definitions from
/// (difftest/prelude/prelude.uir).
pub const PRELUDE: &str = include_str!("../../prelude/prelude.uir");

/// A generated program and how to run it.
#[derive(Clone, Debug)]
pub struct Program {
    /// The bundle, in Mu IR text.
    pub text: String,
    /// The function to call.
    pub entry: String,
    /// The argument vectors it runs with (each as Mu literals): every run of the
    /// program's compiled code with each, executions multiply.
    pub inputs: Vec<Vec<String>>,
    /// What its client loads and does (`crate::client`).
    pub client: ClientPlan,
}

/// What a program's client does besides answering traps by their names: the
/// bundles it loads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientPlan {
    /// Functions the bundle only declares, and the bundle that defines each: the
    /// client loads it at the first call.
    pub lazy: Vec<(String, String)>,
    /// Trap tags (`cr_…`) and the bundle with the new version of the trapping
    /// function that the client loads there.
    pub redefine: Vec<(String, String)>,
    /// The client pops frames or loads bundles: the fast VM compiles the program
    /// for a client.
    pub needs_client_mode: bool,
    /// The client enables watchpoint 1 as the run starts (`on_start`).
    pub watch: bool,
}

/// A function of the program: its name and signature.
#[derive(Clone, Debug)]
struct FnInfo {
    name: String,
    sig: Sig,
}

/// A generated callback: a Mu function with the signature of a C callback type,
/// exposed statically (and dynamically at some call sites).
#[derive(Clone, Debug)]
struct Callback {
    name: String,
    sig: Sig,
    expose: String,
    cookie: String,
}

/// What the generation of one program shares between its functions.
struct Prog<'l> {
    cfg: Config,
    lib: &'l Library,
    decls: Decls,
    funcs: Vec<FnInfo>,
    callbacks: HashMap<usize, Callback>,
    /// The C functions the program may call (indices into the library).
    cfuncs: Vec<usize>,
    /// EXTERN constants of C functions, by library index.
    externs: HashMap<usize, String>,
    globals: Vec<(Ty, String)>,
    bodies: String,
    /// The version the function being generated gets (`%v1`, or `%v2` for the
    /// new version a client loads).
    version: &'static str,
    /// The function whose client traps may load a new version of it.
    redefines: Option<usize>,
    /// The tags of those traps, so far.
    redefine_tags: Vec<String>,
    /// What the client loads and does.
    plan: ClientPlan,
    /// The bottom functions that run a generated function on a new stack, by
    /// the function's index: their names and text.
    stack_wrappers: std::collections::BTreeMap<usize, (String, String, String)>,
    /// The bottom functions that run a generated function on a new thread, by
    /// the function's index, with their text.
    thread_wrappers: std::collections::BTreeMap<usize, (ThreadWrapper, String)>,
}

/// The pieces of a bottom function that calls `@f{j}`: the type names of its
/// parameters and results, their names in it (`%p0 …`, `%r0 …`), the entry
/// block's parameters and the normal destination's, and the CALL's results.
struct CallParts {
    params: Vec<String>,
    rets: Vec<String>,
    ps: Vec<String>,
    rs: Vec<String>,
    /// `<T> %p0 …`
    param_header: String,
    /// `<R> %r0 …`
    ret_header: String,
    /// `%r0 = `, `(%r0 %r1) = ` or nothing.
    lhs: String,
    /// The callee's signature name.
    sig: std::sync::Arc<str>,
}

/// What a call on a new thread needs of the thread's bottom function.
#[derive(Clone, Debug)]
pub(crate) struct ThreadWrapper {
    /// Its name and its signature's.
    pub name: String,
    pub sig: String,
    /// The cell of the exception.
    pub exc: String,
    /// The cells of the results.
    pub results: Vec<String>,
}

/// Generates a program from the bytes behind `u`, calling into `lib`, with the
/// configuration drawn around `base`.
pub fn generate(u: &mut Unstructured<'_>, base: &Config, lib: &Library) -> Program {
    let cfg = if u.ratio(1u8, 2).unwrap_or(false) {
        Config::arbitrary(u, base)
    } else {
        base.clone()
    };
    static PRELUDE_DECLS: std::sync::OnceLock<Decls> = std::sync::OnceLock::new();
    let mut p = Prog {
        decls: PRELUDE_DECLS
            .get_or_init(|| Decls::with_prelude(PRELUDE))
            .clone(),
        cfg,
        lib,
        funcs: Vec::new(),
        callbacks: HashMap::default(),
        cfuncs: Vec::new(),
        externs: HashMap::default(),
        globals: Vec::new(),
        bodies: String::new(),
        version: "%v1",
        redefines: None,
        redefine_tags: Vec::new(),
        plan: ClientPlan::default(),
        stack_wrappers: std::collections::BTreeMap::new(),
        thread_wrappers: std::collections::BTreeMap::new(),
    };
    let count = u
        .int_in_range(1..=p.cfg.functions as usize + 1)
        .unwrap_or(1);
    for i in 0..count {
        let sig = p.random_sig(u, i == 0);
        p.funcs.push(FnInfo {
            name: format!("@f{i}"),
            sig,
        });
    }
    for k in 0..u.int_in_range(1..=5usize).unwrap_or(1) {
        let t = p.value_ty(u, 0);
        p.globals.push((t, format!("@g{k}")));
    }
    p.globals.push((Ty::I64, "@gsum".into()));
    if !lib.funcs.is_empty() && p.cfg.w_ccall > 0 {
        for _ in 0..u.int_in_range(0..=p.cfg.c_functions as usize).unwrap_or(0) {
            let f = u.int_in_range(0..=lib.funcs.len() - 1).unwrap_or(0);
            if !p.cfuncs.contains(&f) {
                p.cfuncs.push(f);
            }
        }
    }
    // A callback for each callback type the chosen C functions take.
    let needed: BTreeSet<usize> = p
        .cfuncs
        .iter()
        .flat_map(|f| lib.funcs[*f].sig.params.iter())
        .filter_map(|t| match t {
            CTy::FnPtr(c) => Some(*c),
            _ => None,
        })
        .collect();
    for c in needed {
        let sig = lib.mu_sig(&lib.callbacks[c]);
        let k = p.callbacks.len();
        let cookie = u.int_in_range(-1000..=1000i64).unwrap_or(0).to_string();
        let cookie = p.decls.konst(&Ty::I64, &cookie);
        p.callbacks.insert(
            c,
            Callback {
                name: format!("@cb{k}"),
                sig,
                expose: format!("@cb{k}_native"),
                cookie,
            },
        );
    }
    for i in (0..count).rev() {
        let f = p.funcs[i].clone();
        let lazy = i > 0 && u.int_in_range(0..=99u32).unwrap_or(100) < p.cfg.lazy;
        let redefine = i > 0 && !lazy && u.int_in_range(0..=99u32).unwrap_or(100) < p.cfg.redefine;
        p.redefines = redefine.then_some(i);
        let text = func::function(&mut p, u, &f.name, &f.sig, i, 0);
        p.redefines = None;
        let tags = std::mem::take(&mut p.redefine_tags);
        if !tags.is_empty() {
            // The new version the client loads at those traps.
            p.version = "%v2";
            let v2 = func::function(&mut p, u, &f.name, &f.sig, i, 0);
            p.version = "%v1";
            p.redefine_tags.clear();
            for t in tags {
                p.plan.redefine.push((t, v2.clone()));
            }
            p.plan.needs_client_mode = true;
        }
        if lazy {
            let sn = p.decls.sig(&f.sig);
            let _ = writeln!(p.bodies, ".funcdecl {} <{sn}>", f.name);
            p.plan.lazy.push((f.name.clone(), text));
            p.plan.needs_client_mode = true;
        } else {
            p.bodies.push_str(&text);
        }
    }
    let mut cbs: Vec<Callback> = p.callbacks.values().cloned().collect();
    cbs.sort_by(|a, b| a.name.cmp(&b.name));
    for cb in cbs {
        let text = func::function(&mut p, u, &cb.name, &cb.sig, usize::MAX, 1);
        p.bodies.push_str(&text);
        let _ = writeln!(
            p.bodies,
            ".expose {} = {} #DEFAULT {}",
            cb.expose, cb.name, cb.cookie
        );
    }
    for (_, _, text) in std::mem::take(&mut p.stack_wrappers).into_values() {
        p.bodies.push_str(&text);
    }
    for (_, text) in std::mem::take(&mut p.thread_wrappers).into_values() {
        p.bodies.push_str(&text);
    }
    let mut own = String::new();
    for (t, g) in p.globals.clone() {
        let tn = p.decls.ty(&t);
        let _ = writeln!(own, ".global {g} <{tn}>");
    }
    own.push_str(&p.bodies);
    let mut text = String::new();
    let decls = std::mem::take(&mut p.decls.text);
    let body = format!("{decls}{own}");
    // The bundles the client loads name the prelude's definitions too.
    let later: String = p
        .plan
        .lazy
        .iter()
        .chain(&p.plan.redefine)
        .map(|(_, t)| t.as_str())
        .collect();
    text.push_str(&trimmed_prelude(&format!("{body}{later}")));
    text.push_str(&body);
    let params = p.funcs[0].sig.params.clone();
    let n = if params.is_empty() {
        1
    } else {
        p.cfg.inputs as usize
    };
    let inputs = (0..n)
        .map(|_| params.iter().map(|t| literal(u, t)).collect())
        .collect();
    Program {
        text,
        entry: "@f0".into(),
        inputs,
        client: p.plan,
    }
}

impl Prog<'_> {
    /// The [`CallParts`] of a bottom function calling `@f{j}`.
    fn call_parts(&mut self, j: usize) -> CallParts {
        let f = self.funcs[j].clone();
        let sig = self.decls.sig(&f.sig);
        let names = |d: &mut Decls, ts: &[Ty]| -> Vec<String> {
            ts.iter().map(|t| d.ty(t).to_string()).collect()
        };
        let params = names(&mut self.decls, &f.sig.params);
        let rets = names(&mut self.decls, &f.sig.rets);
        let ps: Vec<String> = (0..params.len()).map(|i| format!("%p{i}")).collect();
        let rs: Vec<String> = (0..rets.len()).map(|i| format!("%r{i}")).collect();
        let header = |ts: &[String], vs: &[String]| -> String {
            let h: Vec<String> = ts
                .iter()
                .zip(vs)
                .map(|(t, v)| format!("<{t}> {v}"))
                .collect();
            h.join(" ")
        };
        let lhs = match rs.len() {
            0 => String::new(),
            1 => format!("{} = ", rs[0]),
            _ => format!("({}) = ", rs.join(" ")),
        };
        CallParts {
            param_header: header(&params, &ps),
            ret_header: header(&rets, &rs),
            params,
            rets,
            ps,
            rs,
            lhs,
            sig,
        }
    }

    /// The bottom function that runs `@f{j}` on a new thread
    /// ([`ThreadWrapper`]), and the global cells it answers in.
    fn thread_wrapper(&mut self, j: usize) -> ThreadWrapper {
        if let Some((w, _)) = self.thread_wrappers.get(&j) {
            return w.clone();
        }
        let f = self.funcs[j].clone();
        let c = self.call_parts(j);
        let w = ThreadWrapper {
            name: format!("@th_f{j}"),
            sig: format!("@th_sig{j}"),
            exc: format!("@th_exc{j}"),
            results: (0..f.sig.rets.len())
                .map(|k| format!("@th_r{j}_{k}"))
                .collect(),
        };
        self.globals.push((Ty::r#ref(Ty::Void), w.exc.clone()));
        for (t, cell) in f.sig.rets.iter().zip(&w.results) {
            self.globals.push((t.clone(), cell.clone()));
        }
        let mut t = String::new();
        // The last parameter is the call's own object, whose first field says
        // when it is done (1 with results, 2 with an exception): a wake from a
        // thread of an earlier call cannot reach this call's wait.
        let _ = writeln!(
            t,
            ".funcsig {} = ({} @refExc) -> ()",
            w.sig,
            c.params.join(" ")
        );
        let _ = writeln!(t, ".funcdef {} VERSION %v1 <{}> {{", w.name, w.sig);
        let _ = writeln!(t, "    %entry({} <@refExc> %box):", c.param_header);
        let _ = writeln!(t, "        %bi = GETIREF <@Exc> %box");
        let _ = writeln!(t, "        %done = GETFIELDIREF <@Exc 0> %bi");
        let _ = writeln!(
            t,
            "        {}CALL <{}> {} ({}) EXC(%ok(%done {}) %exc(%done))",
            c.lhs,
            c.sig,
            f.name,
            c.ps.join(" "),
            c.rs.join(" ")
        );
        let _ = writeln!(t, "    %ok(<@irefi64> %done {}):", c.ret_header);
        for ((ty, r), cell) in c.rets.iter().zip(&c.rs).zip(&w.results) {
            let _ = writeln!(t, "        STORE <{ty}> {cell} {r}");
        }
        let _ = writeln!(t, "        STORE SEQ_CST <@i64> %done @ONE");
        let _ = writeln!(
            t,
            "        %w = COMMINST @uvm.futex.wake <@i64> (%done @N32)"
        );
        let _ = writeln!(t, "        RET ()");
        let _ = writeln!(t, "    %exc(<@irefi64> %done) [%e]:");
        let _ = writeln!(t, "        STORE <@refvoid> {} %e", w.exc);
        let _ = writeln!(t, "        STORE SEQ_CST <@i64> %done @TWO");
        let _ = writeln!(
            t,
            "        %w = COMMINST @uvm.futex.wake <@i64> (%done @N32)"
        );
        let _ = writeln!(t, "        RET ()");
        let _ = writeln!(t, "}}");
        self.thread_wrappers.insert(j, (w.clone(), t));
        w
    }

    /// The bottom function that runs `@f{j}` on a new stack, and its
    /// signature's name: it calls the function with what it is first given,
    /// and swaps back to the stack that gave it, killing its own, with the
    /// results or with the exception.
    fn stack_wrapper(&mut self, j: usize) -> (String, String) {
        if let Some((n, s, _)) = self.stack_wrappers.get(&j) {
            return (n.clone(), s.clone());
        }
        let f = self.funcs[j].name.clone();
        let c = self.call_parts(j);
        let (name, sig) = (format!("@co_f{j}"), format!("@co_sig{j}"));
        let mut t = String::new();
        let _ = writeln!(t, ".funcsig {sig} = (@sref {}) -> ()", c.params.join(" "));
        let _ = writeln!(t, ".funcdef {name} VERSION %v1 <{sig}> {{");
        let _ = writeln!(t, "    %entry(<@sref> %from {}):", c.param_header);
        let _ = writeln!(
            t,
            "        {}CALL <{}> {f} ({}) EXC(%ok(%from {}) %exc(%from))",
            c.lhs,
            c.sig,
            c.ps.join(" "),
            c.rs.join(" ")
        );
        let _ = writeln!(t, "    %ok(<@sref> %from {}):", c.ret_header);
        let _ = writeln!(
            t,
            "        SWAPSTACK %from KILL_OLD PASS_VALUES <{}> ({})",
            c.rets.join(" "),
            c.rs.join(" ")
        );
        let _ = writeln!(t, "    %exc(<@sref> %from) [%e]:");
        let _ = writeln!(t, "        SWAPSTACK %from KILL_OLD THROW_EXC %e");
        let _ = writeln!(t, "}}");
        self.stack_wrappers
            .insert(j, (name.clone(), sig.clone(), t));
        (name, sig)
    }

    /// A signature; the entry's parameters are scalars (they come from the command
    /// line as literals), and the entry has at least one but rarely (an entry
    /// without parameters runs once, whatever `inputs` says).
    fn random_sig(&mut self, u: &mut Unstructured<'_>, entry: bool) -> Sig {
        let least = usize::from(entry && !u.ratio(1u8, 50).unwrap_or(false));
        let np = u
            .int_in_range(least.min(self.cfg.max_params as usize)..=self.cfg.max_params as usize)
            .unwrap_or(0);
        let nr = u
            .int_in_range(0..=self.cfg.max_results as usize)
            .unwrap_or(1);
        let params = (0..np)
            .map(|_| {
                if entry {
                    scalar_ty(u)
                } else {
                    self.value_ty(u, 0)
                }
            })
            .collect();
        let rets = (0..nr).map(|_| self.value_ty(u, 0)).collect();
        Sig { params, rets }
    }

    /// A type an SSA value may have: mostly scalars, then references, pointers,
    /// structs and arrays by value.
    fn value_ty(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Ty {
        match u.int_in_range(0..=19u8).unwrap_or(0) {
            0..=9 => scalar_ty(u),
            10 | 11 => Ty::r#ref(self.mem_ty(u, depth + 1)),
            12 => Ty::iref(self.mem_ty(u, depth + 1)),
            13 => Ty::UPtr(Box::new(scalar_ty(u))),
            14 if depth == 0 => {
                let s = self
                    .funcs
                    .get(u.int_in_range(0..=self.funcs.len().max(1) - 1).unwrap_or(0));
                match s {
                    Some(f) => Ty::FuncRef(Box::new(f.sig.clone())),
                    None => Ty::I64,
                }
            }
            15..=17 if depth < 2 => {
                let n = u.int_in_range(1..=4usize).unwrap_or(1);
                Ty::Struct((0..n).map(|_| self.value_ty(u, depth + 1)).collect())
            }
            18 if depth < 2 => {
                let n = u.int_in_range(1..=4u64).unwrap_or(1);
                Ty::Array(Box::new(scalar_ty(u)), n)
            }
            _ => scalar_ty(u),
        }
    }

    /// A type of memory objects: scalars, structs (perhaps with reference fields)
    /// and arrays.
    fn mem_ty(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Ty {
        match u.int_in_range(0..=9u8).unwrap_or(0) {
            0..=3 => scalar_ty(u),
            4..=7 if depth < 3 => {
                let n = u.int_in_range(1..=4usize).unwrap_or(1);
                Ty::Struct(
                    (0..n)
                        .map(|_| {
                            if u.ratio(1u8, 5).unwrap_or(false) && depth < 2 {
                                Ty::r#ref(self.mem_ty(u, depth + 1))
                            } else if u.ratio(1u8, 6).unwrap_or(false) {
                                Ty::Array(
                                    Box::new(scalar_ty(u)),
                                    u.int_in_range(1..=5u64).unwrap_or(1),
                                )
                            } else {
                                scalar_ty(u)
                            }
                        })
                        .collect(),
                )
            }
            8 => Ty::Array(
                Box::new(scalar_ty(u)),
                u.int_in_range(1..=6u64).unwrap_or(1),
            ),
            _ => scalar_ty(u),
        }
    }

    /// The EXTERN constant of C function `f`.
    fn extern_of(&mut self, f: usize) -> String {
        if let Some(n) = self.externs.get(&f) {
            return n.clone();
        }
        let cf = &self.lib.funcs[f];
        let sig = self.lib.mu_sig(&cf.sig);
        let fp = Ty::UFuncPtr(Box::new(sig));
        let n = self.decls.konst(&fp, &format!("EXTERN \"{}\"", cf.name));
        self.externs.insert(f, n.clone());
        n
    }
}

/// A scalar type: an int of any width (the common ones more often), float or
/// double.
pub(crate) fn scalar_ty(u: &mut Unstructured<'_>) -> Ty {
    match u.int_in_range(0..=9u8).unwrap_or(0) {
        0..=3 => Ty::Int(int_width(u)),
        4 | 5 => Ty::Int([1, 8, 16, 32, 64][u.int_in_range(0..=4usize).unwrap_or(4)]),
        6 => Ty::Float,
        7 | 8 => Ty::Double,
        _ => Ty::I64,
    }
}

/// An int width, 1 to 64: the widths of C's types (and 1) a fifth of the time.
pub(crate) fn int_width(u: &mut Unstructured<'_>) -> u32 {
    if u.ratio(1u8, 5).unwrap_or(false) {
        [1, 8, 16, 32, 64][u.int_in_range(0..=4usize).unwrap_or(4)]
    } else {
        u.int_in_range(1..=64u32).unwrap_or(64)
    }
}

/// A literal of scalar type `t` for the entry's arguments.
fn literal(u: &mut Unstructured<'_>, t: &Ty) -> String {
    match t {
        Ty::Int(n) => func::int_literal(u, *n),
        Ty::Float => func::float_literal(u, false),
        Ty::Double => func::float_literal(u, true),
        _ => "NULL".into(),
    }
}

/// The prelude's definitions `text` refers to, directly or through other prelude
/// definitions, in the prelude's order.
fn trimmed_prelude(text: &str) -> String {
    use std::sync::OnceLock;
    static ITEMS: OnceLock<Vec<(String, String, Vec<String>)>> = OnceLock::new();
    let items = ITEMS.get_or_init(|| prelude_items(PRELUDE));
    let index: std::collections::HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, (n, _, _))| (n.as_str(), i))
        .collect();
    let mut keep = vec![false; items.len()];
    let mut work: Vec<usize> = names_in(text)
        .iter()
        .filter_map(|n| index.get(n.as_str()).copied())
        .collect();
    while let Some(i) = work.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        for n in &items[i].2 {
            if let Some(j) = index.get(n.as_str()) {
                work.push(*j);
            }
        }
    }
    let mut out = String::new();
    for (i, (_, body, _)) in items.iter().enumerate() {
        if keep[i] {
            out.push_str(body);
        }
    }
    out
}

/// The prelude's top-level definitions: name, text, the names its text uses.
fn prelude_items(prelude: &str) -> Vec<(String, String, Vec<String>)> {
    let mut items: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut open = false;
    for line in prelude.lines() {
        let t = line.trim_start();
        if t.starts_with("//") || t.is_empty() {
            continue;
        }
        if t.starts_with('.') && !open {
            let name = t.split_whitespace().nth(1).unwrap_or("").to_string();
            open = t.starts_with(".funcdef");
            items.push((name, String::new(), Vec::new()));
        }
        if let Some(last) = items.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
        if open && t == "}" {
            open = false;
        }
    }
    for it in &mut items {
        let own = it.0.clone();
        it.2 = names_in(&it.1).into_iter().filter(|n| *n != own).collect();
    }
    items
}

/// The global names (`@x`) a text uses, each once, in order of first use.
fn names_in(text: &str) -> Vec<String> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b"_.-".contains(&b[i])) {
                i += 1;
            }
            let name = &text[start..i];
            if seen.insert(name) {
                out.push(name.to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes (xorshift64), without a dependency.
    fn bytes(state: &mut u64) -> Vec<u8> {
        (0..4096)
            .map(|_| {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                (*state >> 24) as u8
            })
            .collect()
    }

    /// Each mark below shows up within a few hundred programs: a generator change
    /// that made one unreachable fails here, not silently in the statistics.
    #[test]
    fn every_family_shows_up_in_a_few_hundred_programs() {
        let lib = Library::new(1, 300);
        let marks = [
            "SWITCH <",
            " EXC(",
            "THROW ",
            "TAILCALL ",
            "] TRAP <>",
            "[%ct",
            "[%cx",
            ".funcdecl @f",
            "@uvm.native.pin <",
            "GETVARPARTIREF PTR",
            "STORE PTR",
            "@uvm.native.expose [#DEFAULT]",
            "@uvm.native.get_cookie ()",
            "EXTERN \"mu_r1_",
            "CMPXCHG",
            "ATOMICRMW SEQ_CST NAND",
            "ALLOCAHYBRID",
            "INSERTVALUE",
            "EXTRACTVALUE",
            "REFCAST",
            "FUNE <",
            "UITOFP <",
            "FPTOUI <",
            "PTRCAST <",
            "BITCAST <",
            "SELECT <@i1 @t",
            "FREM <",
            "SDIV <",
            "GETELEMIREF <",
        ];
        let mut seen = vec![0u32; marks.len()];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let (mut many_params, mut struct_param) = (false, false);
        let (mut lazy, mut redefined) = (false, false);
        for _ in 0..400 {
            let p = generate(
                &mut Unstructured::new(&bytes(&mut state)),
                &Config::default(),
                &lib,
            );
            for (k, m) in marks.iter().enumerate() {
                seen[k] += u32::from(p.text.contains(m));
            }
            many_params |= p.text.lines().any(|l| {
                l.starts_with(".funcsig @s")
                    && l.split(" -> ")
                        .next()
                        .is_some_and(|ps| ps.matches('@').count() > 7)
            });
            struct_param |= p.text.contains("(<@t");
            lazy |= !p.client.lazy.is_empty();
            redefined |= p
                .client
                .redefine
                .iter()
                .any(|(_, v2)| v2.contains("VERSION %v2"));
        }
        assert!(lazy && redefined, "lazy {lazy}, redefined {redefined}");
        for (m, n) in marks.iter().zip(&seen) {
            assert!(*n > 0, "no program of 400 has `{m}`");
        }
        assert!(many_params && struct_param, "{many_params} {struct_param}");
    }

    #[test]
    fn a_program_depends_on_its_bytes_alone() {
        let lib = Library::new(1, 300);
        let mut s1 = 5u64;
        let mut s2 = 5u64;
        let (b1, b2) = (bytes(&mut s1), bytes(&mut s2));
        let c = Config::default();
        let (p, q) = (
            generate(&mut Unstructured::new(&b1), &c, &lib),
            generate(&mut Unstructured::new(&b2), &c, &lib),
        );
        assert_eq!((&p.text, &p.inputs), (&q.text, &q.inputs));
    }

    #[test]
    fn the_trimmed_prelude_holds_what_a_definition_needs() {
        let t = trimmed_prelude("%x = CALL <@sig> @rec (%a %b)\n");
        assert!(t.contains(".funcdef @rec "), "{t}");
        assert!(t.contains(".typedef @i64 = int<64>"), "{t}");
        assert!(t.contains(".const @ONE "), "{t}");
        assert!(!t.contains("@fibish"), "{t}");
        let t = trimmed_prelude("@cb_native\n");
        assert!(
            t.contains(".funcdef @cb ") && t.contains(".global @g_i"),
            "{t}"
        );
    }
}
