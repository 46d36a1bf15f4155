//! The client's side of a run: what the language runtime above the VM answers when
//! a thread traps to it (uvm-client-interface.rest, "Trap Handling"; spec/11).
//!
//! Both engines take the same [`TrapHandler`], so one piece of client code drives
//! the model and the fast VM alike. At each `TRAP` the engine hands the handler a
//! [`TrapEvent`] (the trap's name and its `KEEPALIVE` values, as the outcome line
//! shows them) and does what the [`TrapAnswer`] says: rebind the thread to its
//! stack passing values (`MU_REBIND_PASS_VALUES`: the TRAP's results), rebind it
//! throwing an exception (`MU_REBIND_THROW_EXC`), end the thread
//! (`MU_THREAD_EXIT`), or stop the run there, which is what the simplest client,
//! [`EndAtFirstTrap`], does: the run's outcome is `client_trap NAME V…`.

use crate::outcome::OutValue;

/// A value the client passes into the VM.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientValue {
    /// An integer or pointer of the receiving type (its low bits).
    Int(u64),
    /// A `float`'s bits.
    Float(u32),
    /// A `double`'s bits.
    Double(u64),
    /// `NULL` of the receiving reference type.
    Null,
    /// The trap's `KEEPALIVE` value at this index, handed back as it is (an object
    /// reference the client holds through the trap).
    Kept(usize),
}

/// What the thread does after its trap.
#[derive(Clone, Debug, PartialEq)]
pub enum TrapAnswer {
    /// Continue after the TRAP with these values as its results
    /// (`client.trap-resume`).
    Resume(Vec<ClientValue>),
    /// Throw this reference at the TRAP: to its exception clause, or up the stack
    /// like a THROW (`client.trap-throw`).
    Throw(ClientValue),
    /// End the thread: the run returns no values (`client.trap-exit`).
    ExitThread,
    /// Stop the run at the trap: the outcome is `client_trap NAME V…`.
    Stop,
}

/// A trap handed to the client.
#[derive(Clone, Debug, PartialEq)]
pub struct TrapEvent {
    /// The TRAP's name (`@f.v1.entry.t`).
    pub name: String,
    /// Its `KEEPALIVE` values, rendered as in outcomes (objects numbered by the
    /// engine; compare them up to a renaming).
    pub keepalive: Vec<OutValue>,
}

/// The client's trap handler (`set_trap_handler`).
pub trait TrapHandler: std::fmt::Debug {
    /// Called at every `TRAP`; the answer says what the thread does next.
    fn on_trap(&mut self, trap: &TrapEvent) -> TrapAnswer;
}

/// The simplest client: it stops the run at the first trap.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndAtFirstTrap;

impl TrapHandler for EndAtFirstTrap {
    fn on_trap(&mut self, _: &TrapEvent) -> TrapAnswer {
        TrapAnswer::Stop
    }
}

/// A client that answers the traps of a run in order from a script, and records
/// what it was shown (in a log its clones share, so the caller keeps one to read
/// after handing the other to an engine); past the end of the script it stops
/// the run.
#[derive(Clone, Debug, Default)]
pub struct Scripted {
    /// The answers, first trap first.
    pub answers: Vec<TrapAnswer>,
    /// The traps seen so far.
    pub seen: std::rc::Rc<std::cell::RefCell<Vec<TrapEvent>>>,
}

impl Scripted {
    /// A client with these answers.
    pub fn new(answers: Vec<TrapAnswer>) -> Self {
        Scripted {
            answers,
            seen: Default::default(),
        }
    }

    /// The traps seen so far.
    pub fn seen(&self) -> Vec<TrapEvent> {
        self.seen.borrow().clone()
    }
}

impl TrapHandler for Scripted {
    fn on_trap(&mut self, trap: &TrapEvent) -> TrapAnswer {
        let mut seen = self.seen.borrow_mut();
        let answer = self
            .answers
            .get(seen.len())
            .cloned()
            .unwrap_or(TrapAnswer::Stop);
        seen.push(trap.clone());
        answer
    }
}
