//! Second pass: re-encode the module with the probes, the new imports, types, functions, global
//! and data segment.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, CustomSection, DataCountSection, DataSection, EntityType,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection, IndirectNameMap,
    Instruction, MemorySection, Module, NameMap, NameSection, StartSection, TableSection, TagSection,
    TypeSection,
};
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload};

use crate::abi::{self, HostFunc};
use crate::scan::{Scan, Sec, Sig};
use crate::{Error, FunctionReport, Registration, Report, MARKER_SECTION};

type ReError = reencode::Error<Infallible>;

/// Names given to what the rewriter adds (in the name section).
const REGISTER_NAME: &str = "__wasmedge_otel_register";
const ENTER_NAME: &str = "__wasmedge_otel_enter";
const FLAG_NAME: &str = "__wasmedge_otel_registered";
const SEGMENT_NAME: &str = ".wasmedge_otel.names";

/// Custom sections that locate code by byte offset: they would be wrong after the rewrite.
/// DWARF (`.debug_*`), source maps (`sourceMappingURL`), split DWARF (`external_debug_info`) and
/// code metadata such as branch hints (`metadata.code.*`), and the native code `wasmedge compile`
/// stores in a `wasmedge` section (stale once the Wasm code changes; compile again after
/// instrumenting).
fn points_into_code(name: &str) -> bool {
    name == "wasmedge"
        || name.starts_with(".debug_")
        || name == "sourceMappingURL"
        || name == "external_debug_info"
        || name.starts_with("metadata.code.")
}

/// The function-index hook: new imports are appended after the existing function imports, so
/// every defined function moves up by the number of functions imported.
struct Renumber {
    func_imports: u32,
    shift: u32,
}

impl Reencode for Renumber {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, ReError> {
        Ok(if func < self.func_imports { func } else { func + self.shift })
    }
}

/// The names table, split into calls of at most [`abi::NAMES_CALL_MAX`] bytes.
struct NamesTable {
    bytes: Vec<u8>,
    /// `(offset, len)` of each `func_names` call's part.
    chunks: Vec<(u32, u32)>,
    names: usize,
}

fn build_table(functions: &[FunctionReport]) -> NamesTable {
    let mut bytes = Vec::new();
    let mut chunks: Vec<(u32, u32)> = Vec::new();
    let mut names = 0;
    for f in functions.iter().filter(|f| f.decision.is_instrumented()) {
        let Some(name) = &f.name else { continue };
        let mut end = name.len().min(abi::NAME_MAX);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let name = &name.as_bytes()[..end];
        let entry = abi::ENTRY_HEADER + name.len();
        match chunks.last_mut() {
            Some((_, len)) if *len as usize + entry <= abi::NAMES_CALL_MAX => *len += entry as u32,
            _ => chunks.push((bytes.len() as u32, entry as u32)),
        }
        bytes.extend_from_slice(&f.id.to_le_bytes());
        bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(name);
        names += 1;
    }
    NamesTable { bytes, chunks, names }
}

/// Everything the rewrite adds, with its index in the output module.
struct Plan {
    /// Types appended to the type section, in order.
    new_types: Vec<Sig>,
    /// Imports appended to the import section: (function, type index).
    new_imports: Vec<(HostFunc, u32)>,
    enter_import: u32,
    exit_import: u32,
    /// Present when names are registered.
    register: Option<Register>,
    /// `$__wasmedge_otel_enter` and its type.
    enter_fn: u32,
    enter_ty: u32,
    /// Block type of each instrumented function's body, by original id.
    block_types: HashMap<u32, BlockType>,
}

struct Register {
    names_import: u32,
    func: u32,
    ty: u32,
    flag: u32,
    segment: u32,
    stack_pointer: u32,
    table: NamesTable,
}

struct Types<'s> {
    scan: &'s Scan<'s>,
    new: Vec<Sig>,
}

impl Types<'_> {
    /// A type index for `sig`: an equivalent plain function type of the module, or a new one.
    fn get(&mut self, sig: Sig) -> u32 {
        if let Some(&i) = self.scan.plain_types.get(&sig) {
            return i;
        }
        let pos = match self.new.iter().position(|s| *s == sig) {
            Some(p) => p,
            None => {
                self.new.push(sig);
                self.new.len() - 1
            }
        };
        self.scan.type_count + pos as u32
    }

    fn host(&mut self, f: HostFunc) -> u32 {
        self.get(Sig { params: f.params.to_vec(), results: f.results.to_vec() })
    }
}

pub(crate) fn rewrite(
    input: &[u8],
    scan: &Scan<'_>,
    functions: Vec<FunctionReport>,
) -> Result<(Vec<u8>, Report), Error> {
    let mut warnings = Vec::new();

    // Names registration: needs memory 0, a stack pointer, and at least one name.
    let table = build_table(&functions);
    let sp = scan.stack_pointer();
    let registration = if scan.memories == 0 {
        Err("the module has no memory".to_string())
    } else if table.names == 0 {
        Err("no instrumented function has a name".to_string())
    } else if let Some((g, how)) = sp {
        Ok((g, how))
    } else {
        Err("no stack pointer global found (no `__stack_pointer` name, no frame allocation in the code, \
             no exported mutable i32 global)"
            .to_string())
    };

    let mut types = Types { scan, new: Vec::new() };
    let mut new_imports = Vec::new();
    let mut host_index = |f: HostFunc, types: &mut Types<'_>| -> Result<u32, Error> {
        if let Some(&i) = scan.otel_imports.get(f.name) {
            let want = Sig { params: f.params.to_vec(), results: f.results.to_vec() };
            if scan.func_sig(i) != Some(&want) {
                return Err(Error::Unsupported(format!(
                    "the module imports {}.{} with a signature other than {:?} -> {:?}",
                    abi::MODULE_NAME,
                    f.name,
                    f.params,
                    f.results
                )));
            }
            return Ok(i);
        }
        let ty = types.host(f);
        new_imports.push((f, ty));
        Ok(scan.func_imports + new_imports.len() as u32 - 1)
    };
    let enter_import = host_index(abi::FUNC_ENTER, &mut types)?;
    let exit_import = host_index(abi::FUNC_EXIT, &mut types)?;
    let names_import = match &registration {
        Ok(_) => Some(host_index(abi::FUNC_NAMES, &mut types)?),
        Err(_) => None,
    };
    let shift = new_imports.len() as u32;
    let first_added = scan.func_types.len() as u32 + shift;

    let mut next_fn = first_added;
    let register = match (registration.clone(), names_import) {
        (Ok((stack_pointer, _)), Some(names_import)) => {
            let func = next_fn;
            next_fn += 1;
            Some(Register {
                names_import,
                func,
                ty: types.get(Sig { params: vec![], results: vec![] }),
                flag: scan.globals.len() as u32,
                segment: scan.data_segments,
                stack_pointer,
                table,
            })
        }
        _ => None,
    };
    let enter_fn = next_fn;
    let enter_ty = types.get(Sig { params: vec![wasmparser::ValType::I32], results: vec![] });

    let mut rn = Renumber { func_imports: scan.func_imports, shift };
    let mut block_types = HashMap::new();
    for f in functions.iter().filter(|f| f.decision.is_instrumented()) {
        let sig = scan
            .func_sig(f.id)
            .ok_or_else(|| Error::Unsupported(format!("function {} has no function type", f.id)))?;
        let bt = match sig.results.as_slice() {
            [] => BlockType::Empty,
            [t] => BlockType::Result(rn.val_type(*t)?),
            results => BlockType::FunctionType(types.get(Sig { params: vec![], results: results.to_vec() })),
        };
        block_types.insert(f.id, bt);
    }

    let plan = Plan {
        new_types: types.new,
        new_imports,
        enter_import,
        exit_import,
        register,
        enter_fn,
        enter_ty,
        block_types,
    };

    let mut dropped = Vec::new();
    let mut emitter = Emitter { scan, plan: &plan, rn, module: Module::new(), done: Vec::new() };
    emitter.run(input, &mut dropped, &mut warnings)?;
    let wasm = emitter.module.finish();

    let registration = match (&plan.register, registration) {
        (Some(r), Ok((g, how))) => Registration::Registered {
            stack_pointer: g,
            found_by: how,
            names: r.table.names,
            table_bytes: r.table.bytes.len(),
            calls: r.table.chunks.len(),
        },
        (_, Err(why)) => Registration::Skipped(why),
        (None, Ok(_)) => Registration::Skipped("internal: no plan".into()),
    };
    let added_imports = plan.new_imports.iter().map(|(f, _)| f.name).collect();
    let instrumented = functions.iter().filter(|f| f.decision.is_instrumented()).count();
    Ok((
        wasm,
        Report { functions, instrumented, registration, added_imports, dropped_sections: dropped, warnings },
    ))
}

struct Emitter<'a, 's> {
    scan: &'a Scan<'s>,
    plan: &'a Plan,
    rn: Renumber,
    module: Module,
    /// Sections the rewriter had to create, once emitted.
    done: Vec<Sec>,
}

impl Emitter<'_, '_> {
    fn run(
        &mut self,
        input: &[u8],
        dropped: &mut Vec<String>,
        warnings: &mut Vec<String>,
    ) -> Result<(), Error> {
        for payload in Parser::new(0).parse_all(input) {
            match payload? {
                Payload::Version { .. } => {}
                Payload::TypeSection(reader) => {
                    self.missing_before(Some(Sec::Type))?;
                    let mut s = TypeSection::new();
                    self.rn.parse_type_section(&mut s, reader)?;
                    self.add_types(&mut s)?;
                    self.module.section(&s);
                }
                Payload::ImportSection(reader) => {
                    self.missing_before(Some(Sec::Import))?;
                    let mut s = ImportSection::new();
                    self.rn.parse_import_section(&mut s, reader)?;
                    self.add_imports(&mut s);
                    self.module.section(&s);
                }
                Payload::FunctionSection(reader) => {
                    self.missing_before(Some(Sec::Function))?;
                    let mut s = FunctionSection::new();
                    self.rn.parse_function_section(&mut s, reader)?;
                    self.add_functions(&mut s);
                    self.module.section(&s);
                }
                Payload::TableSection(reader) => {
                    self.missing_before(Some(Sec::Table))?;
                    let mut s = TableSection::new();
                    self.rn.parse_table_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::MemorySection(reader) => {
                    self.missing_before(Some(Sec::Memory))?;
                    let mut s = MemorySection::new();
                    self.rn.parse_memory_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::TagSection(reader) => {
                    self.missing_before(Some(Sec::Tag))?;
                    let mut s = TagSection::new();
                    self.rn.parse_tag_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::GlobalSection(reader) => {
                    self.missing_before(Some(Sec::Global))?;
                    let mut s = GlobalSection::new();
                    self.rn.parse_global_section(&mut s, reader)?;
                    self.add_globals(&mut s);
                    self.module.section(&s);
                }
                Payload::ExportSection(reader) => {
                    self.missing_before(Some(Sec::Export))?;
                    let mut s = ExportSection::new();
                    self.rn.parse_export_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::StartSection { func, .. } => {
                    self.missing_before(Some(Sec::Start))?;
                    let function_index = self.rn.start_section(func)?;
                    self.module.section(&StartSection { function_index });
                }
                Payload::ElementSection(reader) => {
                    self.missing_before(Some(Sec::Element))?;
                    let mut s = wasm_encoder::ElementSection::new();
                    self.rn.parse_element_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::DataCountSection { count, .. } => {
                    self.missing_before(Some(Sec::DataCount))?;
                    let extra = self.plan.register.is_some() as u32;
                    self.module.section(&DataCountSection { count: count + extra });
                }
                Payload::CodeSectionStart { range, .. } => {
                    self.missing_before(Some(Sec::Code))?;
                    let reader = wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(
                        &input[range.clone()],
                        range.start,
                    ))?;
                    let mut s = CodeSection::new();
                    for (i, body) in reader.into_iter().enumerate() {
                        let body = body?;
                        let id = self.scan.func_imports + i as u32;
                        match self.plan.block_types.get(&id) {
                            Some(&bt) => self.probed_body(&mut s, &body, id, bt)?,
                            None => self.rn.parse_function_body(&mut s, body)?,
                        }
                    }
                    self.add_bodies(&mut s);
                    self.module.section(&s);
                }
                Payload::CodeSectionEntry(_) => {}
                Payload::DataSection(reader) => {
                    self.missing_before(Some(Sec::Data))?;
                    let mut s = DataSection::new();
                    self.rn.parse_data_section(&mut s, reader)?;
                    self.add_data(&mut s);
                    self.module.section(&s);
                }
                Payload::CustomSection(reader) => {
                    let name = reader.name();
                    if points_into_code(name) {
                        dropped.push(name.to_string());
                        continue;
                    }
                    match reader.as_known() {
                        KnownCustom::Name(names) => match self.names(names) {
                            Ok(s) => {
                                self.module.section(&s);
                            }
                            Err(e) => {
                                dropped.push("name".to_string());
                                warnings.push(format!("the name section could not be rewritten ({e:?})"));
                            }
                        },
                        _ => {
                            self.module.section(&CustomSection {
                                name: Cow::Borrowed(name),
                                data: Cow::Borrowed(reader.data()),
                            });
                        }
                    }
                }
                Payload::End(_) => {
                    self.missing_before(None)?;
                    let data = format!("wasmedge-otel-instrument {}", env!("CARGO_PKG_VERSION"));
                    self.module.section(&CustomSection {
                        name: Cow::Borrowed(MARKER_SECTION),
                        data: Cow::Borrowed(data.as_bytes()),
                    });
                }
                other => {
                    return Err(Error::Unsupported(format!("unexpected section {:?}", other.as_section())));
                }
            }
        }
        Ok(())
    }

    /// Emits the sections the rewrite needs that the module lacks and that come before `next`.
    fn missing_before(&mut self, next: Option<Sec>) -> Result<(), Error> {
        let needed = [
            (Sec::Type, !self.plan.new_types.is_empty()),
            (Sec::Import, !self.plan.new_imports.is_empty()),
            (Sec::Function, true),
            (Sec::Global, self.plan.register.is_some()),
            (Sec::DataCount, self.plan.register.is_some()),
            (Sec::Data, self.plan.register.is_some()),
        ];
        for (sec, need) in needed {
            if !need || self.scan.has(sec) || self.done.contains(&sec) || next.is_some_and(|n| sec >= n) {
                continue;
            }
            self.done.push(sec);
            match sec {
                Sec::Type => {
                    let mut s = TypeSection::new();
                    self.add_types(&mut s)?;
                    self.module.section(&s);
                }
                Sec::Import => {
                    let mut s = ImportSection::new();
                    self.add_imports(&mut s);
                    self.module.section(&s);
                }
                Sec::Function => {
                    let mut s = FunctionSection::new();
                    self.add_functions(&mut s);
                    self.module.section(&s);
                }
                Sec::Global => {
                    let mut s = GlobalSection::new();
                    self.add_globals(&mut s);
                    self.module.section(&s);
                }
                Sec::DataCount => {
                    self.module.section(&DataCountSection { count: self.scan.data_segments + 1 });
                }
                Sec::Data => {
                    let mut s = DataSection::new();
                    self.add_data(&mut s);
                    self.module.section(&s);
                }
                _ => unreachable!("only the sections above are created"),
            }
        }
        Ok(())
    }

    fn add_types(&mut self, s: &mut TypeSection) -> Result<(), Error> {
        for sig in &self.plan.new_types {
            let params = sig.params.iter().map(|t| self.rn.val_type(*t)).collect::<Result<Vec<_>, _>>()?;
            let results = sig.results.iter().map(|t| self.rn.val_type(*t)).collect::<Result<Vec<_>, _>>()?;
            s.ty().function(params, results);
        }
        Ok(())
    }

    fn add_imports(&self, s: &mut ImportSection) {
        for (f, ty) in &self.plan.new_imports {
            s.import(abi::MODULE_NAME, f.name, EntityType::Function(*ty));
        }
    }

    fn add_functions(&self, s: &mut FunctionSection) {
        if let Some(r) = &self.plan.register {
            s.function(r.ty);
        }
        s.function(self.plan.enter_ty);
    }

    fn add_globals(&self, s: &mut GlobalSection) {
        if self.plan.register.is_some() {
            let ty = GlobalType { val_type: wasm_encoder::ValType::I32, mutable: true, shared: false };
            s.global(ty, &ConstExpr::i32_const(0));
        }
    }

    fn add_data(&self, s: &mut DataSection) {
        if let Some(r) = &self.plan.register {
            s.passive(r.table.bytes.iter().copied());
        }
    }

    /// `i32.const id; call func_exit; drop`
    fn exit_probe(&self, f: &mut Function, id: u32) {
        f.instruction(&Instruction::I32Const(id as i32));
        f.instruction(&Instruction::Call(self.plan.exit_import));
        f.instruction(&Instruction::Drop);
    }

    /// The body wrapped in `enter; block <body> end; exit`.
    fn probed_body(
        &mut self,
        s: &mut CodeSection,
        body: &wasmparser::FunctionBody<'_>,
        id: u32,
        bt: BlockType,
    ) -> Result<(), Error> {
        let mut f = self.rn.new_function_with_parsed_locals(body)?;
        f.instruction(&Instruction::I32Const(id as i32));
        f.instruction(&Instruction::Call(self.plan.enter_fn));
        f.instruction(&Instruction::Block(bt));
        // Number of labels the body opened: a branch to label `depth` leaves the body, and lands
        // on the added block's end (the function's own label is now one further out).
        let mut depth: u32 = 0;
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::Try { .. }
                | Operator::TryTable { .. } => {
                    depth += 1;
                    f.instruction(&self.rn.instruction(op)?);
                }
                Operator::End if depth == 0 => {
                    // The function's end: close the added block, then the exit probe.
                    f.instruction(&Instruction::End);
                    self.exit_probe(&mut f, id);
                    f.instruction(&Instruction::End);
                }
                Operator::End | Operator::Delegate { .. } => {
                    depth -= 1;
                    f.instruction(&self.rn.instruction(op)?);
                }
                Operator::Return => {
                    f.instruction(&Instruction::Br(depth));
                }
                Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::ReturnCallRef { .. } => {
                    self.exit_probe(&mut f, id);
                    f.instruction(&self.rn.instruction(op)?);
                }
                _ => {
                    f.instruction(&self.rn.instruction(op)?);
                }
            }
        }
        s.function(&f);
        Ok(())
    }

    fn add_bodies(&self, s: &mut CodeSection) {
        use Instruction as I;
        if let Some(r) = &self.plan.register {
            // Borrow room on the guest's stack, copy the table there part by part, hand each part
            // to func_names, give the room back, and drop the segment.
            let room = r.table.chunks.iter().map(|c| c.1).max().unwrap_or(0).next_multiple_of(16) as i32;
            let mut f = Function::new([(1, wasm_encoder::ValType::I32)]);
            f.instruction(&I::GlobalGet(r.stack_pointer));
            f.instruction(&I::I32Const(room));
            f.instruction(&I::I32Sub);
            f.instruction(&I::LocalTee(0));
            f.instruction(&I::GlobalSet(r.stack_pointer));
            for &(off, len) in &r.table.chunks {
                f.instruction(&I::LocalGet(0));
                f.instruction(&I::I32Const(off as i32));
                f.instruction(&I::I32Const(len as i32));
                f.instruction(&I::MemoryInit { mem: 0, data_index: r.segment });
                f.instruction(&I::LocalGet(0));
                f.instruction(&I::I32Const(len as i32));
                f.instruction(&I::Call(r.names_import));
                f.instruction(&I::Drop);
            }
            f.instruction(&I::LocalGet(0));
            f.instruction(&I::I32Const(room));
            f.instruction(&I::I32Add);
            f.instruction(&I::GlobalSet(r.stack_pointer));
            f.instruction(&I::DataDrop(r.segment));
            f.instruction(&I::End);
            s.function(&f);
        }
        // $__wasmedge_otel_enter(id): register once, then func_enter(id).
        let mut f = Function::new([]);
        if let Some(r) = &self.plan.register {
            f.instruction(&I::GlobalGet(r.flag));
            f.instruction(&I::I32Eqz);
            f.instruction(&I::If(BlockType::Empty));
            f.instruction(&I::I32Const(1));
            f.instruction(&I::GlobalSet(r.flag));
            f.instruction(&I::Call(r.func));
            f.instruction(&I::End);
        }
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::Call(self.plan.enter_import));
        f.instruction(&I::Drop);
        f.instruction(&I::End);
        s.function(&f);
    }

    /// The name section with function indices renumbered and names for what was added.
    fn names(&mut self, reader: wasmparser::NameSectionReader<'_>) -> Result<NameSection, ReError> {
        let mut out = NameSection::new();
        // Subsections the rewrite adds to (function 1, global 7, data 9), in id order.
        let mut pending: Vec<u8> = vec![1];
        if self.plan.register.is_some() {
            pending.extend([7, 9]);
        }
        for sub in reader {
            let sub = sub?;
            let id = subsection_id(&sub);
            while let Some(&p) = pending.first().filter(|&&p| p < id) {
                self.names_of_added(&mut out, p, Vec::new());
                pending.remove(0);
            }
            match sub {
                Name::Function(map) if pending.contains(&1) => {
                    let mut v = Vec::new();
                    for n in map {
                        let n = n?;
                        v.push((self.rn.function_index(n.index)?, n.name.to_string()));
                    }
                    self.names_of_added(&mut out, 1, v);
                    pending.retain(|&p| p != 1);
                }
                Name::Global(map) if pending.contains(&7) => {
                    let v = map
                        .into_iter()
                        .map(|n| n.map(|n| (n.index, n.name.to_string())))
                        .collect::<Result<_, _>>()?;
                    self.names_of_added(&mut out, 7, v);
                    pending.retain(|&p| p != 7);
                }
                Name::Data(map) if pending.contains(&9) => {
                    let v = map
                        .into_iter()
                        .map(|n| n.map(|n| (n.index, n.name.to_string())))
                        .collect::<Result<_, _>>()?;
                    self.names_of_added(&mut out, 9, v);
                    pending.retain(|&p| p != 9);
                }
                Name::Local(map) => out.locals(&self.indirect(map, false)?),
                Name::Label(map) => out.labels(&self.indirect(map, true)?),
                other => self.rn.parse_custom_name_subsection(&mut out, other)?,
            }
        }
        for p in pending {
            self.names_of_added(&mut out, p, Vec::new());
        }
        Ok(out)
    }

    /// Locals and labels are per function: renumber the functions. Labels are numbered in the
    /// order blocks open in the body, so in an instrumented function the added block is label 0
    /// and the others move up by one.
    fn indirect(
        &mut self,
        map: wasmparser::IndirectNameMap<'_>,
        labels: bool,
    ) -> Result<IndirectNameMap, ReError> {
        let mut v = Vec::new();
        for n in map {
            let n = n?;
            let shift = (labels && self.plan.block_types.contains_key(&n.index)) as u32;
            let mut inner = NameMap::new();
            for m in n.names {
                let m = m?;
                inner.append(m.index + shift, m.name);
            }
            v.push((self.rn.function_index(n.index)?, inner));
        }
        v.sort_by_key(|e| e.0);
        let mut out = IndirectNameMap::new();
        for (i, m) in &v {
            out.append(*i, m);
        }
        Ok(out)
    }

    /// Writes subsection `id` (function, global or data names) with `existing` names plus the
    /// names of what the rewrite added, sorted by index as the format requires.
    fn names_of_added(&self, out: &mut NameSection, id: u8, mut names: Vec<(u32, String)>) {
        match id {
            1 => {
                for (k, (f, _)) in self.plan.new_imports.iter().enumerate() {
                    names.push((
                        self.scan.func_imports + k as u32,
                        format!("{}.{}", abi::MODULE_NAME, f.name),
                    ));
                }
                if let Some(r) = &self.plan.register {
                    names.push((r.func, REGISTER_NAME.to_string()));
                }
                names.push((self.plan.enter_fn, ENTER_NAME.to_string()));
            }
            7 => {
                if let Some(r) = &self.plan.register {
                    names.push((r.flag, FLAG_NAME.to_string()));
                }
            }
            9 => {
                if let Some(r) = &self.plan.register {
                    names.push((r.segment, SEGMENT_NAME.to_string()));
                }
            }
            _ => unreachable!("only function, global and data names are added"),
        }
        names.sort_by_key(|n| n.0);
        names.dedup_by_key(|n| n.0);
        let mut map = NameMap::new();
        for (i, n) in &names {
            map.append(*i, n);
        }
        match id {
            1 => out.functions(&map),
            7 => out.globals(&map),
            _ => out.data(&map),
        }
    }
}

fn subsection_id(sub: &Name<'_>) -> u8 {
    match sub {
        Name::Module { .. } => 0,
        Name::Function(_) => 1,
        Name::Local(_) => 2,
        Name::Label(_) => 3,
        Name::Type(_) => 4,
        Name::Table(_) => 5,
        Name::Memory(_) => 6,
        Name::Global(_) => 7,
        Name::Element(_) => 8,
        Name::Data(_) => 9,
        Name::Field(_) => 10,
        Name::Tag(_) => 11,
        Name::Unknown { ty, .. } => *ty,
    }
}
