//! The client of generated programs: one deterministic trap handler, run on the
//! model and on every build of the fast VM, that answers each trap from what the
//! engine shows it (the trap's name and keep-alive values) and from the program's
//! [`ClientPlan`]. Two engines that show the client the same traps get the same
//! answers; what the client saw is part of what is compared.
//!
//! A trap's tag (its name's last part) says what the client does:
//!
//! | tag | answer |
//! |---|---|
//! | `ct…_T` | resume with a value of type `T` (`i37`, `f`, `d`) hashed from the keep-alive values |
//! | `cx…` | throw NULL (into the TRAP's exception clause) |
//! | `ce…` | end the thread |
//! | `co…_T…` | pop to the caller's frame and resume its CALL with values of types `T…` |
//! | `cr…` | load the plan's new version of the trapping function, then resume |
//! | `cn…` | make a stack for `@fibish` and a thread on it, passing values hashed from the keep-alive values (or, one time in four, throwing NULL to it), then resume |
//! | a function's name | (it has no version) load the plan's bundle for it, then resume |
//! | anything else | stop the run (`client_trap`), as muni's runs without a client do |
//!
//! A WATCHPOINT is named by such a tag too; the client enables watchpoint 1 as
//! the run starts when the plan says so (`ClientPlan::watch`).

use crate::generate::ClientPlan;
use spec_model::client::{
    ClientValue, MuCtx, NewThread, TrapAnswer, TrapEvent, TrapHandler, TrapKind,
};
use spec_model::outcome::OutValue;
use std::cell::RefCell;
use std::rc::Rc;

/// The client of one run; its log is shared with its clones.
#[derive(Clone, Debug)]
pub struct Client {
    plan: Rc<ClientPlan>,
    /// What the client saw and did, one line per trap.
    pub log: Rc<RefCell<Vec<String>>>,
}

impl Client {
    /// A client carrying out `plan`.
    pub fn new(plan: Rc<ClientPlan>) -> Client {
        Client {
            plan,
            log: Rc::default(),
        }
    }

    /// What it saw and did.
    pub fn take_log(&self) -> Vec<String> {
        self.log.take()
    }
}

/// FNV-1a over the trap's tag and its scalar keep-alive values (references are
/// numbered by each engine in its own way, so they are left out).
fn hash(tag: &str, keepalive: &[OutValue], count: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u64| {
        for k in 0..8 {
            h ^= (b >> (8 * k)) & 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for c in tag.bytes() {
        eat(u64::from(c));
    }
    eat(count as u64);
    for v in keepalive {
        match v {
            OutValue::Int { bits, .. } | OutValue::Double(bits) => eat(*bits),
            OutValue::Float(b) => eat(u64::from(*b)),
            _ => eat(0),
        }
    }
    h
}

/// A value of the type a tag spells (`i37`, `f`, `d`), from `h`.
fn value(code: &str, h: u64) -> ClientValue {
    match code {
        "f" => ClientValue::Float(h as u32),
        "d" => ClientValue::Double(h),
        _ => ClientValue::Int(h),
    }
}

/// The scalar keep-alive values as the log shows them.
fn shown(keepalive: &[OutValue]) -> String {
    keepalive
        .iter()
        .map(|v| match v {
            OutValue::Int { bits, .. } | OutValue::Double(bits) => format!("{bits:#x}"),
            OutValue::Float(b) => format!("{b:#x}"),
            _ => "_".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl TrapHandler for Client {
    fn on_trap(&mut self, ctx: &mut dyn MuCtx, trap: &TrapEvent) -> TrapAnswer {
        let mut log = self.log.borrow_mut();
        let count = log.len();
        let mut line = format!("{} {}", trap.name, shown(&trap.keepalive));
        let answer = if trap.kind == TrapKind::UndefinedFunction {
            match self.plan.lazy.iter().find(|(f, _)| *f == trap.name) {
                Some((_, text)) => match ctx.load_bundle("lazy.uir", text) {
                    Ok(()) => TrapAnswer::Resume(Vec::new()),
                    Err(e) => {
                        // A generator bug (`crate::check` rejects the program).
                        line.push_str(&format!(" load: {}", e.code));
                        TrapAnswer::Stop
                    }
                },
                None => TrapAnswer::Stop,
            }
        } else {
            let tag = trap.name.rsplit('.').next().unwrap_or("");
            let h = hash(tag, &trap.keepalive, count);
            let codes = |t: &str| -> Vec<ClientValue> {
                t.split('_')
                    .skip(1)
                    .filter(|c| !c.is_empty())
                    .map(|c| value(c, h))
                    .collect()
            };
            if tag.starts_with("ct") {
                TrapAnswer::Resume(codes(tag))
            } else if tag.starts_with("cx") {
                TrapAnswer::Throw(ClientValue::Null)
            } else if tag.starts_with("ce") {
                TrapAnswer::ExitThread
            } else if tag.starts_with("co") {
                let popped = ctx.new_cursor().and_then(|c| {
                    ctx.next_frame(c)?;
                    ctx.pop_frames_to(c)
                });
                match popped {
                    Ok(()) => TrapAnswer::Resume(codes(tag)),
                    Err(e) => {
                        line.push_str(&format!(" pop: {}", e.code));
                        TrapAnswer::Resume(Vec::new())
                    }
                }
            } else if tag.starts_with("cn") {
                // Small arguments: @fibish's depth is its first.
                let how = if h.is_multiple_of(4) {
                    NewThread::ThrowExc(ClientValue::Null)
                } else {
                    NewThread::PassValues(vec![
                        ClientValue::Int(h >> 8 & 15),
                        ClientValue::Int(h >> 16),
                    ])
                };
                let made = ctx
                    .id_of("@fibish")
                    .ok_or_else(|| {
                        spec_model::client::ClientError::new("client.no-such-id", "@fibish")
                    })
                    .and_then(|id| ctx.handle_from_id(id))
                    .and_then(|f| ctx.new_stack(f))
                    .and_then(|s| ctx.new_thread(s, how));
                if let Err(e) = made {
                    line.push_str(&format!(" thread: {}", e.code));
                }
                TrapAnswer::Resume(Vec::new())
            } else if tag.starts_with("cr") {
                match self.plan.redefine.iter().find(|(t, _)| t == tag) {
                    Some((_, text)) => match ctx.load_bundle("redefine.uir", text) {
                        Ok(()) => TrapAnswer::Resume(Vec::new()),
                        // Loaded at an earlier trap of the run already.
                        Err(e) if e.code == "duplicate-name" => {
                            line.push_str(" loaded already");
                            TrapAnswer::Resume(Vec::new())
                        }
                        Err(e) => {
                            line.push_str(&format!(" load: {}", e.code));
                            TrapAnswer::Stop
                        }
                    },
                    None => TrapAnswer::Resume(Vec::new()),
                }
            } else {
                TrapAnswer::Stop
            }
        };
        log.push(line);
        answer
    }

    fn on_start(&mut self, ctx: &mut dyn MuCtx) {
        if self.plan.watch {
            ctx.enable_watchpoint(1);
        }
    }
}

/// The plan as comment lines a reproducer carries (`// client: …` headers, each
/// bundle's lines after `// client| `), so that `muni reduce` can rebuild it.
pub fn plan_to_text(plan: &ClientPlan) -> String {
    let mut s = String::new();
    if plan.needs_client_mode {
        s.push_str("// client: compiled for a client\n");
    }
    if plan.watch {
        s.push_str("// client: watchpoints enabled\n");
    }
    let mut bundle = |head: String, text: &str| {
        s.push_str(&format!("// client: {head}\n"));
        for l in text.lines() {
            s.push_str(&format!("// client| {l}\n"));
        }
    };
    for (f, text) in &plan.lazy {
        bundle(format!("lazy {f}"), text);
    }
    for (t, text) in &plan.redefine {
        bundle(format!("redefine {t}"), text);
    }
    s
}

/// The plan [`plan_to_text`] wrote into `text` (empty if none).
pub fn plan_from_text(text: &str) -> ClientPlan {
    let mut plan = ClientPlan::default();
    let mut current: Option<(bool, String, String)> = None;
    let finish = |c: Option<(bool, String, String)>, plan: &mut ClientPlan| {
        if let Some((lazy, key, body)) = c {
            if lazy {
                plan.lazy.push((key, body));
            } else {
                plan.redefine.push((key, body));
            }
        }
    };
    for l in text.lines() {
        if let Some(body) = l.strip_prefix("// client| ") {
            if let Some((_, _, b)) = current.as_mut() {
                b.push_str(body);
                b.push('\n');
            }
        } else if let Some(head) = l.strip_prefix("// client: ") {
            finish(current.take(), &mut plan);
            if let Some(f) = head.strip_prefix("lazy ") {
                current = Some((true, f.to_string(), String::new()));
            } else if let Some(t) = head.strip_prefix("redefine ") {
                current = Some((false, t.to_string(), String::new()));
            } else if head == "compiled for a client" {
                plan.needs_client_mode = true;
            } else if head == "watchpoints enabled" {
                plan.watch = true;
            }
        }
    }
    finish(current, &mut plan);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reproducer carries of a plan reads back as the plan.
    #[test]
    fn a_plan_survives_its_reproducer() {
        let plan = ClientPlan {
            lazy: vec![("@f2".into(), ".funcdef @f2 VERSION %v1 <@s> {\n}\n".into())],
            redefine: vec![(
                "cr7_f1".into(),
                ".funcdef @f1 VERSION %v2 <@s> {\n}\n".into(),
            )],
            needs_client_mode: true,
            watch: true,
        };
        let text = format!("// header\n{}.typedef @i = int<8>\n", plan_to_text(&plan));
        assert_eq!(plan_from_text(&text), plan);
        assert_eq!(
            plan_from_text(".typedef @i = int<8>\n"),
            ClientPlan::default()
        );
    }

    /// The answers depend on what the engine shows, not on how it numbers
    /// objects: two events that differ only in a reference hash alike.
    #[test]
    fn answers_ignore_object_numbers() {
        let int = OutValue::Int { width: 8, bits: 3 };
        let a = hash("ct1_i8", &[int.clone(), OutValue::Ref(Some(1))], 0);
        let b = hash("ct1_i8", &[int.clone(), OutValue::Ref(Some(9))], 0);
        let c = hash("ct1_i8", &[OutValue::Int { width: 8, bits: 4 }], 0);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
