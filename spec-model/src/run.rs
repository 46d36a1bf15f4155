//! One run of a function, as every run path asks for it (spec/11-client.md,
//! "Running a function"): the CLI's `run`, `trace` and `impl`, the conformance
//! runner, the differential tester and the benchmarks all go through [`Engine`],
//! which both engines implement, and judge what it gives back, an
//! [`Observation`] of values.
//!
//! A client runs a function by making a stack for it and a thread on that stack
//! that passes it the arguments (`new_stack`, then `new_thread` with
//! `PASS_VALUES`, in uvm-client-interface.rest). The thread runs until it ends,
//! and how it ends is the run's [`Outcome`]. The trap handler set with
//! [`MuVM::set_trap_handler`] answers the thread's traps; without one, the first
//! trap ends the run with `client_trap`, the simplest client there is. Every run
//! starts from the bundles the engine was made with, as a fresh VM would: what a
//! client loaded in one run is gone in the next.

use crate::client::{MuId, MuVM, TrapHandler};
use crate::ir::FuncId;
use crate::load::{Bundles, Loaded};
use crate::machine::{Budgets, Machine, ModelError, Profile, Value};
use crate::outcome::{NativeEvent, OutValue, Outcome, reachable};
use crate::rules::RuleId;
use crate::syntax::Span;

/// What to run, under which budgets, and what to look at afterwards.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The function the thread's stack starts with.
    pub func: FuncId,
    /// Its arguments, of its parameter types ([`Loaded::args`] makes them from
    /// literals).
    pub args: &'a [Value],
    /// The run's budgets.
    pub budgets: Budgets,
    /// Collect at every allocation, moving every unpinned object. The fast VM
    /// does; the model ignores it (it relocates an object at its last unpin
    /// anyway, and its addresses never go stale unnoticed).
    pub gc_stress: bool,
    /// Record the native trace: CCALLs, callbacks, pins and unpins.
    pub trace: bool,
    /// What of the final state to give back.
    pub observe: Observe,
}

impl<'a> Request<'a> {
    /// A run of `func` with `args` under `budgets`, without GC stress, trace or
    /// observation.
    pub fn new(func: FuncId, args: &'a [Value], budgets: Budgets) -> Self {
        Request {
            func,
            args,
            budgets,
            gc_stress: false,
            trace: false,
            observe: Observe::Outcome,
        }
    }
}

/// What of the final state an [`Observation`] holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Observe {
    /// Only the outcome.
    #[default]
    Outcome,
    /// These global cells, by index: with `true`, the contents of the object the
    /// cell's reference points to rather than the cell.
    Globals(Vec<(u32, bool)>),
    /// Every global cell of the engine's first bundle, and the objects they reach,
    /// breadth first, at most `max_objects` of them.
    Heap {
        /// How many objects at most.
        max_objects: usize,
    },
}

/// What a run shows, as values.
#[derive(Clone, Debug)]
pub struct Observation {
    /// How the run's thread ended.
    pub outcome: Outcome,
    /// How each thread the client made (`new_thread`) ended, in the order they
    /// ran (one at a time, after the run's own).
    pub threads: Vec<Outcome>,
    /// The native trace, when asked for.
    pub trace: Option<Vec<NativeEvent>>,
    /// The cells [`Observe`] asked for, in its order (`None`: a reference that
    /// points to no object, or no such cell).
    pub globals: Vec<Option<OutValue>>,
    /// With [`Observe::Heap`], the objects the cells reach: each object's
    /// identity (as in [`OutValue::Ref`]) and contents.
    pub objects: Vec<(u32, OutValue)>,
    /// How often each rule fired (indexed by `RuleId as usize`): the model's
    /// alone.
    pub rules: Option<Vec<u64>>,
}

/// Why a run did not end in an outcome.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The request is wrong: no such function, arguments of the wrong number or
    /// type, a trace from an engine built without one, or a client's misuse of
    /// the interface that ends the run.
    #[error("{0}")]
    Usage(String),
    /// The engine cannot run something the program reaches; `code` is the
    /// outcome line's word for it (`not-runnable`, `native-interface`, `fast-vm`).
    #[error("unsupported: {why}")]
    Unsupported {
        /// `unsupported CODE`.
        code: &'static str,
        /// What was reached.
        why: String,
    },
    /// The engine failed: a bug in it.
    #[error("{0}")]
    Failed(String),
}

/// A Mu implementation that runs functions: the model ([`Model`]) and the fast
/// VM (`fast_vm::Program`) implement it.
pub trait Engine: MuVM {
    /// How reports name it: `spec` or `fast`.
    fn name(&self) -> &'static str;
    /// Runs one thread from a stack whose bottom frame is `r.func`, until it ends.
    fn run(&mut self, r: &Request<'_>) -> Result<Observation, RunError>;
}

/// The reference model as an [`Engine`]: a fresh [`Machine`] per run, over the
/// bundles it was made with and those its client loads.
#[derive(Debug)]
pub struct Model<'l> {
    loaded: &'l Loaded,
    bundles: Bundles<'l>,
    client: Option<Box<dyn TrapHandler>>,
    profiling: bool,
    profile: Option<Profile>,
}

impl<'l> Model<'l> {
    /// The model over `loaded`.
    pub fn new(loaded: &'l Loaded) -> Self {
        Model {
            loaded,
            bundles: Bundles::new(loaded),
            client: None,
            profiling: false,
            profile: None,
        }
    }

    /// Counts how often each instruction runs ([`Model::profile`]), for the
    /// differential tester's statistics.
    pub fn profiling(mut self) -> Self {
        self.profiling = true;
        self
    }

    /// The last run's instruction counts, when profiling.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// [`Engine::run`], calling `on_step` with each step's rule and the span of
    /// the instruction it applied to (`muni trace`, and the conformance runner's
    /// explanation of a failure).
    pub fn run_stepping(
        &mut self,
        r: &Request<'_>,
        mut on_step: impl FnMut(RuleId, Option<Span>),
    ) -> Result<Observation, RunError> {
        self.run_model(r, Some(&mut on_step))
    }

    /// A run, reporting each step to `on_step` if given (without, the machine
    /// runs with nothing between its steps).
    fn run_model(
        &mut self,
        r: &Request<'_>,
        mut on_step: Option<&mut dyn FnMut(RuleId, Option<Span>)>,
    ) -> Result<Observation, RunError> {
        let module = &self.loaded.module;
        let mut m = Machine::new(module, r.budgets);
        m.bundles = Some(&self.bundles);
        m.client = self.client.take();
        if r.trace {
            m.trace = Some(Vec::new());
        }
        if self.profiling {
            m.profile = Some(Profile::new(module));
        }
        // The run's thread, then each thread its client made, one at a time.
        let first = m.start(r.func, r.args.to_vec());
        let mut ended = drive(&mut m, first, on_step.as_deref_mut());
        // The threads the run's function made, then each client thread with
        // the threads it made.
        let mut threads = m.thread_outcomes();
        while let Ok(o) = &ended {
            // Undefined behaviour ends the run.
            if matches!(o, Outcome::Ub(_)) {
                break;
            }
            let Some(started) = m.start_next() else {
                break;
            };
            match drive(&mut m, started, on_step.as_deref_mut()) {
                Ok(o) => {
                    threads.push(o);
                    threads.extend(m.thread_outcomes());
                }
                Err(e) => ended = Err(e),
            }
        }
        self.client = m.client.take();
        self.profile = m.profile.take();
        let outcome = ended.map_err(|e| match e {
            ModelError::Usage(s) => RunError::Usage(s),
            ModelError::Unsupported { code, message } => {
                RunError::Unsupported { code, why: message }
            }
            ModelError::Bug(s) => RunError::Failed(format!("model bug: {s}")),
        })?;
        let (globals, objects) = match &r.observe {
            Observe::Outcome => (Vec::new(), Vec::new()),
            Observe::Globals(cells) => {
                let seen = cells
                    .iter()
                    .map(|&(g, deref)| {
                        let g = module.globals.get(g as usize).map(|_| m.global_out(g))?;
                        if deref { m.object_out(&g) } else { Some(g) }
                    })
                    .collect();
                (seen, Vec::new())
            }
            Observe::Heap { max_objects } => {
                let cells: Vec<OutValue> = (0..module.globals.len() as u32)
                    .map(|g| m.global_out(g))
                    .collect();
                let objects = reachable(&cells, *max_objects, |o| {
                    m.object_out(&OutValue::Ref(Some(o)))
                });
                (cells.into_iter().map(Some).collect(), objects)
            }
        };
        Ok(Observation {
            outcome,
            threads,
            trace: m.trace.take(),
            globals,
            objects,
            rules: Some(m.rule_counts.clone()),
        })
    }
}

/// Runs a thread that `started` (an outcome if it ended at once) to its end,
/// telling `on_step` of each step if given.
fn drive<'f>(
    m: &mut Machine<'_>,
    started: Result<Option<Outcome>, ModelError>,
    on_step: Option<&mut (dyn FnMut(RuleId, Option<Span>) + 'f)>,
) -> Result<Outcome, ModelError> {
    if let Some(o) = started? {
        return Ok(o);
    }
    let Some(on_step) = on_step else {
        return m.run();
    };
    loop {
        m.pick_thread();
        let span = m.current_span();
        let s = m.step_picked()?;
        on_step(s.rule, span);
        if let Some(o) = s.outcome {
            return Ok(o);
        }
    }
}

impl MuVM for Model<'_> {
    fn id_of(&self, name: &str) -> Option<MuId> {
        self.loaded.module.id_of(name)
    }

    fn name_of(&self, id: MuId) -> Option<String> {
        self.loaded.module.name_of(id)
    }

    fn set_trap_handler(&mut self, handler: Option<Box<dyn TrapHandler>>) {
        self.client = handler;
    }
}

impl Engine for Model<'_> {
    fn name(&self) -> &'static str {
        "spec"
    }

    fn run(&mut self, r: &Request<'_>) -> Result<Observation, RunError> {
        self.run_model(r, None)
    }
}
