//! The one description of the Mu C API (`api/muapi.txt`) made into `muni.h` and into
//! the Rust side of the tables. Used by `build.rs` (the Rust tables) and by the
//! tests (the header is checked in, and must equal what this makes of the
//! description). It is plain string work, with no dependencies, so the build
//! script can include it.

/// One function of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Func {
    /// `MuVM` or `MuCtx`.
    pub table: String,
    /// The field's name.
    pub name: String,
    /// The C return type, as muapi.h spells it.
    pub ret: String,
    /// The C parameters: (type, name).
    pub params: Vec<(String, String)>,
    /// The `/// MUAPIPARSER` pragmas, if any.
    pub pragmas: String,
}

/// muni's own fields, after muapi.h's in each table: the error channel
/// (spec/13-c-api.md §13.3). A client written for muapi.h never sees them.
pub const EXTENSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "MuVM",
        "muni_error",
        "const char *",
        "MuVM *mvm, const char **message",
    ),
    (
        "MuCtx",
        "muni_error",
        "const char *",
        "MuCtx *ctx, const char **message",
    ),
];

/// Parses the description: `TABLE | NAME | RET | PARAMS | PRAGMAS` lines, `#`
/// comments.
pub fn parse(text: &str) -> Result<Vec<Func>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [table, name, ret, params, pragmas] = cols[..] else {
            return Err(format!("api/muapi.txt:{}: five columns expected", i + 1));
        };
        out.push(Func {
            table: table.to_string(),
            name: name.to_string(),
            ret: ret.to_string(),
            params: split_params(params).map_err(|e| format!("api/muapi.txt:{}: {e}", i + 1))?,
            pragmas: pragmas.to_string(),
        });
    }
    Ok(out)
}

/// `MuCtx *ctx, MuName name` as (type, name) pairs.
pub fn split_params(params: &str) -> Result<Vec<(String, String)>, String> {
    params
        .split(',')
        .map(|p| {
            let p = p.trim();
            let cut = p
                .rfind([' ', '*'])
                .ok_or_else(|| format!("`{p}`: a type and a name expected"))?;
            let (ty, name) = p.split_at(cut + 1);
            Ok((normal_type(ty), name.trim().to_string()))
        })
        .collect()
}

/// A C type with its spaces made canonical: `MuCtx *` and `MuCtx*` are `MuCtx *`.
pub fn normal_type(t: &str) -> String {
    let t = t.trim();
    let stars = t
        .chars()
        .rev()
        .take_while(|c| *c == '*' || *c == ' ')
        .filter(|c| *c == '*')
        .count();
    let base = t.trim_end_matches(['*', ' ']);
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    if stars == 0 {
        base
    } else {
        format!("{base} {}", "*".repeat(stars))
    }
}

/// `muni.h`: muapi.h's declarations (`prelude`, `postlude`) around the two tables
/// made from the description, with muni's extensions and entry points.
pub fn header(funcs: &[Func], prelude: &str, postlude: &str) -> String {
    let mut h = String::new();
    h.push_str(
        "// muni.h: the Mu C API of muni, generated from capi/api/muapi.txt by\n\
         // capi/src/generate.rs (do not edit; `cargo test -p muni-capi` checks it). It is\n\
         // shared/mu-spec/muapi.h, whose include guard it keeps, with muni's error\n\
         // channel after the standard fields of each table and muni's three entry\n\
         // points at the end.\n\n",
    );
    h.push_str(prelude);
    for table in ["MuVM", "MuCtx"] {
        h.push_str(&format!(
            "struct {table} {{\n    void *header;   // Refer to internal stuff\n\n"
        ));
        for f in funcs.iter().filter(|f| f.table == table) {
            h.push_str(&field(&f.ret, &f.name, &f.params));
            if !f.pragmas.is_empty() {
                h.push_str(&format!(" /// MUAPIPARSER {}", f.pragmas));
            }
            h.push('\n');
        }
        h.push_str("\n    // muni's extensions (not in muapi.h)\n");
        for (t, name, ret, params) in EXTENSIONS.iter().filter(|e| e.0 == table) {
            let _ = t;
            let params = split_params(params).unwrap_or_default();
            h.push_str(&field(ret, name, &params));
            h.push('\n');
        }
        h.push_str("};\n\n");
    }
    h.push_str(
        "// muni's entry points: the only symbols a client links.\n\
         MuVM *muni_new_vm(const char *options);\n\
         void muni_execute(MuVM *mvm);\n\
         void muni_close_vm(MuVM *mvm);\n\n",
    );
    h.push_str(postlude);
    h
}

fn field(ret: &str, name: &str, params: &[(String, String)]) -> String {
    let ps: Vec<String> = params.iter().map(|(t, n)| c_decl(t, n)).collect();
    format!("    {} (*{name})({});", normal_type(ret), ps.join(", "))
}

fn c_decl(t: &str, n: &str) -> String {
    if t.ends_with('*') {
        format!("{t}{n}")
    } else {
        format!("{t} {n}")
    }
}

/// The Rust type of a C type of the API.
pub fn rust_type(t: &str) -> Result<String, String> {
    let t = normal_type(t);
    if let Some(inner) = t.strip_suffix('*') {
        let inner = inner.trim_end();
        let r = rust_type(inner)?;
        let konst = !inner.ends_with('*') && inner.starts_with("const ");
        return Ok(format!("*{} {r}", if konst { "const" } else { "mut" }));
    }
    let base = t.strip_prefix("const ").unwrap_or(&t);
    Ok(match base {
        "void" => "()".into(),
        "MuVM" => "MuVM".into(),
        "MuCtx" => "MuCtx".into(),
        "char" => "c_char".into(),
        "int" | "MuBool" => "c_int".into(),
        "int8_t" => "i8".into(),
        "uint8_t" => "u8".into(),
        "int16_t" => "i16".into(),
        "uint16_t" => "u16".into(),
        "int32_t" => "i32".into(),
        "uint32_t" => "u32".into(),
        "int64_t" => "i64".into(),
        "uint64_t" => "u64".into(),
        "float" => "f32".into(),
        "double" => "f64".into(),
        "MuArraySize" => "usize".into(),
        "MuName" => "*mut c_char".into(),
        "MuCPtr" => "*mut c_void".into(),
        "MuCFP" => "MuCFP".into(),
        "MuTrapHandler" => "MuTrapHandler".into(),
        "MuID"
        | "MuWPID"
        | "MuFlag"
        | "MuTrapHandlerResult"
        | "MuDestKind"
        | "MuBinOptr"
        | "MuCmpOptr"
        | "MuConvOptr"
        | "MuMemOrd"
        | "MuAtomicRMWOptr"
        | "MuCallConv"
        | "MuCommInst" => "u32".into(),
        b if b == "MuValue" || b.ends_with("Value") || b.ends_with("Node") => "MuValue".into(),
        other => return Err(format!("no Rust type for `{other}`")),
    })
}

/// What a function of this C return type gives when it fails.
fn zero(ret: &str) -> Result<&'static str, String> {
    let r = rust_type(ret)?;
    Ok(match r.as_str() {
        "()" => "",
        "f32" | "f64" => "0.0",
        "MuCFP" | "MuTrapHandler" => "None",
        r if r.starts_with('*') || r == "MuValue" => "std::ptr::null_mut()",
        _ => "0",
    })
}

/// The Rust tables: `#[repr(C)]` structs in the header's order, a stub for every
/// function `implemented` does not name (it reports `capi.unsupported`), and a
/// function that fills each table.
pub fn rust_tables(funcs: &[Func], implemented: &[String]) -> Result<String, String> {
    let mut r = String::new();
    r.push_str("// Generated by capi/src/generate.rs from capi/api/muapi.txt; do not edit.\n\n");
    for table in ["MuVM", "MuCtx"] {
        let prefix = if table == "MuVM" { "vm" } else { "ctx" };
        r.push_str(&format!(
            "/// `struct {table}` of muapi.h, then muni's extensions.\n#[repr(C)]\n#[derive(Debug)]\npub struct {table} {{\n    /// The engine behind the table.\n    pub header: *mut c_void,\n"
        ));
        let ext: Vec<Func> = EXTENSIONS
            .iter()
            .filter(|e| e.0 == table)
            .map(|(t, n, ret, ps)| Func {
                table: t.to_string(),
                name: n.to_string(),
                ret: ret.to_string(),
                params: split_params(ps).unwrap_or_default(),
                pragmas: String::new(),
            })
            .collect();
        let all: Vec<&Func> = funcs
            .iter()
            .filter(|f| f.table == table)
            .chain(&ext)
            .collect();
        for f in &all {
            r.push_str(&format!(
                "    /// `{}`.\n    pub {}: Option<{}>,\n",
                f.name,
                f.name,
                fn_type(f)?
            ));
        }
        r.push_str("}\n\n");
        let mut fill = format!(
            "/// A `{table}` whose functions are muni's (or `capi.unsupported` stubs).\npub fn {prefix}_table(header: *mut c_void) -> {table} {{\n    {table} {{\n        header,\n"
        );
        for f in &all {
            let imp = format!("{prefix}_{}", f.name);
            if implemented.contains(&imp) {
                fill.push_str(&format!("        {}: Some(crate::imp::{imp}),\n", f.name));
            } else {
                fill.push_str(&format!("        {}: Some(unsupported_{imp}),\n", f.name));
                let params: Vec<String> = f
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, (t, _))| {
                        Ok(format!(
                            "{}: {}",
                            if i == 0 { "first" } else { "_" },
                            rust_type(t)?
                        ))
                    })
                    .collect::<Result<_, String>>()?;
                let z = zero(&f.ret)?;
                let ret = match rust_type(&f.ret)?.as_str() {
                    "()" => String::new(),
                    r => format!(" -> {r}"),
                };
                r.push_str(&format!(
                    "/// `{name}`: muni does not support it yet; says so through the error channel.\n\
                     unsafe extern \"C\" fn unsupported_{imp}({}){ret} {{\n    \
                     // SAFETY: the table's first argument, passed on as C gave it.\n    \
                     unsafe {{ crate::imp::unsupported_{prefix}(first, \"{name}\") }};\n    {z}\n}}\n\n",
                    params.join(", "),
                    name = f.name
                ));
            }
        }
        fill.push_str("    }\n}\n\n");
        r.push_str(&fill);
    }
    Ok(r)
}

fn fn_type(f: &Func) -> Result<String, String> {
    let ps: Vec<String> = f
        .params
        .iter()
        .map(|(t, _)| rust_type(t))
        .collect::<Result<_, _>>()?;
    let ret = rust_type(&f.ret)?;
    Ok(format!(
        "unsafe extern \"C\" fn({}){}",
        ps.join(", "),
        if ret == "()" {
            String::new()
        } else {
            format!(" -> {ret}")
        }
    ))
}

/// The functions `imp.rs` defines: `pub unsafe extern "C" fn vm_…`/`ctx_…`, or
/// a line `some_macro!(ctx_…, …);` that defines one.
pub fn implemented(imp_rs: &str) -> Vec<String> {
    imp_rs
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix("pub unsafe extern \"C\" fn ") {
                return rest.split('(').next();
            }
            let (mac, rest) = l.split_once("!(")?;
            mac.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
                .then(|| rest.split(',').next())
                .flatten()
        })
        .filter(|n| n.starts_with("vm_") || n.starts_with("ctx_"))
        .map(str::to_string)
        .collect()
}
