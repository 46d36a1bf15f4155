//! Loading a bundle from text: parse every file, verify the whole.

use crate::diag::Diagnostic;
use crate::ir::Module;
use crate::machine::{Budgets, Machine, ModelError, literal_value};
use crate::outcome::Outcome;
use crate::syntax::{self, ConstCtor, SourceMap, Span};
use crate::verify::Verifier;
use std::collections::HashMap;

/// A parsed and verified bundle with its sources.
#[derive(Debug)]
pub struct Loaded {
    /// The source files, for diagnostics and traces.
    pub sources: SourceMap,
    /// The verified module.
    pub module: Module,
    /// Constructs outside muni's subset; the functions using them cannot run.
    pub unsupported: Vec<Diagnostic>,
    /// The verifier's state, from which bundles loaded later go on.
    verifier: Verifier,
}

/// Why a bundle did not load: its diagnostics, with the sources to render them.
#[derive(Debug)]
pub struct LoadError {
    /// The source files.
    pub sources: SourceMap,
    /// Every diagnostic, in order.
    pub diags: Vec<Diagnostic>,
}

impl LoadError {
    /// The outcome line of the first diagnostic (`malformed CODE`, `invalid CODE`, ...).
    pub fn outcome(&self) -> String {
        self.diags
            .first()
            .map(|d| d.outcome())
            .unwrap_or_else(|| "invalid unknown".into())
    }
    /// The stable code of the first diagnostic (`duplicate-name`, ...).
    pub fn code(&self) -> &'static str {
        self.diags.first().map_or("unknown", |d| d.code)
    }
    /// Every diagnostic rendered with `file:line:col` and a caret snippet.
    pub fn render(&self) -> String {
        self.diags.iter().map(|d| d.render(&self.sources)).collect()
    }
}

/// Parses and verifies the files `(name, text)`, each a bundle loaded after the
/// ones before it (uvm-ir.rest, "Bundle"): a later bundle may name what earlier
/// ones define, and its `.funcdef` of a function an earlier one defined is a new
/// version, which every call runs (no call of the old one has started). Each
/// bundle must load with the ones before it, all or nothing: the first that does
/// not is the error.
pub fn load(files: &[(&str, &str)]) -> Result<Loaded, LoadError> {
    let mut sources = SourceMap::new();
    let mut verifier = Verifier::default();
    let mut unsupported = Vec::new();
    for (name, text) in files {
        match load_one(&mut verifier, &mut sources, name, text) {
            Ok(more) => unsupported.extend(more),
            Err(diags) => return Err(LoadError { sources, diags }),
        }
    }
    unsupported.sort_by_key(|d| (d.span.file, d.span.lo));
    Ok(Loaded {
        sources,
        module: verifier.module().clone(),
        unsupported,
        verifier,
    })
}

/// Loads one bundle after what `verifier` holds, all or nothing (`load_bundle`):
/// the `unsupported` diagnostics if it loads, every diagnostic (the invalid ones
/// first) if not, in which case `verifier` is as it was.
fn load_one(
    verifier: &mut Verifier,
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let id = sources.add(name, text);
    let (b, mut diags) = syntax::parse_file(id, text).map_err(|d| vec![d])?;
    let before = verifier.clone();
    let more = match verifier.load(&b) {
        Ok(more) => more,
        Err(mut all) => {
            all.extend(diags);
            return Err(sorted(all));
        }
    };
    diags.extend(more);
    // EXTERN symbols resolve when the bundle loads: in the process and in the
    // libraries loaded before it (`load_library`).
    let mut unresolved = Vec::new();
    for d in &b.defs {
        if let syntax::TopLevel::Const {
            value: ConstCtor::Extern(sym),
            span,
            ..
        } = d
            && crate::machine::native::symbol(sym).is_none()
        {
            unresolved.push(Diagnostic::new(
                crate::diag::Severity::Invalid,
                "unresolved-extern",
                *span,
                format!("no symbol `{sym}` in the process or the libraries loaded with --lib"),
            ));
        }
    }
    if !unresolved.is_empty() {
        *verifier = before;
        unresolved.extend(diags);
        return Err(sorted(unresolved));
    }
    Ok(diags)
}

/// In file order, the invalid ones first: they are what makes a bundle unusable.
fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| (d.span.file, d.span.lo));
    diags.sort_by_key(|d| d.severity == crate::diag::Severity::Unsupported);
    diags
}

/// The bundles a client loads while runs go on (`MuCtx.load_bundle`), after a
/// [`Loaded`]: each load that succeeds is a new module, kept as long as this is,
/// so that frames of the versions it replaces go on running them. A run that
/// loads the bundles an earlier run loaded, in the same order, gets the same
/// modules (and the same errors) without parsing them again.
pub struct Bundles<'a> {
    loaded: &'a Loaded,
    modules: elsa::FrozenVec<Box<Module>>,
    /// After each sequence of loads, by its key: the module, and the verifier and
    /// sources the next load goes on from, or the error.
    after: std::cell::RefCell<HashMap<u64, After>>,
    /// The key of this run's loads so far (0: none).
    chain: std::cell::Cell<u64>,
}

/// What a sequence of loads ended with.
#[derive(Clone)]
enum After {
    Loaded(usize, std::rc::Rc<(Verifier, SourceMap)>),
    Failed(std::rc::Rc<(SourceMap, Vec<Diagnostic>)>),
}

impl std::fmt::Debug for Bundles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundles")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl<'a> Bundles<'a> {
    /// Bundles loaded after `loaded`.
    pub fn new(loaded: &'a Loaded) -> Bundles<'a> {
        Bundles {
            loaded,
            modules: elsa::FrozenVec::new(),
            after: Default::default(),
            chain: std::cell::Cell::new(0),
        }
    }

    /// Forgets the bundles loaded so far (a new run starts with none); the
    /// modules made stay allocated as long as this.
    pub fn restart(&self) {
        self.chain.set(0);
    }

    /// Loads the bundle `text` (named `name` in diagnostics) after every bundle so
    /// far, all or nothing: the module with it, or the error, which names the
    /// conflict with a stable code.
    pub fn load(&self, name: &str, text: &str) -> Result<&Module, LoadError> {
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (self.chain.get(), name, text).hash(&mut h);
            h.finish().max(1)
        };
        let known = self.after.borrow().get(&key).cloned();
        let after = match known {
            Some(a) => a,
            None => {
                let (mut verifier, mut sources) = match self.after.borrow().get(&self.chain.get()) {
                    Some(After::Loaded(_, state)) => (state.0.clone(), state.1.clone()),
                    _ => (self.loaded.verifier.clone(), self.loaded.sources.clone()),
                };
                let a = match load_one(&mut verifier, &mut sources, name, text) {
                    Ok(_) => {
                        let i = self.modules.len();
                        self.modules.push(Box::new(verifier.module().clone()));
                        After::Loaded(i, std::rc::Rc::new((verifier, sources)))
                    }
                    Err(diags) => After::Failed(std::rc::Rc::new((sources, diags))),
                };
                self.after.borrow_mut().insert(key, a.clone());
                a
            }
        };
        match after {
            After::Loaded(i, _) => {
                self.chain.set(key);
                self.modules.get(i).ok_or_else(|| LoadError {
                    sources: SourceMap::new(),
                    diags: Vec::new(),
                })
            }
            After::Failed(e) => Err(LoadError {
                sources: e.0.clone(),
                diags: e.1.clone(),
            }),
        }
    }
}

/// Parses one Mu literal (`42`, `-0x10`, `1.5d`, `nanf`, `NULL`, ...).
pub fn parse_literal(text: &str) -> Result<ConstCtor, String> {
    match syntax::parse_const(0, text) {
        Ok(ConstCtor::List(_) | ConstCtor::Extern(_)) => {
            Err(format!("`{text}` is not a scalar literal"))
        }
        Ok(value) => Ok(value),
        Err(_) => Err(format!("`{text}` is not a Mu literal")),
    }
}

impl Loaded {
    /// Runs `func` (e.g. `@main`) on the model with literal arguments (through
    /// [`crate::run::Model`], as every run path does).
    pub fn run(&self, func: &str, args: &[&str], budgets: Budgets) -> Result<Outcome, ModelError> {
        let f = self.func(func).map_err(ModelError::Usage)?;
        let args = self.args(f, args).map_err(ModelError::Usage)?;
        self.run_values(f, &args, budgets)
    }

    fn run_values(
        &self,
        f: u32,
        args: &[crate::machine::Value],
        budgets: Budgets,
    ) -> Result<Outcome, ModelError> {
        use crate::run::{Engine, Model, Request, RunError};
        match Model::new(self).run(&Request::new(f, args, budgets)) {
            Ok(seen) => Ok(seen.outcome),
            Err(RunError::Unsupported { code, why }) => {
                Err(ModelError::Unsupported { code, message: why })
            }
            Err(RunError::Usage(s)) => Err(ModelError::Usage(s)),
            Err(RunError::Failed(s)) => Err(ModelError::Bug(s)),
        }
    }

    /// Runs every function the model can run, with zero arguments, each on a fresh
    /// machine: what the fuzz targets and the no-panic tests do with any bundle.
    pub fn run_every_function(&self, budgets: Budgets) -> Vec<(u32, Result<Outcome, ModelError>)> {
        let mut out = Vec::new();
        for (i, f) in self.module.funcs.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            if f.body.is_none() {
                continue;
            }
            let types = &self.module.types;
            let args: Vec<_> = types
                .sig(f.sig)
                .params
                .iter()
                .map(|t| crate::machine::zero_value(types, *t))
                .collect();
            out.push((i, self.run_values(i, &args, budgets)));
        }
        out
    }

    /// A fresh machine for this module.
    pub fn machine(&self, budgets: Budgets) -> Machine<'_> {
        Machine::new(&self.module, budgets)
    }

    /// A defined function by name.
    pub fn func(&self, name: &str) -> Result<u32, String> {
        let f = self
            .module
            .func(name)
            .ok_or_else(|| format!("there is no function {name}"))?;
        let func = &self.module.funcs[f as usize];
        if let Some(why) = &func.unsupported {
            return Err(format!("{name} cannot run: {why}"));
        }
        if func.body.is_none() {
            return Err(format!("{name} is declared but not defined"));
        }
        Ok(f)
    }

    /// Argument literals converted to values of `f`'s parameter types.
    pub fn args(&self, f: u32, args: &[&str]) -> Result<Vec<crate::machine::Value>, String> {
        let m = &self.module;
        let params = &m.types.sig(m.funcs[f as usize].sig).params;
        if params.len() != args.len() {
            return Err(format!(
                "{} takes {} argument{}, {} given",
                m.funcs[f as usize].name,
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                args.len()
            ));
        }
        params
            .iter()
            .zip(args)
            .map(|(t, a)| literal_value(m, *t, &parse_literal(a)?))
            .collect()
    }

    /// The source text of a span, on one line.
    pub fn snippet(&self, span: Span) -> String {
        self.sources
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
