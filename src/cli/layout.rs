//! `muni layout`: a type's native layout or a signature's SysV classification.

use super::*;

pub(crate) fn layout(
    files: &[String],
    ty: Option<&str>,
    sig: Option<&str>,
    json: bool,
) -> ExitCode {
    let loaded = match load_files(files) {
        Ok(l) => l,
        Err(e) => return report_load_error(e, json),
    };
    let types = &loaded.module.types;
    if let Some(t) = ty {
        let Some(id) = types.named(t) else {
            eprintln!("muni: {t} is not a type of this bundle");
            return ExitCode::from(2);
        };
        if let Some(o) = types.inline_other(id) {
            eprintln!(
                "muni: {t} holds {}, a type of full Mu outside the subset muni executes; it has no layout here",
                types.show(o)
            );
            return ExitCode::FAILURE;
        }
        let r = spec_model::layout::report(types, id);
        if json {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else {
            print!("{}", r.render());
        }
    }
    if let Some(s) = sig {
        let Some(id) = types.sig_named(s) else {
            eprintln!("muni: {s} is not a signature of this bundle");
            return ExitCode::from(2);
        };
        let sg = types.sig(id);
        if let Some(o) = sg
            .params
            .iter()
            .chain(&sg.rets)
            .find_map(|t| types.inline_other(*t))
        {
            eprintln!(
                "muni: {s} passes {}, a type of full Mu outside the subset muni executes; it has no calling convention here",
                types.show(o)
            );
            return ExitCode::FAILURE;
        }
        let l = spec_model::layout::classify::lower_call(types, id);
        if json {
            println!("{}", serde_json::to_string(&l).unwrap_or_default());
        } else {
            println!(
                "result: {:?}{}",
                l.result,
                if l.sret {
                    " (sret: the caller's buffer is passed in rdi)"
                } else {
                    ""
                }
            );
            for (i, a) in l.args.iter().enumerate() {
                println!("argument {i}: {a:?}");
            }
            println!("stack arguments: {} bytes", l.stack_bytes);
        }
    }
    ExitCode::SUCCESS
}
